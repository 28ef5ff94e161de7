"""The portal's pages, each reached the way a person would reach it, for the checks that
run on every page (axe, reduced motion, zoom) and for the screenshots in docs/screenshots.

Each entry takes the page (a Playwright page in a fresh browser profile) and what ``seed``
stored, and leaves the page showing what it names.
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Callable
from datetime import date
from typing import Any

import pyotp
from PIL import Image
from sqlalchemy import select

from portal import kiosk
from portal.models import ActionKind, LinkRole, Report, SenStatus, User
from portal.triage import operations as triage
from tests.browser.conftest import (
    DSL_EMAIL,
    SCHOOL,
    DslAtDesk,
    LiveServer,
    ParentOnPhone,
    Person,
    PupilOnTablet,
)

Visit = Callable[[Any, dict[str, Any]], None]


def screenshot_png() -> bytes:
    """A small picture, as a pupil would attach a screenshot of a message."""
    out = io.BytesIO()
    Image.new("RGB", (60, 40), (220, 236, 247)).save(out, "PNG")
    return out.getvalue()


def seed(live_server: LiveServer) -> dict[str, Any]:
    """Reports for the staff pages and a code for the follow-up page; roster pupils, two of
    them in several reports; messages both ways; a report with evidence."""
    urgent_id, urgent_code = live_server.add_report(
        feels_safe="no", what_happened="An older pupil says he will hurt me after school.")
    parent_id, _ = live_server.add_report(source="parent")
    named_id, _ = live_server.add_report(anonymous="no", reporter_name="Jo Bloggs",
                                         reporter_class="5B", kinds=["online"],
                                         places=["online"])
    evidence_id, evidence_code = live_server.add_report(
        kinds=["online"], places=["online"], files=(("chat.png", screenshot_png()),),
        what_happened="They sent this in the class chat.")
    aisha = live_server.add_pupil("Aisha", "Khan", "Year 5", "5B", sen=SenStatus.SEN_SUPPORT)
    ben = live_server.add_pupil("Ben", "Taylor", "Year 6", "6C")
    live_server.add_pupil("Chloe", "Evans", "Year 4", "4A")
    for report_id in (urgent_id, named_id, evidence_id):
        live_server.link_pupil(report_id, aisha, LinkRole.TARGET)
    live_server.link_pupil(urgent_id, ben, LinkRole.ALLEGED_PERPETRATOR)
    live_server.link_pupil(evidence_id, ben, LinkRole.ALLEGED_PERPETRATOR)
    for report_id in (urgent_id, evidence_id):
        live_server.add_message(report_id, "Thank you for telling us. Mrs Patel will come "
                                           "and find you at break.")
        live_server.add_message(report_id, "Thank you. It happened again today.",
                                from_school=False)
    with live_server.db() as db:
        # An action recorded on one case, and a kiosk tablet enrolled: the pages' tables.
        dsl = db.scalar(select(User).where(User.email == DSL_EMAIL))
        report = db.get(Report, evidence_id)
        assert dsl is not None
        assert report is not None
        triage.record_action(db, report, actor=dsl, kind=ActionKind.PARENTS_INFORMED,
                             happened_on=date.today(), who="Mrs Khan (mother)", how="phone",
                             note="Told her what Aisha reported and what happens next.")
        kiosk.enrol(db, report.school, actor=dsl, label="Library tablet",
                    secret_key=live_server.app.config["SECRET_KEY"])
    return {"urgent_id": urgent_id, "urgent_code": urgent_code, "parent_id": parent_id,
            "named_id": named_id, "evidence_id": evidence_id, "evidence_code": evidence_code,
            "pupil_id": aisha, "live": live_server}


def pupil_form(page: Any, seeded: dict[str, Any]) -> None:
    PupilOnTablet(page).open_form()


def _pupil_errors(page: Any, seeded: dict[str, Any]) -> None:
    PupilOnTablet(page).open_form()
    page.get_by_role("button", name="Send to the school").click()
    page.locator("[data-error-summary]").wait_for()


def _pupil_done(page: Any, seeded: dict[str, Any]) -> None:
    # The fullest confirmation: not safe (the "go to an adult" panel), online advice.
    PupilOnTablet(page).report(pictures=("It happened online, on a phone or in games",),
                               words="They post mean things about me in the class chat.",
                               feels_safe="No", adult="Mr Okafor (Learning mentor)")


def _parent_form(page: Any, seeded: dict[str, Any]) -> None:
    page.goto(f"/s/{SCHOOL}/parent")


def _parent_errors(page: Any, seeded: dict[str, Any]) -> None:
    page.goto(f"/s/{SCHOOL}/parent")
    page.get_by_role("button", name="Send to the school").click()
    page.locator("[data-error-summary]").wait_for()


def _parent_done(page: Any, seeded: dict[str, Any]) -> None:
    ParentOnPhone(page).report()


def _follow_up(page: Any, seeded: dict[str, Any]) -> None:
    page.goto("/follow-up")


def _follow_up_unknown(page: Any, seeded: dict[str, Any]) -> None:
    page.goto("/follow-up")
    page.get_by_label("Your follow-up code").fill("0000-0000-0000-0000-0000")
    page.get_by_role("button", name="Show my report").click()
    page.locator(".field-error").wait_for()


def _follow_up_status(page: Any, seeded: dict[str, Any]) -> None:
    Person(page).check_code(seeded["urgent_code"])


def _follow_up_evidence(page: Any, seeded: dict[str, Any]) -> None:
    Person(page).check_code(seeded["evidence_code"])
    page.locator(".message").first.wait_for()


def _follow_up_reply_errors(page: Any, seeded: dict[str, Any]) -> None:
    Person(page).check_code(seeded["evidence_code"])
    page.get_by_role("button", name="Send message").click()
    page.locator("[data-error-summary]").wait_for()


def _not_found(page: Any, seeded: dict[str, Any]) -> None:
    response = page.goto("/no-such-page")
    assert response is not None
    assert response.status == 404


REPORTER_PAGES: dict[str, Visit] = {
    "start": lambda page, seeded: page.goto("/"),
    "pupil form": pupil_form,
    "pupil form with errors": _pupil_errors,
    "pupil confirmation": _pupil_done,
    "parent form": _parent_form,
    "parent form with errors": _parent_errors,
    "parent confirmation": _parent_done,
    "follow-up": _follow_up,
    "follow-up unknown code": _follow_up_unknown,
    "follow-up status": _follow_up_status,
    "follow-up status with messages and files": _follow_up_evidence,
    "follow-up reply with errors": _follow_up_reply_errors,
    "404": _not_found,
}


def _staff_login(page: Any, seeded: dict[str, Any]) -> None:
    page.goto("/staff/login")


def _staff_login_failed(page: Any, seeded: dict[str, Any]) -> None:
    DslAtDesk(page).page.goto("/staff/login")
    page.get_by_label("Email").fill("nobody@oakfield.test")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    page.locator("[data-error-summary]").wait_for()


def _queue(page: Any, seeded: dict[str, Any]) -> None:
    DslAtDesk(page).sign_in()


def _case(page: Any, seeded: dict[str, Any]) -> None:
    page.goto("/staff/")
    DslAtDesk(page).open_case(seeded["urgent_id"])


def _case_parent(page: Any, seeded: dict[str, Any]) -> None:
    page.goto("/staff/")
    DslAtDesk(page).open_case(seeded["parent_id"])


def _school(page: Any, seeded: dict[str, Any]) -> None:
    page.goto("/staff/")
    page.get_by_role("link", name="School", exact=True).click()
    page.wait_for_url("**/staff/school")


def _sign_in_code(page: Any, seeded: dict[str, Any]) -> None:
    DslAtDesk(page).enter_password()


def _sign_in_code_wrong(page: Any, seeded: dict[str, Any]) -> None:
    DslAtDesk(page).enter_password()
    page.get_by_label("Code from your authenticator app").fill("000000")
    page.get_by_role("button", name="Sign in").click()
    page.locator("[data-error-summary]").wait_for()


def _new_colleague(live_server: LiveServer) -> str:
    """A deputy DSL signing in for the first time: no authenticator yet."""
    email = f"deputy-{secrets.token_hex(3)}@oakfield.test"
    live_server.add_staff(SCHOOL, email, name="Mr Lowe", two_factor=False)
    return email


def _enrol(page: Any, seeded: dict[str, Any]) -> None:
    DslAtDesk(page).enter_password(_new_colleague(seeded["live"]), then="enrol")


def _recovery_codes(page: Any, seeded: dict[str, Any]) -> None:
    DslAtDesk(page).enter_password(_new_colleague(seeded["live"]), then="enrol")
    secret = (page.locator("[data-totp-secret]").inner_text()).replace(" ", "")
    page.get_by_label("Code from your authenticator app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    page.locator("[data-recovery-codes]").wait_for()


STAFF_PAGES: dict[str, Visit] = {
    "staff login": _staff_login,
    "staff login failed": _staff_login_failed,
    "sign-in code": _sign_in_code,
    "sign-in code wrong": _sign_in_code_wrong,
    "enrol an authenticator": _enrol,
    "recovery codes": _recovery_codes,
    "queue": _queue,
}


def _go(path: str, *shows: str) -> Visit:
    """Open ``path`` and check the page shows what it is there to show."""
    def visit(page: Any, seeded: dict[str, Any]) -> None:
        response = page.goto(path.format(**seeded))
        assert response is not None
        assert response.status == 200, (path, response.status)
        main = page.locator("main").inner_text()
        for words in shows:
            assert words in main, (path, words)
    return visit


def _concern_errors(page: Any, seeded: dict[str, Any]) -> None:
    page.goto("/staff/concerns/new")
    page.get_by_role("button", name="Send to the DSL").click()
    page.locator("[data-error-summary]").wait_for()


def _roster_errors(page: Any, seeded: dict[str, Any]) -> None:
    page.goto("/staff/roster/new")
    page.get_by_role("button", name="Save").click()
    page.locator("[data-error-summary]").wait_for()


def _roster_import_errors(page: Any, _seeded: dict[str, Any]) -> None:
    """The roster upload's preview of a file with rows to fix (issue 18)."""
    import tempfile
    from pathlib import Path

    bad = Path(tempfile.mkdtemp()) / "roster.csv"
    bad.write_text("UPN,Forename,Surname,SEN Status\nA1,Sam,Lee,Q\n,Ben,Ray,N\n")
    page.goto("/staff/roster/import")
    page.get_by_label("The MIS export (CSV)").set_input_files(bad)
    page.get_by_role("button", name="Check the file").click()
    page.locator("[data-error-summary]").first.wait_for()


