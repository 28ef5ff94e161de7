"""`make run` installs only what running needs; `make test` the test tools too (issue 12);
every install takes the versions CI tested; `make lint` fails on a finding or a missing
checker, and CI runs it (issue 13)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]


def _make() -> str:
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    return make


def checkout(tmp_path: Path) -> Path:
    """A fresh checkout's files that the Makefile reads (no .venv yet)."""
    for name in ("Makefile", "pyproject.toml", "constraints.txt"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def dry_run(tmp_path: Path, target: str) -> str:
    """What ``make TARGET`` would run on a fresh checkout (no .venv yet)."""
    result = subprocess.run([_make(), "-n", target, "PYTHON=python3"], cwd=checkout(tmp_path),
                            capture_output=True, text=True, check=True)
    return result.stdout


def test_make_run_installs_only_the_portal(tmp_path):
    commands = dry_run(tmp_path, "run")
    assert "pip install -c constraints.txt -e ." in commands
    assert "[test]" not in commands
    assert "dev]" not in commands
    assert "portal demo" in commands


@pytest.mark.parametrize("target", ["test", "venv"])
def test_make_test_and_venv_install_the_test_extra(tmp_path, target):
    # .ci/run calls `make test` and then `make venv` for bandit and pip-audit.
    assert "pip install -c constraints.txt -e '.[test]'" in dry_run(tmp_path, target)


@pytest.mark.parametrize("target", ["run", "test", "venv", "lint"])
def test_every_install_takes_the_tested_versions(tmp_path, target):
    installs = [line for line in dry_run(tmp_path, target).splitlines() if "pip install" in line]
    assert installs
    assert all("-c constraints.txt" in line for line in installs), installs


def test_make_lint_installs_the_dev_extra_and_runs_ruff_and_mypy(tmp_path):
    commands = dry_run(tmp_path, "lint")
    assert "pip install -c constraints.txt -e '.[test,dev]'" in commands
    assert ".venv/bin/ruff check ." in commands
    assert ".venv/bin/mypy" in commands


def _venv_with(tmp_path: Path, tools: dict[str, int]) -> Path:
    """A checkout whose .venv is installed already (stamps newer than pyproject.toml), with
    stand-in checkers that exit with the given codes."""
    root = checkout(tmp_path)
    bin_dir = root / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    for name, code in {"python": 0, **tools}.items():
        script = bin_dir / name
        script.write_text(f"#!/bin/sh\necho {name} ran\nexit {code}\n")
        script.chmod(0o755)
    later = (root / "pyproject.toml").stat().st_mtime + 60
    for stamp in ("run", "test", "dev"):
        path = root / ".venv" / f".installed-{stamp}"
        path.touch()
        os.utime(path, (later, later))
    return root


def lint(root: Path) -> subprocess.CompletedProcess[str]:
    # PATH without the real venv: a ruff found elsewhere must not stand in for the project's.
    env = {**os.environ, "PATH": "/usr/bin:/bin"}
    return subprocess.run([_make(), "lint", "PYTHON=python3"], cwd=root, env=env,
                          capture_output=True, text=True)


def test_make_lint_passes_when_ruff_and_mypy_find_nothing(tmp_path):
    result = lint(_venv_with(tmp_path, {"ruff": 0, "mypy": 0}))
    assert result.returncode == 0, result.stderr
    assert "ruff ran" in result.stdout
    assert "mypy ran" in result.stdout


@pytest.mark.parametrize("missing", ["ruff", "mypy"])
def test_make_lint_fails_when_a_checker_is_missing(tmp_path, missing):
    present = {"ruff": 0, "mypy": 0}
    del present[missing]
    result = lint(_venv_with(tmp_path, present))
    assert result.returncode != 0
    assert f".venv/bin/{missing} is missing" in result.stderr


@pytest.mark.parametrize("failing", ["ruff", "mypy"])
def test_make_lint_fails_on_a_finding(tmp_path, failing):
    result = lint(_venv_with(tmp_path, {"ruff": 0, "mypy": 0, failing: 1}))
    assert result.returncode != 0


def test_ci_runs_make_lint():
    lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()
             if not line.strip().startswith("#")]
    assert any(re.search(r"\bmake lint\b", line) for line in lines)


def _requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = list(project["dependencies"])
    for extra in ("test", "dev"):
        names += project["optional-dependencies"][extra]
    return [Requirement(name) for name in names]


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version.strip()
    return pins


@pytest.mark.parametrize("requirement", _requirements(), ids=str)
def test_every_dependency_has_an_upper_bound_and_a_pin_inside_it(requirement):
    # A fresh machine gets what CI tested: pyproject bounds the range, constraints.txt pins it.
    assert any(spec.operator in ("<", "<=", "==", "~=") for spec in requirement.specifier), (
        f"{requirement} has no upper bound")
    pinned = _pins().get(re.sub(r"[-_.]+", "-", requirement.name).lower())
    assert pinned is not None, f"{requirement.name} is not pinned in constraints.txt"
    assert requirement.specifier.contains(pinned), f"{requirement.name}=={pinned}"
