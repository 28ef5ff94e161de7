"""Retention: how long each record is kept, legal holds, and the purge that leaves a stub
(SECURITY.md P12; IRMS Information Management Toolkit for Schools).

- Child-protection records (a Bullying Incident or a Safeguarding concern): until the
  youngest linked pupil's date of birth + 25 years; with no date of birth known, 25 years
  after the report.
- Not bullying, or closed without being substantiated (still an "Allegation"): a period the
  school sets (default 1 year) after closing.
- Open reports and reports under a legal hold are never purged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

from . import evidence as evidence_files
from . import linking, search
from .casework import sharing
from .casework.acknowledge import acknowledge
from .events import Action
from .models import Event, Pupil, Report, ReportPupil, School, User, utcnow
from .models.event import PURGE, unlocked
from .vocabulary import Category, Status

CHILD_PROTECTION = "child_protection"
UNSUBSTANTIATED = "unsubstantiated"


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True)
class Retention:
    report_id: int
    school_id: int
    retention_class: str
    keep_until: date | None  # None: open, so kept
    held: bool

    def due(self, today: date) -> bool:
        return not self.held and self.keep_until is not None and self.keep_until <= today


def classify(report: Report, school: School, birthdays: list[date]) -> Retention:
    """The retention class of a report and the day it may be deleted."""
    if report.category in (Category.BULLYING_INCIDENT, Category.SAFEGUARDING):
        anchors = [_years_after(b, 25) for b in birthdays] or [
            _years_after(report.created_at.date(), 25)]
        return Retention(report.id, report.school_id, CHILD_PROTECTION, max(anchors),
                         report.legal_hold)
    keep_until = None
    if report.status == Status.CLOSED and report.closed_at is not None:
        keep_until = _years_after(report.closed_at.date(), school.retention_years_unsubstantiated)
    return Retention(report.id, report.school_id, UNSUBSTANTIATED, keep_until, report.legal_hold)


def review(session: Session, today: date) -> list[Retention]:
    """Every report whose retention date has passed and is not held: what `portal purge`
    would delete."""
    schools = {s.id: s for s in session.scalars(select(School))}
    due = []
    reports = session.scalars(select(Report).where(Report.status == Status.CLOSED)
                              .options(selectinload(Report.kinds)))
    for report in reports:
        birthdays = [d for d in session.scalars(
            select(Pupil.date_of_birth).join(ReportPupil, ReportPupil.pupil_id == Pupil.id)
            .where(ReportPupil.report_id == report.id)) if d is not None]
        retention = classify(report, schools[report.school_id], birthdays)
        if retention.due(today):
            due.append(retention)
    return due


def purge(session: Session, due: list[Retention], evidence_dir: Path,
          word_dirs: tuple[Path, ...] = ()) -> int:
    """Delete the reports and their files; leave a stub event saying what was deleted, when
    and under which rule (never the content). The only code that deletes records. The
    children who were linked to them are checked again for the recurring flag."""
    removed = 0
    touched: dict[int, set[int]] = {}
    for item in due:
        report = session.get(Report, item.report_id)
        if report is None or report.legal_hold:
            continue
        touched.setdefault(report.school_id, set()).update(session.scalars(
            select(ReportPupil.pupil_id).where(ReportPupil.report_id == report.id,
                                               ReportPupil.pupil_id.is_not(None))))
        paths = [evidence_dir / str(report.school_id) / e.stored_name for e in report.evidence]
        created = report.created_at.date().isoformat()
        # Events of the report go with it: the retention rule is the one permitted deleter,
        # and the database lets it delete this report's events and no others (unlocked).
        with unlocked(session, PURGE, report.id):
            session.execute(delete(Event).where(Event.report_id == report.id))
        search.forget(session, report.id)  # its words go with it
        sharing.end_with_the_case(session, report)  # another school keeps its own actions
        session.delete(report)
        session.flush()
        session.add(Event.new(Action.REPORT_PURGED,
                              {"retention_class": item.retention_class,
                               "report_id": item.report_id, "reported_on": created},
                              school_id=item.school_id))
        session.flush()
        evidence_files.remove(paths)
        removed += 1
    for school_id, pupil_ids in touched.items():
        school = session.get(School, school_id)
        if school is not None:
            linking.refresh_pupils(session, school, pupil_ids, word_dirs)
    return removed


def set_hold(session: Session, report: Report, *, actor: User, hold: bool, reason: str) -> None:
    """Put a report under a legal hold (kept whatever its retention date) or lift it."""
    if len(reason.strip()) < 5:
        raise ValueError("Write why (for example, the police asked us to keep it).")
    report.legal_hold = hold
    report.legal_hold_reason = reason.strip() if hold else ""
    session.add(Event.by(actor, Action.HOLD_SET if hold else Action.HOLD_LIFTED,
                         {"reason": reason.strip()}, school_id=report.school_id,
                         report_id=report.id))
    # the first action of any kind acknowledges the case (imported here: triage.operations
    # is a layer above the retention rule)
    acknowledge(session, report, actor=actor)


def today_utc(now: datetime | None = None) -> date:
    return (now or utcnow()).date()


__all__ = ["CHILD_PROTECTION", "UNSUBSTANTIATED", "Retention", "classify", "purge", "review",
           "set_hold", "today_utc"]
