"""Passkeys as the second step of signing in (issue 18: "Staff can add a passkey (WebAuthn,
through a well-kept library) as their second step, alongside TOTP"), with a software passkey
giving real WebAuthn bytes (tests/webauthn_device.py; tests/browser/test_passkeys.py uses
Chromium's virtual authenticator): added by its owner, then used after the password instead
of the code; a phishing page's answer, another account's passkey, a copied key, the same
answer twice and junk are refused; removing one, or a reset second step, ends it."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from sqlalchemy import select

from portal.admin import staff as staff_accounts
from portal.auth import passkeys
from portal.events import Action
from portal.models import Event, Passkey, Role
from tests.conftest import PASSWORD, Browser, hidden_fields, next_code
from tests.webauthn_device import SoftPasskey

ORIGIN = "http://127.0.0.1:5000"  # the settings' PORTAL_BASE_URL (tests/conftest.py)
PHISHING = "http://127.0.0.1.oakfield-login.example"


def _options(page: Any) -> str:
    text = page.get_data(as_text=True)
    found = re.search(r'data-passkey-options="([^"]+)"', text)
    assert found, text[:800]
    return html.unescape(found.group(1))


DSL_EMAIL = "ms.reed@oakfield.test"


def _add(browser: Any, device: SoftPasskey, name: str = "Work laptop",
         origin: str = ORIGIN, email: str = DSL_EMAIL, code: str | None = None) -> Any:
    """Add a passkey as its owner would: name it, type the app's code, let the browser
    make it."""
    page = browser.get("/staff/account/passkeys")
    assert page.status_code == 200
    fields = hidden_fields(page.get_data(as_text=True), "/staff/account/passkeys")
    answer = device.create(_options(page), origin)
    return browser.client.post("/staff/account/passkeys", data={
        **fields, "credential": answer, "name": name,
        "otp": next_code(email) if code is None else code})


def _password(client: Any, email: str) -> Any:
    page = client.get("/staff/login")
    fields = hidden_fields(page.get_data(as_text=True), "/staff/login")
    done = client.post("/staff/login", data={**fields, "email": email, "password": PASSWORD})
    assert done.headers["Location"].endswith("/staff/login/code")
    return client.get("/staff/login/code")


def _answer(client: Any, page: Any, answer: str) -> Any:
    fields = hidden_fields(page.get_data(as_text=True), "/staff/login/passkey")
    return client.post("/staff/login/passkey", data={**fields, "credential": answer})


def _signed_in_and_captured(app: Any, device: SoftPasskey, email: str) -> tuple[Any, str, Any]:
    """A sign-in by passkey in a fresh browser, with what an eavesdropper would keep of
    it: the form's fields, the passkey's answer (a synced passkey's: counter always 0) and
    the session cookie it was sent under."""
    client = app.test_client()
    page = _password(client, email)
    answer = device.get(_options(page), ORIGIN, counter_step=0)
    fields = hidden_fields(page.get_data(as_text=True), "/staff/login/passkey")
    cookie = client.get_cookie("tellus")
    assert cookie is not None
    assert client.post("/staff/login/passkey",
                       data={**fields, "credential": answer}).status_code == 302
    return fields, answer, cookie


def _signed_in(client: Any) -> bool:
    return client.get("/staff/").status_code == 200


@pytest.fixture
def dsl(browser: Any, school: Any, make_user: Any) -> Any:
    user = make_user(Role.DSL, school, email=DSL_EMAIL)
    assert browser.login(user.email).status_code in (200, 302)
    return user


def test_a_dsl_adds_a_passkey_and_signs_in_with_it_instead_of_the_code(
        app: Any, browser: Any, session: Any, dsl: Any) -> None:
    device = SoftPasskey()
    added = _add(browser, device, name="Work <b>laptop</b>")
    assert added.status_code == 302
    page = browser.get("/staff/account/passkeys").get_data(as_text=True)
    assert "Work &lt;b&gt;laptop&lt;/b&gt;" in page  # the name, as text
    key = session.scalar(select(Passkey))
    assert key.user_id == dsl.id
    assert key.credential_id == device.credential_id
    assert session.scalar(select(Event).where(
        Event.action == Action.STAFF_PASSKEY_ADDED.value)).actor_id == dsl.id

    fresh = app.test_client()
    code_page = _password(fresh, dsl.email)
    assert "Use your passkey" in code_page.get_data(as_text=True)
    assert not _signed_in(fresh)  # the password alone is not enough
    done = _answer(fresh, code_page, device.get(_options(code_page), ORIGIN))
    assert done.status_code == 302
    assert done.headers["Location"] == "/staff/"
    assert _signed_in(fresh)
    logins = [e.payload["method"] for e in session.scalars(
        select(Event).where(Event.action == Action.STAFF_LOGIN.value))]
    assert logins[-1] == "passkey"
    session.refresh(key)
    assert key.last_used_at is not None
    assert key.sign_count == device.counter


def test_the_code_still_works_beside_a_passkey(app: Any, session: Any, dsl: Any) -> None:
    device = SoftPasskey()  # kept as adding it would (adding takes a code: the next one)
    session.add(Passkey(user_id=dsl.id, credential_id=device.credential_id,
                        public_key=device._cose(), name="Laptop"))  # noqa: SLF001
    session.commit()
    fresh = app.test_client()
    code_page = _password(fresh, dsl.email)
    fields = hidden_fields(code_page.get_data(as_text=True), "/staff/login/code")
    done = fresh.post("/staff/login/code", data={**fields, "otp": next_code(dsl.email)})
    assert done.status_code == 302
    assert _signed_in(fresh)


@pytest.mark.parametrize(("origin", "rp_id", "why"), [
    (PHISHING, None, "a look-alike site relaying the challenge"),
    (ORIGIN, "oakfield-login.example", "a passkey made for another site"),
])
def test_an_answer_for_another_site_is_refused(
        app: Any, browser: Any, dsl: Any, origin: str, rp_id: str | None, why: str) -> None:
    device = SoftPasskey()
    assert _add(browser, device).status_code == 302
    fresh = app.test_client()
    code_page = _password(fresh, dsl.email)
    refused = _answer(fresh, code_page, device.get(_options(code_page), origin, rp_id=rp_id))
    assert refused.status_code == 400, why
    assert "didn't sign you in" in html.unescape(refused.get_data(as_text=True))
    assert not _signed_in(fresh), why


def test_a_phishing_origin_cannot_add_a_passkey(browser: Any, session: Any, dsl: Any) -> None:
    refused = _add(browser, SoftPasskey(), origin=PHISHING)
    assert refused.status_code == 400
    assert "could not be checked" in refused.get_data(as_text=True)
    assert session.scalars(select(Passkey)).first() is None


def test_another_accounts_passkey_does_not_sign_in_this_account(
        app: Any, browser: Any, school: Any, make_user: Any, dsl: Any) -> None:
    mine = SoftPasskey()
    assert _add(browser, mine).status_code == 302
    colleague = make_user(Role.STAFF, school, email="mr.cole@oakfield.test")
    theirs = SoftPasskey()
    other = app.test_client()
    assert Browser(other).login(colleague.email).status_code in (200, 302)
    assert _add(Browser(other), theirs, email=colleague.email).status_code == 302
    # At the DSL's code step, the colleague's own passkey answering the DSL's challenge
    fresh = app.test_client()
    code_page = _password(fresh, dsl.email)
    options = _options(code_page)
    assert _answer(fresh, code_page, theirs.get(options, ORIGIN)).status_code == 400
    assert not _signed_in(fresh)


def test_the_same_answer_twice_signs_in_once(app: Any, browser: Any, dsl: Any) -> None:
    """An answer and the cookie it was made under, captured and sent again later (or from
    a second place at once): the challenge is taken once. The passkey is a synced one whose
    counter is always 0 (as phones' passkeys are), so no counter can catch it."""
    device = SoftPasskey()
    assert _add(browser, device).status_code == 302
    fields, answer, cookie = _signed_in_and_captured(app, device, dsl.email)
    thief = app.test_client()
    thief.set_cookie("tellus", cookie.value, domain=cookie.domain or "localhost")
    again = thief.post("/staff/login/passkey", data={**fields, "credential": answer})
    assert again.status_code == 400
    assert not _signed_in(thief)


def test_a_copied_key_whose_counter_went_back_is_refused(
        app: Any, browser: Any, dsl: Any) -> None:
    device = SoftPasskey()
    assert _add(browser, device).status_code == 302
    first = app.test_client()
    page = _password(first, dsl.email)
    assert _answer(first, page, device.get(_options(page), ORIGIN,
                                           counter_step=5)).status_code == 302
    copy = app.test_client()
    page = _password(copy, dsl.email)
    refused = _answer(copy, page, device.get(_options(page), ORIGIN, counter_step=-2))
    assert refused.status_code == 400
    assert not _signed_in(copy)


@pytest.mark.parametrize("junk", ["", "not json", "[]", '{"id": 5}', "{" * 5000, "[" * 16_000,
                                  '{"rawId": "!!", "response": {}}', "x" * 20_000])
def test_junk_from_the_browser_is_a_plain_refusal(
        app: Any, browser: Any, dsl: Any, junk: str) -> None:
    assert _add(browser, SoftPasskey()).status_code == 302
    fresh = app.test_client()
    page = _password(fresh, dsl.email)
    refused = _answer(fresh, page, junk)
    assert refused.status_code == 400
    assert "Use your passkey" in refused.get_data(as_text=True)  # try again from here
    assert not _signed_in(fresh)
    page = browser.get("/staff/account/passkeys")
    fields = hidden_fields(page.get_data(as_text=True), "/staff/account/passkeys")
    bad = browser.client.post("/staff/account/passkeys",
                              data={**fields, "credential": junk, "name": "Phone",
                                    "otp": "000000"})
    assert bad.status_code == 400
    assert 'value="Phone"' in bad.get_data(as_text=True)  # what was typed stays


def test_without_the_password_first_a_passkey_answer_goes_nowhere(
        app: Any, browser: Any, dsl: Any) -> None:
    device = SoftPasskey()
    assert _add(browser, device).status_code == 302
    stranger = app.test_client()
    page = stranger.get("/staff/login")
    fields = hidden_fields(page.get_data(as_text=True), "/staff/login")
    response = stranger.post("/staff/login/passkey", data={**fields, "credential": "{}"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/login"
    assert not _signed_in(stranger)


def test_a_removed_passkey_no_longer_signs_in_and_only_its_owner_removes_it(
        app: Any, browser: Any, session: Any, school: Any, make_user: Any, dsl: Any) -> None:
    device = SoftPasskey()
    assert _add(browser, device).status_code == 302
    key_id = session.scalar(select(Passkey.id))
    colleague = make_user(Role.DSL, school, email="deputy@oakfield.test")
    other = app.test_client()
    assert Browser(other).login(colleague.email).status_code in (200, 302)
    page = other.get("/staff/account/passkeys")
    fields = hidden_fields(page.get_data(as_text=True))
    assert other.post(f"/staff/account/passkeys/{key_id}/remove",
                      data=fields).status_code == 404  # not theirs
    assert session.get(Passkey, key_id) is not None
    page = browser.get("/staff/account/passkeys")
    fields = hidden_fields(page.get_data(as_text=True),
                           f"/staff/account/passkeys/{key_id}/remove")
    assert browser.client.post(f"/staff/account/passkeys/{key_id}/remove",
                               data=fields).status_code == 302
    session.expire_all()
    assert session.get(Passkey, key_id) is None
    assert session.scalar(select(Event).where(
        Event.action == Action.STAFF_PASSKEY_REMOVED.value)) is not None
    fresh = app.test_client()
    code_page = _password(fresh, dsl.email)
    assert "Use your passkey" not in code_page.get_data(as_text=True)
    assert fresh.post("/staff/login/passkey", data={
        **hidden_fields(code_page.get_data(as_text=True), "/staff/login/code"),
        "credential": device.get('{"challenge": "AAAA", "rpId": "127.0.0.1"}', ORIGIN),
    }).status_code == 400
    assert not _signed_in(fresh)


def test_a_reset_second_step_removes_the_passkeys_too(
        browser: Any, session: Any, school: Any, make_user: Any, dsl: Any) -> None:
    """A lost or stolen phone: the office resets the second step; a passkey on that phone
    must not keep working."""
    assert _add(browser, SoftPasskey()).status_code == 302
    office = make_user(Role.ADMIN, school, email="office@oakfield.test")
    staff_accounts.reset_second_step(session, dsl, actor=office)
    session.commit()
    assert session.scalars(select(Passkey)).first() is None


def test_removing_with_a_forged_token_changes_nothing(
        browser: Any, session: Any, dsl: Any) -> None:
    assert _add(browser, SoftPasskey()).status_code == 302
    key = session.scalar(select(Passkey))
    response = browser.client.post(f"/staff/account/passkeys/{key.id}/remove",
                                   data={"csrf_token": "forged"})
    assert response.status_code == 400
    assert session.get(Passkey, key.id) is not None


def test_a_copied_cookie_and_answer_sent_again_after_another_sign_in_are_refused(
        app: Any, browser: Any, dsl: Any) -> None:
    """The passkey trial's replay: a synced passkey (counter always 0); browser A's cookie
    and answer captured; A signs in, then B signs in with the same passkey (which took the
    place of A's challenge as the last one answered); A's old cookie and answer again."""
    device = SoftPasskey()
    assert _add(browser, device).status_code == 302
    fields, answer, cookie = _signed_in_and_captured(app, device, dsl.email)
    second = app.test_client()
    page = _password(second, dsl.email)
    assert _answer(second, page, device.get(_options(page), ORIGIN,
                                            counter_step=0)).status_code == 302
    thief = app.test_client()
    thief.set_cookie("tellus", cookie.value, domain=cookie.domain or "localhost")
    assert thief.post("/staff/login/passkey",
                      data={**fields, "credential": answer}).status_code == 400
    assert not _signed_in(thief)


def test_a_removed_passkey_is_not_brought_back_by_sending_its_adding_again(
        browser: Any, session: Any, dsl: Any) -> None:
    device = SoftPasskey()
    page = browser.get("/staff/account/passkeys")
    fields = hidden_fields(page.get_data(as_text=True), "/staff/account/passkeys")
    cookie = browser.client.get_cookie("tellus")
    assert cookie is not None
    form = {**fields, "credential": device.create(_options(page), ORIGIN), "name": "Phone",
            "otp": next_code(dsl.email)}
    assert browser.client.post("/staff/account/passkeys", data=form).status_code == 302
    key_id = session.scalar(select(Passkey.id))
    page = browser.get("/staff/account/passkeys")
    removal = f"/staff/account/passkeys/{key_id}/remove"
    assert browser.client.post(removal, data=hidden_fields(
        page.get_data(as_text=True), removal)).status_code == 302
    signed_in = browser.client.get_cookie("tellus")
    assert signed_in is not None
    # the old page's cookie (its challenge) with the old form: refused as out of date,
    # before its code is even looked at
    browser.client.set_cookie("tellus", cookie.value, domain=cookie.domain or "localhost")
    again = browser.client.post("/staff/account/passkeys", data={**form, "otp": "000000"})
    assert again.status_code == 400
    assert "took too long or was started in another tab" in \
        html.unescape(again.get_data(as_text=True))
    session.expire_all()
    assert session.scalars(select(Passkey)).first() is None


def test_adding_a_passkey_asks_for_the_apps_code(browser: Any, session: Any,
                                                 dsl: Any) -> None:
    """A session left signed in is not enough to give the account a second step."""
    for code in ("", "000000"):
        refused = _add(browser, SoftPasskey(), name="Someone else's phone", code=code)
        assert refused.status_code == 400
        text = html.unescape(refused.get_data(as_text=True))
        assert 'value="Someone else\'s phone"' in text or "Someone else's phone" in text
        assert session.scalars(select(Passkey)).first() is None


def test_a_name_keeps_no_invisible_or_reversing_characters(browser: Any, session: Any,
                                                           dsl: Any) -> None:
    assert _add(browser, SoftPasskey(), name="Work\u202elaptop\u200b  phone").status_code == 302
    assert session.scalar(select(Passkey.name)) == "Worklaptop phone"


@pytest.mark.parametrize(("base", "rp_id", "origin"), [
    ("http://LOCALHOST:5000", "localhost", "http://localhost:5000"),
    ("https://Portal.Example.org:443/", "portal.example.org", "https://portal.example.org"),
    ("http://127.0.0.1:80", "127.0.0.1", "http://127.0.0.1"),
    ("https://user@portal.example.org:8443/x", "portal.example.org",
     "https://portal.example.org:8443"),
])
def test_the_site_and_origin_are_the_ones_a_browser_sends(base: str, rp_id: str,
                                                          origin: str) -> None:
    party = passkeys.Party.of(base)
    assert party.rp_id == rp_id
    assert party.origin == origin
