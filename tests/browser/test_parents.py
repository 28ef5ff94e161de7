"""Parents and carers kept informed, in a real browser ("Keep them informed at all
stages"; "Inviting parents/carers into school to form part of the discussions around
reoccurring incidents"): the DSL records "told Mum by phone", follows the recurring
prompt to invite the parents to a meeting, and completes it, on a tablet and on a phone,
with axe; Back and Reload afterwards record nothing twice; and one form with JavaScript
off."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from portal.models import Event, LinkRole, ParentContact, ParentMeeting, ParentsTold, Pupil
from tests.browser.conftest import DslAtDesk, LiveServer
from tests.browser.test_accessibility import _assert_no_violations

# Screenshots to look at by hand (the journey at both sizes), in the temp folder.
SHOTS = Path(tempfile.gettempdir()) / "shots_parents"
VIEWPORTS = {"tablet": {"width": 768, "height": 1024}, "phone": {"width": 390, "height": 844}}


def a_case(live: LiveServer) -> dict[str, int]:
    """A report with Aisha (target, recurring, Mum on the roster) and Jack linked."""
    report_id = live.add_report(who_involved="Jack in the lunch queue")[0]
    aisha, jack = live.add_pupil("Aisha", "Khan"), live.add_pupil("Jack", "Lee")
    live.link_pupil(report_id, aisha)
    live.link_pupil(report_id, jack, LinkRole.ALLEGED_PERPETRATOR)
    with live.db() as db:
        pupil = db.get(Pupil, aisha)
        assert pupil is not None
        pupil.recurring = True
        db.add(ParentContact(pupil_id=aisha, position=1, priority=1, name="Sara Khan",
                             relationship="Mum", email="sara@example.org",
                             phone="07700 900123"))
        party = next(link.id for link in pupil.links if link.report_id == report_id)
    return {"report": report_id, "aisha": aisha, "party": party}


def counts(live: LiveServer, report_id: int) -> tuple[int, int, int, int]:
    """Records of parents told, meetings, and the meeting events of a case."""
    with live.db() as db:
        def events(action: str) -> int:
            return db.scalar(select(func.count()).select_from(Event).where(
                Event.report_id == report_id, Event.action == action)) or 0

        told = db.scalar(select(func.count()).select_from(ParentsTold)
                         .where(ParentsTold.report_id == report_id)) or 0
        meetings = db.scalar(select(func.count()).select_from(ParentMeeting)
                             .where(ParentMeeting.report_id == report_id)) or 0
        return told, meetings, events("meeting.invited"), events("meeting.completed")


class DslTellingParents(DslAtDesk):
    """The DSL keeping one child's parents informed from the case page."""

    def panel(self, party: int) -> Any:
        return self.page.locator(f"#parents-{party}")

    def tell(self, party: int, contact: str, how: str, what: str) -> None:
        panel = self.panel(party)
        panel.locator(f"#told-{party} > summary").click()
        form = panel.locator(f"#told-form-{party}")
        form.get_by_label("Who was told", exact=True).select_option(label=contact)
        form.get_by_label(how, exact=True).check()
        form.get_by_label("What they were told").fill(what)
        form.get_by_role("button", name="Record").click()

    def invite_from_prompt(self, party: int, how: str, meeting_on: date) -> None:
        prompt = self.panel(party).locator("[data-recurring-prompt]")
        prompt.get_by_role("link").click()
        self.page.wait_for_url(f"**?invite={party}#invite-{party}")
        form = self.page.locator(f"#invite-form-{party}")
        expect(form).to_be_visible()
        form.get_by_label("How they were invited").select_option(label=how)
        form.get_by_label("Meeting date, if fixed").fill(meeting_on.isoformat())
        form.get_by_role("button", name="Record the invitation").click()

    def complete(self, party: int, attended: str, agreed: str, next_steps: str) -> None:
        panel = self.panel(party)
        panel.locator("details.inline-details > summary",
                      has_text="Record how the meeting went").click()
        form = panel.locator("form[id^=meeting-form-]")
        form.get_by_label("Meeting held", exact=True).check()
        form.get_by_label("Date of the meeting").fill(date.today().isoformat())
        form.get_by_label("Who attended").fill(attended)
        form.get_by_label("What was agreed").fill(agreed)
        form.get_by_label("Next steps").fill(next_steps)
        form.get_by_role("button", name="Save the meeting").click()


