"""The day counts behind the figures (``figure_counts``, ``figure_pupil_days``), kept
correct in the same transaction as every change that moves them. No Flask here.

What a report counts under is worked out in one place, ``_tally``, from what is stored: the
report row, its kinds, the pupils linked to it (their year group and SEND status, which are
encrypted, so SQL cannot count them) and its latest "is it better now?" answer. The counts
are never written by hand anywhere else:

- A new report adds its tally to its day's counts (an upsert: two reports arriving at once
  both count). This is the pupils' and parents' path, so it costs three small statements.
- Any other change to something a figure reads (a decision, a link, an acknowledgement, a
  check-back answer, a pupil's year group or SEND status, a school's due days, a deletion)
  marks the report's day, and the day is counted again from its reports before commit.
- ``rebuild`` counts everything again (``portal figures-rebuild``, migration 0020, the bulk
  seed, which writes with Core statements the session never sees). The tests compare the
  kept counts with a rebuild after every kind of change.

Two servers changing the same day take turns: on PostgreSQL each day's update holds a
transaction-scoped advisory lock on (school, day); SQLite lets one writer in at a time.
"""

from __future__ import annotations

import weakref
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Table, and_, delete, event, func, inspect, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..models import (
    CheckBack,
    FigureCount,
    FigurePupilDay,
    FigurePupilYear,
    FigureSealedDay,
    Pupil,
    Report,
    ReportKind,
    ReportPupil,
    School,
    SenStatus,
)
from ..overdue import LOCAL, due_by
from ..priority import URGENT
from ..vocabulary import Category, Source

# The figures a report counts under (``figure_counts.figure``) and what their values mean.
TOTAL, SOURCE, KIND, PLACE, HOUR = "total", "source", "kind", "place", "hour"
YEAR, OUTCOME, ACK, CLOSE, SEND, UNSAFE, BETTER = (
    "year", "outcome", "ack", "close", "send", "unsafe", "better")
# Closing: within a school week, within four weeks, longer (calendar days from arrival).
CLOSE_BANDS = ((7, "week"), (28, "four_weeks"))
NO_YEAR = "not_recorded"
# Report fields that move a figure: a change to any other column (a message, a note, an
# assignment) leaves the counts alone.
COUNTED = frozenset({"school_id", "created_at", "source", "anonymous", "about", "places",
                     "feels_safe", "category", "status", "acknowledged_at", "closed_at",
                     "urgency"})
PUPIL_COUNTED = frozenset({"year_group", "sen_status", "school_id"})
SCHOOL_COUNTED = frozenset({"urgent_due_days", "normal_due_days", "day_ends_hour"})
LOCK_SPACE = 0x46 << 56  # "F": keeps these advisory locks apart from any other use

TABLES = (cast(Table, FigureCount.__table__), cast(Table, FigurePupilDay.__table__),
          cast(Table, FigureSealedDay.__table__))
# Counts read from encrypted roster columns: kept encrypted (models.figures.FigureSealedDay).
SEALED = frozenset({YEAR, SEND})
Key = tuple[date, str, str]
PupilKey = tuple[date, int, str]
YearKey = tuple[int, str, int]  # (pupil, role, calendar year)


def day_of(moment: datetime) -> date:
    """The school's calendar day (Europe/London) a moment falls on."""
    return moment.astimezone(LOCAL).date()


def day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """The UTC moments from the start of ``first`` to the start of the day after ``last``."""
    start = datetime.combine(first, time(0), tzinfo=LOCAL).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=LOCAL).astimezone(UTC)
    return start, end


def source_value(source: str, anonymous: bool, about: str | None) -> str:
    """Who told: a pupil about themselves (anonymous or named), a pupil who saw it happen
    to someone else (a witness), a parent or carer, or a member of staff."""
    if source == Source.PUPIL:
        if about == "someone_else":
            return "witness"
        return "pupil_anonymous" if anonymous else "pupil_named"
    return str(source)


def close_value(created: datetime, closed: datetime | None) -> str:
    if closed is None:
        return "open"
    days = (closed - created).total_seconds() / 86400
    for limit, band in CLOSE_BANDS:
        if days <= limit:
            return band
    return "longer"


@dataclass
class Tally:
    counts: Counter[Key] = field(default_factory=Counter)
    pupils: Counter[PupilKey] = field(default_factory=Counter)


