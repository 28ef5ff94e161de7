"""The member of staff who recorded a concern is told, with no details, when the
safeguarding team first acts on it and when it is closed (as Smoothwall tells the
reporting member of staff). No Flask here.

Called by ``portal.triage.operations.acknowledge``, which every first action on a case
calls (and closing calls too), so no operation can act on a concern without its author
hearing. The email and the "my concerns" page say the same plain thing; neither says what
was written, decided or done.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import notifications
from ..events import Action
from ..models import Event, Notice, NoticeKind, Report, School, User, utcnow
from ..vocabulary import Source, Status

# Where the portal's own address is kept on every session (create_app sets it), so that a
# rule deep inside an operation can write a link without every caller passing it on.
BASE_URL = "portal.base_url"
DEFAULT_BASE_URL = "http://127.0.0.1:5000"

ACTED = "acted"
CLOSED = "closed"
NEW = "new"

# What the author reads, on the "my concerns" page and in the email: the same plain state.
STATE_WORDS = {
    NEW: "The safeguarding team has your concern. Nobody has acted on it yet.",
    ACTED: "The safeguarding team has seen your concern and is looking into it.",
    CLOSED: "The safeguarding team has finished looking into it.",
}
_EMAIL_WORDS = {
    ACTED: ("has seen and acted on", "The safeguarding team has acted on your concern"),
    CLOSED: ("has closed", "The safeguarding team has closed your concern"),
}


LONDON = ZoneInfo("Europe/London")


def _day(report: Report) -> str:
    """The UK calendar day the concern was recorded on ("02 Dec 2026")."""
    return report.created_at.astimezone(LONDON).strftime("%d %b %Y")


def concern_state(report: Report) -> str:
    """The author's view of a concern: new, acted on (acknowledged) or closed."""
    if report.status == Status.CLOSED:
        return CLOSED
    return ACTED if report.acknowledged_at is not None else NEW


def state_words(report: Report) -> str:
    return STATE_WORDS[concern_state(report)]


def base_url(session: Session) -> str:
    return str(session.info.get(BASE_URL, DEFAULT_BASE_URL))


def _author(session: Session, report: Report, actor: User) -> User | None:
    """Whom to tell: the concern's author, unless a DSL acting on their own concern."""
    if report.source != Source.STAFF or report.created_by_id is None:
        return None
    if report.created_by_id == actor.id:
        return None  # a DSL who wrote the concern and acts on it knows already
    author = session.get(User, report.created_by_id)
    if author is None or not author.is_active or author.school_id != report.school_id:
        return None
    return author


def _tell(session: Session, report: Report, author: User, stage: str, round_: int, *,
          actor: User) -> bool:
    """One email and its event for ``stage``, once: a second sender of the same round
    (two DSLs at the same moment) finds the row taken and sends nothing."""
    notice = Notice(report_id=report.id, kind=NoticeKind.AUTHOR.value, step=stage,
                    person_id=author.id, round=round_, sent_by_id=actor.id, sent_at=utcnow())
    try:
        with session.begin_nested():
            session.add(notice)
            session.flush()
    except IntegrityError:
        return False
    school = session.get(School, report.school_id)
    name = school.name if school else "your school"
    did, subject = _EMAIL_WORDS[stage]
    link = f"{base_url(session).rstrip('/')}/staff/cases/{report.id}"
    body = (f"The safeguarding team at {name} {did} the concern you recorded on "
            f"{_day(report)}.\n\n"
            f"See its status here (sign-in needed): {link}\n\n"
            "This email never says what was recorded, decided or done. If you learn "
            "something new, record another concern or speak to the DSL.\n")
    notifications._queue(session, to=author.email, subject=f"{subject} ({name})", body=body,
                         kind="author_told", school_id=report.school_id)
    # By the member of the DSL team whose action told them (every staff change names its
    # actor; only the portal's own rules write events without one).
    session.add(Event.by(actor, Action.AUTHOR_TOLD, {"stage": stage, "user_id": author.id},
                         school_id=report.school_id, report_id=report.id))
    return True


def tell_author(session: Session, report: Report, *, actor: User, first: bool) -> list[str]:
    """Tell the author what has changed since they were last told: ``first`` is the first
    action on the concern (its acknowledgement); a closed concern is told once per closing.
    A first action that closes the concern sends one email, that it is closed. Returns the
    stages told."""
    author = _author(session, report, actor)
    if author is None:
        return []
    told: list[str] = []
    closed = report.status == Status.CLOSED and report.closed_at is not None
    if first and not closed and _tell(session, report, author, ACTED, 1, actor=actor):
        told.append(ACTED)
    if closed:
        earlier = list(session.scalars(
            select(Notice.sent_at).where(Notice.report_id == report.id,
                                         Notice.kind == NoticeKind.AUTHOR.value,
                                         Notice.step == CLOSED)))
        assert report.closed_at is not None
        if not any(sent >= report.closed_at for sent in earlier):
            rounds = session.scalar(select(func.count()).select_from(Notice).where(
                Notice.report_id == report.id, Notice.kind == NoticeKind.AUTHOR.value,
                Notice.step == CLOSED)) or 0
            if _tell(session, report, author, CLOSED, rounds + 1, actor=actor):
                told.append(CLOSED)
    return told
