"""The case page's grouped forms (issue 12 item 8: the DSL's usual path in fewer page loads):
the whole checklist in one submit, and "Record decision and close the case" from the
decision card. Each saves everything or nothing and keeps what was typed when refused."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal.models import ChecklistItem, Event, ItemState, Report, Role
from portal.triage.forms import seen
from portal.vocabulary import Category, Status
from tests.conftest import Browser, hidden_fields


@pytest.fixture
def case(browser, dsl, school, make_report, session):
    """A report the DSL has acknowledged, so its checklist steps are stored."""
    report, _ = make_report(school)
    page = f"/staff/cases/{report.id}"
    assert browser.submit(page, {}, action=f"{page}/acknowledge").status_code == 302
    return report


def steps(session, report_id):
    session.expire_all()
    return list(session.scalars(select(ChecklistItem).where(ChecklistItem.report_id == report_id)
                                .order_by(ChecklistItem.position)))


def events(session, report_id, action):
    return session.scalar(select(func.count()).select_from(Event).where(
        Event.report_id == report_id, Event.action == action))


def checklist_post(session, report, changes):
    """The checklist form as the page sends it: every step's state, note and what the page
    showed, with ``changes`` ({position: (state, note)}) made by the DSL."""
    data = {}
    for position, item in enumerate(steps(session, report.id)):
        state, note = changes.get(position, (item.state.value, item.note or ""))
        data[f"state-{item.id}"] = state
        data[f"note-{item.id}"] = note
        data[f"seen-{item.id}"] = seen(item.state.value, item.note or "")
    return data


def test_three_checklist_steps_are_saved_in_one_submit(browser, case, session, dsl):
    page = f"/staff/cases/{case.id}"
    data = checklist_post(session, case, {0: ("done", ""), 1: ("done", "Spoke to all three"),
                                          2: ("not_needed", "No safeguarding concern")})
    response = browser.submit(page, data, action=f"{page}/steps")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/staff/cases/{case.id}#checklists")
    items = steps(session, case.id)
    assert [i.state for i in items[:4]] == [ItemState.DONE, ItemState.DONE,
                                            ItemState.NOT_NEEDED, ItemState.OPEN]
    assert items[1].note == "Spoke to all three"
    assert {i.done_by_id for i in items[:3]} == {dsl.id}
    # one event per step changed, none for the steps left as they were
    assert events(session, case.id, "step.updated") == 3
    assert "3 steps updated." in browser.get(page).get_data(as_text=True)


def test_one_refused_step_saves_none_and_keeps_what_was_typed(browser, case, session):
    page = f"/staff/cases/{case.id}"
    data = checklist_post(session, case, {0: ("done", "Checked at break"),
                                          1: ("not_needed", ""), 2: ("done", "")})
    refused = browser.submit(page, data, action=f"{page}/steps")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "Write why this step is not needed" in html
    assert "Nothing was saved" in html
    assert all(i.state == ItemState.OPEN for i in steps(session, case.id))
    assert events(session, case.id, "step.updated") == 0
    first, second, third = steps(session, case.id)[:3]
    # the three answers are still on the page, as typed
    assert re.search(rf'id="s{first.id}-done"[^>]* checked', html)
    assert re.search(rf'id="s{second.id}-not_needed"[^>]* checked', html)
    assert re.search(rf'id="s{third.id}-done"[^>]* checked', html)
    assert "Checked at break</textarea>" in html
    assert f'id="step-{second.id}-error"' in html


def test_a_checklist_sent_unchanged_saves_nothing_and_says_so(browser, case, session):
    page = f"/staff/cases/{case.id}"
    refused = browser.submit(page, checklist_post(session, case, {}), action=f"{page}/steps")
    assert refused.status_code == 400
    assert "Nothing to save" in refused.get_data(as_text=True)
    assert events(session, case.id, "step.updated") == 0


def test_a_colleagues_newer_answer_is_not_overwritten_by_what_the_page_showed(
        app, browser, case, session, school, make_user):
    page = f"/staff/cases/{case.id}"
    # Given the DSL's page as it was loaded (every step open)
    mine = checklist_post(session, case, {0: ("done", "")})
    # When a deputy marks the second step done meanwhile
    deputy = make_user(school=school)
    other = Browser(app.test_client())
    other.login(deputy.email)
    theirs = checklist_post(session, case, {1: ("done", "Interviewed both")})
    assert other.submit(page, theirs, action=f"{page}/steps").status_code == 302
    # and the DSL then saves the first step from their older page
    assert browser.client.post(f"{page}/steps", data={
        **mine, "csrf_token": re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                                        browser.get(page).get_data(as_text=True)).group(1),
    }).status_code == 302
    # Then both answers stand
    first, second = steps(session, case.id)[:2]
    assert (first.state, second.state, second.note) == (ItemState.DONE, ItemState.DONE,
                                                        "Interviewed both")
    assert second.done_by_id == deputy.id


def test_an_unknown_state_is_refused_in_words(browser, case, session):
    page = f"/staff/cases/{case.id}"
    data = checklist_post(session, case, {0: ("finished", "")})
    refused = browser.submit(page, data, action=f"{page}/steps")
    assert refused.status_code == 400
    assert "Choose done, not needed or still to do." in refused.get_data(as_text=True)


def decide_and_close(browser, report_id, data):
    """Press the decision card's "Record decision and close the case" (a second button on
    the decision form, sending it to its own address)."""
    page = f"/staff/cases/{report_id}"
    html = browser.get(page).get_data(as_text=True)
    button = re.search(r'<button[^>]*formaction="([^"]+)"[^>]*>Record decision and close',
                       html)
    assert button, "no decide-and-close button on the decision card"
    fields = hidden_fields(html, f"{page}/decision")
    return browser.client.post(button.group(1), data={**fields, **data})


def close_all_required(session, report_id):
    for item in steps(session, report_id):
        if item.required:
            item.state = ItemState.DONE
    session.commit()


def test_decide_and_close_records_both_with_the_reason(browser, case, session, dsl):
    close_all_required(session, case.id)
    page = f"/staff/cases/{case.id}"
    response = decide_and_close(browser, case.id, {"category": "not_bullying",
                                     "reason": "A one-off falling out, sorted in class"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("#decision-card")
    session.expire_all()
    report = session.get(Report, case.id)
    assert (report.category, report.status) == (Category.NOT_BULLYING, Status.CLOSED)
    assert report.closed_at is not None
    texts = {e.action: e.payload["reason"] for e in session.scalars(select(Event).where(
        Event.report_id == case.id, Event.action.in_(["category.changed", "status.changed"])))}
    assert texts == {"category.changed": "A one-off falling out, sorted in class",
                     "status.changed": "A one-off falling out, sorted in class"}
    assert "Decision recorded. Case closed." in browser.get(page).get_data(as_text=True)


def test_decide_and_close_with_required_steps_open_saves_nothing_and_keeps_the_words(
        browser, case, session):
    refused = decide_and_close(browser, case.id, {
        "category": "bullying_incident", "reason": "Repeated name-calling over three weeks"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "required step(s) are still open" in html
    # the decision was refused with the close: the report is as it was
    session.expire_all()
    report = session.get(Report, case.id)
    assert (report.category, report.status) == (Category.ALLEGATION, Status.NEW)
    assert events(session, case.id, "category.changed") == 0
    # and the decision card still holds what was typed
    assert "Repeated name-calling over three weeks</textarea>" in html
    assert re.search(r'value="bullying_incident" checked', html)
    # saying why closes it anyway, with the decision
    closed = decide_and_close(browser, case.id, {
        "category": "bullying_incident", "reason": "Repeated name-calling over three weeks",
        "close_override": "Handed to the trust's officer today"})
    assert closed.status_code == 302
    session.expire_all()
    report = session.get(Report, case.id)
    assert (report.category, report.status) == (Category.BULLYING_INCIDENT, Status.CLOSED)
    assert report.close_override == "Handed to the trust's officer today"


def test_decide_and_close_keeping_the_decision_already_made_closes_the_case(
        browser, case, session):
    """A trial found the button refused whenever the category stayed as it was: keeping
    the decision is not a new decision, so only the close is recorded."""
    close_all_required(session, case.id)
    report = session.get(Report, case.id)
    report.category = Category.BULLYING_INCIDENT
    session.commit()
    response = decide_and_close(browser, case.id, {
        "category": "bullying_incident", "reason": "Support in place, no repeat in a month"})
    assert response.status_code == 302
    session.expire_all()
    report = session.get(Report, case.id)
    assert (report.category, report.status) == (Category.BULLYING_INCIDENT, Status.CLOSED)
    assert events(session, case.id, "category.changed") == 0
    assert events(session, case.id, "status.changed") == 1


def test_decide_and_close_on_a_closed_case_is_refused_whole(browser, case, session):
    """A tab left open while a colleague closed the case: nothing of it is kept."""
    close_all_required(session, case.id)
    page = f"/staff/cases/{case.id}"
    fields = hidden_fields(browser.get(page).get_data(as_text=True), f"{page}/decision")
    report = session.get(Report, case.id)
    report.status = Status.CLOSED
    session.commit()
    refused = browser.client.post(f"{page}/decision-and-close", data={
        **fields, "category": "not_bullying", "reason": "A one-off falling out"})
    assert refused.status_code == 400
    assert "be moved to closed" in refused.get_data(as_text=True)
    session.expire_all()
    assert session.get(Report, case.id).category == Category.ALLEGATION
    assert events(session, case.id, "category.changed") == 0


@pytest.mark.parametrize("path", ["steps", "decision-and-close"])
def test_grouped_forms_need_the_csrf_token(browser, case, session, path):
    data = (checklist_post(session, case, {0: ("done", "")}) if path == "steps"
            else {"category": "not_bullying", "reason": "A one-off falling out"})
    response = browser.client.post(f"/staff/cases/{case.id}/{path}", data=data)
    assert response.status_code == 400
    session.expire_all()
    assert session.get(Report, case.id).category == Category.ALLEGATION
    assert events(session, case.id, "step.updated") == 0


def page_token(person: Browser) -> str:
    """The session's CSRF token, read from the sign-out page every role can open."""
    html = person.get("/staff/logout").get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


