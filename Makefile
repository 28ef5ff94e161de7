# Tell Us: everyday tasks.  `make run` tries the portal; `make test` runs the tests.

VENV   := .venv
BIN    := $(VENV)/bin
# Two stamps: what running the portal needs, and that plus the test tools (the `test` extra).
RUN_STAMP  := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)

.PHONY: venv run test lint bench

# The virtual environment with the portal installed (editable) and its test tools (what
# `make test`, `make lint`, `make bench` and .ci/run use). Re-installed only when
# pyproject.toml is newer than the stamp.
venv: $(TEST_STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Only what running needs: a newcomer's `make run` never waits for playwright and friends.
$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e .
	touch $(RUN_STAMP)

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e '.[test]'
	touch $(RUN_STAMP) $(TEST_STAMP)

# The demo: SQLite in instance/, a demo school and DSL login (printed), served on :5000.
run: $(RUN_STAMP)
	$(BIN)/portal demo

# Every test (PostgreSQL and Redis too when PORTAL_TEST_DATABASE_URL / _REDIS_URL are set).
test: venv
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The benchmarks of DESIGN.md's budgets (about 8½ minutes on two cores): writes
# bench/results.md and bench/results.json; uses PostgreSQL and Redis on 127.0.0.1 if up.
bench: venv
	$(BIN)/python -m bench.run

lint: venv
	@if [ -x $(BIN)/ruff ]; then $(BIN)/ruff check .; \
	elif command -v ruff >/dev/null 2>&1; then ruff check .; \
	else echo "ruff is not installed; nothing to lint with (pip install ruff)"; fi
