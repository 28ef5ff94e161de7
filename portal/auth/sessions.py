"""Server-side staff sessions: new at login, ended at logout, idle and absolute timeouts."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..events import Action
from ..models import Event, StaffSession, User, utcnow

IDLE = timedelta(minutes=30)  # ASVS 7.3.1; SECURITY.md P6
ABSOLUTE = timedelta(hours=12)  # ASVS 7.3.2
TOUCH_EVERY = timedelta(seconds=60)  # write last-seen at most once a minute


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(session: Session, user: User, *, method: str) -> str:
    """Open a new session for ``user`` after both factors passed (``method``: totp,
    recovery_code, totp_enrolment), with its sign-in event; returns the cookie's token."""
    token = secrets.token_urlsafe(32)
    session.add(StaffSession(user_id=user.id, token_hash=_hash(token)))
    user.last_login_at = utcnow()
    session.add(Event.by(user, Action.STAFF_LOGIN, {"method": method},
                         school_id=user.school_id))
    session.flush()
    return token


def resume(session: Session, token: str, *, now: datetime | None = None,
           idle: timedelta = IDLE, absolute: timedelta = ABSOLUTE) -> User | None:
    """The user behind ``token`` if that session is live; ends it when it has timed out."""
    now = now or utcnow()
    row = session.scalar(select(StaffSession).where(StaffSession.token_hash == _hash(token)))
    if row is None or row.ended_at is not None or not row.user.is_active:
        return None
    if now - row.last_seen_at > idle or now - row.created_at > absolute:
        row.ended_at = now
        session.flush()
        return None
    if now - row.last_seen_at > TOUCH_EVERY:
        row.last_seen_at = now
        session.flush()
    user = row.user
    user.session_token = token
    return user


def end(session: Session, user: User) -> None:
    """``user`` signs out: end the session of their token, with the sign-out event."""
    row = session.scalar(select(StaffSession).where(
        StaffSession.token_hash == _hash(user.session_token)))
    if row is not None and row.ended_at is None:
        row.ended_at = utcnow()
    session.add(Event.by(user, Action.STAFF_LOGOUT, school_id=user.school_id))
    session.flush()