def _tally(conn: Connection, where: Any, *, links: bool = True) -> dict[int, Tally]:
    """What the reports matching ``where`` count under, per school and day."""
    reports = conn.execute(
        select(Report.id, Report.school_id, Report.created_at, Report.source,
               Report.anonymous, Report.about, Report.places, Report.feels_safe,
               Report.category, Report.acknowledged_at, Report.closed_at, Report.urgency)
        .where(where)).all()
    if not reports:
        return {}
    ids = select(Report.id).where(where).scalar_subquery()
    kinds: dict[int, list[str]] = {}
    for report_id, kind in conn.execute(
            select(ReportKind.report_id, ReportKind.kind).where(ReportKind.report_id.in_(ids))):
        kinds.setdefault(report_id, []).append(kind)
    linked: dict[int, list[tuple[int, str, str, SenStatus | None]]] = {}
    answers: dict[int, str] = {}
    if links:
        for report_id, pupil_id, role, year, sen in conn.execute(
                select(ReportPupil.report_id, ReportPupil.pupil_id, ReportPupil.role,
                       Pupil.year_group.label("year"), Pupil.sen_status.label("sen"))
                .join(Pupil, Pupil.id == ReportPupil.pupil_id)
                .where(ReportPupil.report_id.in_(ids), ReportPupil.unlinked_at.is_(None))):
            if pupil_id is not None:
                linked.setdefault(report_id, []).append((pupil_id, str(role), year or "", sen))
        answers = {report_id: str(answer) for report_id, answer in conn.execute(
            select(CheckBack.report_id, CheckBack.answer)
            .where(CheckBack.report_id.in_(ids), CheckBack.latest.is_(True),
                   CheckBack.answer.is_not(None)))}
    # The school's due days matter only to reports already acknowledged.
    acknowledged = {r.school_id for r in reports if r.acknowledged_at is not None}
    schools = {row.id: row for row in conn.execute(
        select(School.id, School.urgent_due_days, School.normal_due_days, School.day_ends_hour)
        .where(School.id.in_(acknowledged)))} if acknowledged else {}

    tallies: dict[int, Tally] = {}
    for r in reports:
        tally = tallies.setdefault(r.school_id, Tally())
        day = day_of(r.created_at)
        keys: set[tuple[str, str]] = {
            (TOTAL, "all"),
            (SOURCE, source_value(r.source, r.anonymous, r.about)),
            (HOUR, f"{r.created_at.astimezone(LOCAL).hour:02d}"),
            (OUTCOME, "undecided" if r.category == Category.ALLEGATION else str(r.category)),
            (CLOSE, close_value(r.created_at, r.closed_at)),
            (UNSAFE, r.feels_safe or "not_asked"),
        }
        keys.update((KIND, kind) for kind in kinds.get(r.id, ()))
        keys.update((PLACE, str(place)) for place in r.places or ())
        if r.acknowledged_at is None:
            keys.add((ACK, "waiting"))
        else:
            school = schools[r.school_id]
            due = due_by(r.created_at, urgent=r.urgency >= URGENT,
                         urgent_days=school.urgent_due_days,
                         normal_days=school.normal_due_days,
                         day_ends_hour=school.day_ends_hour)
            keys.add((ACK, "on_time" if r.acknowledged_at <= due else "late"))
        pupils = linked.get(r.id, [])
        # A report with no child linked counts under neither: its SEND row ("no pupil
        # linked") is the day's total less the other two (portal.figures.compute).
        if pupils:
            send = any(sen not in (None, SenStatus.NONE) for *_, sen in pupils)
            keys.add((SEND, "yes" if send else "no"))
            keys.update((YEAR, year or NO_YEAR) for _, _, year, _ in pupils)
        if r.id in answers:
            keys.add((BETTER, answers[r.id]))
        for figure, value in keys:
            tally.counts[(day, figure, value)] += 1
        for pupil_id, link_role in {(p, role) for p, role, _, _ in pupils}:
            tally.pupils[(day, pupil_id, link_role)] += 1
    return tallies


def _lock(conn: Connection, school_id: int, days: Iterable[date]) -> None:
    """Take the (school, day) locks in one order, so two servers never wait on each other
    in a circle; SQLite needs none (one writer at a time)."""
    if conn.dialect.name != "postgresql":
        return
    for day in sorted(set(days)):
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                     {"key": LOCK_SPACE | (school_id << 24) | day.toordinal()})


