"""`portal seed SLUG --reports N`: synthetic reports a DSL's queue can work with."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.cli import cli
from portal.models import (
    ChecklistItem,
    Event,
    Pupil,
    Report,
    ReportKind,
    ReportPupil,
    SenStatus,
)
from portal.priority import URGENT
from portal.vocabulary import Category, Source, Status


def total(html: str) -> int:
    match = re.search(r'data-total="(\d+)"', html)
    assert match, "no data-total on the queue"
    return int(match.group(1))


@pytest.fixture
def seed(app):
    runner = app.test_cli_runner()

    def invoke(*args: str):
        return runner.invoke(cli, ["seed", *args])

    return invoke


def test_seeding_makes_realistic_reports_with_a_roster_and_links(seed, school, make_user, session):
    dsl = make_user(school=school)

    result = seed(school.slug, "--reports", "500", "--pupils", "120", "--seed", "7")

    assert result.exit_code == 0, result.output
    assert "Added 500 reports" in result.output
    reports = session.scalars(select(Report).where(Report.school_id == school.id)).all()
    assert len(reports) == 500
    # every source, status and decision appears; some urgent; dates over about two years
    assert {r.source for r in reports} == set(Source)
    assert {r.status for r in reports} == set(Status)
    assert {r.category for r in reports} == set(Category)
    assert any(r.urgency >= URGENT and r.urgency_reasons for r in reports)
    newest, oldest = max(r.created_at for r in reports), min(r.created_at for r in reports)
    assert newest - oldest > timedelta(days=365)
    assert all(r.created_at.weekday() < 5 for r in reports)
    closed = [r for r in reports if r.status == Status.CLOSED]
    assert all(r.closed_at is not None for r in closed)
    assert sum(r.category != Category.ALLEGATION for r in closed) > len(closed) / 2
    assert any(r.assigned_to_id == dsl.id for r in reports)
    assert len({r.followup_code_hash for r in reports}) == 500
    # a roster was made, pupils are linked, and a few of them to many reports
    assert session.scalar(select(func.count()).select_from(Pupil)
                          .where(Pupil.school_id == school.id)) == 120
    roster = session.scalars(select(Pupil).where(Pupil.school_id == school.id)).all()
    assert sum(p.sen_status != SenStatus.NONE for p in roster) > 0
    per_pupil = session.execute(
        select(ReportPupil.pupil_id, func.count()).group_by(ReportPupil.pupil_id)
        .order_by(func.count().desc())).all()
    assert per_pupil
    assert per_pupil[0][1] >= 5
    assert session.scalar(select(func.count()).select_from(ReportKind)) >= 500
    # each report has its arrival in the chronology; closed ones their steps and decision
    received = session.scalar(select(func.count()).select_from(Event).where(
        Event.action == "report.received", Event.school_id == school.id))
    assert received == 500
    assert session.scalar(select(func.count()).select_from(ChecklistItem)) >= 8 * len(closed)
    # written in bulk, past the ORM: each payload is still what its action's schema says
    from portal.events import check_payload

    for event in session.scalars(select(Event)):
        assert check_payload(event.action, event.payload) == event.payload


def test_the_queue_case_and_pupil_pages_work_on_seeded_reports(
        seed, browser, school, make_user, session):
    make_user(school=school, email="dsl@seed.test")
    assert seed(school.slug, "--reports", "500").exit_code == 0
    browser.login("dsl@seed.test")

    everything = browser.get("/staff/?status=all")
    assert everything.status_code == 200
    assert total(everything.get_data(as_text=True)) == 500
    open_count = session.scalar(select(func.count()).select_from(Report).where(
        Report.school_id == school.id, Report.status != Status.CLOSED))
    html = browser.get("/staff/").get_data(as_text=True)
    assert total(html) == open_count
    assert len(re.findall(r'href="/staff/cases/(\d+)"', html)) == min(25, open_count)
    online = browser.get("/staff/?status=all&kind=online").get_data(as_text=True)
    assert 0 < total(online) < 500

    link = session.scalars(select(ReportPupil).limit(1)).one()
    case = browser.get(f"/staff/cases/{link.report_id}")
    assert case.status_code == 200
    pupil = browser.get(f"/staff/pupils/{link.pupil_id}")
    assert pupil.status_code == 200
    assert f"/staff/cases/{link.report_id}" in pupil.get_data(as_text=True)


def test_an_existing_roster_is_used_and_seeding_adds_to_what_is_there(
        seed, school, make_report, session):
    make_report(school)
    session.add(Pupil(school_id=school.id, upn="A1", first_name="Aisha", last_name="Khan"))
    session.commit()

    assert seed(school.slug, "--reports", "50").exit_code == 0
    assert seed(school.slug, "--reports", "50").exit_code == 0

    assert session.scalar(select(func.count()).select_from(Pupil)) == 1
    assert session.scalar(select(func.count()).select_from(Report)) == 101
    assert session.scalar(select(func.count(func.distinct(ReportPupil.pupil_id)))) == 1


@pytest.mark.parametrize("args", [["nowhere", "--reports", "10"],
                                  ["oakfield", "--reports", "0"],
                                  ["oakfield"]])
def test_seeding_refuses_a_missing_school_or_a_bad_number(seed, school, session, args):
    result = seed(*args)

    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert session.scalar(select(func.count()).select_from(Report)) == 0
    if args[0] == "nowhere":
        assert "There is no school with slug 'nowhere'" in result.output
        assert "portal create-school nowhere" in result.output
