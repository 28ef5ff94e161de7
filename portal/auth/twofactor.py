"""TOTP second factor (RFC 6238) and recovery codes. No Flask here.

SECURITY P7 / ASVS 6.5: a code works once (the last time step used is kept), 30-second
steps with one step of clock drift either side; recovery codes are single-use and stored
only as hashes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
import time

import pyotp
import segno
from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.orm import Session

from .. import crypto
from ..events import Action
from ..models import Event, Passkey, RecoveryCode, User, utcnow

ISSUER = "Tell Us"
STEP = 30
WINDOW = 1
RECOVERY_CODES = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def new_secret() -> str:
    return pyotp.random_base32(length=32)  # 160 bits


def _enrol_aad(user_id: int) -> bytes:
    return f"tell-us-totp-enrolment:{user_id}".encode()


def seal(user_id: int, secret: str) -> str:
    """The secret being enrolled, sealed with the data key (AES-GCM) and bound to the
    account, so it can wait in the browser's signed (but readable) session cookie."""
    ident, blob = crypto.encrypt_bytes(secret.encode(), _enrol_aad(user_id))
    return f"{ident}:{base64.urlsafe_b64encode(blob).decode()}"


def unseal(user_id: int, sealed: object) -> str | None:
    """The secret ``seal`` sealed for this account; None if it is missing, changed, made
    for another account or under a key that is gone."""
    if not isinstance(sealed, str) or ":" not in sealed:
        return None
    ident, payload = sealed.split(":", 1)
    try:
        blob = base64.urlsafe_b64decode(payload.encode())
        return crypto.decrypt_bytes(ident, blob, _enrol_aad(user_id)).decode()
    except (binascii.Error, ValueError, UnicodeDecodeError):  # TamperedData is a ValueError
        return None


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The QR code as inline SVG, drawn on the server: no image service sees the secret.

    A viewBox and no fixed size, so the stylesheet scales the whole code (quiet zone of
    four modules included) to the box it sits in instead of cutting it off."""
    svg: str = segno.make(uri, error="m").svg_inline(
        scale=1, border=4, omitsize=True, dark="#1d2a30", light="#ffffff",
        title="QR code for your authenticator app")
    return svg


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing into an app by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def _matching_step(secret: str, code: str, now: float) -> int | None:
    digits = "".join(ch for ch in code if ch.isdigit())
    if len(digits) != 6:
        return None
    totp = pyotp.TOTP(secret)
    current = int(now // STEP)
    for step in range(current - WINDOW, current + WINDOW + 1):
        if secrets.compare_digest(totp.at(step * STEP), digits):
            return step
    return None


def verify(session: Session, user: User, code: str, *, now: float | None = None) -> bool:
    """Check a code against the enrolled secret; a code (time step) is accepted once only.

    Taking the step is one conditional UPDATE, so two requests sending the same code at
    once can't both pass: the database lets exactly one of them move the step forward
    (the other waits for its lock, then finds the step already taken)."""
    if not user.totp_secret:
        return False
    step = _matching_step(user.totp_secret, code, time.time() if now is None else now)
    if step is None or step <= user.totp_last_step:
        return False
    result = session.execute(  # "evaluate" brings ``user`` up to date without a 2nd UPDATE
        update(User).where(User.id == user.id, User.totp_last_step < step)
        .values(totp_last_step=step).execution_options(synchronize_session="evaluate"))
    return _changed_one(result)


def _changed_one(result: object) -> bool:
    return isinstance(result, CursorResult) and result.rowcount == 1


def confirm_enrolment(session: Session, user: User, secret: str, code: str, *,
                      now: float | None = None) -> list[str] | None:
    """Turn on 2FA when the first code from the new secret is right (an audit event);
    returns the recovery codes to show once, or None when the code is wrong."""
    step = _matching_step(secret, code, time.time() if now is None else now)
    if step is None:
        return None
    user.totp_secret = secret
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    session.add(Event.by(user, Action.STAFF_2FA_ENROLLED, school_id=user.school_id))
    return new_recovery_codes(session, user)


def _hash(code: str) -> str:
    clean = "".join(ch for ch in code.lower() if ch.isalnum())
    return hashlib.sha256(b"tell-us-recovery:" + clean.encode()).hexdigest()


def new_recovery_codes(session: Session, user: User) -> list[str]:
    """Ten fresh single-use codes (60 bits each); earlier ones stop working."""
    for old in session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)):
        session.delete(old)
    codes = ["-".join("".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(3))
             for _ in range(RECOVERY_CODES)]
    session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash(c)) for c in codes)
    session.flush()
    return codes


def use_recovery_code(session: Session, user: User, code: str) -> bool:
    """Accept an unused recovery code once (one conditional UPDATE, as ``verify``)."""
    row = session.scalar(select(RecoveryCode.id).where(
        RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _hash(code),
        RecoveryCode.used_at.is_(None)))
    if row is None:
        return False
    result = session.execute(
        update(RecoveryCode).where(RecoveryCode.id == row, RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow()).execution_options(synchronize_session=False))
    return _changed_one(result)


def reset(session: Session, user: User) -> None:
    """Forget the user's second factor (`portal reset-2fa`): they enrol again at sign-in.
    Their passkeys go too: a reset is for a lost or stolen device, and a passkey may be on it."""
    user.totp_secret = None
    user.totp_enabled_at = None
    for old in session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)):
        session.delete(old)
    session.execute(delete(Passkey).where(Passkey.user_id == user.id))
    session.flush()


