"""Signing in with the school's own accounts (issue 18: "Single sign-on (OpenID Connect)"),
in real Chromium against a real OpenID Connect provider on loopback (tests/oidc_provider.py):
the office manager sets the provider up on its page; a teacher on a tablet or a phone signs
in through it and out again (which ends the provider's session too); Back, Forward and
Reload after each step sign nobody in again; a refusal is a plain page; axe on each page."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.auth import sso
from portal.events import Action
from portal.models import Event, Role, School, SsoProvider, Trust, User
from tests import oidc_provider
from tests.browser.conftest import SCHOOL, DslAtDesk, LiveServer
from tests.browser.test_accessibility import _assert_no_violations
from tests.conftest import next_code

VIEWPORTS = {"tablet": {"width": 768, "height": 1024}, "phone": {"width": 390, "height": 844}}
OFFICE = "office.sso@oakfield.test"


@pytest.fixture(scope="module")
def idp(live_server: LiveServer) -> Iterator[oidc_provider.Provider]:
    """The provider, with this server's own callback and sign-out addresses registered
    (the server's port is only known once it is up, so its base URL is set to it here)."""
    live_server.app.config["PORTAL_BASE_URL"] = live_server.url
    live_server.app.config["PORTAL_SSO_HTTP_LOOPBACK"] = True
    with oidc_provider.running([f"{live_server.url}/staff/login/sso/callback"],
                               [f"{live_server.url}/staff/login"]) as provider:
        sso.forget(provider.issuer)
        yield provider


@pytest.fixture(scope="module")
def office(live_server: LiveServer, chromium: Any) -> dict[str, Any]:
    """The school's administrator, signed in once for the module (password and code)."""
    live_server.add_staff(SCHOOL, OFFICE, role=Role.ADMIN, name="Mrs Office")
    context = chromium.new_context(base_url=live_server.url, locale="en-GB")
    try:
        page = context.new_page()
        DslAtDesk(page).enter_password(OFFICE)
        page.get_by_label("Code from your authenticator app").fill(next_code(OFFICE))
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(r"/staff/school$"))
        return {"state": context.storage_state()}
    finally:
        context.close()


def _switch_on(page: Any, idp: oidc_provider.Provider, label: str, domain: str) -> None:
    """The sign-in settings page filled in as an administrator would, and saved on."""
    page.get_by_label("Name staff will see").fill(label)
    page.get_by_label("Issuer").fill(idp.issuer)
    page.get_by_label("Client ID").fill(oidc_provider.CLIENT_ID)
    page.get_by_label("Client secret").fill(oidc_provider.CLIENT_SECRET)
    page.get_by_label("Email domains").fill(domain)
    page.get_by_label("Staff may sign in with this provider").check()
    page.get_by_role("button", name="Save sign-in settings").click()
    expect(page.locator("main")).to_contain_text("Switched on")


@pytest.fixture(scope="module")
def set_up(live_server: LiveServer, chromium: Any, office: dict[str, Any],
           idp: oidc_provider.Provider) -> None:
    """The office manager switches the school's provider on, from its page."""
    context = chromium.new_context(base_url=live_server.url, locale="en-GB",
                                   storage_state=office["state"])
    try:
        page = context.new_page()
        page.goto("/staff/school")
        page.get_by_role("link", name=re.compile("Sign-in with the school's accounts")).click()
        page.wait_for_url("**/staff/school/sign-in")
        _switch_on(page, idp, "Oakfield staff account", "oakfield.test")
    finally:
        context.close()


