"""The day counts behind the figures (portal.figures.rollup) stay exactly what a rebuild
from the reports gives, after every kind of change that moves a figure: a report arriving,
a decision, kinds, links and unlinks, an acknowledgement, closing, a check-back answer, a
pupil's year group or SEND status, a school's due days, and a report deleted by retention.
(Issue 15: "If that needs stored rollups, keep them correct under every change (a test
that rebuilds them and compares).")"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select, text

from portal import linking
from portal.casework import acknowledge, checkback
from portal.cli import cli
from portal.figures import rollup
from portal.models import (
    BETTER,
    FigureCount,
    FigurePupilDay,
    FigurePupilYear,
    FigureSealedDay,
    LinkRole,
    Pupil,
    Report,
    Role,
    SenStatus,
)
from portal.retention import Retention, purge
from portal.triage import operations as triage
from portal.vocabulary import Category, Status


def _sealed(rows) -> set:
    return {(school_id, day, figure, v, n) for school_id, day, counts in rows
            for figure, values in counts.items() for v, n in values.items()}


def _years(rows) -> set:
    """Year rows as (school, pupil, role, year, days named, days named twice)."""
    return {(school_id, pupil_id, role, year, rollup.from_bits(named),
             rollup.from_bits(twice)) for school_id, pupil_id, role, year, named, twice in rows}


YEAR_COLUMNS = (FigurePupilYear.school_id, FigurePupilYear.pupil_id, FigurePupilYear.role,
                FigurePupilYear.year, FigurePupilYear.named, FigurePupilYear.twice)


def kept(session) -> tuple[set, set, set, set]:
    counts = {(r.school_id, r.day, r.figure, r.value, r.count)
              for r in session.scalars(select(FigureCount))}
    pupils = {(r.school_id, r.day, r.pupil_id, r.role, r.count)
              for r in session.scalars(select(FigurePupilDay))}
    sealed = _sealed((r.school_id, r.day, r.counts)
                     for r in session.scalars(select(FigureSealedDay)))
    years = _years(session.execute(select(*YEAR_COLUMNS)))
    # the year rows are what the kept day rows give (models.figures.FigurePupilYear)
    derived: dict[tuple, list[int]] = {}
    for school_id, day, pupil_id, role, count in pupils:
        bits = derived.setdefault((school_id, pupil_id, role, day.year), [0, 0])
        bits[0] |= 1 << rollup.day_bit(day)
        if count >= 2:
            bits[1] |= 1 << rollup.day_bit(day)
    assert years == {(*key, named, twice) for key, (named, twice) in derived.items()}
    return counts, pupils, sealed, years


def rebuilt(session) -> tuple[set, set, set, set]:
    """What a rebuild from the stored reports gives (rolled back: nothing changes)."""
    session.commit()
    with session.bind.connect() as conn, conn.begin() as tx:
        rollup.rebuild(conn)
        counts = {tuple(r) for r in conn.execute(select(
            FigureCount.school_id, FigureCount.day, FigureCount.figure, FigureCount.value,
            FigureCount.count))}
        pupils = {tuple(r) for r in conn.execute(select(
            FigurePupilDay.school_id, FigurePupilDay.day, FigurePupilDay.pupil_id,
            FigurePupilDay.role, FigurePupilDay.count))}
        sealed = _sealed(conn.execute(select(
            FigureSealedDay.school_id, FigureSealedDay.day,
            FigureSealedDay.counts.label("counts"))))
        years = _years(conn.execute(select(*YEAR_COLUMNS)))
        tx.rollback()
    return counts, pupils, sealed, years


def assert_in_step(session) -> None:
    session.expire_all()
    assert kept(session) == rebuilt(session)


def value(session, school, figure, val) -> int:
    if figure in rollup.SEALED:
        return sum(n for s, _day, f, v, n in kept(session)[2]
                   if s == school.id and f == figure and v == val)
    return sum(r.count for r in session.scalars(select(FigureCount).where(
        FigureCount.school_id == school.id, FigureCount.figure == figure,
        FigureCount.value == val)))


def pupil(session, school, upn, year="Year 3", sen=SenStatus.NONE) -> Pupil:
    p = Pupil(school_id=school.id, upn=upn, first_name="Ada", last_name=upn,
              year_group=year, sen_status=sen, on_roll=True)
    session.add(p)
    session.commit()
    return p


def test_every_change_keeps_the_day_counts_equal_to_a_rebuild(
        app, session, school, make_school, make_report, make_user):
    dsl = make_user(Role.DSL, school)
    other = make_school("elm", "Elm Academy")
    first, _ = make_report(school, kinds=["verbal", "online"], places=["corridor", "online"],
                           feels_safe="no", anonymous="no", reporter_name="Sam")
    second, _ = make_report(school, source="parent")
    witness, _ = make_report(school, about="someone_else")
    make_report(other)
    assert value(session, school, rollup.TOTAL, "all") == 3
    assert value(session, school, rollup.SOURCE, "pupil_named") == 1
    assert value(session, school, rollup.SOURCE, "witness") == 1
    assert value(session, school, rollup.UNSAFE, "no") == 1
    assert value(session, school, rollup.PLACE, "corridor") == 1
    assert_in_step(session)

    ada = pupil(session, school, "A1", "Year 3", SenStatus.SEN_SUPPORT)
    ben = pupil(session, school, "B2", "Year 5")
    report = session.get(Report, first.id)
    linking.link(session, report, ada, LinkRole.TARGET, actor=dsl, school=school)
    linking.link(session, report, ben, LinkRole.ALLEGED_PERPETRATOR, actor=dsl, school=school)
    linking.link(session, session.get(Report, second.id), ada, LinkRole.TARGET, actor=dsl,
                 school=school)
    session.commit()
    assert value(session, school, rollup.SEND, "yes") == 2
    assert value(session, school, rollup.YEAR, "Year 3") == 2
    assert_in_step(session)
    # A copy of the database without the key does not say which linked child has SEND:
    # nothing stored in the clear names a year group or SEND, and the sealed rows are
    # ciphertext (SECURITY.md, encryption at rest).
    assert not session.scalars(select(FigureCount).where(
        FigureCount.figure.in_(rollup.SEALED))).all()
    raw = session.execute(text("SELECT counts FROM figure_sealed_days")).scalars().all()
    assert raw
    assert all(r.startswith("enc1:") and "Year" not in r and "yes" not in r for r in raw)

    acknowledge.acknowledge(session, report, actor=dsl)
    triage.record_decision(session, report, actor=dsl, category=Category.BULLYING_INCIDENT,
                           reason="Repeated name calling, confirmed by two staff.")
    triage.set_kinds(session, report, actor=dsl, kinds=["verbal", "prejudice:race"],
                     reason="Racist words were used.", school=school)
    session.commit()
    assert value(session, school, rollup.OUTCOME, Category.BULLYING_INCIDENT.value) == 1
    assert value(session, school, rollup.KIND, "prejudice:race") == 1
    assert value(session, school, rollup.ACK, "on_time") == 2  # linking acknowledges too
    assert_in_step(session)

    check = checkback.schedule(session, report, actor=dsl, due_on=date.today())
    session.commit()
    checkback.answer(session, report, check, feeling=BETTER, base_url="http://x")
    session.commit()
    assert value(session, school, rollup.BETTER, BETTER) == 1
    assert_in_step(session)

    row = next(r for r in report.pupil_links if r.pupil_id == ben.id)
    linking.unlink(session, row, actor=dsl, school=school, reason="Linked the wrong child.")
    ada.year_group = "Year 4"
    ada.sen_status = SenStatus.NONE
    session.commit()
    assert value(session, school, rollup.YEAR, "Year 4") == 2
    assert value(session, school, rollup.SEND, "yes") == 0
    assert_in_step(session)

    school.normal_due_days = 0
    school.urgent_due_days = 0
    session.commit()
    assert_in_step(session)

    triage.change_status(session, report, actor=dsl, status=Status.CLOSED,
                         reason="Actions complete and the pupil is happier.",
                         override="Closing in a test.", base_url="http://x")
    session.commit()
    assert_in_step(session)

    w = session.get(Report, witness.id)
    purge(session, [Retention(w.id, school.id, "unsubstantiated", date.today(), False)],
          app.config["PORTAL_EVIDENCE_DIR"])
    session.commit()
    assert value(session, school, rollup.SOURCE, "witness") == 0
    assert_in_step(session)


def test_a_report_counts_on_its_own_school_day_in_london_time(session, school, make_report):
    """A report sent at 00:30 on 1 July, British Summer Time, is 23:30 on 30 June in UTC:
    the school's day is 1 July."""
    report, _ = make_report(school)
    from datetime import UTC, datetime
    report.created_at = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)
    session.commit()
    days = {r.day for r in session.scalars(select(FigureCount).where(
        FigureCount.school_id == school.id))}
    assert days == {date(2026, 7, 1)}
    assert value(session, school, rollup.HOUR, "00") == 1
    assert_in_step(session)


