"""Guessing a DSL's password is throttled without letting outsiders lock the DSL out
(OWASP's "device cookie" scheme, SECURITY.md P7).

A browser where an account signed in gets a signed device cookie for that account. Sign-in
tries from browsers without one share the account's budget (five a minute), so an outsider
who knows the DSL's email is throttled at once; a browser with a valid device cookie for
the account has its own budget, which outsiders can't spend.
"""

from __future__ import annotations

import re

from tests.conftest import PASSWORD, Browser, next_code

WRONG = "wrong-password-123"


def password_step(browser: Browser, email: str, password: str, address: str = "127.0.0.1"):
    return browser.submit("/staff/login", {"email": email, "password": password},
                          environ_base={"REMOTE_ADDR": address})


def signed_in_before(app, email: str) -> Browser:
    """The DSL's own browser, where they signed in (both steps) and then signed out."""
    desk = Browser(app.test_client())
    desk.login(email)
    assert desk.get("/staff/").status_code == 200
    desk.submit("/staff/", {}, action="/staff/logout")
    assert desk.get("/staff/").status_code == 302
    return desk


def test_an_outsider_guessing_cannot_lock_the_dsl_out_of_their_own_browser(
        app, school, make_user):
    dsl = make_user(school=school)
    desk = signed_in_before(app, dsl.email)
    # When an outsider sends many wrong passwords for the DSL's email, from many addresses
    attacker = Browser(app.test_client())
    statuses = [password_step(attacker, dsl.email, WRONG, f"203.0.113.{n}").status_code
                for n in range(1, 41)]
    # Then the outsider is throttled after five
    assert statuses[:5] == [200] * 5
    assert set(statuses[5:]) == {429}
    # even with the right password, from a fresh browser
    assert password_step(Browser(app.test_client()), dsl.email, PASSWORD).status_code == 429
    # But the DSL, at the browser they used before, still signs in
    step = password_step(desk, dsl.email, PASSWORD)
    assert step.status_code == 302, step.status_code
    assert step.headers["Location"].endswith("/staff/login/code")
    assert desk.submit("/staff/login/code", {"otp": next_code(dsl.email)}).status_code == 302
    assert desk.get("/staff/").status_code == 200


def test_the_device_budget_is_the_devices_own(app, school, make_user):
    """Wrong passwords from the DSL's own browser throttle that browser, as before."""
    dsl = make_user(school=school)
    desk = signed_in_before(app, dsl.email)
    statuses = [password_step(desk, dsl.email, WRONG).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]


def test_another_accounts_device_cookie_or_a_forged_one_buys_no_extra_guesses(
        app, school, make_user):
    dsl = make_user(school=school)
    colleague = make_user(school=school)
    # A member of staff who signed in on their own browser tries the DSL's password
    own = signed_in_before(app, colleague.email)
    statuses = [password_step(own, dsl.email, WRONG).status_code for _ in range(6)]
    assert statuses[-1] == 429
    # A made-up device cookie is no better
    forger = Browser(app.test_client())
    forger.client.set_cookie("tellus_signin", "eyJ0IjpbXX0.forged.signature", path="/staff")
    assert password_step(forger, dsl.email, WRONG).status_code == 429


def test_unknown_and_known_accounts_answer_alike_when_throttled(app, school, make_user):
    dsl = make_user(school=school)
    attacker = Browser(app.test_client())
    known = [password_step(attacker, dsl.email, WRONG).status_code for _ in range(6)]
    unknown = [password_step(attacker, "nobody@school.test", WRONG).status_code
               for _ in range(6)]
    assert known == unknown == [200] * 5 + [429]


def test_the_device_cookie_is_http_only_and_says_nothing_readable(app, school, make_user):
    dsl = make_user(school=school)
    desk = signed_in_before(app, dsl.email)
    cookie = desk.client.get_cookie("tellus_signin", path="/staff")
    assert cookie is not None
    assert cookie.http_only
    assert dsl.email not in cookie.value
    assert not re.search(r"@", cookie.value)


def _exhaust_shared_budget(app, email: str) -> None:
    outsider = Browser(app.test_client())
    statuses = [password_step(outsider, email, WRONG).status_code for _ in range(6)]
    assert statuses[-1] == 429


def test_a_second_factor_reset_takes_back_the_device_budget_of_every_browser(
        app, session, school, make_user):
    """A lost or stolen phone (`portal reset-2fa`) may mean someone else signed in: the
    browsers where the account signed in before lose their own budget and share the
    account's until they sign in fully again."""
    from portal import accounts

    dsl = make_user(school=school)
    desk = signed_in_before(app, dsl.email)
    _exhaust_shared_budget(app, dsl.email)
    # The browser that signed in before still has its own budget...
    assert password_step(desk, dsl.email, WRONG).status_code == 200
    # ...until the account's second factor is reset
    accounts.reset_two_factor(session, dsl)
    session.commit()
    _exhaust_shared_budget(app, dsl.email)
    assert password_step(desk, dsl.email, WRONG).status_code == 429


def test_a_password_reset_takes_back_the_device_budget_too(app, session, school, make_user):
    from portal import accounts

    dsl = make_user(school=school)
    desk = signed_in_before(app, dsl.email)
    accounts.renew_password(session, dsl, "another-long-passphrase-77", why="admin reset")
    session.commit()
    _exhaust_shared_budget(app, dsl.email)
    assert password_step(desk, dsl.email, WRONG).status_code == 429