def _upsert(conn: Connection, table: Any, keys: list[str], rows: list[dict[str, Any]]) -> None:
    """Add ``count`` to the rows (or create them): one statement, sent for every row."""
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table)
    conn.execute(stmt.on_conflict_do_update(
        index_elements=keys, set_={"count": table.c.count + stmt.excluded.count}), rows)


def _seal(conn: Connection, school_id: int, tally: Tally) -> None:
    """Add the tally's year-group and SEND counts to their days' sealed rows (under the
    day's lock: read, add, write back)."""
    added: dict[date, dict[str, Counter[str]]] = {}
    for (day, figure, value), n in tally.counts.items():
        if figure in SEALED:
            added.setdefault(day, {}).setdefault(figure, Counter())[value] += n
    if not added:
        return
    sealed = cast(Table, FigureSealedDay.__table__)
    days = sorted(added)
    for day, counts in conn.execute(
            select(FigureSealedDay.day, FigureSealedDay.counts.label("counts"))
            .where(FigureSealedDay.school_id == school_id, FigureSealedDay.day.in_(days))):
        for figure, values in counts.items():
            added[day].setdefault(figure, Counter()).update(values)
    conn.execute(delete(sealed).where(sealed.c.school_id == school_id,
                                      sealed.c.day.in_(days)))
    conn.execute(sealed.insert(), [
        {"school_id": school_id, "day": day,
         "counts": {figure: dict(sorted(values.items()))
                    for figure, values in sorted(added[day].items())}} for day in days])


def _write(conn: Connection, school_id: int, tally: Tally) -> None:
    _upsert(conn, FigureCount.__table__, ["school_id", "day", "figure", "value"], [
        {"school_id": school_id, "day": day, "figure": figure, "value": value, "count": n}
        for (day, figure, value), n in sorted(tally.counts.items()) if figure not in SEALED])
    _seal(conn, school_id, tally)
    _upsert(conn, FigurePupilDay.__table__, ["school_id", "day", "pupil_id", "role"], [
        {"school_id": school_id, "day": day, "pupil_id": pupil, "role": role, "count": n}
        for (day, pupil, role), n in sorted(tally.pupils.items())])


# --- each child's year as bits (models.figures.FigurePupilYear) ---------------------------

def day_bit(day: date) -> int:
    """The bit of ``day`` in its year's bits."""
    return day.toordinal() - date(day.year, 1, 1).toordinal()


def to_bits(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "little")


def from_bits(value: bytes | None) -> int:
    return int.from_bytes(value or b"", "little")


def _year_rows(school_id: int, days: Iterable[tuple[int, str, date, int]]
               ) -> list[dict[str, Any]]:
    """The year rows of (pupil, role, day, count) rows."""
    bits: dict[YearKey, list[int]] = {}
    for pupil_id, role, day, count in days:
        named_twice = bits.setdefault((pupil_id, role, day.year), [0, 0])
        bit = 1 << day_bit(day)
        named_twice[0] |= bit
        if count >= 2:
            named_twice[1] |= bit
    return [{"school_id": school_id, "pupil_id": pupil_id, "role": role, "year": year,
             "named": to_bits(named), "twice": to_bits(twice)}
            for (pupil_id, role, year), (named, twice) in sorted(bits.items())]


def _pupils_on(conn: Connection, school_id: int, first: date, last: date) -> set[YearKey]:
    pd = FigurePupilDay
    return {(pupil_id, role, day.year) for pupil_id, role, day in conn.execute(
        select(pd.pupil_id, pd.role, pd.day).where(pd.school_id == school_id,
                                                   pd.day.between(first, last)))}


def _refresh_years(conn: Connection, school_id: int, keys: Collection[YearKey]) -> None:
    """Work out again, from ``figure_pupil_days``, the year rows of these children and
    years (every part they had in them)."""
    if not keys:
        return
    pupils = sorted({pupil_id for pupil_id, _, _ in keys})
    years = sorted({year for _, _, year in keys})
    py, pd = FigurePupilYear, FigurePupilDay
    conn.execute(delete(py).where(py.school_id == school_id, py.pupil_id.in_(pupils),
                                  py.year.in_(years)))
    rows = _year_rows(school_id, (
        (pupil_id, role, day, count) for pupil_id, role, day, count in conn.execute(
            select(pd.pupil_id, pd.role, pd.day, pd.count).where(
                pd.school_id == school_id, pd.pupil_id.in_(pupils),
                pd.day.between(date(years[0], 1, 1), date(years[-1], 12, 31))))
        if day.year in years))
    if rows:
        conn.execute(cast(Table, py.__table__).insert(), rows)


