"""The DSL records the people involved and what is done for each, in real Chromium.

Anti-bullying policy, "Responding to incidents": "interview all parties involved", "involve
them in any decision making", "Sanctions ... and support will be implemented in consultation
with all parties concerned"; cyber policy 7.5: "the person being bullied might not know who
their bully is"; cyber 2: bullying can "target pupils, staff and others".
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from portal.models import Event, PartyInterview, PartySupport, PartyVoice, ReportPupil
from tests.browser.conftest import DslAtDesk, LiveServer
from tests.browser.test_accessibility import _assert_no_violations

# Screenshots to look at by hand (not an input: nothing reads them back).
SHOTS = Path("/tmp/shots_parties")  # noqa: S108
VIEWPORTS = {"tablet": {"width": 768, "height": 1024}, "phone": {"width": 390, "height": 844}}
REVIEW = (date.today() + timedelta(days=14)).isoformat()


class DslRecordingPeople(DslAtDesk):
    """The DSL on the case page, recording the people involved."""

    def open(self, report_id: int) -> None:
        self.page.goto(f"/staff/cases/{report_id}")

    def send(self, form: Any, button: str, message: str) -> None:
        before = self.page.locator("[data-case-page]").element_handle()
        form.get_by_role("button", name=button, exact=True).click()
        if self.page.context.pages and self._script:
            self.page.wait_for_function("el => !el.isConnected", arg=before)
        self._told(message)

    @property
    def _script(self) -> bool:
        return bool(self.page.evaluate("() => !!window.fetch && !!document.querySelector("
                                       "'script[src*=\"case.js\"]')"))

    @staticmethod
    def unfold(box: Any) -> None:
        """Open a disclosure (the page keeps open the ones that were open before a send)."""
        if not box.evaluate("d => d.open"):
            box.locator("summary").click()

    def add_someone(self, kind: str, role: str, description: str) -> None:
        box = self.page.locator("#add-party")
        self.unfold(box)
        box.get_by_label(kind, exact=True).check()
        box.get_by_label("Role").select_option(label=role)
        box.get_by_label("What is known about them").fill(description)
        self.send(box, "Add", "Added to the people involved")

    def panel(self, name: str) -> Any:
        return self.page.locator("li.party", has_text=name)

    def support(self, name: str, what: str, given_by: str, review: str | None,
                message: str = "Support recorded") -> None:
        box = self.panel(name).locator("details[id^=support-details]")
        self.unfold(box)
        box.get_by_label("What").select_option(label=what)
        box.get_by_label("Who gives it").fill(given_by)
        if review:
            box.get_by_label("Review on (optional)").fill(review)
        self.send(box, "Record", message)

    def voice(self, name: str, words: str) -> None:
        box = self.panel(name).locator("details[id^=voice-details]")
        self.unfold(box)
        box.get_by_label("What they want to happen").fill(words)
        self.send(box, "Record", "Recorded what they want to happen")

    def interview(self, name: str, by: str, present: str, account: str) -> None:
        box = self.panel(name).locator("details[id^=interview-details]")
        self.unfold(box)
        box.get_by_label("Who interviewed them").fill(by)
        box.get_by_label("Who else was there").fill(present)
        box.get_by_label("A short account").fill(account)
        self.send(box, "Record", "Interview recorded")


def counts(live: LiveServer, report_id: int) -> dict[str, int]:
    """How many of each record the case holds (a second submission would show here)."""
    with live.db() as db:
        def n(model: Any) -> int:
            return db.scalar(select(func.count()).select_from(model)
                             .where(model.report_id == report_id)) or 0

        return {"parties": n(ReportPupil), "support": n(PartySupport),
                "voices": n(PartyVoice), "interviews": n(PartyInterview),
                "events": db.scalar(select(func.count()).select_from(Event).where(
                    Event.report_id == report_id, Event.action != "case.viewed")) or 0}


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_the_dsl_records_each_person_and_what_is_done_for_them(
        viewport: str, new_context: Callable[..., Any], live_server: LiveServer,
        dsl_signed_in: dict[str, Any]) -> None:
    SHOTS.mkdir(exist_ok=True)
    # Given a report whose target is on the roster, the bully unknown, a witness elsewhere
    report_id = live_server.add_report(what_happened="Someone keeps messaging me at night.",
                                       who_involved="I don't know who it is")[0]
    target = live_server.add_pupil("Mia", "Target", "Year 7", "7B")
    live_server.link_pupil(report_id, target)
    page = new_context(viewport=VIEWPORTS[viewport], storage_state=dsl_signed_in).new_page()
    dsl = DslRecordingPeople(page)
    dsl.open(report_id)
    # When the DSL adds an unknown perpetrator and a witness from another school
    dsl.add_someone("Not known (yet)", "Alleged perpetrator", "an Instagram account called x")
    dsl.add_someone("Pupil of another school", "Witness", "Year 8 at Hillside Academy")
    # and records support with a review date for the target, a sanction, the child's voice
    # and an interview
    dsl.support("Mia Target", "Reassurance and continuous pastoral support", "Mrs Patel",
                REVIEW)
    dsl.support("an Instagram account called x", "Sanction: Removal of online access",
                "Mr Head", None, "Sanction recorded")
    dsl.voice("Mia Target", "I want the messages to stop and to sit by my friend.")
    dsl.interview("Year 8 at Hillside Academy", "Mrs Patel (DSL)", "Their head of year",
                  "Saw the account's posts on a friend's phone.")
    # Then every party shows with what was recorded, the perpetrator still "alleged"
    perp = dsl.panel("an Instagram account called x")
    expect(perp).to_contain_text("Alleged perpetrator")
    expect(perp).to_contain_text("Removal of online access")
    mia = dsl.panel("Mia Target")
    expect(mia).to_contain_text("Reassurance and continuous pastoral support")
    expect(mia).to_contain_text(date.fromisoformat(REVIEW).strftime("%d %b %Y"))
    expect(mia).to_contain_text("I want the messages to stop")
    expect(dsl.panel("Year 8 at Hillside Academy")).to_contain_text("Saw the account's posts")
    page.locator("#pupils").screenshot(path=str(SHOTS / f"people-{viewport}.png"))
    # and the page passes axe, without sideways scrolling
    _assert_no_violations(page, f"case with people involved ({viewport})")
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS[viewport]["width"]
    held = counts(live_server, report_id)
    assert held["parties"] == 3
    assert (held["support"], held["voices"], held["interviews"]) == (2, 1, 1)
    # When the DSL presses Back, then Reload
    page.go_back()
    page.reload()
    page.goto(f"/staff/cases/{report_id}")
    page.reload()
    # Then nothing is recorded twice
    assert counts(live_server, report_id) == held
    # And the child's chronology shows what was done for her and when
    page.goto(f"/staff/pupils/{target}")
    done = page.locator("#done-for-child")
    expect(done).to_contain_text("Reassurance and continuous pastoral support")
    expect(done).to_contain_text("I want the messages to stop")
    page.screenshot(path=str(SHOTS / f"chronology-{viewport}.png"), full_page=True)
    _assert_no_violations(page, f"child's chronology ({viewport})")


def test_without_javascript_adding_someone_works_and_reload_adds_nothing(
        new_context: Callable[..., Any], live_server: LiveServer,
        dsl_signed_in: dict[str, Any]) -> None:
    report_id = live_server.add_report(who_involved="A lunchtime supervisor")[0]
    page = new_context(storage_state=dsl_signed_in, java_script_enabled=False).new_page()
    dsl = DslRecordingPeople(page)
    dsl.open(report_id)
    # Given JavaScript off, when the DSL adds a member of staff as the alleged perpetrator
    box = page.locator("#add-party")
    box.locator("summary").click()
    box.get_by_label("Member of staff", exact=True).check()
    box.get_by_label("Role").select_option(label="Alleged perpetrator")
    box.get_by_label("What is known about them").fill("Mr Brown, lunchtime supervisor")
    box.get_by_role("button", name="Add", exact=True).click()
    # Then the page comes back after the redirect with them on it
    dsl._told("Added to the people involved")
    expect(dsl.panel("Mr Brown, lunchtime supervisor")).to_contain_text("Member of staff")
    held = counts(live_server, report_id)
    assert held["parties"] == 1
    # and Reload, then Back and Reload, record nothing twice
    page.reload()
    page.go_back()
    page.reload()
    assert counts(live_server, report_id) == held


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_a_refused_form_in_a_childs_panel_keeps_the_headings_in_order(
        viewport: str, new_context: Callable[..., Any], live_server: LiveServer,
        dsl_signed_in: dict[str, Any]) -> None:
    """A trial's finding: a refused form's error summary was an h2 under the child's h3, so
    axe found the heading order broken once a form in a panel was refused."""
    report_id = live_server.add_report(what_happened="They push me in the line")[0]
    child = live_server.add_pupil("Niamh", "Edwards", "Year 6", "6A")
    live_server.link_pupil(report_id, child)
    page = new_context(viewport=VIEWPORTS[viewport], storage_state=dsl_signed_in).new_page()
    dsl = DslRecordingPeople(page)
    dsl.open(report_id)
    box = dsl.panel("Niamh Edwards").locator("details[id^=voice-details]")
    dsl.unfold(box)
    box.get_by_label("Date").fill("")
    box.get_by_role("button", name="Record", exact=True).click()
    expect(dsl.panel("Niamh Edwards").locator("[data-error-summary]")).to_be_visible()
    for details in page.locator("details").all():
        if not details.evaluate("d => d.open"):
            details.evaluate("d => { d.open = true; }")
    _assert_no_violations(page, f"case with a refused form in a child's panel ({viewport})")
