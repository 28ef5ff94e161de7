"""Passkeys in real Chromium with its virtual authenticator (issue 18: "tested in real
Chromium with its virtual authenticator"): a DSL adds a passkey on a tablet or a phone,
signs out, and finishes the next sign-in with it instead of the code; removes it; without
JavaScript the code still signs in. axe on each page; Back and Reload after each form.

WebAuthn needs a host name, not an address (a passkey is made for a site), so these pages
are opened at http://localhost:<port>, the server's base URL for this module."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.events import Action
from portal.models import Event, Passkey
from tests.browser.conftest import SCHOOL, LiveServer
from tests.browser.test_accessibility import _assert_no_violations
from tests.conftest import PASSWORD, next_code

VIEWPORTS = {"tablet": {"width": 768, "height": 1024}, "phone": {"width": 390, "height": 844}}
LOCAL = re.compile(r"^https?://(localhost|127\.0\.0\.1)[:/]")


@pytest.fixture(scope="module")
def site(live_server: LiveServer) -> str:
    """The portal at http://localhost:<port>, its base URL (and so the passkeys' site)."""
    url = live_server.url.replace("127.0.0.1", "localhost")
    live_server.app.config["PORTAL_BASE_URL"] = url
    return url


@pytest.fixture
def open_page(chromium: Any, site: str) -> Iterator[Any]:
    """Factory: a page in a fresh profile at ``site`` with a virtual authenticator (a
    phone's or laptop's built-in passkeys, unlocked by the person) unless ``authenticator``
    is False. Nothing but the local server is reachable; a script error fails the test."""
    contexts: list[Any] = []
    errors: list[str] = []

    def make(viewport: dict[str, int], *, authenticator: bool = True,
             javascript: bool = True) -> Any:
        context = chromium.new_context(base_url=site, locale="en-GB", viewport=viewport,
                                       java_script_enabled=javascript)
        context.set_default_timeout(10_000)
        context.route(re.compile(r".*"), lambda route: route.continue_()
                      if LOCAL.match(route.request.url) else route.abort())
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        if authenticator:
            cdp = context.new_cdp_session(page)
            cdp.send("WebAuthn.enable", {"enableUI": False})
            cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
                "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
                "hasUserVerification": True, "isUserVerified": True,
                "automaticPresenceSimulation": True}})
            page.passkeys = cdp  # type: ignore[attr-defined]
        return page

    yield make
    for context in contexts:
        context.close()
    assert not errors, errors


def _password(page: Any, email: str) -> None:
    page.goto("/staff/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/staff/login/code$"))


def _code(page: Any, email: str) -> None:
    page.get_by_label("Code from your authenticator app").fill(next_code(email))
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(re.compile(r"/staff/(\?.*)?$"))


def _add_passkey(page: Any, email: str, name: str, *, go: bool = True) -> None:
    """On "Your passkeys": name it, type the app's code, and let the browser make it."""
    if go:
        page.goto("/staff/account/passkeys")
    page.get_by_label("A name for this passkey").fill(name)
    page.get_by_label("Code from your authenticator app").fill(next_code(email))
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.locator("body")).to_contain_text(f"Passkey “{name}” added")


def _with_a_passkey(open_page: Any, live_server: LiveServer, email: str, name: str,
                    device: str) -> Any:
    """A new DSL, signed in with the code on ``device``, who has added a passkey."""
    live_server.add_staff(SCHOOL, email)
    page = open_page(VIEWPORTS[device])
    _password(page, email)
    _code(page, email)
    _add_passkey(page, email, name)
    return page


def _keys(live_server: LiveServer, email: str) -> list[str]:
    with live_server.db() as db:
        from portal.models import User

        user = db.scalar(select(User).where(User.email == email))
        assert user is not None
        return [k.name for k in db.scalars(select(Passkey).where(Passkey.user_id == user.id))]


@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_a_dsl_adds_a_passkey_and_signs_in_with_it(
        device: str, open_page: Any, live_server: LiveServer) -> None:
    email = f"dsl.{device}@oakfield.test"
    live_server.add_staff(SCHOOL, email, name=f"Ms Reed {device}")
    page = open_page(VIEWPORTS[device])
    _password(page, email)
    assert page.get_by_text("Or use your passkey").count() == 0  # none yet
    _code(page, email)

    page.get_by_role("link", name=re.compile(": your passkeys$")).click()  # their name
    page.wait_for_url("**/staff/account/passkeys")
    expect(page.locator("main")).to_contain_text("None yet.")
    _assert_no_violations(page, f"your passkeys ({device})")
    _add_passkey(page, email, "School iPad", go=False)
    assert _keys(live_server, email) == ["School iPad"]
    page.reload()
    page.go_back()
    page.go_forward()
    assert _keys(live_server, email) == ["School iPad"]  # added once
    _assert_no_violations(page, f"your passkeys, one added ({device})")

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/staff/login$"))
    _password(page, email)
    expect(page.get_by_role("button", name="Use your passkey")).to_be_visible()
    _assert_no_violations(page, f"second step with a passkey ({device})")
    page.get_by_role("button", name="Use your passkey").click()
    page.wait_for_url(re.compile(r"/staff/(\?.*)?$"))
    expect(page.locator("main")).to_contain_text("Record a concern")
    page.go_back()  # the code page again: that sign-in is over, nothing of it is offered
    page.reload()
    expect(page.get_by_role("button", name="Use your passkey")).to_have_count(0)
    with live_server.db() as db:
        methods = [e.payload["method"] for e in db.scalars(
            select(Event).where(Event.action == Action.STAFF_LOGIN.value))]
    assert methods[-1] == "passkey"


def test_a_removed_passkey_is_no_longer_offered(open_page: Any, live_server: LiveServer) -> None:
    email = "dsl.remove@oakfield.test"
    page = _with_a_passkey(open_page, live_server, email, "Old phone", "tablet")
    page.get_by_role("button", name="Remove Old phone").click()
    expect(page.locator("body")).to_contain_text("Passkey “Old phone” removed")
    page.reload()
    assert _keys(live_server, email) == []
    page.get_by_role("button", name="Sign out").click()
    _password(page, email)
    assert page.get_by_role("button", name="Use your passkey").count() == 0


def test_without_javascript_the_code_still_signs_in(
        open_page: Any, live_server: LiveServer) -> None:
    email = "dsl.nojs@oakfield.test"
    _with_a_passkey(open_page, live_server, email, "Laptop", "phone")

    page = open_page(VIEWPORTS["phone"], authenticator=False, javascript=False)
    _password(page, email)
    expect(page.locator("main")).to_contain_text("Using a passkey needs JavaScript")
    assert not page.get_by_role("button", name="Use your passkey").is_visible()
    _code(page, email)
    page.goto("/staff/account/passkeys")
    expect(page.locator("main")).to_contain_text("Adding a passkey needs JavaScript")
    expect(page.locator("main")).to_contain_text("Laptop")