def test_a_rolled_back_report_is_not_counted(session, school, make_report):
    make_report(school)
    report = Report(school_id=school.id, source="pupil", body="x", followup_code_hash="f" * 64)
    session.add(report)
    session.flush()
    session.rollback()
    assert value(session, school, rollup.TOTAL, "all") == 1
    assert_in_step(session)
    _ = timedelta


def test_portal_figures_rebuild_counts_the_days_again(app, session, school, make_report):
    make_report(school)
    make_report(school, source="parent")
    before = kept(session)
    session.execute(FigureCount.__table__.delete())
    session.commit()
    assert kept(session)[0] == set()
    result = app.test_cli_runner().invoke(cli, ["figures-rebuild", school.slug])
    assert result.exit_code == 0, result.output
    assert "Counted 1 school day(s)" in result.output
    session.expire_all()
    assert kept(session) == before
    unknown = app.test_cli_runner().invoke(cli, ["figures-rebuild", "nowhere"])
    assert unknown.exit_code == 1
    assert "Traceback" not in unknown.output


def test_reports_and_decisions_on_the_same_day_from_many_workers_all_count(
        app, session, school, make_report, make_user):
    """Eight workers at once (on PostgreSQL: eight connections, each day's update under its
    advisory lock; on SQLite: one writer at a time) send reports and decide older ones on
    the same school day; the kept counts are what a rebuild gives."""
    import secrets
    from concurrent.futures import ThreadPoolExecutor

    from portal.reporting import operations as reporting
    from tests.conftest import PUPIL

    dsl = make_user(Role.DSL, school)
    older = [make_report(school)[0].id for _ in range(8)]
    maker = app.extensions["portal.sessionmaker"]

    def send(_n: int) -> None:
        with maker() as db:
            here = db.get(type(school), school.id)
            reporting.submit_pupil_report(db, here, reporting.PupilSubmission(
                about="me", kinds=["verbal"], what_happened=PUPIL["what_happened"],
                places=["playground"], when="today", happened_before="no",
                who_involved="", feels_safe="yes", anonymous=True, reporter_name="",
                reporter_class="", adult="anyone"), token=secrets.token_urlsafe(24))
            db.commit()

    def decide(report_id: int) -> None:
        with maker() as db:
            report = db.get(Report, report_id)
            triage.record_decision(db, report, actor=db.get(type(dsl), dsl.id),
                                   category=Category.NOT_BULLYING,
                                   reason="A falling-out, handled in class.")
            db.commit()

    with ThreadPoolExecutor(8) as pool:
        jobs = [pool.submit(send, n) for n in range(24)]
        jobs += [pool.submit(decide, rid) for rid in older]
        for job in jobs:
            job.result()
    assert value(session, school, rollup.TOTAL, "all") == 32
    assert value(session, school, rollup.OUTCOME, Category.NOT_BULLYING.value) == 8
    assert_in_step(session)


