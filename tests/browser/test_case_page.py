"""The DSL's usual path through one case in one page load (issue 12 item 8: "link two
pupils, decide, three checklist steps, reply, assign, close took 13 full page loads ...
let a DSL do the usual path with far fewer loads ... keep it working without JavaScript").

case.js sends each form with fetch() and swaps the server's answer in; the same path with
JavaScript off still works through ordinary page loads, and leaves the same record.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.models import (
    ChecklistItem,
    Event,
    Message,
    Report,
    ReportPupil,
    StaffSession,
    User,
    utcnow,
)
from tests.browser.conftest import DslAtDesk, LiveServer
from tests.browser.test_accessibility import _assert_no_violations

STEPS = ("Make sure the pupil is not at risk of immediate harm",
         "Interview all parties involved", "Support the pupil being bullied")


class DslOnACase(DslAtDesk):
    """The DSL working through one case, counting the full page loads it takes."""

    def __init__(self, page: Any, *, script: bool) -> None:
        super().__init__(page)
        self.script = script
        self.loads: list[str] = []
        page.on("framenavigated",
                lambda frame: self.loads.append(frame.url) if frame == page.main_frame else None)

    def act(self, press: Callable[[], None], message: str | None) -> None:
        """Press a form's button and wait for the page's answer (and its ``message``): with
        the script the case page's content is replaced (the old content leaves the page);
        without it, a new page loads."""
        before = self.page.locator("[data-case-page]").element_handle()
        press()
        if self.script:
            self.page.wait_for_function("el => !el.isConnected", arg=before)
        if message is not None:
            self._told(message)

    def link(self, name: str, role: str) -> None:
        search = self.page.get_by_role("search")
        search.get_by_label("Find a pupil on the roster").fill(name.split()[0])
        self.act(lambda: search.get_by_role("button", name="Search").click(), None)
        row = self.page.locator(".link-list li", has_text=name)
        row.get_by_label(f"Role of {name}").select_option(label=role)
        self.act(lambda: row.get_by_role("button", name=f"Link {name}").click(), "Pupil linked")

    def decide(self, decision: str, reason: str) -> None:
        card = self.page.locator("#decision-card")
        card.get_by_label(decision, exact=True).check()
        card.get_by_label("Reason for the decision").fill(reason)
        self.act(lambda: card.get_by_role("button", name="Record decision", exact=True).click(),
                 "Decision recorded")

    def tick(self, steps: tuple[str, ...], note: str = "") -> None:
        form = self.page.locator("#steps-form")
        for text in steps:
            form.locator("li", has_text=text).get_by_label("Done", exact=True).check()
        self.act(lambda: form.get_by_role("button", name="Save steps").click(),
                 f"{len(steps)} steps updated")

    def reply(self, words: str) -> None:
        self.page.get_by_label("Message to the reporter").fill(words)
        self.act(lambda: self.page.get_by_role("button", name="Send to the reporter").click(),
                 "Message sent")

    def assign(self, name: str) -> None:
        card = self.page.locator("#assign-card")
        card.get_by_label("Assign to").select_option(label=name)
        self.act(lambda: card.get_by_role("button", name="Assign").click(), "Assignment saved")

    def close(self, reason: str, override: str) -> None:
        card = self.page.locator("#status-card")
        card.get_by_label("Move to").select_option(label="Closed")
        card.get_by_label("Reason", exact=True).fill(reason)
        card.get_by_label("Closing with required steps open? Say why").fill(override)
        self.act(lambda: card.get_by_role("button", name="Change status").click(),
                 "Status changed")

    def usual_path(self, report_id: int) -> None:
        """Issue 12's path: link two pupils, decide, three steps, reply, assign, close."""
        self.page.goto(f"/staff/cases/{report_id}")
        self.link("Kai Jones", "Target")
        self.link("Lee Brown", "Alleged perpetrator")
        self.decide("Bullying Incident", "Name-calling at lunch for three weeks, two pupils.")
        self.tick(STEPS)
        self.reply("Thank you for telling us. Mrs Patel will see you at break tomorrow.")
        self.assign("Ms Reed")
        self.close("Both pupils spoken to; parents told; lunch supervision changed.",
                   "The remaining steps are done on paper at the parents' meeting.")


