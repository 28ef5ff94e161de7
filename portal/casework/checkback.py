"""Check back with the reporter: "Is it better now?" No Flask here.

The issue (14) asks: "On a review date, the reporter (through their follow-up code) can be
asked a simple question — 'Is it better now?' with pictures — and the answer lands in the
chronology and the queue. A child who says no is seen first." The anti-bullying policy
asks the school to keep "ongoing support" and to "involve them in any decision making";
the cyber-bullying policy (8.1) asks for "reassurance that it was right to report".

The DSL sets a day (``schedule``) and can cancel it (``cancel``); from that day the
reporter's follow-up page asks first (``due``); their answer (``answer``) is kept with the
check, written to the chronology, and, when it is "not better", ranks the case first in
the queue, reopens it if it was closed, and emails the DSL team (no details), once.
Nothing about the device, the address or the visit is kept with an answer (SECURITY P1).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import notifications
from ..events import Action
from ..models import (
    FEELINGS,
    NOT_BETTER,
    CheckBack,
    Event,
    Report,
    School,
    User,
    utcnow,
)
from ..models.checkback import NOTE_LIMIT
from ..overdue import LOCAL
from ..vocabulary import Status
from . import acknowledge as triage

MORE_LIMIT = 2000
REOPEN_REASON = ("The reporter was asked “Is it better now?” and answered “not better”, "
                 "so the case is open again.")


class CheckBackRefused(triage.InvalidTransition):
    """A check-back the rules do not allow (a past day, a second open one), in plain words."""


class AnswerRefused(ValueError):
    """An answer the reporter must change (none chosen, too long), in words for a child."""


def today(now: datetime | None = None) -> date:
    """The school's date now (the UK's, as the overdue clock counts)."""
    return (now or utcnow()).astimezone(LOCAL).date()


def checks(session: Session, report: Report) -> list[CheckBack]:
    """Every check-back of a case, by day (the case page lists them with their answers)."""
    return list(session.scalars(
        select(CheckBack).where(CheckBack.report_id == report.id)
        .order_by(CheckBack.due_on, CheckBack.id)))


def open_check(session: Session, report: Report) -> CheckBack | None:
    """The case's one check-back not yet answered or cancelled, if any."""
    return session.scalar(
        select(CheckBack).where(CheckBack.report_id == report.id,
                                CheckBack.answered_at.is_(None),
                                CheckBack.cancelled_at.is_(None)))


def due(session: Session, report: Report, *, on: date | None = None) -> CheckBack | None:
    """The check-back the reporter is asked now: open, and its day has come."""
    check = open_check(session, report)
    if check is None or check.due_on > (on or today()):
        return None
    return check


def schedule(session: Session, report: Report, *, actor: User, due_on: date, note: str = "",
             on: date | None = None) -> CheckBack:
    """Set a day to ask the reporter "Is it better now?" (not in the past; one open at a
    time, so an answer always belongs to one check)."""
    if due_on < (on or today()):
        raise CheckBackRefused("Choose today or a day after today for the check-back.")
    if due_on > (on or today()) + timedelta(days=366):
        raise CheckBackRefused("Choose a day within a year for the check-back: a child "
                               "asked much later may have left the school.")
    text = note.strip()
    if len(text) > NOTE_LIMIT:
        raise CheckBackRefused(f"Keep the note to {NOTE_LIMIT} characters.")
    waiting = open_check(session, report)
    if waiting is not None:
        raise CheckBackRefused(
            f"There is already a check-back on {waiting.due_on.strftime('%-d %B %Y')}. "
            "Cancel it first, or set the next one after the reporter answers.")
    check = CheckBack(report_id=report.id, due_on=due_on, note=text,
                      scheduled_by_id=actor.id, latest=False)
    session.add(check)
    session.flush()
    session.add(Event.by(actor, Action.CHECKBACK_SCHEDULED,
                         {"check_back_id": check.id, "due_on": due_on.isoformat(),
                          "note": text or None},
                         school_id=report.school_id, report_id=report.id))
    triage.acknowledge(session, report, actor=actor)  # the first action acknowledges
    return check


def cancel(session: Session, report: Report, check_id: int, *, actor: User,
           reason: str = "") -> CheckBack:
    """Cancel an open check-back of this case (kept, marked cancelled, never deleted)."""
    check = session.get(CheckBack, check_id)
    if check is None or check.report_id != report.id:
        raise CheckBackRefused("There is no such check-back on this case.")
    if not check.is_open:
        raise CheckBackRefused("That check-back was already answered or cancelled.")
    text = reason.strip()
    if len(text) > NOTE_LIMIT:
        raise CheckBackRefused(f"Keep the reason to {NOTE_LIMIT} characters.")
    check.cancelled_at = utcnow()
    check.cancelled_by_id = actor.id
    check.cancel_reason = text
    session.add(Event.by(actor, Action.CHECKBACK_CANCELLED,
                         {"check_back_id": check.id, "due_on": check.due_on.isoformat(),
                          "reason": text or None},
                         school_id=report.school_id, report_id=report.id))
    triage.acknowledge(session, report, actor=actor)  # the first action acknowledges
    return check


def answer(session: Session, report: Report, check: CheckBack, *, feeling: str | None,
           more: str = "", base_url: str) -> CheckBack:
    """The reporter's answer to "Is it better now?": kept with its check (the answer, their
    words, the time: nothing about the device or visit), written to the chronology "by
    Reporter", and shown to the DSL as a new reply. "Not better" also reopens a closed
    case (closed → in review is a move ``triage.ALLOWED`` permits) and emails the DSL
    team once for this check (no details)."""
    if check.report_id != report.id or not check.is_open:
        raise AnswerRefused("This question was already answered.")
    if feeling not in FEELINGS:
        raise AnswerRefused("Please choose one of the three pictures.")
    text = more.strip()
    if len(text) > MORE_LIMIT:
        raise AnswerRefused(f"Please make this shorter. You can use {MORE_LIMIT} letters "
                            f"and you have used {len(text)}.")
    now = utcnow()
    for earlier in session.scalars(select(CheckBack).where(
            CheckBack.report_id == report.id, CheckBack.latest.is_(True))):
        earlier.latest = False
    check.answer = feeling
    check.more = text
    check.answered_at = now
    check.latest = True
    report.has_unread_reply = True
    session.add(Event.new(Action.CHECKBACK_ANSWERED,
                          {"check_back_id": check.id, "answer": feeling,
                           "wrote_more": bool(text)},
                          school_id=report.school_id, report_id=report.id, created_at=now))
    if feeling == NOT_BETTER:
        if report.status == Status.CLOSED and Status.IN_REVIEW in triage.ALLOWED[report.status]:
            report.status = Status.IN_REVIEW
            report.closed_at = None
            session.add(Event.new(Action.STATUS_CHANGED,
                                  {"from": Status.CLOSED.value, "to": Status.IN_REVIEW.value,
                                   "reason": REOPEN_REASON},
                                  school_id=report.school_id, report_id=report.id,
                                  created_at=now))
        school = session.get(School, report.school_id)
        if school is not None and check.alerted_at is None:
            notifications.check_back_not_better(session, report, school, base_url)
            check.alerted_at = now
    session.flush()
    return check
