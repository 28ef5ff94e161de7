"""Journey 3: the DSL signs in, sees the queue most-urgent first, opens and decides a case."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from portal.models import Event, Report, Role
from portal.vocabulary import Category, Status


def total(html: str) -> int:
    match = re.search(r'data-total="(\d+)"', html)
    assert match, "no data-total on the queue"
    return int(match.group(1))


def queue_ids(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'href="/staff/cases/(\d+)"', html)]


def test_queue_needs_sign_in(client):
    response = client.get("/staff/")
    assert response.status_code == 302
    assert "/staff/login" in response.headers["Location"]


def test_urgent_reports_come_first_newest_urgent_first_then_oldest(
        browser, school, make_user, make_report, session):
    old, _ = make_report(school)
    urgent_old, _ = make_report(school, feels_safe="no")
    new, _ = make_report(school)
    urgent_new, _ = make_report(school, feels_safe="no")
    base = old.created_at
    for offset, report in enumerate([old, urgent_old, new, urgent_new]):
        session.get(Report, report.id).created_at = base + timedelta(minutes=offset)
    session.commit()
    dsl = make_user(school=school)
    browser.login(dsl.email)
    html = browser.get("/staff/").get_data(as_text=True)
    assert queue_ids(html) == [urgent_new.id, urgent_old.id, old.id, new.id]
    assert "Does not feel safe right now" in html
    assert total(html) == 4


def test_filters_by_status_kind_and_source(browser, school, make_user, make_report, session):
    make_report(school, kinds=["online"])
    make_report(school, kinds=["physical"])
    parent, _ = make_report(school, source="parent")
    closed, _ = make_report(school, kinds=["online"])
    session.get(Report, closed.id).status = Status.CLOSED
    session.commit()
    browser.login(make_user(school=school).email)
    assert total(browser.get("/staff/").get_data(as_text=True)) == 3  # open by default
    assert total(browser.get("/staff/?status=all").get_data(as_text=True)) == 4
    assert total(browser.get("/staff/?status=closed").get_data(as_text=True)) == 1
    assert total(browser.get("/staff/?kind=online&status=all").get_data(as_text=True)) == 2
    html = browser.get("/staff/?source=parent").get_data(as_text=True)
    assert total(html) == 1
    assert queue_ids(html) == [parent.id]
    # nonsense filters fall back to the defaults instead of failing
    assert browser.get("/staff/?status=<x>&kind=zz&page=abc").status_code == 200


def test_queue_is_paginated(browser, school, make_user, make_report):
    for _ in range(27):
        make_report(school)
    browser.login(make_user(school=school).email)
    first = browser.get("/staff/").get_data(as_text=True)
    second = browser.get("/staff/?page=2").get_data(as_text=True)
    assert total(first) == 27
    assert len(queue_ids(first)) == 25
    assert len(queue_ids(second)) == 2
    assert not set(queue_ids(first)) & set(queue_ids(second))


def test_viewing_a_case_is_recorded_but_does_not_acknowledge_it(
        browser, school, make_user, make_report, session):
    report, _ = make_report(school, what_happened="They pushed me over")
    dsl = make_user(school=school)
    browser.login(dsl.email)
    html = browser.get(f"/staff/cases/{report.id}").get_data(as_text=True)
    assert "They pushed me over" in html
    views = session.scalars(select(Event).where(Event.action == "case.viewed")).all()
    assert [(v.report_id, v.actor_id) for v in views] == [(report.id, dsl.id)]
    session.expire_all()
    assert session.get(Report, report.id).acknowledged_at is None  # looking is not acting


def test_decision_needs_a_reason_and_is_kept_in_the_chronology(
        browser, school, make_user, make_report, session):
    report, _ = make_report(school)
    dsl = make_user(school=school)
    browser.login(dsl.email)
    page = f"/staff/cases/{report.id}"
    refused = browser.submit(page, {"category": "bullying_incident", "reason": ""},
                             action=f"{page}/decision")
    assert refused.status_code == 400
    assert "Write the reason for this change" in refused.get_data(as_text=True)
    session.expire_all()
    assert session.get(Report, report.id).category == Category.ALLEGATION

    done = browser.submit(page, {"category": "bullying_incident",
                                 "reason": "Repeated name-calling over three weeks."},
                          action=f"{page}/decision")
    assert done.status_code == 302
    session.expire_all()
    stored = session.get(Report, report.id)
    assert stored.category == Category.BULLYING_INCIDENT
    assert stored.status == Status.IN_REVIEW
    event = session.scalars(select(Event).where(Event.action == "category.changed")).one()
    assert (event.payload, event.actor_id) == (
        {"from": "allegation", "to": "bullying_incident",
         "reason": "Repeated name-calling over three weeks."}, dsl.id)
    html = browser.get(page).get_data(as_text=True)
    assert "Repeated name-calling over three weeks." in html
    assert "Allegation of Bullying → Bullying Incident" in html


def test_status_moves_new_to_review_to_closed_with_reasons(
        browser, school, make_user, make_report, session):
    report, code = make_report(school)
    browser.login(make_user(school=school).email)
    page = f"/staff/cases/{report.id}"
    response = browser.submit(page, {"status": "in_review", "status_reason": "Looking into it"},
                              action=f"{page}/status")
    assert response.status_code == 302
    # The anti-bullying policy's responding steps are open, so closing needs a reason why.
    response = browser.submit(page, {"status": "closed", "status_reason": "Resolved",
                                     "override": "Family moved away; steps no longer apply."},
                              action=f"{page}/status")
    assert response.status_code == 302
    session.expire_all()
    stored = session.get(Report, report.id)
    assert stored.status == Status.CLOSED
    assert stored.closed_at is not None
    assert stored.close_override == "Family moved away; steps no longer apply."
    # the reporter sees it in plain words
    html = browser.submit("/follow-up", {"code": code}).get_data(as_text=True)
    assert "Finished" in html  # a child reads a closed report as finished (issue 12 #3)


def test_status_change_without_reason_is_refused(browser, school, make_user, make_report,
                                                 session):
    report, _ = make_report(school)
    browser.login(make_user(school=school).email)
    page = f"/staff/cases/{report.id}"
    response = browser.submit(page, {"status": "closed", "status_reason": ""},
                              action=f"{page}/status")
    assert response.status_code == 400
    session.expire_all()
    assert session.get(Report, report.id).status == Status.NEW


def test_notes_are_added_to_the_chronology(browser, school, make_user, make_report, session):
    report, _ = make_report(school)
    browser.login(make_user(school=school).email)
    page = f"/staff/cases/{report.id}"
    browser.submit(page, {"note": "Spoke to class teacher."}, action=f"{page}/notes")
    assert "Spoke to class teacher." in browser.get(page).get_data(as_text=True)


def test_staff_role_sees_only_what_they_wrote(browser, school, make_user, make_report):
    report, _ = make_report(school)
    teacher = make_user(Role.STAFF, school=school)
    browser.login(teacher.email)
    html = browser.get("/staff/").get_data(as_text=True)
    assert total(html) == 0
    assert browser.get(f"/staff/cases/{report.id}").status_code == 404


def test_admin_trust_lead_and_head_never_see_report_text(
        browser, school, make_user, make_report, session):
    from portal.models import Trust
    report, _ = make_report(school, what_happened="PRIVATE-MARKER words")
    trust = Trust(name="Northern Trust")
    session.add(trust)
    session.flush()
    session.get(type(school), school.id).trust_id = trust.id
    session.commit()
    for user in (make_user(Role.ADMIN, school=school),
                 make_user(Role.TRUST_LEAD, school=school, trust_id=trust.id),
                 make_user(Role.HEAD, school=school)):
        browser.login(user.email)
        assert browser.get(f"/staff/cases/{report.id}").status_code == 403
        landing = browser.client.get("/staff/", follow_redirects=True)
        assert landing.status_code == 200
        assert "PRIVATE-MARKER" not in landing.get_data(as_text=True)
        browser.client.delete_cookie("tellus")
    html = browser.get("/staff/trust").get_data(as_text=True)  # signed out now
    assert "PRIVATE-MARKER" not in html


def test_within_each_band_a_higher_urgency_score_comes_first(
        browser, school, make_user, make_report, session):
    plain, _ = make_report(school, kinds=["verbal"], happened_before="no")
    physical, _ = make_report(school, kinds=["physical"], happened_before="yes")
    browser.login(make_user(school=school).email)
    assert queue_ids(browser.get("/staff/").get_data(as_text=True)) == [physical.id, plain.id]


def test_pages_follow_one_order_across_the_urgent_and_the_other_reports(
        browser, school, make_user, make_report, session):
    """Page 2 ends the urgent reports and starts the others, and page 3 carries on:
    urgent first (highest score, then newest), then the rest (highest score, then oldest)."""
    base = make_report(school)[0].created_at - timedelta(days=3)
    made = []
    for i in range(60):
        report, _ = make_report(school)
        row = session.get(Report, report.id)
        row.urgency = [150, 100, 100, 0, 0][i % 5]
        row.created_at = base + timedelta(minutes=(i * 37) % 61)  # times out of id order
        made.append(row)
    session.commit()
    first_report = session.scalar(select(Report).order_by(Report.id))
    made.append(first_report)
    urgent = sorted((r for r in made if r.urgency >= 100),
                    key=lambda r: (-r.urgency, -r.created_at.timestamp(), -r.id))
    others = sorted((r for r in made if r.urgency < 100),
                    key=lambda r: (-r.urgency, r.created_at.timestamp(), r.id))
    expected = [r.id for r in urgent + others]
    browser.login(make_user(school=school).email)
    pages = [queue_ids(browser.get(f"/staff/?page={n}").get_data(as_text=True))
             for n in (1, 2, 3)]
    assert 25 < len(urgent) < 50 < len(expected)
    assert pages[0] + pages[1] + pages[2] == expected
    # a page past the end shows the last page rather than nothing
    assert queue_ids(browser.get("/staff/?page=9").get_data(as_text=True)) == pages[2]


def test_a_closed_case_with_an_unread_reply_is_in_the_default_view(
        browser, school, make_user, make_report, session):
    closed, _ = make_report(school)
    replied, _ = make_report(school)
    for report in (closed, replied):
        session.get(Report, report.id).status = Status.CLOSED
    session.get(Report, replied.id).has_unread_reply = True
    session.commit()
    browser.login(make_user(school=school).email)
    html = browser.get("/staff/").get_data(as_text=True)
    assert queue_ids(html) == [replied.id]
    assert total(html) == 1