def _at_provider(page: Any, email: str, *, verified: bool = True, mfa: bool = True) -> None:
    """The school's sign-in page at the provider, as the teacher fills it in."""
    page.wait_for_url(re.compile(r"/interaction/"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("The school has verified this address").set_checked(verified)
    page.get_by_label("Signed in with a second factor").set_checked(mfa)
    page.get_by_role("button", name="Sign in").click()


def _start(page: Any, email: str) -> None:
    page.goto("/staff/login")
    page.get_by_role("link", name="Sign in with your school account instead").click()
    page.wait_for_url("**/staff/login/sso")
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Continue to your school's sign-in").click()


def test_the_office_manager_sets_the_provider_up_on_an_accessible_page(
        new_context: Callable[..., Any], live_server: LiveServer, office: dict[str, Any],
        set_up: None) -> None:
    page = new_context(storage_state=office["state"],
                       viewport=VIEWPORTS["tablet"]).new_page()
    page.goto("/staff/school/sign-in")
    main = page.locator("main").inner_text()
    assert f"{live_server.url}/staff/login/sso/callback" in main  # what IT registers
    assert oidc_provider.CLIENT_SECRET not in page.content()  # never shown again
    _assert_no_violations(page, "sign-in settings")
    with live_server.db() as db:
        row = db.scalar(select(SsoProvider))
        assert row is not None
        assert row.enabled
        assert row.domain_list == ["oakfield.test"]


@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_a_teacher_signs_in_with_the_school_account_and_out_again(
        device: str, new_context: Callable[..., Any], live_server: LiveServer,
        set_up: None) -> None:
    email = f"teacher.{device}@oakfield.test"
    live_server.add_staff(SCHOOL, email, role=Role.STAFF, name=f"Mr Teacher {device}",
                          two_factor=False)
    page = new_context(viewport=VIEWPORTS[device]).new_page()
    page.goto("/staff/login/sso")
    _assert_no_violations(page, f"sign in with a school account ({device})")
    _start(page, email)
    _at_provider(page, email, mfa=True)
    page.wait_for_url(re.compile(r"/staff/(\?.*)?$"))
    expect(page.locator("main")).to_contain_text("Record a concern")
    # Back to the provider's pages and Forward again: still the same teacher, nothing sent
    # twice; Reload of the queue is only the queue.
    page.go_back()
    page.go_forward()
    page.reload()
    expect(page.locator("main")).to_contain_text("Record a concern")

    # Signing out ends the provider's session too: its sign-out page, then ours.
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/session/end"))
    page.get_by_role("button", name=re.compile("Yes, sign me out", re.IGNORECASE)).click()
    page.wait_for_url(re.compile(r"/staff/login$"))
    page.goto("/staff/")
    page.wait_for_url(re.compile(r"/staff/login"))
    page.go_back()
    page.reload()
    assert "/staff/login" in page.url  # Back after signing out shows nobody's queue


def test_the_callback_reloaded_or_replayed_signs_nobody_in(
        new_context: Callable[..., Any], live_server: LiveServer, set_up: None) -> None:
    """The address the provider sent the teacher back to, with its code, opened again in
    the same browser after signing out and on a second tablet: the sign-in page, saying
    to start again; nobody is signed in."""
    email = "replay@oakfield.test"
    live_server.add_staff(SCHOOL, email, role=Role.STAFF, two_factor=False)
    first = new_context(viewport=VIEWPORTS["tablet"]).new_page()
    seen: list[str] = []
    first.on("request", lambda request: seen.append(request.url)
             if "/staff/login/sso/callback" in request.url else None)
    _start(first, email)
    _at_provider(first, email, mfa=True)
    first.wait_for_url(re.compile(r"/staff/(\?.*)?$"))
    assert len(seen) == 1
    callback = seen[0]

    second = new_context(viewport=VIEWPORTS["tablet"]).new_page()
    second.goto(callback)
    second.wait_for_url(re.compile(r"/staff/login$"))
    expect(second.locator("main")).to_contain_text("That sign-in has ended")
    second.goto("/staff/")
    second.wait_for_url(re.compile(r"/staff/login"))


@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_an_unverified_address_is_refused_on_a_plain_page(
        device: str, new_context: Callable[..., Any], live_server: LiveServer,
        set_up: None) -> None:
    email = f"unverified.{device}@oakfield.test"
    live_server.add_staff(SCHOOL, email, role=Role.STAFF, two_factor=False)
    page = new_context(viewport=VIEWPORTS[device]).new_page()
    _start(page, email)
    _at_provider(page, email, verified=False)
    page.wait_for_url(re.compile(r"/staff/login/sso/callback"))
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("You are not signed in")
    expect(page.locator("main")).to_contain_text("has not verified")
    _assert_no_violations(page, f"sign-in refused ({device})")
    page.reload()  # the same answer again, never a sign-in
    expect(page.locator("main")).not_to_contain_text("Record a concern")
    page.goto("/staff/")
    page.wait_for_url(re.compile(r"/staff/login"))
    with live_server.db() as db:
        refused = [e.payload["reason"] for e in db.scalars(
            select(Event).where(Event.action == Action.SSO_REFUSED.value))]
    assert "email_unverified" in refused


def test_without_a_second_factor_at_the_provider_the_portal_asks_for_its_own(
        new_context: Callable[..., Any], live_server: LiveServer, set_up: None) -> None:
    email = "no.mfa@oakfield.test"
    live_server.add_staff(SCHOOL, email, role=Role.STAFF, two_factor=True)
    page = new_context(viewport=VIEWPORTS["phone"]).new_page()
    _start(page, email)
    _at_provider(page, email, mfa=False)
    page.wait_for_url(re.compile(r"/staff/login/code$"))
    page.goto("/staff/")
    page.wait_for_url(re.compile(r"/staff/login"))  # not signed in before the code
    page.go_back()
    page.wait_for_url(re.compile(r"/staff/login/code$"))
    page.get_by_label("Code from your authenticator app").fill(next_code(email))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/staff/(\?.*)?$"))
    expect(page.locator("main")).to_contain_text("Record a concern")


def test_a_trust_lead_sets_up_the_trusts_provider_and_a_teacher_signs_in_with_it(
        new_context: Callable[..., Any], live_server: LiveServer,
        idp: oidc_provider.Provider) -> None:
    """Issue 18's "done": a trust admin configures SSO and a teacher signs in with the
    provider in real Chromium (the teacher at Elmwood, a school of the trust)."""
    live_server.add_school("elmwood", "Elmwood Primary")
    with live_server.db() as db:
        trust = Trust(name="Riverside Trust")
        db.add(trust)
        db.flush()
        db.scalars(select(School).where(School.slug == "elmwood")).one().trust_id = trust.id
    live_server.add_staff("elmwood", "lead@riverside.test", role=Role.TRUST_LEAD,
                          name="Mr Lead")
    live_server.add_staff("elmwood", "teacher@riverside.test", role=Role.STAFF,
                          name="Ms Elm", two_factor=False)
    with live_server.db() as db:
        lead = db.scalars(select(User).where(User.email == "lead@riverside.test")).one()
        lead.school_id = None
        lead.trust_id = db.scalars(select(Trust).where(Trust.name == "Riverside Trust")).one().id

    desk = new_context(viewport=VIEWPORTS["tablet"]).new_page()
    DslAtDesk(desk).enter_password("lead@riverside.test")
    desk.get_by_label("Code from your authenticator app").fill(next_code("lead@riverside.test"))
    desk.get_by_role("button", name="Sign in").click()
    desk.wait_for_url(re.compile(r"/staff/figures$"))
    desk.get_by_role("link", name="Sign-in settings").click()
    desk.wait_for_url("**/staff/school/sign-in")
    expect(desk.locator("h1")).to_have_text("Sign-in with the trust's accounts")
    _assert_no_violations(desk, "the trust's sign-in settings")
    _switch_on(desk, idp, "Riverside staff account", "riverside.test")
    desk.reload()  # the saved page again: nothing sent twice
    with live_server.db() as db:
        saved = list(db.scalars(select(SsoProvider).where(SsoProvider.trust_id.is_not(None))))
        assert len(saved) == 1
        assert saved[0].domain_list == ["riverside.test"]

    teacher = new_context(viewport=VIEWPORTS["phone"]).new_page()
    _start(teacher, "teacher@riverside.test")
    _at_provider(teacher, "teacher@riverside.test", mfa=True)
    teacher.wait_for_url(re.compile(r"/staff/(\?.*)?$"))
    expect(teacher.locator("main")).to_contain_text("Record a concern")
