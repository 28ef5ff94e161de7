"""Kiosk tablets: a school tablet enrolled by the DSL or an administrator opens straight on
its school's pupil form, shows no staff links, resets itself, and has its own rate limits
(SECURITY.md P4, P9). No Flask here."""

from __future__ import annotations

import hashlib
import secrets

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from .events import Action
from .models import Device, Event, School, User, utcnow

COOKIE = "tellus_kiosk"
COOKIE_AGE = 2 * 365 * 24 * 3600  # an enrolment lasts until revoked (or two years)
IDLE_SECONDS = 120  # back to a clean start after two minutes untouched
DONE_SECONDS = 30  # and 30 seconds after the confirmation page


def _hash(token: str) -> str:
    return hashlib.sha256(b"tell-us-device:" + token.encode()).hexdigest()


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt="tell-us-kiosk")


def enrol(session: Session, school: School, *, actor: User, label: str,
          secret_key: str) -> tuple[Device, str]:
    """Enrol a tablet; returns the device and the signed cookie value for that browser."""
    token = secrets.token_urlsafe(32)
    device = Device(school_id=school.id, token_hash=_hash(token), label=label.strip()[:80],
                    enrolled_by_id=actor.id)
    session.add(device)
    session.flush()
    session.add(Event.by(actor, Action.DEVICE_ENROLLED, {"device_id": device.id},
                         school_id=school.id))
    session.flush()
    return device, _serializer(secret_key).dumps(token)


def find(session: Session, cookie: str | None, secret_key: str) -> Device | None:
    """The enrolled, unrevoked device a cookie names; None for anything else."""
    if not cookie or len(cookie) > 200:
        return None
    try:
        token = _serializer(secret_key).loads(cookie)
    except BadSignature:
        return None
    if not isinstance(token, str):
        return None
    return session.scalar(select(Device).where(Device.token_hash == _hash(token),
                                               Device.revoked_at.is_(None)))


def revoke(session: Session, device: Device, *, actor: User) -> None:
    """Stop a tablet being a kiosk (lost, replaced); its cookie no longer works."""
    device.revoked_at = utcnow()
    session.add(Event.by(actor, Action.DEVICE_REVOKED, {"device_id": device.id},
                         school_id=device.school_id))
    session.flush()