def test_children_named_twice_in_any_period_match_a_count_of_their_days(
        app, session, school):
    """The year rows answer "named in two or more reports of the period" as counting the
    children's day rows would, for periods of every shape: inside one year, across the new
    year, one day, a period's first and last days, and days with two reports at once."""
    import random

    from portal.figures import Period, compute

    rng = random.Random(15)  # noqa: S311 - test data
    children = [pupil(session, school, f"R{i}") for i in range(40)]
    first = date(2024, 9, 1)
    days: dict[tuple[int, str, date], int] = {}
    for child in children:
        for _ in range(rng.randint(0, 9)):
            day = first + timedelta(days=rng.randint(0, 800))
            role = rng.choice((LinkRole.TARGET.value, LinkRole.ALLEGED_PERPETRATOR.value))
            days[(child.id, role, day)] = rng.choice((1, 1, 1, 2, 3))
    session.execute(FigurePupilDay.__table__.insert(), [
        {"school_id": school.id, "day": day, "pupil_id": p, "role": role, "count": n}
        for (p, role, day), n in days.items()])
    rollup._rebuild_years(session.connection(), school.id)
    session.commit()

    def brute(start: date, end: date, role: str) -> int:
        named: dict[int, int] = {}
        for (p, r, day), n in days.items():
            if r == role and start <= day <= end:
                named[p] = named.get(p, 0) + n
        return sum(1 for n in named.values() if n >= 2)

    periods = [(date(2025, 12, 1), date(2026, 1, 31)), (date(2025, 9, 1), date(2026, 8, 31)),
               (date(2026, 2, 28), date(2026, 2, 28)), (date(2025, 12, 31), date(2026, 1, 1))]
    for _ in range(40):
        start = first + timedelta(days=rng.randint(365, 800))
        periods.append((start, start + timedelta(days=rng.randint(0, 364))))
    for start, end in periods:
        period = Period(start, end, "")
        figures = compute(session, [school], period)[0]
        rows = {r.key: r.raw for r in figures.table("repeats").rows}
        last_year = period.last_year()
        for role in (LinkRole.TARGET.value, LinkRole.ALLEGED_PERPETRATOR.value):
            assert rows[role] == (brute(start, end, role),
                                  brute(last_year.start, last_year.end, role)), (start, end)
