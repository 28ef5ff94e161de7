"""What the DSL stumbled on in the trial (issue 12): the case page and the queue."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from portal.models import ChecklistItem, Event, Message, Pupil, Report
from portal.triage.operations import VIEW_AGAIN_AFTER
from tests.conftest import Browser


def queue_row(html: str, report_id: int) -> str:
    """The queue's table row of one report."""
    for row in re.findall(r"<tr class=\"queue__row.*?</tr>", html, re.S):
        if f'href="/staff/cases/{report_id}"' in row:
            return row
    raise AssertionError(f"report {report_id} is not on the queue")


def queue_order(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'class="queue__id"><a href="/staff/cases/(\d+)"', html)]


def state(session, report_id: int) -> tuple:
    """Everything a GET of the case page must leave alone."""
    session.expire_all()
    report = session.get(Report, report_id)
    events = session.scalars(select(Event.action).where(Event.report_id == report_id)
                             .order_by(Event.id)).all()
    return (report.status, report.category, report.acknowledged_at, report.has_unread_reply,
            report.updated_at if hasattr(report, "updated_at") else None,
            session.scalar(select(func.count()).select_from(ChecklistItem)),
            tuple(m.read_at for m in session.scalars(select(Message).order_by(Message.id))),
            tuple(a for a in events if a != "case.viewed"))


def make_old(session, report, days: int = 10) -> None:
    session.get(Report, report.id).created_at = datetime.now(UTC) - timedelta(days=days)
    session.commit()


def radios(html: str, name: str) -> dict[str, bool]:
    """Each radio button called ``name``: value -> checked."""
    found = {}
    for tag in re.findall(r"<input[^>]*>", html):
        if f'name="{name}"' in tag and 'type="radio"' in tag:
            value = re.search(r'value="([^"]*)"', tag).group(1)
            found[value] = " checked" in tag
    return found


def test_retention_card_preselects_nothing_and_says_whether_a_hold_is_on(
        browser, school, make_user, make_report, session):
    report, _ = make_report(school)
    browser.login(make_user(school=school).email)
    page = f"/staff/cases/{report.id}"
    html = browser.get(page).get_data(as_text=True)
    assert radios(html, "hold") == {"yes": False, "no": False}
    assert "No legal hold now." in html
    assert "A legal hold is on now." not in html
    assert browser.submit(page, {"hold": "yes", "hold_reason": "Police investigation"},
                          action=f"{page}/hold").status_code == 302
    session.expire_all()
    assert session.get(Report, report.id).legal_hold
    html = browser.get(page).get_data(as_text=True)
    assert radios(html, "hold") == {"yes": False, "no": False}
    assert "A legal hold is on now." in html
    assert "No legal hold now." not in html


# Item 2: looking is not acting.

def test_opening_a_case_writes_only_the_view_and_leaves_it_overdue(
        browser, school, make_user, make_report, session):
    report, _ = make_report(school)
    make_old(session, report)
    session.add(Message(report_id=report.id, sender="reporter", body="It happened again"))
    session.get(Report, report.id).has_unread_reply = True
    session.commit()
    browser.login(make_user(school=school).email)
    before = state(session, report.id)
    html = browser.get(f"/staff/cases/{report.id}").get_data(as_text=True)
    assert "It happened again" in html
    assert state(session, report.id) == before
    views = session.scalar(select(func.count()).select_from(Event)
                           .where(Event.action == "case.viewed"))
    assert views == 1
    row = queue_row(browser.get("/staff/").get_data(as_text=True), report.id)
    assert 'data-ack="overdue"' in row
    assert 'data-ack="viewed"' in row
    assert "New reply" in row


def test_acknowledging_is_a_deliberate_step_the_queue_and_the_reporter_see(
        app, browser, school, make_user, make_report, session):
    report, code = make_report(school)
    make_old(session, report)
    browser.login(make_user(school=school).email)
    page = f"/staff/cases/{report.id}"
    reporter = Browser(app.test_client())
    status = reporter.submit("/follow-up", {"code": code}).get_data(as_text=True)
    assert 'data-acknowledged="no"' in status
    assert "Acknowledge" in browser.get(page).get_data(as_text=True)
    response = browser.submit(page, {}, action=f"{page}/acknowledge")
    assert response.status_code == 302
    session.expire_all()
    acknowledged = session.get(Report, report.id)
    assert acknowledged.acknowledged_at is not None
    assert session.scalar(select(func.count()).select_from(ChecklistItem)) > 0
    row = queue_row(browser.get("/staff/").get_data(as_text=True), report.id)
    assert 'data-ack="acknowledged"' in row
    assert "Overdue" not in row
    reporter = Browser(app.test_client())
    status = reporter.submit("/follow-up", {"code": code}).get_data(as_text=True)
    assert "An adult at school read your report on" in status
    chronology = browser.get(page).get_data(as_text=True)
    assert "Acknowledged" in chronology


def test_the_first_action_of_any_kind_acknowledges(browser, school, make_user, make_report,
                                                   session):
    report, _ = make_report(school)
    browser.login(make_user(school=school).email)
    page = f"/staff/cases/{report.id}"
    assert browser.submit(page, {"note": "Spoke to the class teacher"},
                          action=f"{page}/notes").status_code == 302
    session.expire_all()
    assert session.get(Report, report.id).acknowledged_at is not None
    actions = session.scalars(select(Event.action).where(Event.report_id == report.id)).all()
    assert actions.count("case.acknowledged") == 1