def record(live: LiveServer, report_id: int) -> dict[str, Any]:
    """What a case holds after the path, without ids or times."""
    with live.db() as db:
        report = db.get(Report, report_id)
        assert report is not None
        events = db.scalars(select(Event).where(Event.report_id == report_id)
                            .order_by(Event.id)).all()
        return {
            "status": report.status, "category": report.category,
            "assigned": report.assigned_to_id, "override": report.close_override,
            "acknowledged": report.acknowledged_at is not None,
            "pupils": sorted((link.pupil.name, link.role.value, link.unlinked_at is None)
                             for link in db.scalars(select(ReportPupil).where(
                                 ReportPupil.report_id == report_id))),
            "steps": [(i.checklist, i.key, i.state.value, i.note, i.done_by_id) for i in
                      db.scalars(select(ChecklistItem).where(ChecklistItem.report_id == report_id)
                                 .order_by(ChecklistItem.position))],
            "messages": [(m.sender.value, m.body) for m in db.scalars(
                select(Message).where(Message.report_id == report_id).order_by(Message.id))],
            "trail": [(e.action, e.payload) for e in events
                      if e.action != "case.viewed"],
            "views": sum(e.action == "case.viewed" for e in events),
        }


@pytest.fixture(scope="module")
def two_cases(live_server: LiveServer) -> tuple[int, int]:
    """Two identical reports naming nobody from the roster, and the two pupils to link."""
    live_server.add_pupil("Kai", "Jones")
    live_server.add_pupil("Lee", "Brown", "Year 6", "6C")
    words = {"what_happened": "They keep calling me names at lunch.", "who_involved":
             "Two children from another class"}
    return live_server.add_report(**words)[0], live_server.add_report(**words)[0]


def test_the_usual_path_takes_one_page_load_and_leaves_the_record_the_plain_path_does(
        new_context: Callable[..., Any], live_server: LiveServer, dsl_signed_in: dict[str, Any],
        two_cases: tuple[int, int]) -> None:
    with_script, without = two_cases
    # Given the DSL on one case with JavaScript, and on its twin without
    fast = DslOnACase(new_context(storage_state=dsl_signed_in).new_page(), script=True)
    plain = DslOnACase(new_context(storage_state=dsl_signed_in,
                                   java_script_enabled=False).new_page(), script=False)
    # When each walks the usual path
    fast.usual_path(with_script)
    plain.usual_path(without)
    # Then with JavaScript the whole path is the first page load and nothing else
    assert fast.loads == [f"{live_server.url}/staff/cases/{with_script}"], fast.loads
    # and without it every step is a page load, and it all still works
    assert len(plain.loads) >= 9, plain.loads
    # and both cases hold the same record, the view written once for the one visit
    assert record(live_server, with_script) == record(live_server, without)
    assert record(live_server, with_script)["views"] == 1
    assert record(live_server, with_script)["status"].value == "closed"
    # and the page after all that still passes axe
    _assert_no_violations(fast.page, "case after the usual path")


