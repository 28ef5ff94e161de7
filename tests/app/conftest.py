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


@pytest.fixture
def dsl(browser, school, make_user):
    """The school's DSL, signed in on ``browser`` (a test file may define its own)."""
    user = make_user(school=school)
    browser.login(user.email)
    return user