@pytest.mark.parametrize("path", ["steps", "decision-and-close"])
def test_grouped_forms_answer_another_schools_dsl_with_404(
        app, make_school, make_user, case, session, path):
    other_school = make_school("riverside", "Riverside Academy")
    stranger = Browser(app.test_client())
    stranger.login(make_user(school=other_school).email)
    response = stranger.client.post(f"/staff/cases/{case.id}/{path}", data={
        "csrf_token": page_token(stranger), "category": "not_bullying",
        "reason": "A one-off falling out", **checklist_post(session, case, {0: ("done", "")})})
    assert response.status_code == 404
    assert events(session, case.id, "step.updated") == 0


@pytest.mark.parametrize("role", [Role.STAFF, Role.HEAD, Role.ADMIN, Role.TRUST_LEAD])
@pytest.mark.parametrize("path", ["steps", "decision-and-close"])
def test_grouped_forms_are_for_the_dsl_team_only(app, school, make_user, case, session,
                                                 role, path):
    person = Browser(app.test_client())
    person.login(make_user(role=role, school=school).email)
    response = person.client.post(f"/staff/cases/{case.id}/{path}", data={
        "csrf_token": page_token(person), "category": "not_bullying",
        "reason": "A one-off falling out", **checklist_post(session, case, {0: ("done", "")})})
    assert response.status_code == 403
    assert events(session, case.id, "step.updated") == 0
