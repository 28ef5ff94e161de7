"""`make run` installs only what running needs; `make test` the test tools too (issue 12)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def dry_run(tmp_path: Path, target: str) -> str:
    """What ``make TARGET`` would run on a fresh checkout (no .venv yet)."""
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    result = subprocess.run([make, "-n", target, "PYTHON=python3"], cwd=tmp_path,
                            capture_output=True, text=True, check=True)
    return result.stdout


def test_make_run_installs_only_the_portal(tmp_path):
    commands = dry_run(tmp_path, "run")
    assert "pip install -e ." in commands
    assert "[test]" not in commands
    assert "portal demo" in commands


@pytest.mark.parametrize("target", ["test", "venv"])
def test_make_test_and_venv_install_the_test_extra(tmp_path, target):
    # .ci/run calls `make test` and then `make venv` for bandit and pip-audit.
    assert "pip install -e '.[test]'" in dry_run(tmp_path, target)
