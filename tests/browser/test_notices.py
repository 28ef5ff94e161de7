"""The people around the case in a real browser, on a tablet (768x1024, with the case
page's script) and on a phone (390x844, without it): the DSL sends the notice that the
cyber-bullying policy's step 4.4 asks for ("Inform Principal and Senior Management team")
and tells the adult the pupil chose that a pupil asked for them; Back and Reload after
each send nothing twice; the case page and the admin's contacts page pass axe."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from portal.casework import notices
from portal.models import OutboxMessage, Role, School, TrustedAdult, User
from tests.browser.conftest import SCHOOL, DslAtDesk, LiveServer
from tests.browser.test_accessibility import _assert_no_violations
from tests.conftest import next_code

# Screenshots to look at by hand (the brief asks for them here), not used by the test.
SHOTS = Path("/tmp/shots_notices")  # noqa: S108
ADMIN_EMAIL = "admin-notices@oakfield.test"
VIEWS = [
    pytest.param({"width": 768, "height": 1024}, True, id="tablet-768x1024-script"),
    pytest.param({"width": 390, "height": 844}, False, id="phone-390x844-no-script"),
]


@pytest.fixture(scope="module")
def people(live_server: LiveServer) -> dict[str, int]:
    """The school's Principal and eSafety officer, and Mrs Patel with a staff account."""
    live_server.add_staff(SCHOOL, "patel@oakfield.test", Role.STAFF, name="Mrs Patel")
    live_server.add_staff(SCHOOL, ADMIN_EMAIL, Role.ADMIN, name="Mr Admin")
    with live_server.db() as db:
        school = db.scalar(select(School).where(School.slug == SCHOOL))
        admin = db.scalar(select(User).where(User.email == ADMIN_EMAIL))
        assert school is not None
        assert admin is not None
        head = notices.add_contact(db, school, actor=admin, name="Dr Head", role="principal",
                                   email="head@oakfield.test")
        notices.add_contact(db, school, actor=admin, name="Ms Council", role="la_esafety",
                            email="esafety@la.test")
        patel = db.scalar(select(TrustedAdult).where(TrustedAdult.school_id == school.id,
                                                     TrustedAdult.name == "Mrs Patel"))
        account = db.scalar(select(User).where(User.email == "patel@oakfield.test"))
        assert patel is not None
        assert account is not None
        notices.link_adult_account(db, patel, actor=admin, user=account)
        return {"head": head.id, "patel": patel.id}


def sent(live_server: LiveServer, kind: str) -> int:
    with live_server.db() as db:
        return db.scalar(select(func.count()).select_from(OutboxMessage)
                         .where(OutboxMessage.kind == kind)) or 0


def shot(page: Any, name: str, part: str = "#notices") -> None:
    """A picture of the part of the page this area adds, to look at by hand."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator(part).screenshot(path=str(SHOTS / f"{name}.png"))


def checked(new_context: Callable[..., Any], viewport: dict[str, int], url: str, what: str,
            **options: Any) -> None:
    """axe, and no sideways scrolling, on ``url`` at ``viewport``: in a page of its own
    with script on (axe runs as a script; the journey may have it off)."""
    page = new_context(viewport=viewport, **options).new_page()
    page.goto(url)
    _assert_no_violations(page, what)
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], what
    page.close()


@pytest.mark.parametrize(("viewport", "script"), VIEWS)
def test_the_dsl_sends_each_notice_once_whatever_back_and_reload_do(
        viewport: dict[str, int], script: bool, new_context: Callable[..., Any],
        live_server: LiveServer, dsl_signed_in: dict[str, Any], people: dict[str, int],
        request: pytest.FixtureRequest) -> None:
    name = request.node.callspec.id
    # Given an online-bullying report whose pupil asked to talk to Mrs Patel
    report_id, _code = live_server.add_report(kinds=["online"], adult=str(people["patel"]),
                                              what_happened="They post about me in a group.")
    before = sent(live_server, "step_notice"), sent(live_server, "adult_told")
    page = new_context(viewport=viewport, is_mobile=viewport["width"] < 500,
                       has_touch=viewport["width"] < 500, storage_state=dsl_signed_in,
                       java_script_enabled=script).new_page()
    dsl = DslAtDesk(page)
    page.goto(f"/staff/cases/{report_id}")
    notices_part = page.locator("#notices")
    assert "The pupil asked to talk to Mrs Patel" in notices_part.inner_text()
    shot(page, f"{name}-case-before")
    checked(new_context, viewport, f"/staff/cases/{report_id}", f"case with notices ({name})",
            storage_state=dsl_signed_in)

    # When the DSL sends step 4.4's notice to the Principal
    step = page.locator("#notice-cyber-4\\.4")
    step.get_by_label("Dr Head, Principal").check()
    step.get_by_role("button", name="Send notice").click()
    dsl._told("Notice sent to Dr Head")
    # Then Reload, Back and Reload again send nothing more
    page.reload()
    if not script:
        page.go_back()
        page.reload()
        page.go_forward()
    assert sent(live_server, "step_notice") == before[0] + 1
    # and the step is done, with who was told, and "Notices sent" says so
    page.goto(f"/staff/cases/{report_id}")
    assert "Told Dr Head by email on" in page.locator("#checklists").inner_text()
    assert "Dr Head (Principal)" in page.locator("#notices").inner_text()

    # When the DSL tells Mrs Patel a pupil asked for her
    page.get_by_role("button", name="Tell Mrs Patel a pupil asked for them").click()
    dsl._told("Mrs Patel has been told a pupil asked for them")
    page.reload()
    if not script:
        page.go_back()
        page.reload()
    # Then she is told once, and the page offers to tell her again on purpose
    assert sent(live_server, "adult_told") == before[1] + 1
    page.goto(f"/staff/cases/{report_id}#notices")
    page.get_by_role("button", name="Tell Mrs Patel again").wait_for()
    shot(page, f"{name}-case-after")
    shot(page, f"{name}-checklist-after", "#checklists")
    checked(new_context, viewport, f"/staff/cases/{report_id}", f"case after notices ({name})",
            storage_state=dsl_signed_in)


@pytest.mark.parametrize("viewport", [{"width": 768, "height": 1024},
                                      {"width": 390, "height": 844}], ids=["768x1024",
                                                                           "390x844"])
def test_the_contacts_page_passes_axe_and_keeps_a_refused_contact(
        viewport: dict[str, int], new_context: Callable[..., Any],
        people: dict[str, int], request: pytest.FixtureRequest) -> None:
    name = request.node.callspec.id
    # Given the school's administrator on the contacts page
    page = new_context(viewport=viewport).new_page()
    admin = DslAtDesk(page)
    admin.enter_password(ADMIN_EMAIL)
    page.get_by_label("Code from your authenticator app").fill(next_code(ADMIN_EMAIL))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/staff/school")  # an administrator starts on the school page
    page.goto("/staff/school/contacts")
    _assert_no_violations(page, f"school contacts ({name})")
    # When they add a contact with an address that is not one
    form = page.locator("#add-contact")
    form.get_by_label("Name").fill("Mrs Governor")
    form.get_by_label("Trust (MAT) eSafety officer").check()
    form.get_by_label("Email address").fill("not an address")
    form.get_by_role("button", name="Add contact").click()
    # Then the page says so and keeps what was typed
    page.locator("[data-error-summary]").wait_for()
    assert page.locator("#add-contact").get_by_label("Name").input_value() == "Mrs Governor"
    shot(page, f"{name}-contacts-refused", "main")
    _assert_no_violations(page, f"school contacts, refused ({name})")
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