# Item 8: one view per visit, and back to the part of the page the DSL was on.

def views_by(session, user) -> int:
    return session.scalar(select(func.count()).select_from(Event).where(
        Event.action == "case.viewed", Event.actor_id == user.id))


def test_a_view_is_recorded_once_per_visit(app, browser, school, make_user, make_report,
                                           session):
    report, _ = make_report(school)
    dsl, deputy = make_user(school=school), make_user(school=school)
    browser.login(dsl.email)
    page = f"/staff/cases/{report.id}"
    for _ in range(5):
        assert browser.get(page).status_code == 200
    assert views_by(session, dsl) == 1
    other = Browser(app.test_client())
    other.login(deputy.email)
    other.get(page)
    assert views_by(session, deputy) == 1
    # the DSL's own change, and the page it goes back to: still the same visit
    browser.submit(page, {"note": "Called home"}, action=f"{page}/notes")
    browser.get(page)
    assert views_by(session, dsl) == 1
    # a colleague changed the case: the DSL's next look is a new view (they see what's new)
    other.submit(page, {"note": "Mum rang back"}, action=f"{page}/notes")
    browser.get(page)
    assert views_by(session, dsl) == 2
    browser.get(page)
    assert views_by(session, dsl) == 2


def test_a_view_is_recorded_again_after_ten_minutes(browser, school, make_user, make_report,
                                                    session):
    report, _ = make_report(school)
    dsl = make_user(school=school)
    session.add(Event(actor_id=dsl.id, school_id=school.id, report_id=report.id,
                      action="case.viewed", payload={},
                      created_at=datetime.now(UTC) - VIEW_AGAIN_AFTER - timedelta(minutes=1)))
    session.commit()
    browser.login(dsl.email)
    browser.get(f"/staff/cases/{report.id}")
    assert views_by(session, dsl) == 2


def test_actions_go_back_to_the_part_of_the_page_they_came_from(
        browser, school, make_user, make_report, session):
    report, _ = make_report(school, who_involved="Kai Jones")
    kai = Pupil(school_id=school.id, upn="K1", first_name="Kai", last_name="Jones")
    session.add(kai)
    session.commit()
    browser.login(make_user(school=school).email)
    page = f"/staff/cases/{report.id}"
    html = browser.get(page).get_data(as_text=True)
    for anchor in ("pupils", "checklists", "messages", "note-card", "decision-card",
                   "status-card", "assign-card", "retention-card"):
        assert f'id="{anchor}"' in html, anchor
    sent = {
        "notes": ({"note": "Spoke to the teacher"}, "#note-card"),
        "pupils": ({"pupil_id": str(kai.id), "role": "target"}, "#pupils"),
        "messages": ({"message": "Thank you for telling us."}, "#messages"),
        "decision": ({"category": "bullying_incident", "reason": "Repeated, on purpose"},
                     "#decision-card"),
    }
    for path, (data, anchor) in sent.items():
        response = browser.submit(page, data, action=f"{page}/{path}")
        assert response.status_code == 302, path
        assert response.headers["Location"].endswith(anchor), response.headers["Location"]


# Item 6: the signal band, with its tag on the queue.

def test_doubt_about_safety_and_long_school_refusal_come_first_among_the_non_urgent(
        browser, school, make_user, make_report, session):
    busy, _ = make_report(school, kinds=["physical", "online"], happened_before="yes")
    refusal, _ = make_report(school, source="parent", concern="school_refusal",
                             since_when="five weeks")
    unsure, _ = make_report(school, feels_safe="not_sure", happened_before="no")
    make_old(session, busy, days=20)
    browser.login(make_user(school=school).email)
    html = browser.get("/staff/").get_data(as_text=True)
    order = queue_order(html)
    assert order.index(refusal.id) < order.index(busy.id)
    assert order.index(unsure.id) < order.index(busy.id)
    assert "School refusal" in queue_row(html, refusal.id)
    assert "Unsure if safe" in queue_row(html, unsure.id)
    assert "Unsure if safe" not in queue_row(html, busy.id)


# Item 12: UK local time for staff, UTC kept in the record.

def test_staff_see_uk_local_time_with_its_zone(browser, school, make_user, make_report,
                                               session):
    summer, _ = make_report(school)
    winter, _ = make_report(school)
    session.get(Report, summer.id).created_at = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    session.get(Report, winter.id).created_at = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    session.commit()
    browser.login(make_user(school=school).email)
    html = browser.get(f"/staff/cases/{summer.id}").get_data(as_text=True)
    assert "01 Jul 2026 13:00 BST" in html
    assert "12:00 UTC" not in html.split("Who has")[0]
    html = browser.get(f"/staff/cases/{winter.id}").get_data(as_text=True)
    assert "15 Jan 2026 12:00 GMT" in html
    queue = browser.get("/staff/?status=all").get_data(as_text=True)
    assert 'title="01 Jul 2026 13:00 BST"' in queue
    session.expire_all()
    stored = session.get(Report, summer.id).created_at
    assert stored.utcoffset() in (None, timedelta(0))
    assert stored.hour == 12