def _rebuild_years(conn: Connection, school_id: int) -> None:
    """Every year row of the school again, from its ``figure_pupil_days``."""
    py, pd = FigurePupilYear, FigurePupilDay
    conn.execute(delete(py).where(py.school_id == school_id))
    rows = _year_rows(school_id, conn.execute(
        select(pd.pupil_id, pd.role, pd.day, pd.count).where(pd.school_id == school_id)))
    for start in range(0, len(rows), 5_000):
        conn.execute(cast(Table, py.__table__).insert(), rows[start:start + 5_000])


def rebuild_years(conn: Connection) -> None:
    """Every school's year rows (migration 0022: from the day counts already kept)."""
    for school_id in conn.scalars(select(School.id).order_by(School.id)):
        _rebuild_years(conn, school_id)


def _ranges(days: Iterable[date]) -> list[tuple[date, date]]:
    """Runs of consecutive days, so a rebuild of a term is a few range scans."""
    runs: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def recount_days(conn: Connection, school_id: int, days: Collection[date]) -> None:
    """Count these days of the school again from their reports."""
    if not days:
        return
    _lock(conn, school_id, days)
    children: set[YearKey] = set()  # the children of these days, before and after
    for first, last in _ranges(days):
        children |= _pupils_on(conn, school_id, first, last)
        for table in TABLES:
            conn.execute(delete(table).where(table.c.school_id == school_id,
                                             table.c.day.between(first, last)))
        start, end = day_bounds(first, last)
        tallies = _tally(conn, and_(Report.school_id == school_id,
                                    Report.created_at >= start, Report.created_at < end))
        if school_id in tallies:
            _write(conn, school_id, tallies[school_id])
            children |= {(p, r, d.year) for d, p, r in tallies[school_id].pupils}
    _refresh_years(conn, school_id, children)


def add_reports(conn: Connection, report_ids: Collection[int], *, links: bool = True) -> None:
    """Count reports that have just arrived into their days (``links=False``: nothing has
    been linked to them, nor a check-back set, so those are not looked for)."""
    if not report_ids:
        return
    tallies = _tally(conn, Report.id.in_(sorted(report_ids)), links=links)
    for school_id, tally in sorted(tallies.items()):
        _lock(conn, school_id, {day for day, _, _ in tally.counts})
        _write(conn, school_id, tally)
        _refresh_years(conn, school_id, {(p, r, d.year) for d, p, r in tally.pupils})


def rebuild(conn: Connection, school_id: int | None = None, *, chunk_days: int = 31,
            years: bool = True) -> int:
    """Count every report of one school (or of every school) again; returns the number of
    school days counted. Runs in the caller's transaction. ``years=False`` leaves the
    children's year rows alone (migration 0021, before their table exists)."""
    schools = [school_id] if school_id is not None else list(
        conn.scalars(select(School.id).order_by(School.id)))
    counted = 0
    for sid in schools:
        for table in TABLES:
            conn.execute(delete(table).where(table.c.school_id == sid))
        if years:
            conn.execute(delete(FigurePupilYear).where(FigurePupilYear.school_id == sid))
        bounds = conn.execute(select(func.min(Report.created_at), func.max(Report.created_at))
                              .where(Report.school_id == sid)).one()
        first: Any = bounds[0]
        last: Any = bounds[1]
        if first is None or last is None:
            continue
        day, end_day = day_of(first), day_of(last)
        while day <= end_day:
            upto = min(end_day, day + timedelta(days=chunk_days - 1))
            start, end = day_bounds(day, upto)
            tallies = _tally(conn, and_(Report.school_id == sid, Report.created_at >= start,
                                        Report.created_at < end))
            if sid in tallies:
                _write(conn, sid, tallies[sid])
                counted += len({d for d, _, _ in tallies[sid].counts})
            day = upto + timedelta(days=1)
        if years:
            _rebuild_years(conn, sid)
    return counted


# --- keeping the counts in step with the session's changes --------------------------------

@dataclass
class _Pending:
    new: set[int] = field(default_factory=set)  # reports added in this transaction
    linked: set[int] = field(default_factory=set)  # reports given pupils or check-backs
    reports: set[int] = field(default_factory=set)  # reports changed in what they count
    days: set[tuple[int, date]] = field(default_factory=set)  # (school, day) to count again
    pupils: set[int] = field(default_factory=set)
    schools: set[int] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.new or self.reports or self.days or self.pupils or self.schools)


