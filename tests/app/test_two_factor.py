"""Two-step sign-in (SECURITY.md P7): enrolment with a server-drawn QR code, codes that work
once, recovery codes, throttling, and the admin commands for lost phones and lockouts."""

from __future__ import annotations

import re

import pyotp
from sqlalchemy import select

from portal.cli import cli
from portal.models import RecoveryCode, StaffSession, User
from tests.conftest import PASSWORD, TOTP_SECRETS, Browser, next_code


def password_step(browser: Browser, email: str):
    return browser.submit("/staff/login", {"email": email, "password": PASSWORD})


def test_a_new_dsl_enrols_an_authenticator_at_first_sign_in(browser, school, make_user,
                                                            session):
    dsl = make_user(school=school, two_factor=False)
    assert password_step(browser, dsl.email).headers["Location"].endswith("/staff/login/enrol")
    # The password alone opens nothing
    assert browser.get("/staff/").status_code == 302
    page = browser.get("/staff/login/enrol").get_data(as_text=True)
    assert "<svg" in page
    assert "http" not in page.split("<svg", 1)[1].split("</svg>")[0].replace(
        "http://www.w3.org", "")
    secret = re.search(r"data-totp-secret>([A-Z2-7 ]+)<", page).group(1).replace(" ", "")
    session.expire_all()
    assert session.get(User, dsl.id).totp_secret is None  # showing the page changed nothing
    wrong = browser.submit("/staff/login/enrol", {"otp": "000000"})
    assert "That code did not work" in wrong.get_data(as_text=True)
    done = browser.submit("/staff/login/enrol", {"otp": pyotp.TOTP(secret).now()})
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", done.get_data(as_text=True))
    assert len(codes) == 10
    assert browser.get("/staff/").status_code == 200
    session.expire_all()
    stored = session.get(User, dsl.id)
    assert stored.totp_secret == secret
    assert stored.totp_enabled_at is not None
    assert session.scalars(select(RecoveryCode)).all()
    assert all(code not in repr(row.code_hash) for row in session.scalars(select(RecoveryCode))
               for code in codes)


def test_a_code_works_only_once(app, school, make_user):
    dsl = make_user(school=school)
    first = Browser(app.test_client())
    password_step(first, dsl.email)
    code = next_code(dsl.email)
    assert first.submit("/staff/login/code", {"otp": code}).status_code == 302
    second = Browser(app.test_client())
    password_step(second, dsl.email)
    replay = second.submit("/staff/login/code", {"otp": code})
    assert replay.status_code == 200
    assert "That code did not work" in replay.get_data(as_text=True)
    assert second.get("/staff/").status_code == 302


def test_a_recovery_code_signs_in_once(app, browser, school, make_user, session):
    from portal.auth import twofactor

    dsl = make_user(school=school)
    codes = twofactor.new_recovery_codes(session, session.get(User, dsl.id))
    session.commit()
    password_step(browser, dsl.email)
    assert browser.submit("/staff/login/code", {"otp": codes[0]}).status_code == 302
    other = Browser(app.test_client())
    password_step(other, dsl.email)
    assert other.submit("/staff/login/code", {"otp": codes[0]}).status_code == 200


def test_guessing_codes_is_throttled(browser, school, make_user):
    dsl = make_user(school=school)
    password_step(browser, dsl.email)
    statuses = [browser.submit("/staff/login/code", {"otp": f"{n:06d}"}).status_code
                for n in range(6)]
    assert statuses[-1] == 429


def test_reset_2fa_for_a_lost_phone_ends_sessions_and_asks_to_enrol_again(
        app, browser, school, make_user, session):
    dsl = make_user(school=school)
    browser.login(dsl.email)
    result = app.test_cli_runner().invoke(cli, ["reset-2fa", dsl.email])
    assert result.exit_code == 0, result.output
    session.expire_all()
    assert session.get(User, dsl.id).totp_secret is None
    assert all(s.ended_at is not None for s in session.scalars(select(StaffSession)))
    assert browser.get("/staff/").status_code == 302
    TOTP_SECRETS.pop(dsl.email.lower(), None)
    assert password_step(Browser(app.test_client()), dsl.email).headers["Location"].endswith(
        "/staff/login/enrol")


def test_unlock_user_lifts_the_throttle(app, browser, school, make_user):
    dsl = make_user(school=school)
    for _ in range(5):
        browser.submit("/staff/login", {"email": dsl.email, "password": "wrong-password-12"})
    assert browser.submit("/staff/login", {"email": dsl.email, "password": PASSWORD}) \
        .status_code == 429
    assert app.test_cli_runner().invoke(cli, ["unlock-user", dsl.email]).exit_code == 0
    assert browser.login(dsl.email).status_code == 302


def test_admin_commands_answer_clearly_for_unknown_accounts(app):
    result = app.test_cli_runner().invoke(cli, ["reset-2fa", "nobody@school.test"])
    assert result.exit_code == 1
    assert "There is no account" in result.output


def test_the_secret_being_enrolled_is_not_readable_in_the_session_cookie(app, browser, school,
                                                                        make_user, session):
    """Flask's session cookie is signed, not encrypted: anyone holding it (a shared
    computer's profile, a proxy log) could read a secret kept there in plain form."""
    dsl = make_user(school=school, two_factor=False)
    password_step(browser, dsl.email)
    page = browser.get("/staff/login/enrol").get_data(as_text=True)
    secret = re.search(r"data-totp-secret>([A-Z2-7 ]+)<", page).group(1).replace(" ", "")
    cookie = browser.client.get_cookie("tellus").value
    decoded = app.session_interface.get_signing_serializer(app).loads(cookie)
    assert decoded.get("pending_user") == dsl.id  # it is the session we think it is
    assert secret not in repr(decoded)
    assert secret not in cookie
    assert secret.lower() not in repr(decoded).lower()
    # Reloading the page keeps the same secret (a phone that scanned it still matches), and
    # showing it wrote nothing to the database
    again = browser.get("/staff/login/enrol").get_data(as_text=True)
    assert secret in again.replace(" ", "")
    session.expire_all()
    assert session.get(User, dsl.id).totp_secret is None
    # and the sealed secret still enrols
    done = browser.submit("/staff/login/enrol", {"otp": pyotp.TOTP(secret).now()})
    assert "data-recovery-codes" in done.get_data(as_text=True)


def test_a_sealed_secret_from_another_account_is_not_accepted(app, school, make_user):
    """The sealed secret is bound to the account it was made for: copying one browser's
    enrolment cookie into another pending sign-in gives that sign-in a fresh secret."""
    first = make_user(school=school, two_factor=False)
    second = make_user(school=school, two_factor=False)
    a, b = Browser(app.test_client()), Browser(app.test_client())
    password_step(a, first.email)
    page_a = a.get("/staff/login/enrol").get_data(as_text=True)
    secret_a = re.search(r"data-totp-secret>([A-Z2-7 ]+)<", page_a).group(1)
    serializer = app.session_interface.get_signing_serializer(app)
    sealed = {k: v for k, v in serializer.loads(a.client.get_cookie("tellus").value).items()
              if k not in {"pending_user", "pending_at", "pending_key", "csrf_token"}}
    password_step(b, second.email)
    b.get("/staff/login/enrol")
    mine = serializer.loads(b.client.get_cookie("tellus").value)
    b.client.set_cookie("tellus", serializer.dumps({**mine, **sealed}))
    page_b = b.get("/staff/login/enrol").get_data(as_text=True)
    assert secret_a not in page_b