def _figures_problem(page: Any, _seeded: dict[str, Any]) -> None:
    response = page.goto("/staff/figures?from=2026-12-01&to=2026-09-01")
    assert response is not None
    assert response.status == 400
    page.locator("[data-error-summary]").wait_for()


# Pages behind the sign-in, opened by a DSL who is already signed in.
SIGNED_IN_PAGES: dict[str, Visit] = {
    "queue (signed in)": _go("/staff/"),
    "case (pupil)": _case,
    "case (parent)": _case_parent,
    "school": _school,
    "children in several reports": _go("/staff/pupils", "Aisha Khan", "Ben Taylor"),
    "pupil chronology": _go("/staff/pupils/{pupil_id}", "Every concern involving Aisha (3)"),
    "roster": _go("/staff/roster", "Khan, Aisha", "Evans, Chloe"),
    "roster search": _go("/staff/roster?q=Khan", "Khan, Aisha"),
    "add a pupil": _go("/staff/roster/new"),
    "add a pupil with errors": _roster_errors,
    "edit a pupil": _go("/staff/roster/{pupil_id}", "Aisha Khan"),
    "kiosk tablets": _go("/staff/school/tablets", "Kiosk tablets", "Library tablet"),
    "record a concern": _go("/staff/concerns/new"),
    "record a concern with errors": _concern_errors,
    "case with evidence, messages and pupils": _go(
        "/staff/cases/{evidence_id}", "Evidence kept (1)", "It happened again today.",
        "Mrs Khan (mother)",
        "Mrs Patel will come", "Aisha Khan", "Ben Taylor"),
    "case with a roster search": _go("/staff/cases/{named_id}?q=Taylor", "Ben Taylor"),
    "my cases": _go("/staff/?mine=1"),
    "queue filtered to nothing": _go("/staff/?status=closed&kind=property"),
    "figures": _go("/staff/figures", "Who told us", "Year groups of the children involved"),
    "figures with a wrong period": _figures_problem,
    # issue 18: staff accounts and the roster upload in the browser; issue 16's lists
    "staff accounts": _go("/staff/school/staff", "Staff accounts at", "Invite a member"),
    "roster import": _go("/staff/roster/import", "Import the roster from your MIS"),
    "roster import with rows to fix": _roster_import_errors,
    "cases shared between schools": _go("/staff/shares", "Cases shared between schools"),
    "records of children who moved school": _go("/staff/transfers",
                                                "Records of children who moved school"),
}
