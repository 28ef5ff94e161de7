"""The audit trail for the DSL team (issue 16): who viewed, changed, exported or downloaded a
case or a child's record, filtered and as a CSV, never anyone's own words; reading it is
recorded; another school's trail is never in it."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from portal.models import Event, LinkRole, Pupil, Report, ReportPupil, Role
from portal.triage import operations as ops
from tests.conftest import Browser

SECRET = "The note says Harry hurt her"


@pytest.fixture
def world(app, session, school, make_school, make_report, make_user, dsl):
    deputy = make_user(Role.DEPUTY_DSL, school)
    first, _ = make_report(school)
    second, _ = make_report(school)
    aisha = Pupil(school_id=school.id, upn="A1", first_name="Aisha", last_name="Khan")
    ben = Pupil(school_id=school.id, upn="B1", first_name="Ben", last_name="Fox")
    session.add_all([aisha, ben])
    session.flush()
    session.add(ReportPupil(report_id=first.id, pupil_id=aisha.id, role=LinkRole.TARGET,
                            linked_by_id=dsl.id))
    report = session.get(Report, first.id)
    ops.record_view(session, report, actor=dsl)
    ops.add_note(session, report, actor=dsl, note=SECRET)
    ops.record_view(session, session.get(Report, second.id), actor=deputy)
    ops.record_pupil_view(session, aisha, actor=deputy)
    ops.record_pupil_view(session, ben, actor=dsl)
    elm = make_school("elm", "Elm Park")
    theirs, _ = make_report(elm)
    ops.record_view(session, session.get(Report, theirs.id), actor=make_user(Role.DSL, elm))
    session.commit()
    return {"first": first.id, "second": second.id, "theirs": theirs.id, "aisha": aisha,
            "ben": ben, "deputy": deputy}


def rows(browser, query: str) -> list[dict[str, str]]:
    response = browser.get(f"/staff/audit.csv?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))


def test_the_trail_of_one_case_says_who_did_what_and_never_their_words(browser, world, dsl):
    page = browser.get(f"/staff/audit?case={world['first']}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert SECRET not in html
    found = rows(browser, f"case={world['first']}")
    assert {r["case"] for r in found} == {str(world["first"])}
    assert ("Viewed", dsl.name) in {(r["kind"], r["who"]) for r in found}
    assert "Staff note" in {r["what"] for r in found}
    assert all(SECRET not in r["what"] for r in found)


def test_filters_by_kind_and_by_member_of_staff(browser, world, dsl):
    viewed = rows(browser, "kind=viewed")
    assert {r["kind"] for r in viewed} == {"Viewed"}
    by_deputy = rows(browser, f"who={world['deputy'].id}")
    assert {r["who"] for r in by_deputy} == {world["deputy"].name}
    assert {r["case"] for r in by_deputy} == {str(world["second"]), ""}  # and Aisha's page


def test_a_childs_trail_has_their_cases_and_their_own_page_not_another_childs(browser,
                                                                              world):
    found = rows(browser, f"pupil={world['aisha'].id}")
    assert "Aisha Khan" in {r["child"] for r in found}
    assert "Ben Fox" not in {r["child"] for r in found}
    assert {r["case"] for r in found} <= {str(world["first"]), ""}
    assert str(world["second"]) not in {r["case"] for r in found}


def test_another_schools_trail_is_never_shown(browser, world):
    assert str(world["theirs"]) not in {r["case"] for r in rows(browser, "")}
    assert rows(browser, f"case={world['theirs']}") == []


def test_reading_the_trail_is_recorded(browser, world, session, dsl):
    browser.get(f"/staff/audit?kind=changed&case={world['first']}")
    rows(browser, "kind=viewed")
    read = list(session.scalars(select(Event).where(Event.action.in_(
        ["audit.viewed", "audit.exported"])).order_by(Event.id)))
    assert [(e.action, e.actor_id, e.payload["kind"]) for e in read] == [
        ("audit.viewed", dsl.id, "changed"), ("audit.exported", dsl.id, "viewed")]
    assert read[0].payload["case"] == world["first"]


@pytest.mark.parametrize(("query", "message"), [
    ("case=abc", "Give a report number as a number"),
    ("from=2026-13-01", "as a date"),
    ("from=2026-12-05&to=2026-12-01", "is after"),
    ("kind=deleted", "Choose what kind"),
])
def test_bad_filters_are_refused_in_words_keeping_what_was_typed(browser, world, session,
                                                                 query, message):
    response = browser.get(f"/staff/audit?{query}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html
    if not query.startswith("kind="):  # a choice list shows only its own choices
        assert f'value="{query.split("&")[0].split("=")[1]}"' in html
    assert browser.get(f"/staff/audit.csv?{query}").status_code == 400
    assert session.scalars(select(Event).where(Event.action.like("audit.%"))).all() == []


@pytest.mark.parametrize("role", [Role.STAFF, Role.HEAD, Role.ADMIN])
def test_only_the_dsl_team_reads_the_trail(app, world, make_user, school, role):
    other = Browser(app.test_client())
    other.login(make_user(role, school).email)
    for url in ("/staff/audit", "/staff/audit.csv"):
        response = other.client.get(url)
        assert response.status_code in (302, 403), (role, url)
        assert response.mimetype != "text/csv"


def test_the_queue_links_to_the_trail_and_the_records_of_children_who_moved(browser, dsl):
    html = browser.get("/staff/").get_data(as_text=True)
    assert 'href="/staff/audit"' in html
    assert 'href="/staff/transfers"' in html
