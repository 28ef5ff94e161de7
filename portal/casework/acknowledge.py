"""A DSL takes a report on, and the moves between statuses the rules allow. No Flask here.

Kept apart from ``portal.triage.operations`` so that every rule that records something on
a case (the case work here, linking, retention) and the reporter's side (the check-back
answer) can use them without importing the staff side.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from .. import checklists
from ..events import Action
from ..models import Event, Report, Sender, User, utcnow
from ..vocabulary import Status
from . import concern_author


class InvalidTransition(ValueError):
    """A change the rules do not allow, with the reason in plain words."""


# The status moves the rules allow (a closed case can be reopened, with a reason).
ALLOWED = {
    Status.NEW: {Status.IN_REVIEW, Status.CLOSED},
    Status.IN_REVIEW: {Status.CLOSED},
    Status.CLOSED: {Status.IN_REVIEW},
}


def acknowledge(session: Session, report: Report, *, actor: User) -> bool:
    """A DSL takes the report on: the deliberate "Acknowledge" button, or the first action
    of any kind on the case. Stops the Overdue clock, starts the policy's checklists, and
    marks the reporter's replies read. Returns whether anything was new."""
    if not actor.reads_reports:
        return False
    # What the caller just recorded gets its time first: it comes before the
    # acknowledgement it causes in the chronology.
    session.flush()
    now = utcnow()
    changed = False
    first = report.acknowledged_at is None
    if first:
        report.acknowledged_at = now
        session.add(Event.by(actor, Action.CASE_ACKNOWLEDGED, school_id=report.school_id,
                             report_id=report.id, created_at=now))
        changed = True
    # The member of staff who recorded a concern hears that it was acted on, and closed.
    if concern_author.tell_author(session, report, actor=actor, first=first):
        changed = True
    if checklists.sync(session, report):
        changed = True
    for message in report.messages:
        if message.sender == Sender.REPORTER and message.read_at is None:
            message.read_at = now
            changed = True
    if report.has_unread_reply:
        report.has_unread_reply = False
        changed = True
    session.flush()
    return changed
