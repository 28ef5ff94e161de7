"""Staff see only their own school (SECURITY.md P8): another school's reports and trusted adults
answer 404 to every route, and never show up in the queue."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal.models import Event, Pupil, Report, ReportPupil, Role, TrustedAdult
from portal.vocabulary import Category, Status
from tests.conftest import Browser, hidden_fields

# Valid data for every form on the case page, so only the school can be the reason for a 404.
CASE_FORMS = {
    "category": "bullying_incident", "reason": "Seen by two staff on the playground.",
    "status": "in_review", "status_reason": "Talking to the pupils involved today.",
    "note": "Phoned the parent at 3pm.", "message": "Thank you for telling us.",
    "role": "target", "unlink_reason": "Linked to the wrong pupil.", "state": "done",
    "kinds": ["verbal"], "kinds_reason": "Name calling seen by staff.",
}


@pytest.fixture
def two_schools(make_school: Any, make_user: Any, make_report: Any,
                session: Any) -> dict[str, Any]:
    """Oakfield and Elmwood, each with a DSL, a pupil and reports (two and three)."""
    oakfield, elmwood = make_school("oakfield"), make_school("elmwood", "Elmwood Academy")
    pupils = [Pupil(school_id=school.id, upn=f"A{school.id:011d}", first_name="Robin",
                    last_name=school.slug.title()) for school in (oakfield, elmwood)]
    session.add_all(pupils)
    session.commit()
    return {
        "oak_pupil": pupils[0], "elm_pupil": pupils[1],
        "oakfield": oakfield, "elmwood": elmwood,
        "oak_dsl": make_user(Role.DSL, oakfield), "elm_dsl": make_user(Role.DSL, elmwood),
        "oak_reports": [make_report(oakfield)[0],
                        make_report(oakfield, "parent")[0]],
        "elm_reports": [make_report(elmwood, what_happened="Elmwood words only.")[0],
                        make_report(elmwood, "parent")[0],
                        make_report(elmwood, feels_safe="no")[0]],
    }


def signed_in(app: Flask, user: Any) -> Browser:
    browser = Browser(app.test_client())
    assert browser.login(user.email).status_code == 302
    return browser


def csrf_token(browser: Browser) -> str:
    """A valid CSRF token of this browser's own session (from its own queue page)."""
    return hidden_fields(browser.get("/staff/").get_data(as_text=True))["csrf_token"]


def case_routes(app: Flask) -> list[tuple[str, Any]]:
    """(method, rule) for every route that takes a report id, read from app.url_map."""
    routes = []
    for rule in app.url_map.iter_rules():
        if "report_id" in rule.arguments:
            routes.extend((m, rule) for m in sorted(rule.methods - {"HEAD", "OPTIONS"}))
    return routes


def snapshot(session: Any, report_id: int) -> tuple[Any, ...]:
    session.expire_all()
    report = session.get(Report, report_id)
    events = session.scalar(select(func.count()).select_from(Event)
                            .where(Event.report_id == report_id))
    return report.status, report.category, report.acknowledged_at, events


def test_every_case_route_answers_404_for_another_schools_report(app, two_schools, session):
    """GET and every POST under /staff/cases/<id> with an Elmwood id: 404 for Oakfield's DSL."""
    routes = case_routes(app)
    rules = {rule.rule for _, rule in routes}
    for suffix in ("", "/decision", "/status", "/notes"):
        assert f"/staff/cases/<int:report_id>{suffix}" in rules, suffix
    oak = signed_in(app, two_schools["oak_dsl"])
    token = csrf_token(oak)
    elm_pupil = str(two_schools["elm_pupil"].id)
    for report in two_schools["elm_reports"]:
        before = snapshot(session, report.id)
        for method, rule in routes:
            # Other ids in the path (steps, links) get 1: the report alone must decide the 404.
            url = rule.build({arg: report.id if arg == "report_id" else 1
                              for arg in rule.arguments}, append_unknown=False)[1]
            data = ({**CASE_FORMS, "pupil_id": elm_pupil, "csrf_token": token}
                    if method != "GET" else None)
            response = oak.client.open(url, method=method, data=data)
            assert response.status_code == 404, f"{method} {url}: {response.status_code}"
            assert "Elmwood words only." not in response.get_data(as_text=True)
        assert snapshot(session, report.id) == before, "Elmwood's report was changed"


