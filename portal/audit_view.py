"""The audit trail as the DSL team reads it (issue 16): who viewed, changed, exported or
downloaded a case or a child's record, filtered, and as a CSV, for an inquiry or a subject
access request. No Flask here.

A row says when, who, what kind of thing (viewed / changed / exported or downloaded), which
case or child, and the chronology's words for it, never the staff's or the reporter's own
words (a note, a reason, a message), which stay on the case.

Filters: a case, a child (the cases they are a party of, and their own page and PDF), a
member of staff, a kind, and days (UK). Payloads are encrypted at rest, so the child's own
page views are matched after reading the school's child-page events; everything else is
filtered by the database.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session, selectinload

from . import chronology
from .events import Action
from .figures import safe_cell
from .models import Event, Pupil, ReportPupil, User
from .overdue import LOCAL
from .triage.times import uk

PAGE_SIZE = 100
CSV_LIMIT = 100_000

VIEWED = frozenset({Action.CASE_VIEWED, Action.PUPIL_VIEWED, Action.TRANSFER_VIEWED,
                    Action.SHARE_VIEWED})
EXPORTED = frozenset({Action.EVIDENCE_DOWNLOADED, Action.EVIDENCE_RELEASED,
                      Action.EVIDENCE_BUNDLED, Action.CASE_EXPORTED, Action.PUPIL_EXPORTED,
                      Action.PUPIL_TRANSFERRED, Action.CASE_SHARED})
# A child's own record's events (not a case's): their page and PDF, and transfers
PUPIL_OWN = frozenset({Action.PUPIL_VIEWED, Action.PUPIL_EXPORTED, Action.PUPIL_TRANSFERRED,
                       Action.TRANSFER_RECEIVED, Action.TRANSFER_VIEWED})
# A case another school shares with this one: this school has no case, so its events are
# on the share (portal.casework.sharing)
SHARE_OWN = frozenset({Action.SHARE_RECEIVED, Action.SHARE_VIEWED, Action.SHARE_ACTION_ADDED,
                       Action.SHARE_ENDED})
# Staff accounts changed (portal.admin.staff, the CLI): who was invited, given a role,
# switched off or on, had their second step reset
ACCOUNT_OWN = frozenset({Action.USER_CREATED, Action.USER_INVITED, Action.USER_INVITE_ACCEPTED,
                         Action.USER_ROLE_CHANGED, Action.USER_DISABLED, Action.USER_ENABLED,
                         Action.USER_2FA_RESET, Action.USER_UNLOCKED,
                         Action.USER_PASSWORD_RESET,
                         # a second step added or taken away, and the school's sign-in
                         # service changed (issue 18's trials): who can get in
                         Action.STAFF_PASSKEY_ADDED, Action.STAFF_PASSKEY_REMOVED,
                         Action.SSO_SAVED})
KINDS = {"viewed": "Viewed", "changed": "Changed", "exported": "Exported or downloaded"}


def kind_of(action: str) -> str:
    if action in VIEWED:
        return "viewed"
    if action in EXPORTED:
        return "exported"
    return "changed"


@dataclass(frozen=True)
class Asked:
    """The filters, already checked (the view turns the query string into this)."""

    report_id: int | None = None
    pupil_id: int | None = None
    actor_id: int | None = None
    kind: str | None = None
    start: date | None = None
    end: date | None = None


@dataclass(frozen=True)
class Row:
    when: datetime
    who: str
    kind: str
    report_id: int | None
    pupil: str
    what: str


def _bounds(day: date, *, end: bool = False) -> datetime:
    """The moment a UK day starts (or, for ``end``, the next day starts), in UTC."""
    moment = datetime.combine(day + timedelta(days=1) if end else day, time(), LOCAL)
    return moment.astimezone(UTC)


def _query(session: Session, school_id: int, asked: Asked) -> Select[Event]:
    pupil_events = and_(Event.action.in_([a.value for a in PUPIL_OWN]),
                        Event.report_id.is_(None))
    share_events = and_(Event.action.in_([a.value for a in SHARE_OWN | ACCOUNT_OWN]),
                        Event.report_id.is_(None))
    query = select(Event).where(Event.school_id == school_id,
                                or_(Event.report_id.is_not(None), pupil_events,
                                    share_events),
                                Event.action != Action.REPORT_PURGED.value)
    if asked.report_id is not None:
        query = query.where(Event.report_id == asked.report_id)
    if asked.pupil_id is not None:
        cases = select(ReportPupil.report_id).where(ReportPupil.pupil_id == asked.pupil_id)
        query = query.where(or_(Event.report_id.in_(cases), pupil_events))
    if asked.actor_id is not None:
        query = query.where(Event.actor_id == asked.actor_id)
    if asked.kind == "viewed":
        query = query.where(Event.action.in_([a.value for a in VIEWED]))
    elif asked.kind == "exported":
        query = query.where(Event.action.in_([a.value for a in EXPORTED]))
    elif asked.kind == "changed":
        query = query.where(Event.action.not_in([a.value for a in VIEWED | EXPORTED]))
    if asked.start is not None:
        query = query.where(Event.created_at >= _bounds(asked.start))
    if asked.end is not None:
        query = query.where(Event.created_at < _bounds(asked.end, end=True))
    return query.options(selectinload(Event.actor)).order_by(Event.created_at.desc(),
                                                             Event.id.desc())


def _keep(event: Event, asked: Asked) -> bool:
    """A child's own page event belongs to the child asked for (payloads are encrypted, so
    this is read here); every other row was filtered by the database."""
    if event.report_id is None and asked.pupil_id is not None:
        return event.payload.get("pupil_id") == asked.pupil_id
    return True


def _rows(session: Session, school_id: int, events: Iterable[Event]) -> list[Row]:
    events = list(events)
    pupil_ids = chronology.pupil_ids(events)
    pupils = {p.id: p.name for p in session.scalars(
        select(Pupil).where(Pupil.id.in_(pupil_ids), Pupil.school_id == school_id))} \
        if pupil_ids else {}
    users = {u.id: u.name for u in session.scalars(select(User).where(
        User.school_id == school_id))}
    names = chronology.Names(pupils=pupils, users=users)
    rows = []
    for event in events:
        pupil_id = event.payload.get("pupil_id") if event.report_id is None else None
        rows.append(Row(when=event.created_at, who=chronology.who(event),
                        kind=KINDS[kind_of(event.action)], report_id=event.report_id,
                        pupil=pupils.get(pupil_id, "") if pupil_id else "",
                        what=chronology.render(event, names).what))
    return rows


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    page: int
    more: bool


def page(session: Session, school_id: int, asked: Asked, number: int) -> Page:
    """One page of the trail, newest first."""
    query = _query(session, school_id, asked)
    if asked.pupil_id is None:
        events = list(session.scalars(query.offset((number - 1) * PAGE_SIZE)
                                      .limit(PAGE_SIZE + 1)))
    else:
        kept = (e for e in session.scalars(query) if _keep(e, asked))
        events = [e for i, e in enumerate(kept)
                  if (number - 1) * PAGE_SIZE <= i <= number * PAGE_SIZE]
    return Page(_rows(session, school_id, events[:PAGE_SIZE]), number,
                len(events) > PAGE_SIZE)


def as_csv(session: Session, school_id: int, asked: Asked) -> tuple[bytes, bool]:
    """The whole filtered trail as CSV (up to CSV_LIMIT rows), and whether it was cut."""
    query = _query(session, school_id, asked)
    events = [e for e in session.scalars(query.limit(CSV_LIMIT + 1 if asked.pupil_id is None
                                                     else None)) if _keep(e, asked)]
    cut = len(events) > CSV_LIMIT
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["when_uk", "who", "kind", "case", "child", "what"])
    for row in _rows(session, school_id, events[:CSV_LIMIT]):
        writer.writerow([safe_cell(str(v)) for v in (
            uk(row.when), row.who, row.kind, row.report_id or "", row.pupil, row.what)])
    return out.getvalue().encode("utf-8-sig"), cut


def staff_choices(session: Session, school_id: int) -> Sequence[User]:
    return sorted(session.scalars(select(User).where(User.school_id == school_id)),
                  key=lambda u: u.name.lower())


__all__ = ["CSV_LIMIT", "KINDS", "PAGE_SIZE", "Asked", "Page", "Row", "as_csv", "page",
           "staff_choices"]
