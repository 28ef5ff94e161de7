"""Staff passwords are refused when a strength estimate (zxcvbn) says they are easy to
guess, with the reason in plain words; long passphrases and generated passwords pass."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.auth.passwords import MIN_LENGTH, WeakPassword, check_strength
from portal.cli import cli, new_password
from portal.models import User
from tests.conftest import PASSWORD


def create_user(app, school, password: str, email: str = "dsl@oakfield.example"):
    """`portal create-user` as an administrator runs it, the password typed on stdin."""
    return app.test_cli_runner().invoke(cli, [
        "create-user", email, "--school", school.slug, "--role", "dsl",
        "--name", "Ms Jones", "--password-stdin"], input=password + "\n")


@pytest.mark.parametrize(("password", "why"), [
    ("aaaaaaaaaaaa", "repeated characters"),
    ("abababababababab", "repeated characters"),
    ("abcdefghijklmnop", "runs like abc or 1234"),
    ("sunshine2020", "common password"),
    ("qwertyuiopasdf", "common password"),
    ("zxcvbnm,./asdfgh", "keys next to each other"),
])
def test_an_easily_guessed_password_is_refused_with_the_reason(app, school, session,
                                                               password, why):
    result = create_user(app, school, password)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert why in result.output.lower(), result.output
    assert session.scalar(select(func.count()).select_from(User)) == 0


def test_a_password_made_of_the_persons_own_email_is_refused(app, school, session):
    result = create_user(app, school, "oakfieldjones", email="jones@oakfield.example")
    assert result.exit_code == 1, result.output
    assert "your name, email address or school" in result.output
    assert session.scalar(select(func.count()).select_from(User)) == 0


@pytest.mark.parametrize("password", [PASSWORD, "correct horse battery staple",
                                      "my cat sleeps on the red piano"])
def test_passphrases_pass(app, school, session, password):
    result = create_user(app, school, password)
    assert result.exit_code == 0, result.output
    assert session.scalar(select(func.count()).select_from(User)) == 1


def test_the_demo_password_always_passes():
    for _ in range(200):
        check_strength(new_password())


def test_length_and_common_list_still_apply():
    with pytest.raises(WeakPassword, match=f"at least {MIN_LENGTH}"):
        check_strength("Xq7#vR2!")
    with pytest.raises(WeakPassword, match="too common"):
        check_strength("password1234")


def test_a_very_long_passphrase_is_estimated_without_error():
    check_strength("pale lanterns drift over the quiet harbour at dusk " * 4)
