"""Two-way messages through the follow-up code (cyber policy 8.1: "reassurance that it was
right to report the incident and that something will be done about it")."""

from __future__ import annotations

from sqlalchemy import select

from portal.models import Event, Message, Report
from portal.vocabulary import Status
from tests.conftest import PUPIL, followup_code, hidden_fields


def open_code(browser, code):
    return browser.submit("/follow-up", {"code": code})


def _reply(browser, code, text):
    """Open the report with its code, then send a reply from that page's form."""
    page = open_code(browser, code).get_data(as_text=True)
    fields = hidden_fields(page, "/follow-up")  # the reply form's own (one-time) values
    return browser.client.post("/follow-up", data={**fields, "code": code, "message": text})


def test_an_anonymous_pupil_and_the_dsl_talk_through_the_code(
        app, browser, school, make_user, session):
    # Given a pupil reports anonymously from the tablet
    pupil = browser
    code = followup_code(pupil.submit("/s/oakfield/pupil", PUPIL).get_data(as_text=True))
    report = session.scalars(select(Report)).one()
    # When the DSL writes to them
    dsl = make_user(school=school)
    staff = type(pupil)(app.test_client())
    staff.login(dsl.email)
    page = f"/staff/cases/{report.id}"
    sent = staff.submit(page, {"message": "Thank you for telling us. You did the right "
                                          "thing. Mrs Patel will find you at lunch."},
                        action=f"{page}/messages")
    assert sent.status_code == 302
    staff.submit(page, {"note": "STAFF-ONLY: spoke to lunchtime staff"}, action=f"{page}/notes")
    # Then the pupil reads it with the code, sees it was read, and replies
    html = open_code(pupil, code).get_data(as_text=True)
    assert "You did the right thing" in html
    assert "An adult at school read your report on" in html
    assert "STAFF-ONLY" not in html
    assert dsl.email not in html
    answered = _reply(pupil, code, "Thank you. It happened again today.")
    assert answered.status_code == 200
    assert "We sent your message to the school" in answered.get_data(as_text=True)
    # and the DSL's queue shows a new reply until a DSL marks it read (opening the case
    # is looking, not acting: the reply stays new until someone acts on it)
    assert "New reply" in staff.get("/staff/").get_data(as_text=True)
    case = staff.get(page).get_data(as_text=True)
    assert "It happened again today." in case
    assert "New reply" in staff.get("/staff/").get_data(as_text=True)
    staff.submit(page, {}, action=f"{page}/acknowledge")
    assert "New reply" not in staff.get("/staff/").get_data(as_text=True)
    # The staff message is marked read by the reporter; nothing identifies the pupil
    messages = session.scalars(select(Message).order_by(Message.id)).all()
    assert messages[0].read_at is not None
    reporter_events = session.scalars(select(Event).where(Event.actor_id.is_(None))).all()
    # (checklists the policy attached on arrival have no actor either: the portal's doing)
    assert {e.action for e in reporter_events} == {"report.received", "message.from_reporter",
                                                   "checklist.added"}
    assert all(e.staff_address is None for e in reporter_events)
    assert [e.payload for e in reporter_events if e.action == "message.from_reporter"] == [{}]


def test_a_reply_to_a_closed_case_brings_it_back_into_the_open_queue(
        app, browser, school, make_user, make_report, session):
    report, code = make_report(school)
    session.get(Report, report.id).status = Status.CLOSED
    session.commit()
    _reply(browser, code, "It has started again")
    staff = type(browser)(app.test_client())
    staff.login(make_user(school=school).email)
    assert f"/staff/cases/{report.id}" in staff.get("/staff/").get_data(as_text=True)


def test_an_empty_reply_is_refused_kindly(browser, school, make_report, session):
    _report, code = make_report(school)
    response = _reply(browser, code, "   ")
    assert response.status_code == 400
    assert "Write your message first." in response.get_data(as_text=True)
    assert session.scalars(select(Message)).first() is None


def test_a_reporter_sees_only_their_own_reports_messages(
        app, browser, school, make_user, make_report):
    mine, my_code = make_report(school)
    theirs, _ = make_report(school)
    staff = type(browser)(app.test_client())
    staff.login(make_user(school=school).email)
    page = f"/staff/cases/{theirs.id}"
    staff.submit(page, {"message": "For the other reporter only"}, action=f"{page}/messages")
    assert "For the other reporter only" not in open_code(browser, my_code).get_data(
        as_text=True)


def test_a_reply_with_a_wrong_code_stores_nothing(browser, school, make_report, session):
    make_report(school)
    fields = hidden_fields(browser.get("/follow-up").get_data(as_text=True), "/follow-up")
    response = browser.client.post("/follow-up", data={
        **fields, "code": "1111-2222-3333-4444-5555", "message": "hello"})
    assert "We could not find a report with that code" in response.get_data(as_text=True)
    assert session.scalars(select(Message)).first() is None
