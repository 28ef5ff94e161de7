"""Passkeys (WebAuthn, through py_webauthn) as a member of staff's second step of signing in,
beside the authenticator app (issue 18: "Staff can add a passkey ... as their second step,
alongside TOTP"). No Flask here: the views keep the challenge in the session.

A passkey is added by its owner while signed in (after both steps), and answers the second
step afterwards: the password (or the school's sign-in service) first, then the passkey
instead of the 6-digit code. The browser proves the passkey is on the person's device and
was made for this portal (the relying party is PORTAL_BASE_URL's host, and the origin must
be the portal's); the portal checks the signature with the public key it kept, that the
challenge is the one it issued (once: the same answer is never taken twice), and that the
authenticator's counter went forward where it keeps one (a copied key shows an old one).
Resetting the second step (a lost phone, portal.admin.staff) removes the passkeys too.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.orm import Session
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from ..events import Action
from ..models import Event, Passkey, User, utcnow
from . import twofactor

RP_NAME = "Tell Us"
TIMEOUT_MS = 120_000  # two minutes to touch the key or unlock the phone
MAX_PASSKEYS = 10
NAME_LENGTH = 60
MAX_RESPONSE = 16_384  # a credential's JSON from the browser: a few kilobytes at most


class PasskeyError(ValueError):
    """A passkey that can't be added or used (the words say what to do)."""


@dataclass(frozen=True)
class Challenge:
    """A challenge the portal issued, and when. It waits in the browser's signed session
    cookie, and a cookie can be copied: so besides being taken from the session once, it is
    only good for a passkey not used (or an account whose passkeys have not changed) since
    it was issued. An old cookie and its captured answer, sent again after the sign-in they
    were for, are refused (the passkey trial's replay, with a counter stuck at 0)."""

    value: bytes
    issued: datetime


@dataclass(frozen=True)
class Party:
    """Who the passkeys are for: the portal's host (the relying party id) and its origin,
    both from PORTAL_BASE_URL (never from the request's Host header)."""

    rp_id: str
    origin: str

    @classmethod
    def of(cls, base_url: str) -> Party:
        parts = urlsplit(base_url)
        if not parts.hostname:
            raise PasskeyError("The portal's address (PORTAL_BASE_URL) has no host name.")
        scheme, host = parts.scheme.lower(), parts.hostname.lower()  # as a browser says it
        default = {"http": 80, "https": 443}.get(scheme)
        port = f":{parts.port}" if parts.port and parts.port != default else ""
        shown = f"[{host}]" if ":" in host else host
        return cls(rp_id=host, origin=f"{scheme}://{shown}{port}")


def passkeys_of(db: Session, user: User) -> list[Passkey]:
    return list(db.scalars(select(Passkey).where(Passkey.user_id == user.id)
                           .order_by(Passkey.created_at, Passkey.id)))


def _descriptors(keys: list[Passkey]) -> list[PublicKeyCredentialDescriptor]:
    return [PublicKeyCredentialDescriptor(id=key.credential_id) for key in keys]


def registration(user: User, party: Party, keys: list[Passkey]) -> tuple[str, bytes]:
    """The options for navigator.credentials.create() (JSON) and their challenge, which the
    caller keeps until the answer comes back. The passkeys already added (``keys``) are
    excluded, so the same one is not added twice."""
    options = generate_registration_options(
        rp_id=party.rp_id, rp_name=RP_NAME, user_name=user.email,
        user_id=f"tell-us-staff:{user.id}".encode(), user_display_name=user.name,
        timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED),
        exclude_credentials=_descriptors(keys))
    return options_to_json(options), options.challenge


def authentication(db: Session, user: User, party: Party) -> tuple[str, bytes] | None:
    """The options for navigator.credentials.get() (JSON, only this account's passkeys) and
    their challenge; None when the account has no passkey."""
    keys = passkeys_of(db, user)
    if not keys:
        return None
    options = generate_authentication_options(
        rp_id=party.rp_id, timeout=TIMEOUT_MS, allow_credentials=_descriptors(keys),
        user_verification=UserVerificationRequirement.PREFERRED)
    return options_to_json(options), options.challenge


def _credential(raw: str) -> dict[str, Any]:
    if not raw or len(raw) > MAX_RESPONSE:
        raise PasskeyError("Your browser did not send a passkey. Try again.")
    try:
        found = json.loads(raw)
    except (ValueError, RecursionError) as error:  # RecursionError: "[[[[…" a mile deep
        raise PasskeyError("Your browser did not send a passkey. Try again.") from error
    if not isinstance(found, dict):
        raise PasskeyError("Your browser did not send a passkey. Try again.")
    return found


def clean_name(name: str) -> str:
    """The name as shown: no invisible or text-reversing characters (Unicode's format
    characters: a right-to-left override would show "evil" as "live"), spaces folded."""
    name = "".join(c for c in name if unicodedata.category(c) != "Cf")
    name = " ".join(name.split())[:NAME_LENGTH]
    return name or "Passkey"


