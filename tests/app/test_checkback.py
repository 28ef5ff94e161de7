"""Check back with the reporter (issue 14): "On a review date, the reporter (through their
follow-up code) can be asked a simple question — 'Is it better now?' with pictures — and
the answer lands in the chronology and the queue. A child who says no is seen first."

The rules without HTTP, the reporter's page (a pupil code and a parent code), the case
page's forms with the real CSRF token, and the hostile cases.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from portal import chronology
from portal.casework import checkback
from portal.events import Action
from portal.models import CheckBack, Event, OutboxMessage, Report, Role
from portal.triage import operations as triage_ops
from portal.vocabulary import Status
from tests.app.test_anonymity import (
    CLIENT_ENV,
    HEADERS,
    MARKERS,
    dump_tables,
    every_log_record,  # noqa: F401 - a fixture used below
)
from tests.conftest import hidden_fields

QUESTION = "Is it better now?"
CODE_AGAIN = "Please type your code again"


def due_check(session, report, dsl, *, due_on: date | None = None) -> CheckBack:
    """A check-back set by ``dsl`` on ``report`` for today (due now) unless told."""
    check = checkback.schedule(session, session.get(Report, report.id), actor=dsl,
                               due_on=due_on or checkback.today(), note="After the meeting")
    session.commit()
    return check


def open_code(client: FlaskClient, code: str, **kw) -> str:
    """Type the follow-up code as a reporter does; the page that comes back."""
    fields = hidden_fields(client.get("/follow-up", **kw).get_data(as_text=True), "/follow-up")
    response = client.post("/follow-up", data={**fields, "code": code}, **kw)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def send_answer(client: FlaskClient, page: str, feeling: str | None, more: str = "", **kw):
    """Answer the question on ``page`` (the question page) as the reporter would."""
    fields = hidden_fields(page, "/follow-up")
    data = {**fields, "more": more}
    if feeling is not None:
        data["feeling"] = feeling
    return client.post("/follow-up", data=data, **kw)


def answers(session, report_id: int) -> list[CheckBack]:
    session.expire_all()
    return list(session.scalars(select(CheckBack).where(CheckBack.report_id == report_id,
                                                        CheckBack.answered_at.is_not(None))))


# --- the rules, without HTTP --------------------------------------------------------------


def test_a_check_back_cannot_be_set_in_the_past(session, school, make_user, make_report):
    dsl = make_user(school=school)
    report, _ = make_report(school)
    with pytest.raises(checkback.CheckBackRefused, match="today or a day after"):
        checkback.schedule(session, report, actor=dsl, due_on=checkback.today() - timedelta(1))


def test_setting_a_check_back_is_an_event_and_acknowledges_the_report(
        session, school, make_user, make_report):
    dsl = make_user(school=school)
    report, _ = make_report(school)
    check = checkback.schedule(session, report, actor=dsl,
                               due_on=checkback.today() + timedelta(days=7), note="One week on")
    session.commit()
    event = session.scalar(select(Event).where(Event.report_id == report.id,
                                               Event.action == Action.CHECKBACK_SCHEDULED))
    assert event.payload == {"check_back_id": check.id,
                             "due_on": check.due_on.isoformat(), "note": "One week on"}
    assert event.actor_id == dsl.id
    assert session.get(Report, report.id).acknowledged_at is not None
    line = chronology.render(event, chronology.Names())
    assert "Check back with the reporter set for" in line.what


def test_one_open_check_back_at_a_time_then_the_next_after_it_is_cancelled(
        session, school, make_user, make_report):
    dsl = make_user(school=school)
    report, _ = make_report(school)
    first = checkback.schedule(session, report, actor=dsl, due_on=checkback.today())
    with pytest.raises(checkback.CheckBackRefused, match="already a check-back"):
        checkback.schedule(session, report, actor=dsl, due_on=checkback.today() + timedelta(3))
    checkback.cancel(session, report, first.id, actor=dsl, reason="Parent asked to wait")
    second = checkback.schedule(session, report, actor=dsl,
                                due_on=checkback.today() + timedelta(3))
    session.commit()
    assert first.cancelled_at is not None
    assert first.cancelled_by_id == dsl.id
    assert checkback.open_check(session, report).id == second.id
    cancelled = session.scalar(select(Event).where(Event.action == Action.CHECKBACK_CANCELLED))
    assert cancelled.payload["reason"] == "Parent asked to wait"
    with pytest.raises(checkback.CheckBackRefused, match="already answered or cancelled"):
        checkback.cancel(session, report, first.id, actor=dsl)


def test_a_check_back_of_another_report_cannot_be_cancelled_from_this_one(
        session, school, make_user, make_report):
    dsl = make_user(school=school)
    mine, _ = make_report(school)
    other, _ = make_report(school)
    theirs = checkback.schedule(session, other, actor=dsl, due_on=checkback.today())
    with pytest.raises(checkback.CheckBackRefused, match="no such check-back"):
        checkback.cancel(session, mine, theirs.id, actor=dsl)


def test_not_better_reopens_a_closed_case_with_an_event_saying_why_and_alerts_once(
        session, school, make_user, make_report):
    dsl = make_user(school=school)
    make_user(Role.DEPUTY_DSL, school=school)
    report, _ = make_report(school)
    row = session.get(Report, report.id)
    check = checkback.schedule(session, row, actor=dsl, due_on=checkback.today())
    triage_ops.change_status(session, row, actor=dsl, status=Status.CLOSED,
                             reason="Resolved after the meeting", override="Steps done offline",
                             base_url="http://x")
    session.commit()
    assert Status.IN_REVIEW in triage_ops.ALLOWED[Status.CLOSED]  # the move is a permitted one

    checkback.answer(session, row, check, feeling="not_better", more="", base_url="http://x")
    session.commit()

    assert row.status == Status.IN_REVIEW
    assert row.closed_at is None
    assert row.in_queue
    reopened = session.scalars(select(Event).where(
        Event.report_id == report.id, Event.action == Action.STATUS_CHANGED)).all()[-1]
    assert reopened.payload["from"] == "closed"
    assert reopened.payload["to"] == "in_review"
    assert "not better" in reopened.payload["reason"]
    assert chronology.who(reopened) == "Tell Us (automatic)"
    mails = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "urgent")).all()
    assert len(mails) == 2  # the DSL and the deputy, each once
    for mail in mails:
        assert f"/staff/cases/{report.id}" in mail.body
        assert "never contains what was reported" in mail.body
    # the same check can't be answered again: no second mail, no second answer
    with pytest.raises(checkback.AnswerRefused):
        checkback.answer(session, row, check, feeling="not_better", base_url="http://x")
    assert session.scalar(select(func.count()).select_from(OutboxMessage)
                          .where(OutboxMessage.kind == "urgent")) == 2


def test_each_not_better_check_back_alerts_once_and_only_the_latest_answer_counts(
        session, school, make_user, make_report):
    """Two check-backs both answered "not better" send two alerts (each is a child saying
    no again, weeks apart); a later "better" takes the case out of "not better"."""
    dsl = make_user(school=school)
    report, _ = make_report(school)
    row = session.get(Report, report.id)
    for feeling in ("not_better", "not_better", "better"):
        check = checkback.schedule(session, row, actor=dsl, due_on=checkback.today())
        checkback.answer(session, row, check, feeling=feeling, base_url="http://x")
        session.commit()
    assert session.scalar(select(func.count()).select_from(OutboxMessage)
                          .where(OutboxMessage.kind == "urgent")) == 2
    latest = session.scalars(select(CheckBack).where(CheckBack.latest.is_(True))).all()
    assert [c.answer for c in latest] == ["better"]
    assert triage_ops.queue(session, dsl, triage_ops.QueueFilters(
        status="all", not_better=True)).total == 0


@pytest.mark.parametrize("feeling", [None, "", "worse", "NOT_BETTER", "not_better "])
def test_an_answer_must_be_one_of_the_three(session, school, make_user, make_report, feeling):
    dsl = make_user(school=school)
    report, _ = make_report(school)
    check = checkback.schedule(session, report, actor=dsl, due_on=checkback.today())
    with pytest.raises(checkback.AnswerRefused, match="three pictures"):
        checkback.answer(session, report, check, feeling=feeling, base_url="http://x")


# --- the reporter's page ------------------------------------------------------------------


def test_a_code_without_a_check_back_sees_the_follow_up_page_as_today(client, school,
                                                                      make_report):
    _report, code = make_report(school)
    html = open_code(client, code)
    assert QUESTION not in html
    assert "Your report" in html
    assert "Send message" in html


def test_the_question_is_not_asked_before_its_day(client, session, school, make_user,
                                                  make_report):
    dsl = make_user(school=school)
    report, code = make_report(school)
    due_check(session, report, dsl, due_on=checkback.today() + timedelta(days=1))
    assert QUESTION not in open_code(client, code)


@pytest.mark.parametrize("source", ["pupil", "parent"])
def test_from_its_day_the_reporter_is_asked_first_and_the_answer_lands_in_the_chronology(
        client, session, school, make_user, make_report, source):
    dsl = make_user(school=school)
    report, code = make_report(school, source=source)
    check = due_check(session, report, dsl)

    page = open_code(client, code)
    # the question comes before anything else: not the status, not the messages
    assert f'<h1 class="check-back__title">{QUESTION}</h1>' in page
    assert "Send message" not in page
    assert "What you sent" not in page
    for value, words in (("better", "Better"), ("a_little_better", "A little better"),
                         ("not_better", "Not better")):
        assert f'value="{value}"' in page
        assert f">{words}</span>" in page
    assert page.count("<svg class=\"feeling__face\"") == 3  # a picture for each
    assert "Do you want to tell us more?" in page
    assert code not in page.replace(f'value="{code}"', "")  # only in the hidden field

    done = send_answer(client, page, "a_little_better", "The name calling stopped mostly")
    html = done.get_data(as_text=True)
    assert done.status_code == 200
    assert "Thank you for telling us" in html
    assert "Your report" in html
    (answered,) = answers(session, report.id)
    assert answered.id == check.id
    assert answered.answer == "a_little_better"
    assert answered.more == "The name calling stopped mostly"
    assert answered.latest
    event = session.scalar(select(Event).where(Event.action == Action.CHECKBACK_ANSWERED))
    assert event.payload == {"check_back_id": check.id, "answer": "a_little_better",
                             "wrote_more": True}
    assert event.actor_id is None
    assert chronology.who(event) == "Reporter"
    assert "The name calling" not in str(event.payload)  # words stay out of the audit row (P11)
    # asked once: the next visit sees the page as before
    assert QUESTION not in open_code(client, code)


def test_not_now_shows_the_report_and_asks_again_next_time(client, session, school, make_user,
                                                           make_report):
    dsl = make_user(school=school)
    report, code = make_report(school)
    due_check(session, report, dsl)
    page = open_code(client, code)
    fields = hidden_fields(page, "/follow-up")
    later = client.post("/follow-up", data={**fields, "later": "1"})
    assert "What you sent" in later.get_data(as_text=True)
    assert answers(session, report.id) == []
    assert QUESTION in open_code(client, code)


def test_a_reload_of_the_answer_never_answers_twice(client, session, school, make_user,
                                                    make_report):
    dsl = make_user(school=school)
    report, code = make_report(school)
    due_check(session, report, dsl)
    page = open_code(client, code)
    fields = {**hidden_fields(page, "/follow-up"), "feeling": "not_better", "more": ""}
    first = client.post("/follow-up", data=fields)
    again = client.post("/follow-up", data=fields)  # Reload: the browser sends it again

    assert first.status_code == 200
    assert again.status_code == 400
    assert CODE_AGAIN in again.get_data(as_text=True)
    assert code not in again.get_data(as_text=True)
    assert len(answers(session, report.id)) == 1
    assert session.scalar(select(func.count()).select_from(Event)
                          .where(Event.action == Action.CHECKBACK_ANSWERED)) == 1
    assert session.scalar(select(func.count()).select_from(OutboxMessage)
                          .where(OutboxMessage.kind == "urgent")) == 1


def test_another_reports_code_cannot_answer_this_ones_check(client, session, school,
                                                            make_user, make_report):
    dsl = make_user(school=school)
    mine, _ = make_report(school)
    theirs, their_code = make_report(school)
    mine_check = due_check(session, mine, dsl)
    their_check = due_check(session, theirs, dsl)
    page = open_code(client, their_code)
    fields = {**hidden_fields(page, "/follow-up"), "check_back": str(mine_check.id),
              "feeling": "not_better"}
    response = client.post("/follow-up", data=fields)
    assert response.status_code == 200
    assert QUESTION in response.get_data(as_text=True)
    assert answers(session, mine.id) == []
    assert answers(session, theirs.id) == []
    assert session.get(CheckBack, their_check.id).is_open


@pytest.mark.parametrize("token", ["missing", "forged"])
def test_an_answer_without_the_pages_csrf_token_is_refused_and_nothing_is_kept(
        app, client, session, school, make_user, make_report, token):
    dsl = make_user(school=school)
    report, code = make_report(school)
    due_check(session, report, dsl)
    fields = {**hidden_fields(open_code(client, code), "/follow-up"), "feeling": "not_better"}
    if token == "missing":
        del fields["csrf_token"]
    else:
        other = app.test_client()
        fields["csrf_token"] = hidden_fields(other.get("/follow-up").get_data(as_text=True),
                                             "/follow-up")["csrf_token"]
    refused = client.post("/follow-up", data=fields)
    assert refused.status_code == 400
    assert answers(session, report.id) == []
    assert session.scalar(select(func.count()).select_from(OutboxMessage)
                          .where(OutboxMessage.kind == "urgent")) == 0


def test_no_answer_chosen_asks_again_keeping_the_words(client, session, school, make_user,
                                                       make_report):
    dsl = make_user(school=school)
    report, code = make_report(school)
    due_check(session, report, dsl)
    refused = send_answer(client, open_code(client, code), None, "Some words I typed")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "Please choose one of the three pictures." in html
    assert "error-summary" in html
    assert "Some words I typed</textarea>" in html
    assert answers(session, report.id) == []
    # the refused page's own form answers it
    assert send_answer(client, html, "better").status_code == 200
    assert len(answers(session, report.id)) == 1


@pytest.mark.parametrize("more", ["<script>alert(1)</script>", "x" * 2001])
def test_hostile_or_over_long_words(browser, client, dsl, session, school, make_report, more):
    report, code = make_report(school)
    due_check(session, report, dsl)
    response = send_answer(client, open_code(client, code), "not_better", more)
    html = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    if len(more) > 2000:
        assert response.status_code == 400
        assert "Please make this shorter" in html
        assert answers(session, report.id) == []
        return
    assert response.status_code == 200
    (answered,) = answers(session, report.id)
    assert answered.more == more  # kept as typed, shown escaped
    case = browser.get(f"/staff/cases/{report.id}").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in case
    assert more not in case


def test_nothing_of_the_device_or_visit_is_kept_with_an_answer(
        app, session, school, make_user, make_report, every_log_record):  # noqa: F811
    """Anonymous means anonymous (SECURITY P1): after answering with a marker user agent and
    forwarded address, no table and no log holds them."""
    dsl = make_user(school=school)
    report, code = make_report(school)
    due_check(session, report, dsl)
    client = app.test_client()
    client.environ_base.update(CLIENT_ENV)
    page = open_code(client, code, headers=HEADERS)
    done = send_answer(client, page, "not_better", "It is still happening at lunch",
                       headers=HEADERS)
    assert done.status_code == 200
    tables = dump_tables(app)
    assert "It is still happening at lunch" in tables  # the dump holds the answer
    logs = "\n".join(f"{r.name} {r.getMessage()} {r.__dict__!r}"
                     for r in every_log_record.records)
    for marker in MARKERS:
        assert marker not in tables, f"{marker} stored in the database"
        assert marker not in logs, f"{marker} logged"
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is None or code.replace("-", "") not in cookie.value


def test_answering_is_rate_limited_like_the_code_page(client, session, school, make_user,
                                                      make_report):
    dsl = make_user(school=school)
    report, code = make_report(school)
    due_check(session, report, dsl)
    statuses = []
    for _ in range(12):
        fields = hidden_fields(client.get("/follow-up").get_data(as_text=True), "/follow-up")
        statuses.append(client.post("/follow-up", data={**fields, "code": code,
                                                        "check_back": "1"}).status_code)
    assert 429 in statuses


# --- the case page ------------------------------------------------------------------------


def test_the_dsl_sets_and_cancels_a_check_back_on_the_case_page(browser, dsl, session, school,
                                                                make_report):
    report, _ = make_report(school)
    page = f"/staff/cases/{report.id}"
    day = (checkback.today() + timedelta(days=14)).isoformat()
    set_it = browser.submit(page, {"checkback_due": day, "checkback_note": "Two weeks on"},
                            action=f"{page}/check-backs")
    assert set_it.status_code == 302
    assert set_it.headers["Location"].endswith("#check-back")
    html = browser.get(page).get_data(as_text=True)
    assert "Check back with the reporter" in html
    assert "waiting for the day" in html
    assert "Two weeks on" in html
    check = session.scalar(select(CheckBack).where(CheckBack.report_id == report.id))
    cancel = browser.submit(page, {"checkback_reason": "Moved school"},
                            action=f"{page}/check-backs/{check.id}/cancel")
    assert cancel.status_code == 302
    html = browser.get(page).get_data(as_text=True)
    assert "cancelled" in html
    assert "Moved school" in html
    actions = session.scalars(select(Event.action).where(Event.report_id == report.id)).all()
    assert Action.CHECKBACK_SCHEDULED in actions
    assert Action.CHECKBACK_CANCELLED in actions


@pytest.mark.parametrize(("day", "message"), [
    ("2020-01-01", "Choose today or a day after today"),
    ("", "Enter the day to ask"),
    ("tomorrow", "Enter the day to ask"),
])
def test_a_refused_check_back_comes_back_with_what_was_typed(browser, dsl, session, school,
                                                             make_report, day, message):
    report, _ = make_report(school)
    page = f"/staff/cases/{report.id}"
    refused = browser.submit(page, {"checkback_due": day, "checkback_note": "Typed note"},
                             action=f"{page}/check-backs")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert message in html
    assert "error-summary" in html
    assert "Typed note</textarea>" in html
    assert session.scalar(select(func.count()).select_from(CheckBack)) == 0


def test_the_case_page_shows_the_answers_with_their_dates(browser, client, dsl, session,
                                                          school, make_report):
    report, code = make_report(school)
    due_check(session, report, dsl)
    send_answer(client, open_code(client, code), "not_better", "Still happening")
    html = browser.get(f"/staff/cases/{report.id}").get_data(as_text=True)
    section = html[html.index('id="check-back"'):html.index('aria-labelledby="chronology"')]
    assert 'data-answer="not_better"' in section
    assert "Not better" in section
    assert "Still happening" in section
    assert "answered" in section
    assert "the reporter answered: not better" in html  # the chronology line


def test_a_check_back_of_another_school_is_not_found(browser, dsl, session, school,
                                                     make_school, make_user, make_report):
    elmwood = make_school("elmwood", "Elmwood")
    their_dsl = make_user(school=elmwood)
    theirs, _ = make_report(elmwood)
    check = checkback.schedule(session, theirs, actor=their_dsl, due_on=checkback.today())
    mine, _ = make_report(school)
    session.commit()
    # a real token of this DSL's session, from their own case page
    page = f"/staff/cases/{mine.id}"
    token = hidden_fields(browser.get(page).get_data(as_text=True), f"{page}/check-backs")
    other = f"/staff/cases/{theirs.id}"
    for url in (f"{other}/check-backs", f"{other}/check-backs/{check.id}/cancel",
                f"{page}/check-backs/{check.id}/cancel"):
        response = browser.client.post(url, data={**token, "checkback_due": "2030-01-01"})
        assert response.status_code in (400, 404), url
        assert response.status_code == 404 or "no such check-back" in \
            response.get_data(as_text=True)
    session.expire_all()
    assert session.get(CheckBack, check.id).is_open
    assert session.scalar(select(func.count()).select_from(CheckBack)) == 1
