"""Two schools of one trust, in a real browser (issue 16): Oakfield's DSL sends a child's
record to Elm, where the child is moving, and Elm's DSL reads the history; Oakfield's DSL
shares a case with Elm, Elm's DSL reads what was shared and records an action, Oakfield's
DSL reads it and ends the share. Back, Forward and Reload after every form add nothing; on
a tablet and a phone, with axe on each page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.models import CaseShare, LinkRole, PupilTransfer, School, SharedAction, Trust
from tests.browser.conftest import SCHOOL, DslAtDesk, LiveServer
from tests.browser.test_accessibility import _assert_no_violations

VIEWPORTS = {"tablet": {"width": 768, "height": 1024}, "phone": {"width": 390, "height": 844}}
ELM_DSL = "dsl@elm.test"
WORDS = "They push me on the bus home and film it"


@pytest.fixture(scope="module")
def elm(live_server: LiveServer, chromium: Any) -> dict[str, Any]:
    """Elm Academy in Oakfield's trust, with its DSL signed in once for the module."""
    elm_id = live_server.add_school("elm", "Elm Academy")
    live_server.add_staff("elm", ELM_DSL, name="Mr Hale")
    with live_server.db() as db:
        trust = Trust(name="Northern Trust")
        db.add(trust)
        db.flush()
        for school in db.scalars(select(School).where(School.slug.in_([SCHOOL, "elm"]))):
            school.trust_id = trust.id
    context = chromium.new_context(base_url=live_server.url, locale="en-GB")
    try:
        DslAtDesk(context.new_page()).sign_in(ELM_DSL)
        state = context.storage_state()
    finally:
        context.close()
    return {"id": elm_id, "state": state}


def count(live_server: LiveServer, model: Any) -> int:
    with live_server.db() as db:
        return len(list(db.scalars(select(model))))


@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_a_childs_record_follows_them_to_another_school_of_the_trust(
        device: str, new_context: Callable[..., Any], live_server: LiveServer,
        dsl_signed_in: dict[str, Any], elm: dict[str, Any]) -> None:
    report_id, _code = live_server.add_report(what_happened=WORDS)
    child = live_server.add_pupil("Aisha", f"Khan{device}")
    live_server.link_pupil(report_id, child, LinkRole.TARGET)
    before = count(live_server, PupilTransfer)
    page = new_context(storage_state=dsl_signed_in, viewport=VIEWPORTS[device]).new_page()
    page.goto(f"/staff/pupils/{child}")
    page.locator("#send-record > summary").click()
    page.get_by_label("Which school is the child moving to?").select_option(label="Elm Academy")
    page.get_by_label("Note for their new DSL (optional)").fill("Moving in January")
    page.get_by_role("button", name="Send the record").click()
    expect(page.locator("#transfers")).to_contain_text("Record sent on")
    _assert_no_violations(page, f"pupil page after a transfer ({device})")
    page.reload()
    page.go_back()
    page.go_forward()
    assert count(live_server, PupilTransfer) == before + 1  # sent once

    theirs = new_context(storage_state=elm["state"], viewport=VIEWPORTS[device]).new_page()
    theirs.goto("/staff/transfers")
    theirs.get_by_role("link", name=f"Aisha Khan{device}").first.click()
    expect(theirs.locator(".notice").first).to_contain_text("Read-only copy, transferred")
    expect(theirs.locator("main")).to_contain_text(f"#{report_id}")
    expect(theirs.locator("main")).not_to_contain_text(WORDS)  # no report's words travel
    _assert_no_violations(theirs, f"transferred record ({device})")


@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_two_schools_work_one_case_together_and_end_the_share(
        device: str, new_context: Callable[..., Any], live_server: LiveServer,
        dsl_signed_in: dict[str, Any], elm: dict[str, Any]) -> None:
    report_id, _code = live_server.add_report(what_happened=WORDS)
    jack = live_server.add_pupil("Jack", f"Lee{device}", year="Year 8")
    live_server.link_pupil(report_id, jack, LinkRole.ALLEGED_PERPETRATOR)
    shares, actions = count(live_server, CaseShare), count(live_server, SharedAction)
    ours = new_context(storage_state=dsl_signed_in, viewport=VIEWPORTS[device]).new_page()
    ours.goto(f"/staff/cases/{report_id}")
    ours.locator("#share-new > summary").click()
    ours.get_by_role("button", name="Share the case").click()  # nothing filled in
    expect(ours.locator("#share-new [data-error-summary]")).to_contain_text(
        "Write why you are sharing it")
    ours.get_by_label("Which school of the trust?").select_option(label="Elm Academy")
    ours.get_by_label("Why you are sharing it, and what you ask of them").fill(
        "His cousin at Elm joins in on the bus: please speak to him")
    ours.get_by_label("The reporter’s own words").check()
    ours.get_by_label("The names and roles of the people involved").check()
    ours.get_by_role("button", name="Share the case").click()
    expect(ours.locator("#sharing")).to_contain_text("Shared with Elm Academy")
    _assert_no_violations(ours, f"case shared with another school ({device})")
    ours.reload()
    ours.go_back()
    ours.go_forward()
    assert count(live_server, CaseShare) == shares + 1  # shared once

    theirs = new_context(storage_state=elm["state"], viewport=VIEWPORTS[device]).new_page()
    theirs.goto("/staff/shares")
    theirs.get_by_role("link", name="Oakfield Primary: shared case").first.click()
    main = theirs.locator("main")
    expect(main).to_contain_text(WORDS)
    expect(main).to_contain_text(f"Jack Lee{device}")
    _assert_no_violations(theirs, f"shared case at the other school ({device})")
    theirs.locator("[id$='-action'] > summary").click()
    theirs.get_by_label("What was done").fill("Spoke to Sam in Year 8 and his parents")
    theirs.get_by_role("button", name="Record the action").click()
    expect(main).to_contain_text("Spoke to Sam in Year 8 and his parents")
    theirs.reload()
    theirs.go_back()
    theirs.go_forward()
    assert count(live_server, SharedAction) == actions + 1  # recorded once

    ours.goto(f"/staff/cases/{report_id}")
    sharing = ours.locator("#sharing")
    expect(sharing).to_contain_text("Spoke to Sam in Year 8 and his parents")
    sharing.locator("[id$='-end'] > summary").click()
    sharing.get_by_label("Why the share ends").fill("Resolved at both schools")
    sharing.get_by_role("button", name="End the share").click()
    expect(ours.locator("#sharing")).to_contain_text("Ended")
    theirs.goto(theirs.url)
    expect(theirs.locator("[data-share=ended]")).to_contain_text("Resolved at both schools")
    expect(theirs.locator("main")).not_to_contain_text(WORDS)
    _assert_no_violations(theirs, f"ended share at the other school ({device})")
