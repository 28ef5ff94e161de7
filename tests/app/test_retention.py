"""Retention (SECURITY.md P12, IRMS toolkit): with the clock moved forward, the purge
deletes rows and files, keeps a stub, and keeps held and child-protection records."""

from __future__ import annotations

import io
from datetime import date, timedelta

from PIL import Image
from sqlalchemy import func, select, text

from portal import linking
from portal.cli import cli
from portal.models import (
    Event,
    Evidence,
    LinkRole,
    Message,
    Pupil,
    Report,
    ReportPupil,
    School,
)
from portal.retention import CHILD_PROTECTION, UNSUBSTANTIATED, purge, review
from portal.vocabulary import Category, Status
from tests.conftest import PUPIL, Browser, hidden_fields


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "PNG")
    return out.getvalue()


def report_with_file(app, browser) -> Report:
    url = "/s/oakfield/pupil"
    data = {**hidden_fields(browser.get(url).get_data(as_text=True), url), **PUPIL,
            "evidence": [(io.BytesIO(png()), "shot.png")]}
    assert browser.client.post(url, data=data, content_type="multipart/form-data") \
        .status_code == 200


def close(session, report_id, category=Category.NOT_BULLYING, days_ago=0):
    report = session.get(Report, report_id)
    report.category = category
    report.status = Status.CLOSED
    report.closed_at = report.created_at + timedelta(days=1) - timedelta(days=days_ago)
    session.commit()
    return report


def files(app):
    folder = app.config["PORTAL_EVIDENCE_DIR"]
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def test_an_unsubstantiated_report_goes_a_year_after_closing_leaving_a_stub(
        app, browser, school, session):
    report_with_file(app, browser)
    report = session.scalars(select(Report)).one()
    session.add(Message(report_id=report.id, sender="reporter", body="PURGE-MARKER reply"))
    session.commit()
    close(session, report.id)
    today = date.today()
    assert review(session, today) == []  # not yet
    due = review(session, today + timedelta(days=400))
    assert [(d.report_id, d.retention_class) for d in due] == [(report.id, UNSUBSTANTIATED)]
    assert files(app)
    assert purge(session, due, app.config["PORTAL_EVIDENCE_DIR"]) == 1
    session.commit()
    for model in (Report, Evidence, Message):
        assert session.scalar(select(func.count()).select_from(model)) == 0
    assert files(app) == []
    stub = session.scalars(select(Event)).one()
    assert (stub.action, stub.report_id, stub.payload["retention_class"]) == (
        "report.purged", None, UNSUBSTANTIATED)
    assert stub.payload["report_id"] == due[0].report_id
    assert "PURGE-MARKER" not in repr(session.execute(text("SELECT * FROM events")).all())


def test_the_school_sets_the_period(app, school, make_report, session):
    report, _ = make_report(school)
    close(session, report.id)
    session.get(School, school.id).retention_years_unsubstantiated = 3
    session.commit()
    assert review(session, date.today() + timedelta(days=400)) == []
    assert len(review(session, date.today() + timedelta(days=3 * 366))) == 1


def test_child_protection_records_keep_until_date_of_birth_plus_25_years(
        app, school, make_report, session):
    report, _ = make_report(school)
    pupil = Pupil(school_id=school.id, upn="CP1", first_name="Kai", last_name="Jones",
                  date_of_birth=date(2015, 3, 14))
    session.add(pupil)
    session.flush()
    session.add(ReportPupil(report_id=report.id, pupil_id=pupil.id, role="target"))
    session.commit()
    close(session, report.id, Category.BULLYING_INCIDENT)
    assert review(session, date(2040, 3, 13)) == []
    due = review(session, date(2040, 3, 15))
    assert [(d.retention_class, d.keep_until) for d in due] == [(CHILD_PROTECTION,
                                                                date(2040, 3, 14))]


def test_child_protection_without_a_date_of_birth_keeps_25_years(app, school, make_report,
                                                                 session):
    report, _ = make_report(school)
    close(session, report.id, Category.SAFEGUARDING)
    assert review(session, date.today() + timedelta(days=365 * 24)) == []
    assert len(review(session, date.today() + timedelta(days=365 * 25 + 7))) == 1


def test_a_legal_hold_keeps_the_record(app, browser, school, make_report, make_user, session):
    report, _ = make_report(school)
    close(session, report.id)
    staff = Browser(app.test_client())
    staff.login(make_user(school=school).email)
    page = f"/staff/cases/{report.id}"
    assert staff.submit(page, {"hold": "yes", "hold_reason": "Police investigation"},
                        action=f"{page}/hold").status_code == 302
    session.expire_all()
    assert review(session, date.today() + timedelta(days=4000)) == []


def test_open_reports_are_never_purged(app, school, make_report, session):
    make_report(school)
    assert review(session, date.today() + timedelta(days=40_000)) == []


def test_portal_purge_is_a_dry_run_unless_told_to_apply(app, school, make_report, session):
    report, _ = make_report(school)
    close(session, report.id)
    runner = app.test_cli_runner()
    later = (date.today() + timedelta(days=400)).isoformat()
    dry = runner.invoke(cli, ["purge", "--as-of", later])
    assert dry.exit_code == 0
    assert "1 report(s) are past" in dry.output
    assert session.scalar(select(func.count()).select_from(Report)) == 1
    applied = runner.invoke(cli, ["purge", "--apply", "--as-of", later])
    assert applied.exit_code == 0
    assert "1 report(s) deleted" in applied.output
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Report)) == 0


def test_sqlite_overwrites_deleted_content(app, session):
    if app.extensions["portal.engine"].dialect.name != "sqlite":
        return
    with app.extensions["portal.engine"].connect() as connection:
        assert connection.execute(text("PRAGMA secure_delete")).scalar() == 1


def test_a_purged_report_no_longer_counts_towards_a_childs_recurring_flag(
        app, school, make_report, make_user, session):
    kai = Pupil(school_id=school.id, upn="K0001", first_name="Kai", last_name="Jones")
    session.add(kai)
    session.commit()
    dsl = make_user(school=school)
    reports = [make_report(school)[0] for _ in range(3)]
    for report in reports:
        linking.link(session, session.get(Report, report.id), session.get(Pupil, kai.id),
                     LinkRole.TARGET, actor=dsl, school=school)
    session.commit()
    assert session.get(Pupil, kai.id).recurring is True
    close(session, reports[0].id)  # not bullying, closed: six years then gone

    removed = purge(session, review(session, date.today() + timedelta(days=365 * 7)),
                    app.config["PORTAL_EVIDENCE_DIR"])
    session.commit()

    assert removed == 1
    session.expire_all()
    assert session.get(Pupil, kai.id).recurring is False
    assert "recurring" not in session.get(Report, reports[1].id).reason_codes
