"""Schools, staff accounts and the roster import, as the command line changes them. No Flask
and no click here: each rule raises a named error (``AccountError``) with the sentence to
show, and ``portal.cli`` turns it into the one-line ``Error: ...`` of the command contract.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .auth import twofactor
from .auth.passwords import WeakPassword, hash_password, personal_words
from .events import Action
from .models import Event, Role, School, StaffSession, Trust, TrustedAdult, User, utcnow
from .roster import ImportResult, RosterError, import_roster
from .vocabulary import Phase

# An email address as the CLI and the staff page accept it: something@something.something
# A mailbox at a domain of dot-separated labels: no trailing dot, no empty label
EMAIL_ADDRESS = re.compile(r"[^@\s]{1,64}@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
                           r"[a-z]{2,63}", re.IGNORECASE)


class AccountError(ValueError):
    """A change the command line asked for that can't be made; the message says why."""


class NoSuchSchool(AccountError):
    """No school has that slug."""


class SchoolExists(AccountError):
    """A school already has that slug."""


class NoSuchAccount(AccountError):
    """No account has that email address."""


class AccountExists(AccountError):
    """An account already has that email address."""


class PasswordRefused(AccountError):
    """The password is too weak (portal.auth.passwords)."""


class RosterRefused(AccountError):
    """The roster file could not be read, or some rows need fixing; nothing imported."""

    def __init__(self, message: str, result: ImportResult | None = None) -> None:
        super().__init__(message)
        self.result = result


def find_school(session: Session, slug: str) -> School:
    """The school with ``slug``; NoSuchSchool otherwise."""
    school = session.scalar(select(School).where(School.slug == slug))
    if school is None:
        raise NoSuchSchool(
            f"There is no school with slug '{slug}'. Add it with: portal create-school {slug} NAME"
        )
    return school


def add_school(session: Session, slug: str, name: str, exit_url: str | None = None) -> School:
    """Add a school, refusing a slug already in use."""
    if session.scalar(select(School.id).where(School.slug == slug)) is not None:
        raise SchoolExists(f"A school with slug '{slug}' already exists; nothing changed.")
    school = School(slug=slug, name=name)
    if exit_url:
        school.exit_url = exit_url
    session.add(school)
    session.flush()
    session.add(Event.new(Action.SCHOOL_CREATED, {"slug": slug}, school_id=school.id))
    session.flush()
    return school


def check_new_email(session: Session, email: str) -> str:
    """``email`` normalised, if no account has it yet; AccountExists otherwise."""
    email = email.strip().lower()
    if session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None:
        raise AccountExists(f"An account for {email} already exists; nothing changed.")
    return email


def add_user(session: Session, *, email: str, school: School, role: Role, password: str,
             name: str = "") -> User:
    """Add a staff account (a trust lead gets the school's trust, made if there is none)."""
    email = check_new_email(session, email)
    try:
        password_hash = hash_password(password, personal_words(email, name, school.name))
    except WeakPassword as exc:
        raise PasswordRefused(f"Password refused: {exc}") from exc
    trust_id = None
    if role is Role.TRUST_LEAD:
        if school.trust is None:
            school.trust = Trust(name=school.name)
            session.flush()
        trust_id = school.trust_id
    user = User(email=email, display_name=name, password_hash=password_hash, role=role,
                school_id=school.id, trust_id=trust_id)
    session.add(user)
    session.flush()
    session.add(Event.new(Action.USER_CREATED, {"user_id": user.id, "role": role.value},
                          school_id=school.id))
    session.flush()
    return user


def find_user(session: Session, email: str) -> User:
    """The account with ``email`` (any case); NoSuchAccount otherwise."""
    user = session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None:
        raise NoSuchAccount(f"There is no account for {email}.")
    return user


def end_sessions(session: Session, user: User) -> int:
    """End every open session of ``user``; returns how many."""
    now = utcnow()
    ended = 0
    for open_session in session.scalars(select(StaffSession).where(
            StaffSession.user_id == user.id, StaffSession.ended_at.is_(None))):
        open_session.ended_at = now
        ended += 1
    session.flush()
    return ended


def reset_two_factor(session: Session, user: User) -> int:
    """Forget the account's authenticator (lost phone) and end its sessions; returns how
    many sessions ended. They set up an authenticator again at their next sign-in. Someone
    else may have signed in with it, so no browser keeps a sign-in budget of its own for
    the account (portal.auth.devices) until it signs in fully again."""
    twofactor.reset(session, user)
    ended = end_sessions(session, user)
    user.throttle_epoch += 1
    session.add(Event.new(Action.USER_2FA_RESET, {"user_id": user.id},
                          school_id=user.school_id))
    session.flush()
    return ended


def unlock(session: Session, user: User) -> None:
    """Lift the sign-in throttle on an account (after too many wrong passwords)."""
    user.throttle_epoch += 1
    user.is_active = True
    session.add(Event.new(Action.USER_UNLOCKED, {"user_id": user.id},
                          school_id=user.school_id))
    session.flush()