def _changed_since(db: Session, user: User, moment: datetime) -> bool:
    """Whether ``user`` added or removed a passkey at or after ``moment``."""
    return db.scalar(select(Event.id).where(
        Event.actor_id == user.id, Event.created_at >= moment,
        Event.action.in_([Action.STAFF_PASSKEY_ADDED.value,
                          Action.STAFF_PASSKEY_REMOVED.value])).limit(1)) is not None


class WrongCode(PasskeyError):
    """The authenticator app's code, asked for before a passkey is added, was not right."""


def add(db: Session, user: User, party: Party, challenge: Challenge | None, raw: str,
        name: str, code: str) -> Passkey:
    """Keep the passkey the browser made for ``challenge`` (an audit event), once the code
    from the account's authenticator app says its owner is here: a session left signed in
    on a staffroom computer must not be enough to give the account a second step of
    someone else's (the passkey trial's finding 5)."""
    if challenge is None or _changed_since(db, user, challenge.issued):
        raise PasskeyError("That took too long or was started in another tab. Try again.")
    keys = passkeys_of(db, user)
    if len(keys) >= MAX_PASSKEYS:
        raise PasskeyError(f"You have {MAX_PASSKEYS} passkeys already: remove one you no "
                           "longer use first.")
    try:
        verified = verify_registration_response(
            credential=_credential(raw), expected_challenge=challenge.value,
            expected_rp_id=party.rp_id, expected_origin=party.origin)
    except PasskeyError:
        raise
    except (WebAuthnException, KeyError, TypeError, ValueError, RecursionError) as error:
        raise PasskeyError("That passkey could not be checked, so it was not added. Try "
                           "again, or use another device.") from error
    taken = db.scalar(select(Passkey.id).where(
        Passkey.credential_id == verified.credential_id))
    if taken is not None:
        raise PasskeyError("That passkey has been added already.")
    if not twofactor.verify(db, user, code):
        raise WrongCode("That code did not work. Codes change every 30 seconds and work "
                        "once: type the one your app shows now, then add the passkey again.")
    key = Passkey(user_id=user.id, credential_id=verified.credential_id,
                  public_key=verified.credential_public_key, sign_count=verified.sign_count,
                  name=clean_name(name))
    db.add(key)
    db.flush()
    db.add(Event.by(user, Action.STAFF_PASSKEY_ADDED, {"passkey_id": key.id, "name": key.name},
                    school_id=user.school_id))
    return key


def remove(db: Session, user: User, passkey_id: int) -> Passkey | None:
    """Remove one of ``user``'s own passkeys (an audit event); None if it isn't theirs."""
    key = db.scalar(select(Passkey).where(Passkey.id == passkey_id,
                                          Passkey.user_id == user.id))
    if key is None:
        return None
    db.add(Event.by(user, Action.STAFF_PASSKEY_REMOVED, {"passkey_id": key.id,
                                                         "name": key.name},
                    school_id=user.school_id))
    db.delete(key)
    db.flush()
    return key


def check(db: Session, user: User, party: Party, challenge: Challenge | None,
          raw: str) -> bool:
    """Whether the browser's answer is one of ``user``'s passkeys signing ``challenge``.
    Taking it is one conditional UPDATE (the passkey not used since the challenge was
    issued, its counter unchanged, not this challenge's answer before), so the same answer
    sent twice, at once from two places, or again later with a copied cookie, passes once."""
    if challenge is None:
        return False
    try:
        credential = _credential(raw)
        credential_id = base64url_to_bytes(str(credential.get("rawId") or credential["id"]))
    except (PasskeyError, KeyError, TypeError, ValueError):
        return False
    key = db.scalar(select(Passkey).where(Passkey.credential_id == credential_id,
                                          Passkey.user_id == user.id))
    if key is None:
        return False
    try:
        verified = verify_authentication_response(
            credential=credential, expected_challenge=challenge.value,
            expected_rp_id=party.rp_id,
            expected_origin=party.origin, credential_public_key=key.public_key,
            credential_current_sign_count=key.sign_count)
    except (WebAuthnException, KeyError, TypeError, ValueError, RecursionError):
        return False
    used = hashlib.sha256(challenge.value).hexdigest()
    result = db.execute(
        update(Passkey).where(
            Passkey.id == key.id, Passkey.sign_count == key.sign_count,
            or_(Passkey.last_used_at.is_(None), Passkey.last_used_at < challenge.issued),
            or_(Passkey.last_challenge.is_(None), Passkey.last_challenge != used))
        .values(sign_count=verified.new_sign_count, last_challenge=used,
                last_used_at=utcnow())
        .execution_options(synchronize_session="evaluate"))
    return isinstance(result, CursorResult) and result.rowcount == 1