def test_a_refusal_comes_back_in_place_with_focus_on_it_and_the_words_kept(
        new_context: Callable[..., Any], live_server: LiveServer, dsl_signed_in: dict[str, Any]
) -> None:
    report_id = live_server.add_report(who_involved="Somebody in the lunch queue")[0]
    dsl = DslOnACase(new_context(storage_state=dsl_signed_in,
                                 viewport={"width": 1366, "height": 768}).new_page(),
                     script=True)
    dsl.page.goto(f"/staff/cases/{report_id}")
    dsl.act(lambda: dsl.page.locator("#acknowledge").get_by_role("button").click(),
            "Acknowledged")
    # Given a note typed in the note card, and the "record an action" box opened
    dsl.page.get_by_label("Staff-only note").fill("Mum rang at 3pm, call back tomorrow.")
    dsl.page.locator("#record-action > summary").click()
    # When the DSL marks a step "not needed" without saying why, and saves the checklist
    form = dsl.page.locator("#steps-form")
    step = form.locator("li", has_text="Inform other staff where appropriate")
    step.get_by_label("Not needed", exact=True).check()
    form.locator("li", has_text=STEPS[0]).get_by_label("Done", exact=True).check()
    before = dsl.page.locator("[data-case-page]").element_handle()
    form.get_by_role("button", name="Save steps").click()
    dsl.page.wait_for_function("el => !el.isConnected", arg=before)
    # Then the refusal is on the page in place of the old content, with no page load
    assert dsl.loads == [f"{live_server.url}/staff/cases/{report_id}"]
    summary = dsl.page.locator("#steps-form [data-error-summary]")
    expect(summary).to_contain_text("Nothing was saved")
    expect(dsl.page.locator(".field-error")).to_contain_text("Write why this step is not needed")
    # with focus on it and its words in the live region
    assert dsl.page.evaluate("document.activeElement.hasAttribute('data-error-summary')")
    expect(dsl.page.locator("[data-case-live]")).to_contain_text("Nothing was saved")
    # and both choices as they were made, the note still typed, the box still open
    step = dsl.page.locator("#steps-form li", has_text="Inform other staff where appropriate")
    expect(step.get_by_label("Not needed", exact=True)).to_be_checked()
    expect(dsl.page.locator("#steps-form li", has_text=STEPS[0])
           .get_by_label("Done", exact=True)).to_be_checked()
    expect(dsl.page.get_by_label("Staff-only note")).to_have_value(
        "Mum rang at 3pm, call back tomorrow.")
    expect(dsl.page.locator("#record-action")).to_have_attribute("open", "")
    _assert_no_violations(dsl.page, "case with a refused checklist")

    # and the refused step's note box open, ready for the reason
    expect(step.locator("details")).to_have_attribute("open", "")

    # When they say why and save again
    step.get_by_label("Note", exact=False).fill("Only the class teacher needs to know.")
    save = dsl.page.locator("#steps-form").get_by_role("button", name="Save steps")
    save.scroll_into_view_if_needed()
    top = save.bounding_box()["y"]
    dsl.act(save.click, "2 steps updated")
    # Then the message is by the button they pressed, which has not moved far, and has focus
    message = dsl.page.locator("#steps-form .flash")
    expect(message).to_contain_text("2 steps updated")
    assert dsl.page.evaluate("document.activeElement.classList.contains('flash')")
    expect(dsl.page.locator("[data-case-live]")).to_contain_text("2 steps updated")
    button = dsl.page.locator("#steps-form").get_by_role("button", name="Save steps")
    assert abs(button.bounding_box()["y"] - top) < 150
    # and the note typed in the other card is still there, unsent
    expect(dsl.page.get_by_label("Staff-only note")).to_have_value(
        "Mum rang at 3pm, call back tomorrow.")
    with live_server.db() as db:
        states = {i.key: i.state.value for i in db.scalars(
            select(ChecklistItem).where(ChecklistItem.report_id == report_id))}
    assert (states["responding-immediate_safety"], states["responding-inform_staff"]) == (
        "done", "not_needed")
    _assert_no_violations(dsl.page, "case after a checklist saved in place")


def test_only_a_network_failure_sends_the_form_the_ordinary_way(
        new_context: Callable[..., Any], live_server: LiveServer, dsl_signed_in: dict[str, Any]
) -> None:
    report_id = live_server.add_report()[0]
    dsl = DslOnACase(new_context(storage_state=dsl_signed_in).new_page(), script=True)
    dsl.page.goto(f"/staff/cases/{report_id}")
    # Given the script's request for the note fails on the network (it never reaches the
    # portal); the ordinary submit still gets through
    failed: list[str] = []

    def intercept_fetch(route: Any) -> None:
        if route.request.resource_type == "fetch":
            failed.append(route.request.url)
            route.abort("internetdisconnected")
        else:
            route.continue_()

    dsl.page.route(f"**/staff/cases/{report_id}/notes", intercept_fetch)
    # When the DSL adds a note
    dsl.page.get_by_label("Staff-only note").fill("Called home; no answer.")
    dsl.page.get_by_role("button", name="Add note").click()
    # Then the form was sent again as an ordinary form, and the note is kept, once
    dsl.page.wait_for_url(f"**/staff/cases/{report_id}#note-card")
    dsl._told("Note added")
    assert failed == [f"{live_server.url}/staff/cases/{report_id}/notes"]
    assert len(dsl.loads) == 2
    with live_server.db() as db:
        notes = [e.payload["note"] for e in db.scalars(select(Event).where(
            Event.report_id == report_id, Event.action == "note.added"))]
    assert notes == ["Called home; no answer."]


