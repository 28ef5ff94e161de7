"""Checklists attach when the facts that need them are recorded, and a changed definition
reaches open cases (issue 13 item 4): a step added reaches open cases, not closed ones; a
step removed stays readable on old cases and never blocks closing; viewing writes none."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from portal import checklists, linking, vocabulary
from portal.checklists import CHECKLISTS, RESPONDING, Step
from portal.cli import cli
from portal.models import CaseChecklist, ChecklistItem, ItemState, Report, Role
from portal.triage import operations as ops
from portal.vocabulary import Reason, Status
from tests.conftest import Browser

NEW_STEP = Step("responding-record_on_cpoms", "Record the incident on CPOMS",
                "Incidents will be recorded")


@pytest.fixture
def dsl(app, school, make_user):
    user = make_user(Role.DSL, school)
    browser = Browser(app.test_client())
    assert browser.login(user.email).status_code == 302
    return user, browser


BASE_URL = "http://localhost"  # where a parent's update email would point


def steps(session, report_id: int) -> list[tuple[str, str]]:
    session.expire_all()
    return [(i.checklist, i.key) for i in session.scalars(
        select(ChecklistItem).where(ChecklistItem.report_id == report_id)
        .order_by(ChecklistItem.position))]


def versions(session, report_id: int) -> dict[str, int]:
    return {c.checklist: c.version for c in session.scalars(
        select(CaseChecklist).where(CaseChecklist.report_id == report_id))}


def add_step(monkeypatch, after: str = "responding-interview_all") -> None:
    """The definition gains a required step after ``after``, its version one up."""
    old = CHECKLISTS[RESPONDING]
    at = [s.code for s in old.steps].index(after) + 1
    monkeypatch.setitem(CHECKLISTS, RESPONDING, dataclasses.replace(
        old, version=old.version + 1, steps=(*old.steps[:at], NEW_STEP, *old.steps[at:])))


def retire_step(monkeypatch, code: str) -> None:
    old = CHECKLISTS[RESPONDING]
    gone = next(s for s in old.steps if s.code == code)
    monkeypatch.setitem(CHECKLISTS, RESPONDING, dataclasses.replace(
        old, version=old.version + 1, steps=tuple(s for s in old.steps if s.code != code),
        retired=(*old.retired, gone)))


def test_a_report_has_its_checklists_from_the_moment_it_arrives(school, make_report, session):
    report, _ = make_report(school, kinds=["online"])
    assert [name for name, _key in steps(session, report.id)][:1] == [RESPONDING]
    assert versions(session, report.id) == {RESPONDING: 1, checklists.CYBER: 1}
    assert ("online", "cyber-4.3") in steps(session, report.id)
    plain, _ = make_report(school, kinds=["verbal"])
    assert versions(session, plain.id) == {RESPONDING: 1}


def test_the_malicious_posts_checklist_keys_on_the_reason_code_not_its_words(
        monkeypatch, school, make_report, session, dsl):
    """Rewording "Threat to kill or hurt" must not switch cyber policy 5 off."""
    monkeypatch.setitem(vocabulary.REASON_WORDS, Reason.THREAT_TO_HURT,
                        "Said they would harm someone")
    report, _ = make_report(school, kinds=["online"],
                            what_happened="they posted that they are gonna kill me")
    assert checklists.MALICIOUS in versions(session, report.id)
    html = dsl[1].get(f"/staff/cases/{report.id}").get_data(as_text=True)
    assert "Said they would harm someone" in html
    assert "Threat to kill or hurt" not in html
    assert "Ensure pupils are shielded from further exposure" in html  # 5.1


def test_new_reasons_from_linking_a_pupil_start_the_checklists_they_need(
        school, make_report, session, make_user):
    """Urgency reasons recorded later (a rescore) are facts too: a threat found on a
    rescore brings cyber policy 5 on an online case."""
    report, _ = make_report(school, kinds=["online"], what_happened="mean messages")
    assert checklists.MALICIOUS not in versions(session, report.id)
    report = session.get(Report, report.id)
    report.body = "mean messages, and they said they would kill me"
    linking.rescore(session, report, school)
    session.commit()
    assert checklists.MALICIOUS in versions(session, report.id)


def test_a_step_added_to_the_definition_reaches_open_cases_but_not_closed_ones(
        monkeypatch, app, school, make_report, session, make_user, dsl):
    actor = make_user(Role.DSL, school)
    open_case, _ = make_report(school)
    closed_case, _ = make_report(school)
    closed = session.get(Report, closed_case.id)
    ops.change_status(session, closed, actor=actor, status=Status.CLOSED,
                      reason="Resolved between the pupils",
                      override="Recorded on paper before the portal", base_url=BASE_URL)
    session.commit()
    before_closed = steps(session, closed_case.id)

    add_step(monkeypatch)
    # Looking at the open case changes nothing (a GET writes nothing but the view)
    dsl[1].get(f"/staff/cases/{open_case.id}")
    assert (RESPONDING, NEW_STEP.code) not in steps(session, open_case.id)

    result = app.test_cli_runner().invoke(cli, ["checklists-sync"])
    assert result.exit_code == 0, result.output
    assert "1 open case(s)" in result.output
    keys = [key for _c, key in steps(session, open_case.id)]
    # the new step sits where the definition puts it, after "interview all parties"
    assert keys[keys.index("responding-interview_all") + 1] == NEW_STEP.code
    assert versions(session, open_case.id)[RESPONDING] == CHECKLISTS[RESPONDING].version
    new = session.scalars(select(ChecklistItem).where(
        ChecklistItem.report_id == open_case.id, ChecklistItem.key == NEW_STEP.code)).one()
    assert (new.required, new.state) == (True, ItemState.OPEN)
    # the closed case keeps the steps the policy asked for when it was closed
    assert steps(session, closed_case.id) == before_closed
    assert versions(session, closed_case.id)[RESPONDING] == 1
    # the new step now blocks closing the open case like any required step
    page = dsl[1].get(f"/staff/cases/{open_case.id}").get_data(as_text=True)
    assert "Record the incident on CPOMS" in page
    with pytest.raises(ops.StepsOpen, match="Record the incident on CPOMS"):
        ops.change_status(session, session.get(Report, open_case.id), actor=actor,
                          status=Status.CLOSED, reason="All done now", base_url=BASE_URL)


def test_the_next_recorded_change_brings_a_case_up_to_the_definition(
        monkeypatch, school, make_report, session, dsl):
    report, _ = make_report(school)
    add_step(monkeypatch)
    page = f"/staff/cases/{report.id}"
    assert dsl[1].submit(page, {"note": "Spoke to the class teacher"},
                         action=f"{page}/notes").status_code == 302
    assert (RESPONDING, NEW_STEP.code) in steps(session, report.id)


def test_a_removed_step_stays_readable_on_old_cases_and_never_blocks_closing(
        monkeypatch, school, make_report, session, make_user, dsl):
    actor = make_user(Role.DSL, school)
    report, _ = make_report(school)
    retire_step(monkeypatch, "responding-interview_all")
    page = dsl[1].get(f"/staff/cases/{report.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Interview all parties involved" in html
    assert "no longer asked for by the policy" in html
    case = session.get(Report, report.id)
    for item in case.checklist_items:
        if item.key != "responding-interview_all":
            ops.update_step(session, item, actor=actor, state=ItemState.DONE, note="")
    ops.change_status(session, case, actor=actor, status=Status.CLOSED,
                      reason="Every step the policy asks for is done", base_url=BASE_URL)
    session.commit()
    assert session.get(Report, report.id).status == Status.CLOSED
    assert ("responding", "responding-interview_all") in steps(session, report.id)


def test_a_step_no_definition_knows_reads_as_its_code_and_does_not_block(
        monkeypatch, school, make_report, session, make_user, dsl):
    """A whole checklist dropped from the code: its steps on old cases still render."""
    actor = make_user(Role.DSL, school)
    report, _ = make_report(school, kinds=["online"])
    monkeypatch.delitem(CHECKLISTS, checklists.CYBER)
    html = dsl[1].get(f"/staff/cases/{report.id}").get_data(as_text=True)
    assert "cyber-4.3" in html
    case = session.get(Report, report.id)
    for item in case.checklist_items:
        if item.checklist == RESPONDING:
            ops.update_step(session, item, actor=actor, state=ItemState.DONE, note="")
    ops.change_status(session, case, actor=actor, status=Status.CLOSED, reason="All done now",
                      base_url=BASE_URL)
    session.commit()
    assert session.get(Report, report.id).status == Status.CLOSED