def test_the_same_requests_work_on_the_dsls_own_school(app, two_schools, session):
    """Control: the very same requests succeed for Oakfield's own report (so 404 means scope)."""
    oak = signed_in(app, two_schools["oak_dsl"])
    token = csrf_token(oak)
    report = two_schools["oak_reports"][0]
    assert oak.get(f"/staff/cases/{report.id}").status_code == 200
    for action in ("status", "decision", "notes"):
        response = oak.client.post(f"/staff/cases/{report.id}/{action}",
                                   data={**CASE_FORMS, "csrf_token": token})
        assert response.status_code == 302, action
    session.expire_all()
    assert session.get(Report, report.id).category == Category.BULLYING_INCIDENT
    assert session.get(Report, report.id).status == Status.IN_REVIEW


def test_elmwood_can_read_its_own_report(app, two_schools):
    """Control: Elmwood's DSL does see Elmwood's report."""
    elm = signed_in(app, two_schools["elm_dsl"])
    response = elm.get(f"/staff/cases/{two_schools['elm_reports'][0].id}")
    assert response.status_code == 200
    assert "Elmwood words only." in response.get_data(as_text=True)


QUEUE_FILTERS = ["", "?status=all", "?status=new", "?source=pupil", "?source=parent",
                 "?kind=verbal", "?page=2"]


def test_the_queue_counts_and_lists_only_the_own_schools_reports(app, two_schools):
    """Each school's queue, with any filter, never counts or links the other school's reports."""
    for dsl, own, other in (("oak_dsl", "oak_reports", "elm_reports"),
                            ("elm_dsl", "elm_reports", "oak_reports")):
        browser = signed_in(app, two_schools[dsl])
        for query in QUEUE_FILTERS:
            html = browser.get(f"/staff/{query}").get_data(as_text=True)
            total = re.search(r'data-total="(\d+)"', html)
            assert total, f"no data-total on /staff/{query}"
            assert int(total.group(1)) <= len(two_schools[own]), (dsl, query)
            if query in ("", "?status=all"):
                assert int(total.group(1)) == len(two_schools[own]), (dsl, query)
            for report in two_schools[other]:
                assert f'/staff/cases/{report.id}"' not in html, (dsl, query, report.id)


def test_toggling_another_schools_trusted_adult_answers_404(app, two_schools, session):
    """Oakfield's DSL cannot hide an adult from Elmwood's pupil form."""
    elm_adult = two_schools["elmwood"].trusted_adults[0]
    oak = signed_in(app, two_schools["oak_dsl"])
    response = oak.client.post(f"/staff/school/adults/{elm_adult.id}/toggle",
                               data={"csrf_token": csrf_token(oak)})
    assert response.status_code == 404
    session.expire_all()
    assert session.get(TrustedAdult, elm_adult.id).active is True
    # Control: the same request on Oakfield's own adult works.
    own = two_schools["oakfield"].trusted_adults[0]
    assert oak.client.post(f"/staff/school/adults/{own.id}/toggle",
                           data={"csrf_token": csrf_token(oak)}).status_code == 302
    session.expire_all()
    assert session.get(TrustedAdult, own.id).active is False


def test_another_schools_pupil_answers_404(app, two_schools):
    """Oakfield's DSL cannot open the history of an Elmwood pupil; their own pupil opens."""
    oak = signed_in(app, two_schools["oak_dsl"])
    response = oak.get(f"/staff/pupils/{two_schools['elm_pupil'].id}")
    assert response.status_code == 404
    assert "Elmwood" not in response.get_data(as_text=True)
    assert oak.get(f"/staff/pupils/{two_schools['oak_pupil'].id}").status_code == 200


def test_another_schools_pupil_cannot_be_linked_to_a_report(app, two_schools, session):
    """Linking an Elmwood pupil to an Oakfield report is refused and stores no link."""
    oak = signed_in(app, two_schools["oak_dsl"])
    report = two_schools["oak_reports"][0]
    response = oak.client.post(f"/staff/cases/{report.id}/pupils", data={
        "pupil_id": str(two_schools["elm_pupil"].id), "role": "target",
        "csrf_token": csrf_token(oak)})
    assert response.status_code in (400, 404)
    assert session.scalar(select(func.count()).select_from(ReportPupil)) == 0
    # Control: their own pupil links.
    own = oak.client.post(f"/staff/cases/{report.id}/pupils", data={
        "pupil_id": str(two_schools["oak_pupil"].id), "role": "target",
        "csrf_token": csrf_token(oak)})
    assert own.status_code == 302
    assert session.scalar(select(func.count()).select_from(ReportPupil)) == 1