def _changed(obj: object, columns: frozenset[str]) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in columns
               if name in state.attrs)


def _pending(session: Session) -> _Pending:
    pending = session.info.get("figures_pending")
    if pending is None:
        pending = session.info["figures_pending"] = _Pending()
    return cast(_Pending, pending)


@event.listens_for(Session, "after_flush")
def _note(session: Session, _ctx: object) -> None:
    pending = _pending(session)
    for obj in session.new:
        if isinstance(obj, Report):
            pending.new.add(obj.id)
        elif isinstance(obj, ReportKind | ReportPupil | CheckBack):
            pending.reports.add(obj.report_id)
            if not isinstance(obj, ReportKind):
                pending.linked.add(obj.report_id)
    for obj in session.dirty:
        if isinstance(obj, Report) and _changed(obj, COUNTED):
            pending.reports.add(obj.id)
            # A report moved to another day or school leaves its old day's count too.
            state = inspect(obj)
            old_school = state.attrs.school_id.history.deleted or [obj.school_id]
            for moment in state.attrs.created_at.history.deleted or [obj.created_at]:
                pending.days.update((school, day_of(moment)) for school in old_school)
        elif isinstance(obj, ReportPupil | CheckBack) and session.is_modified(obj):
            pending.reports.add(obj.report_id)
        elif isinstance(obj, Pupil) and _changed(obj, PUPIL_COUNTED):
            pending.pupils.add(obj.id)
        elif isinstance(obj, School) and _changed(obj, SCHOOL_COUNTED):
            pending.schools.add(obj.id)
    for obj in session.deleted:
        if isinstance(obj, Report):
            pending.days.add((obj.school_id, day_of(obj.created_at)))
        elif isinstance(obj, ReportKind | ReportPupil | CheckBack):
            pending.reports.add(obj.report_id)


# Engines whose database has the figures' tables (migration 0022). A database at an older
# revision (a migration's own session, a test of an old migration) has nothing to keep, so
# it is asked again each time until the tables exist; found once, they stay.
_COUNTED: weakref.WeakSet[Any] = weakref.WeakSet()


def _has_counts(conn: Connection) -> bool:
    if conn.engine in _COUNTED:
        return True
    if not inspect(conn).has_table(FigurePupilYear.__tablename__):
        return False
    _COUNTED.add(conn.engine)
    return True


@event.listens_for(Session, "before_commit")
def _settle(session: Session) -> None:
    session.flush()
    pending = session.info.pop("figures_pending", None)
    if not pending:
        return
    conn = session.connection()
    if not _has_counts(conn):
        return
    for school_id in sorted(pending.schools):
        rebuild(conn, school_id)
    days = set(pending.days)
    # Reports whose counts must be worked out again from scratch: those changed after they
    # arrived, and those naming a pupil whose year group or SEND status changed.
    recount = pending.reports - pending.new
    if pending.pupils:
        recount |= set(conn.scalars(select(ReportPupil.report_id).where(
            ReportPupil.pupil_id.in_(sorted(pending.pupils)))))
    if recount:
        days |= {(school_id, day_of(created)) for school_id, created in conn.execute(
            select(Report.school_id, Report.created_at).where(Report.id.in_(sorted(recount))))}
    by_school: dict[int, set[date]] = {}
    for school_id, day in days:
        if school_id not in pending.schools:
            by_school.setdefault(school_id, set()).add(day)
    for school_id, school_days in sorted(by_school.items()):
        recount_days(conn, school_id, school_days)
    # A new report on a day counted again above is in that count already.
    fresh = sorted(pending.new - recount)
    if fresh:
        rows = conn.execute(select(Report.id, Report.school_id, Report.created_at)
                            .where(Report.id.in_(fresh))).all()
        arrived = [rid for rid, sid, created in rows if sid not in pending.schools
                   and day_of(created) not in by_school.get(sid, set())]
        add_reports(conn, [r for r in arrived if r not in pending.linked], links=False)
        add_reports(conn, [r for r in arrived if r in pending.linked])


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop("figures_pending", None)


__all__ = ["add_reports", "close_value", "day_bounds", "day_of", "rebuild", "recount_days",
           "source_value"]