def _notes(live: LiveServer, report_id: int) -> list[str]:
    with live.db() as db:
        return [e.payload["note"] for e in db.scalars(select(Event).where(
            Event.report_id == report_id, Event.action == "note.added"))]


def _refusal_in_place(dsl: DslOnACase, form: str, words: str) -> None:
    """The refusal by the form's button, with focus and the live region, no page load."""
    refusal = dsl.page.locator(f"{form} [data-case-refusal]")
    expect(refusal).to_contain_text(words)
    assert dsl.page.evaluate("document.activeElement.hasAttribute('data-case-refusal')")
    expect(dsl.page.locator("[data-case-live]")).to_contain_text(words)
    assert len(dsl.loads) == 1, dsl.loads


def test_a_note_sent_after_the_session_ended_stays_typed_and_says_sign_in_again(
        new_context: Callable[..., Any], live_server: LiveServer) -> None:
    report_id = live_server.add_report()[0]
    email = "deputy-signed-out@oakfield.test"
    live_server.add_staff("oakfield", email, name="Mr Deputy")
    dsl = DslOnACase(new_context().new_page(), script=True)
    dsl.sign_in(email)
    dsl.page.goto(f"/staff/cases/{report_id}")
    dsl.loads.clear()
    dsl.loads.append(dsl.page.url)
    # Given the DSL's session has ended on the server while the page was open
    with live_server.db() as db:
        for row in db.scalars(select(StaffSession).join(User).where(User.email == email)):
            row.last_seen_at = utcnow() - timedelta(minutes=31)
    # When they type a note and press Add note
    note = "Mum rang at 3pm; she will come in on Monday."
    dsl.page.get_by_label("Staff-only note").fill(note)
    dsl.page.get_by_role("button", name="Add note").click()
    # Then the page stays, the note is still typed, and it says to sign in again
    _refusal_in_place(dsl, "#note-card", "You were signed out")
    expect(dsl.page.get_by_label("Staff-only note")).to_have_value(note)
    assert _notes(live_server, report_id) == []


def test_a_note_over_the_request_cap_is_refused_before_sending_naming_the_field(
        new_context: Callable[..., Any], live_server: LiveServer, dsl_signed_in: dict[str, Any]
) -> None:
    report_id = live_server.add_report()[0]
    dsl = DslOnACase(new_context(storage_state=dsl_signed_in).new_page(), script=True)
    dsl.page.goto(f"/staff/cases/{report_id}")
    sent: list[str] = []
    dsl.page.on("request", lambda r: sent.append(r.url) if r.method == "POST" else None)
    # Given 1.2 million characters pasted into the note
    dsl.page.get_by_label("Staff-only note").evaluate(
        "el => { el.value = 'x'.repeat(1200000); }")
    # When the DSL presses Add note
    dsl.page.get_by_role("button", name="Add note").click()
    # Then nothing is sent, the field is named, and the text is still there
    _refusal_in_place(dsl, "#note-card", "“Staff-only note” is too long to send")
    assert sent == []
    assert dsl.page.get_by_label("Staff-only note").evaluate("el => el.value.length") \
        == 1_200_000
    assert _notes(live_server, report_id) == []


def test_acknowledge_in_a_stale_tab_says_who_did_it_with_focus_on_the_message(
        new_context: Callable[..., Any], live_server: LiveServer, dsl_signed_in: dict[str, Any]
) -> None:
    report_id = live_server.add_report()[0]
    context = new_context(storage_state=dsl_signed_in)
    first = DslOnACase(context.new_page(), script=True)
    stale = DslOnACase(context.new_page(), script=True)
    # Given two tabs on the case, both showing Acknowledge
    first.page.goto(f"/staff/cases/{report_id}")
    stale.page.goto(f"/staff/cases/{report_id}")
    # When the first acknowledges, and then the stale one presses Acknowledge too
    first.act(lambda: first.page.locator("#acknowledge").get_by_role("button").click(),
              "Acknowledged")
    stale.act(lambda: stale.page.locator("#acknowledge").get_by_role("button").click(),
              "Already acknowledged by")
    # Then the stale tab says who acknowledged it, with focus and the live region on that
    assert stale.page.evaluate("document.activeElement.classList.contains('flash')")
    expect(stale.page.locator("[data-case-live]")).to_contain_text("Already acknowledged by")