@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_told_mum_by_phone_invited_and_met_then_back_and_reload_record_nothing_twice(
        device: str, new_context: Callable[..., Any], live_server: LiveServer,
        dsl_signed_in: dict[str, Any]) -> None:
    SHOTS.mkdir(exist_ok=True)
    case = a_case(live_server)
    party = case["party"]
    dsl = DslTellingParents(new_context(storage_state=dsl_signed_in,
                                        viewport=VIEWPORTS[device]).new_page())
    # Given the case of a recurring child: the prompt quotes the policy in her panel
    dsl.page.goto(f"/staff/cases/{case['report']}")
    prompt = dsl.panel(party).locator("[data-recurring-prompt]")
    expect(prompt).to_contain_text("Inviting parents/carers into school to form part of the "
                                   "discussions around reoccurring incidents")
    dsl.panel(party).scroll_into_view_if_needed()
    dsl.page.screenshot(path=str(SHOTS / f"{device}-1-prompt.png"))
    _assert_no_violations(dsl.page, f"case with the recurring prompt ({device})")
    # When the DSL records that Mum was told by phone
    dsl.tell(party, "Sara Khan (Mum)", "Phone call",
             "What happened at lunch, and that we are speaking to both children.")
    dsl._told("Recorded: the parents of Aisha Khan were told.")
    expect(dsl.panel(party)).to_contain_text("Sara Khan (Mum) · Phone call")
    # and follows the prompt to invite the parents to a meeting
    dsl.invite_from_prompt(party, "Letter", date.today() + timedelta(days=2))
    dsl._told("Invitation to a meeting recorded.")
    expect(dsl.panel(party).locator("[data-recurring-prompt]")).to_have_count(0)
    # and completes the meeting later
    dsl.complete(party, "Sara Khan (Mum), Mrs Patel (DSL)",
                 "Aisha sits with a friend at lunch; Mum will tell us of any messages.",
                 "Review in two weeks.")
    dsl._told("Meeting recorded.")
    expect(dsl.panel(party)).to_contain_text("Meeting held")
    dsl.panel(party).screenshot(path=str(SHOTS / f"{device}-2-done.png"))
    _assert_no_violations(dsl.page, f"case after the parents' meeting ({device})")
    assert counts(live_server, case["report"]) == (1, 1, 1, 1)
    # Then Back and Reload record nothing a second time
    dsl.page.go_back()
    dsl.page.reload()
    dsl.page.go_forward()
    dsl.page.reload()
    expect(dsl.panel(party)).to_contain_text("Meeting held")
    assert counts(live_server, case["report"]) == (1, 1, 1, 1)
    # and the child's own page shows what her parents were told and the meeting
    dsl.page.goto(f"/staff/pupils/{case['aisha']}")
    expect(dsl.page.locator("#parents")).to_contain_text("What happened at lunch")
    expect(dsl.page.locator("#parents")).to_contain_text("Review in two weeks.")
    dsl.page.screenshot(path=str(SHOTS / f"{device}-3-pupil.png"), full_page=True)
    _assert_no_violations(dsl.page, f"pupil page with parents ({device})")


def test_without_javascript_the_form_works_and_reload_after_it_records_once(
        new_context: Callable[..., Any], live_server: LiveServer,
        dsl_signed_in: dict[str, Any]) -> None:
    case = a_case(live_server)
    party = case["party"]
    dsl = DslTellingParents(new_context(storage_state=dsl_signed_in, java_script_enabled=False,
                                        viewport=VIEWPORTS["tablet"]).new_page())
    dsl.page.goto(f"/staff/cases/{case['report']}")
    # Given a refusal first: nothing chosen for how, the words kept
    panel = dsl.panel(party)
    panel.locator(f"#told-{party} > summary").click()
    panel.get_by_label("What they were told").fill("Told Mum at the gate.")
    panel.get_by_role("button", name="Record").click()
    expect(dsl.panel(party).locator("[data-error-summary]")).to_contain_text(
        "Choose how they were told.")
    expect(dsl.panel(party).get_by_label("What they were told")).to_have_value(
        "Told Mum at the gate.")
    dsl.panel(party).screenshot(path=str(SHOTS / "nojs-refused.png"))
    # When the DSL puts it right and sends it: an ordinary page load
    form = dsl.panel(party).locator(f"#told-form-{party}")
    form.get_by_label("Who was told", exact=True).select_option(label="Sara Khan (Mum)")
    form.get_by_label("In person", exact=True).check()
    form.get_by_role("button", name="Record").click()
    dsl._told("Recorded: the parents of Aisha Khan were told.")
    assert dsl.page.url.endswith(f"/staff/cases/{case['report']}#parents-{party}")
    # Then Reload and Back record nothing again
    dsl.page.reload()
    dsl.page.go_back()
    dsl.page.reload()
    assert counts(live_server, case["report"])[0] == 1
