"""An office manager runs staff accounts without a terminal (issue 18), in a real browser on
a tablet and a phone: invites a teacher, who sets a password from the emailed link and
sets up their authenticator; promotes them; switches the account off, which signs the
teacher out at once; with axe on each page, and Back and Reload after each form."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pyotp
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.models import OutboxMessage, Role, User
from tests.browser.conftest import SCHOOL, DslAtDesk, LiveServer
from tests.browser.test_accessibility import _assert_no_violations

VIEWPORTS = {"tablet": {"width": 768, "height": 1024}, "phone": {"width": 390, "height": 844}}
PASSWORD_CHOSEN = "lantern orbit pickle meadow"


@pytest.fixture(scope="module")
def office(live_server: LiveServer, chromium: Any) -> dict[str, Any]:
    """The school's administrator, signed in once for the module."""
    live_server.add_staff(SCHOOL, "office@oakfield.test", role=Role.ADMIN, name="Mrs Office")
    context = chromium.new_context(base_url=live_server.url, locale="en-GB")
    try:
        page = context.new_page()
        DslAtDesk(page).enter_password("office@oakfield.test")
        from tests.conftest import next_code

        page.get_by_label("Code from your authenticator app").fill(
            next_code("office@oakfield.test"))
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(r"/staff/school$"))
        return {"state": context.storage_state()}
    finally:
        context.close()


def emailed_link(live_server: LiveServer, email: str) -> str:
    with live_server.db() as db:
        body = [m.body for m in db.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
                if m.to_address == email][-1]
    found = re.search(r"(/staff/invite/[A-Za-z0-9_-]+)", body)
    assert found, body
    return found.group(1)


def accounts(live_server: LiveServer, email: str) -> list[User]:
    with live_server.db() as db:
        rows = list(db.scalars(select(User).where(User.email == email)))
        db.expunge_all()
        return rows


@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_an_office_manager_invites_promotes_and_switches_off_a_teacher(
        device: str, new_context: Callable[..., Any], live_server: LiveServer,
        office: dict[str, Any]) -> None:
    email = f"teacher.{device}@oakfield.test"
    admin = new_context(storage_state=office["state"], viewport=VIEWPORTS[device]).new_page()
    admin.goto("/staff/school")
    admin.get_by_role("link", name="Invite staff, change roles").click()
    _assert_no_violations(admin, f"staff accounts ({device})")
    admin.locator("#invite > summary").click()
    admin.get_by_label("Their school email address").fill(email)
    admin.get_by_label("Their name, as colleagues know them").fill(f"Mr Teacher {device}")
    admin.get_by_label("Role").first.select_option("staff")
    admin.get_by_role("button", name="Send the invitation").click()
    expect(admin.locator("main")).to_contain_text(f"Invitation sent to {email}")
    admin.reload()
    admin.go_back()
    admin.go_forward()
    assert len(accounts(live_server, email)) == 1  # invited once

    # The teacher opens the emailed link on their own device
    teacher = new_context(viewport=VIEWPORTS[device]).new_page()
    teacher.goto(emailed_link(live_server, email))
    _assert_no_violations(teacher, f"set a password from the link ({device})")
    teacher.get_by_label("Choose a password").fill("password")
    teacher.get_by_label("The same password again").fill("password")
    teacher.get_by_role("button", name="Set my password").click()
    expect(teacher.locator("[data-error-summary]")).to_be_visible()
    teacher.get_by_label("Choose a password").fill(PASSWORD_CHOSEN)
    teacher.get_by_label("The same password again").fill(PASSWORD_CHOSEN)
    teacher.get_by_role("button", name="Set my password").click()
    teacher.wait_for_url(re.compile(r"/staff/login/enrol$"))
    secret = teacher.locator("[data-totp-secret]").inner_text().replace(" ", "")
    teacher.get_by_label("Code from your authenticator app").fill(pyotp.TOTP(secret).now())
    teacher.get_by_role("button", name="Turn on two-step sign-in").click()
    teacher.locator("[data-recovery-codes]").wait_for()
    teacher.get_by_role("link", name="I have kept them").click()
    expect(teacher.locator(".staff-nav__who")).to_contain_text(f"Mr Teacher {device}")
    teacher.go_back()  # the recovery codes page again? never the password form
    expect(teacher.locator("main")).not_to_contain_text("Set my password")

    # Promoted to head teacher; deputy DSL (report access) is the DSL's to give, and the
    # refusal says so in words; then switched off: signed out at once
    (account,) = accounts(live_server, email)
    admin.goto("/staff/school/staff")
    card = admin.locator(f"#account-{account.id}")
    card.locator("summary", has_text="Change role").click()
    card.get_by_label("Role").select_option("head")
    card.get_by_role("button", name="Change the role").click()
    expect(admin.locator("main")).to_contain_text("role changed")
    assert accounts(live_server, email)[0].role is Role.HEAD
    card = admin.locator(f"#account-{account.id}")
    card.locator("summary", has_text="Change role").click()
    card.get_by_label("Role").select_option("deputy_dsl")
    card.get_by_role("button", name="Change the role").click()
    expect(card.get_by_role("alert")).to_contain_text("Only the Designated Safeguarding Lead")
    assert accounts(live_server, email)[0].role is Role.HEAD
    admin.locator(f"#account-{account.id}").get_by_role("button", name="Switch off").click()
    expect(admin.locator(f"#account-{account.id}")).to_contain_text("Switched off")
    _assert_no_violations(admin, f"staff accounts after changes ({device})")
    teacher.goto("/staff/")
    teacher.wait_for_url(re.compile(r"/staff/login"))
    assert not accounts(live_server, email)[0].is_active
