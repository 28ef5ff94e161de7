# Tell Us: everyday tasks.  `make run` tries the portal; `make test` runs the tests.

VENV   := .venv
BIN    := $(VENV)/bin
# Three stamps: what running the portal needs, that plus the test tools (the `test` extra),
# and that plus the checkers (the `dev` extra: ruff, mypy and type stubs).
RUN_STAMP  := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
DEV_STAMP  := $(VENV)/.installed-dev
# Every install takes the versions CI tested (constraints.txt), whatever is newest today.
PIP := $(BIN)/python -m pip install -c constraints.txt
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)

.PHONY: venv run test lint bench

# The virtual environment with the portal installed (editable) and its test tools (what
# `make test`, `make lint`, `make bench` and .ci/run use). Re-installed only when
# pyproject.toml or constraints.txt is newer than the stamp.
venv: $(TEST_STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Only what running needs: a newcomer's `make run` never waits for playwright and friends.
$(RUN_STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) -e .
	touch $(RUN_STAMP)

$(TEST_STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) -e '.[test]'
	touch $(RUN_STAMP) $(TEST_STAMP)

$(DEV_STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) -e '.[test,dev]'
	touch $(RUN_STAMP) $(TEST_STAMP) $(DEV_STAMP)

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

# STYLE.md's checks: ruff on everything, mypy --strict on portal/ (settings in pyproject.toml).
# Fails on any finding, and fails (never passes quietly) when a checker is missing.
lint: $(DEV_STAMP)
	@for tool in ruff mypy; do \
	    [ -x $(BIN)/$$tool ] || { echo "make lint: $(BIN)/$$tool is missing;" \
	        "install the dev extra: $(PIP) -e '.[test,dev]'" >&2; exit 1; }; \
	done
	$(BIN)/ruff check .
	$(BIN)/mypy
