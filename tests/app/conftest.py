"""Fixtures for the app tests (each test has a database of its own)."""

from __future__ import annotations

import pytest

from tests.conftest import _LAST_STEP


@pytest.fixture(autouse=True)
def _no_code_used_yet() -> None:
    """Each test here starts with a fresh database, so no account in it has used an
    authenticator code yet: forget the steps earlier tests used. Without this, tests that
    sign in the same address (dsl@oakfield.test) waited up to 30 s each for a fresh code."""
    _LAST_STEP.clear()