def renew_password(session: Session, user: User, password: str, *, why: str) -> None:
    """Give an account a new password (``why``: for the audit trail) and end its sessions;
    as after a second-factor reset, browsers lose their own sign-in budget for it."""
    user.password_hash = hash_password(password)
    user.is_active = True
    end_sessions(session, user)
    user.throttle_epoch += 1
    session.add(Event.new(Action.USER_PASSWORD_RESET, {"user_id": user.id, "why": why},
                          school_id=user.school_id))
    session.flush()


def import_pupils(session: Session, school: School, data: bytes, *,
                  actor: User | None = None, leavers_off_roll: bool = False) -> ImportResult:
    """Import or update the roster from a school MIS export (CSV): all rows or none
    (RosterRefused, with the rows to fix, and the session rolled back). ``actor``: the
    member of staff who imported it from the roster page (None from the command line)."""
    try:
        result = import_roster(session, school, data, leavers_off_roll=leavers_off_roll)
    except RosterError as exc:
        raise RosterRefused(f"{exc} Nothing was imported.") from exc
    if not result.ok:
        session.rollback()
        raise RosterRefused(f"{len(result.errors)} row(s) need fixing; nothing was imported.",
                            result)
    def event(action: Action, payload: dict[str, int]) -> Event:
        if actor is not None:
            return Event.by(actor, action, payload, school_id=school.id)
        return Event.new(action, payload, school_id=school.id)

    session.add(event(Action.ROSTER_IMPORTED,
                      {"added": result.added, "updated": result.updated,
                       "unchanged": result.unchanged}))
    if result.left:
        session.add(event(Action.ROSTER_LEFT, {"pupils": result.left}))
    if result.contacts is not None:
        session.add(event(Action.CONTACTS_IMPORTED,
                          {"pupils": result.added + result.updated + result.unchanged,
                           "contacts": result.contacts}))
    session.flush()
    return result


@dataclass(frozen=True)
class DemoSchool:
    """What ``portal demo`` sets up: a primary school with three trusted adults."""

    slug: str
    name: str
    adults: tuple[tuple[str, str], ...]


def prepare_demo_school(session: Session, demo: DemoSchool) -> School:
    """Create the demo school, or bring one made by an older version up to date."""
    school = session.scalar(select(School).where(School.slug == demo.slug))
    if school is None:
        school = add_school(session, demo.slug, demo.name)
    # Oakfield is a primary school: Reception to Year 6 on its forms, primary words. A
    # demo made before phases gets both now (its "Head of Year" is a head teacher).
    school.phase = Phase.PRIMARY
    for adult in school.trusted_adults:
        if adult.description == "Head of Year":
            adult.description = "Head teacher"
    if not school.trusted_adults:
        for position, (name, description) in enumerate(demo.adults, start=1):
            session.add(TrustedAdult(school_id=school.id, name=name,
                                     description=description, position=position))
        session.flush()
        session.refresh(school, ["trusted_adults"])
    return school


@dataclass(frozen=True)
class DemoAccount:
    """A staff account ``portal demo`` makes and prints the login of: ``school`` is the
    slug of the demo school it belongs to."""

    email: str
    role: Role
    name: str
    school: str


def prepare_demo_trust(session: Session, name: str, schools: Sequence[School]) -> Trust:
    """Put the demo schools in one trust called ``name`` (made if it is not there yet)."""
    trust = session.scalar(select(Trust).where(Trust.name == name))
    if trust is None:
        trust = Trust(name=name)
        session.add(trust)
        session.flush()
    for school in schools:
        school.trust = trust
    session.flush()
    return trust


def prepare_demo_accounts(session: Session, demo: Sequence[DemoAccount],
                          new_password: Callable[[], str]) -> dict[str, str]:
    """Create each demo account, or give it a fresh password (so the printed login always
    works); returns each email's password. Like any staff account, each sets up two-step
    sign-in at its first sign-in."""
    passwords = {}
    for account in demo:
        password = new_password()
        user = session.scalar(select(User).where(func.lower(User.email) == account.email))
        if user is None:
            add_user(session, email=account.email, school=find_school(session, account.school),
                     role=account.role, password=password, name=account.name)
        else:
            renew_password(session, user, password, why="demo password renewed")
        passwords[account.email] = password
    return passwords


__all__ = [
    "AccountError", "AccountExists", "DemoAccount", "DemoSchool", "NoSuchAccount", "NoSuchSchool",
    "PasswordRefused", "RosterRefused", "SchoolExists", "add_school", "add_user",
    "check_new_email", "end_sessions", "find_school", "find_user", "import_pupils",
    "prepare_demo_accounts", "prepare_demo_school", "prepare_demo_trust", "renew_password",
    "reset_two_factor", "unlock",
]
