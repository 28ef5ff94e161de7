"""Triage rules: the queue, viewing, status, decisions and notes. No Flask here."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session, selectinload

from ..models import Event, Report, ReportKind, Role, User, utcnow
from ..priority import URGENT
from ..vocabulary import Category, Source, Status

PAGE_SIZE = 25
REASON_MIN = 5


class InvalidTransition(ValueError):
    """A change the rules do not allow, with the reason in plain words."""


class ReasonRequired(ValueError):
    """A change without a written reason (KCSIE: decisions and reasons in writing)."""


@dataclass(frozen=True)
class QueueFilters:
    status: str = "open"  # open | new | in_review | closed | all
    kind: str = ""
    source: str = ""
    page: int = 1


@dataclass(frozen=True)
class QueuePage:
    reports: list[Report]
    total: int
    page: int
    pages: int


def visible_reports(user: User) -> Select[tuple[Report]]:
    """Reports ``user`` may see: their school's for DSL roles, their own concerns for staff."""
    query = select(Report).where(Report.school_id == user.school_id)
    if user.role not in (Role.DSL, Role.DEPUTY_DSL):
        query = query.where(Report.created_by_id == user.id)
    return query


def _filtered(query: Select[tuple[Report]], filters: QueueFilters) -> Select[tuple[Report]]:
    if filters.status == "open":
        query = query.where(Report.status != Status.CLOSED)
    elif filters.status in {s.value for s in Status}:
        query = query.where(Report.status == Status(filters.status))
    if filters.source in {s.value for s in Source}:
        query = query.where(Report.source == Source(filters.source))
    if filters.kind:
        query = query.where(
            Report.id.in_(select(ReportKind.report_id).where(ReportKind.kind == filters.kind))
        )
    return query


def queue(session: Session, user: User, filters: QueueFilters) -> QueuePage:
    """One page of the queue: urgent reports first (newest first), then the rest oldest first.

    Two queries whatever the page size: the count, then the page with its kinds loaded.
    """
    base = _filtered(visible_reports(user), filters)
    total = session.scalar(select(func.count()).select_from(base.order_by(None).subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, filters.page), pages)
    urgent_first = case((Report.urgency >= URGENT, 0), else_=1)
    newest_urgent = case((Report.urgency >= URGENT, Report.created_at), else_=None)
    rows = session.scalars(
        base.options(selectinload(Report.kinds))
        .order_by(urgent_first, newest_urgent.desc().nulls_last(), Report.created_at, Report.id)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return QueuePage(list(rows), total, page, pages)


def get_report(session: Session, user: User, report_id: int) -> Report | None:
    """The report if ``user`` may see it; None for another school's id (answered as 404)."""
    return session.scalar(visible_reports(user).where(Report.id == report_id))


def record_view(session: Session, report: Report, *, actor: User) -> None:
    """Viewing a case is an audit event; the first view by a DSL acknowledges it."""
    now = utcnow()
    if report.acknowledged_at is None and actor.reads_reports:
        report.acknowledged_at = now
    session.add(Event(school_id=report.school_id, report_id=report.id, actor_id=actor.id,
                      action="case.viewed", created_at=now))
    session.flush()


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if len(text) < REASON_MIN:
        raise ReasonRequired("Write the reason for this change (a sentence is enough).")
    return text


ALLOWED = {
    Status.NEW: {Status.IN_REVIEW, Status.CLOSED},
    Status.IN_REVIEW: {Status.CLOSED},
    Status.CLOSED: {Status.IN_REVIEW},
}


def change_status(session: Session, report: Report, *, actor: User, status: Status,
                  reason: str | None) -> None:
    """Move a report on (new → in review → closed, or reopen) with a written reason."""
    text = _reason(reason)
    if status not in ALLOWED[report.status]:
        raise InvalidTransition(
            f"A report that is {report.status.value.replace('_', ' ')} can't be moved to "
            f"{status.value.replace('_', ' ')}."
        )
    old = report.status
    report.status = status
    report.closed_at = utcnow() if status == Status.CLOSED else None
    session.add(Event(school_id=report.school_id, report_id=report.id, actor_id=actor.id,
                      action="status.changed", old_value=old.value, new_value=status.value,
                      text=text))
    session.flush()


def record_decision(session: Session, report: Report, *, actor: User, category: Category,
                    reason: str | None) -> None:
    """Decide what the report is ("Allegation of Bullying" → Bullying Incident / ...)."""
    text = _reason(reason)
    if category == report.category:
        raise InvalidTransition("The report is already in that category.")
    old = report.category
    report.category = category
    if report.status == Status.NEW:
        report.status = Status.IN_REVIEW
    session.add(Event(school_id=report.school_id, report_id=report.id, actor_id=actor.id,
                      action="category.changed", old_value=old.value, new_value=category.value,
                      text=text))
    session.flush()


def add_note(session: Session, report: Report, *, actor: User, note: str) -> None:
    """A staff-only note in the chronology; never shown to the reporter."""
    text = note.strip()
    if not text:
        raise ReasonRequired("Write the note first.")
    session.add(Event(school_id=report.school_id, report_id=report.id, actor_id=actor.id,
                      action="note.added", text=text))
    session.flush()


def chronology(session: Session, report: Report) -> list[Event]:
    """Every event of a report, oldest first, with who did it."""
    return list(session.scalars(
        select(Event).where(Event.report_id == report.id)
        .options(selectinload(Event.actor)).order_by(Event.created_at, Event.id)
    ))
