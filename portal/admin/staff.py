"""Staff accounts in the browser (issue 18): the school's administrator, or its DSL, invites
a member of staff by email, changes a role, switches a leaver's account off (their sessions
end at once, on every device), switches it on again, resets a lost second step, and sees
when each account last signed in. Every change is an audit event naming who made it. No
Flask here; `portal create-user` and the other commands stay for scripts.

An invitation is an account with no usable password and a one-time link, valid for
``INVITE_HOURS``: the link sets the password (the same policy as everywhere) and goes
straight on to setting up the authenticator. Only the link's SHA-256 is kept. A new link
ends the old; switching the account off ends any link.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from .. import accounts
from ..auth import twofactor
from ..auth.passwords import WeakPassword, hash_password, personal_words
from ..events import Action
from ..models import (
    DSL_TEAM,
    Event,
    Role,
    School,
    StaffInvite,
    User,
    utcnow,
)
from ..models.user import NO_PASSWORD, ROLE_LABELS, SSO_ONLY
from ..notifications import _queue, dsl_addresses

INVITE_HOURS = 72
# The roles a school gives its own staff (a trust lead belongs to the trust: the CLI makes
# one), in the order the form lists them
SCHOOL_ROLES = tuple(role for role in Role if role is not Role.TRUST_LEAD)
NAME_LIMIT = 120
# Characters that reorder or hide text: a name in the audit trail must read as it is
# (U+202E would show "Mr Smith" for another string), so they are refused in names and
# addresses: Unicode's format characters (bidi controls, zero widths, soft hyphen, tags),
# the Hangul fillers that print as blanks, the combining grapheme joiner and the variation
# selectors
BLANK_LOOKING = frozenset("\u034f\u115f\u1160\u3164\uffa0")


def _hidden(text: str) -> bool:
    return any(unicodedata.category(c) == "Cf" or c in BLANK_LOOKING
               or "\ufe00" <= c <= "\ufe0f" or "\U000e0100" <= c <= "\U000e01ef"
               for c in text)


def _folded(name: str) -> str:
    """A name as a reader would see it: compatibility forms, case and runs of spaces
    folded ("José" typed two ways, a no-break space, "ÉMILE" and "émile" are one name)."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())
ONLY_THE_DSL = ("Only the Designated Safeguarding Lead gives or takes away the DSL and deputy "
                "DSL roles, which read every report: ask them.")


class StaffError(ValueError):
    """A change refused, with the sentence to show."""


class NotFound(LookupError):
    """No such account at this school (another school's id, a trust lead)."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def of_school(session: Session, school_id: int, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or user.school_id != school_id or user.role is Role.TRUST_LEAD:
        raise NotFound("No such account.")
    return user


@dataclass(frozen=True)
class Row:
    user: User
    invite: StaffInvite | None  # an open link, while the account has no password yet

    @property
    def invited(self) -> bool:
        return self.user.password_hash == NO_PASSWORD

    @property
    def state(self) -> str:
        if not self.user.is_active:
            return "Switched off"
        if self.invited and self.user.totp_secret:  # a reset: they had signed in before
            if self.invite is None:
                return "Password reset: the link has expired"
            return "Password reset: has not set a new one yet"
        if self.invited:
            if self.invite is None:
                return "Invited: the link has expired"
            return "Invited: has not set a password yet"
        if self.user.password_hash == SSO_ONLY:
            return "Active: signs in with the school account"
        if not self.user.totp_secret:
            return "Active: second step not set up yet"
        return "Active"


def listing(session: Session, school_id: int) -> list[Row]:
    """The school's accounts (trust leads are the trust's), with any open link."""
    users = list(session.scalars(select(User).where(
        User.school_id == school_id, User.role != Role.TRUST_LEAD)
        .order_by(User.is_active.desc(), User.role, func.lower(User.email))))
    now = utcnow()
    open_links = {i.user_id: i for i in session.scalars(select(StaffInvite).where(
        StaffInvite.user_id.in_([u.id for u in users]), StaffInvite.ended_at.is_(None),
        StaffInvite.expires_at > now))} if users else {}
    return [Row(u, open_links.get(u.id)) for u in users]


def _role(value: str) -> Role:
    try:
        role = Role(value)
    except ValueError:
        role = None
    if role not in SCHOOL_ROLES:
        raise StaffError("Choose one of the roles listed.")
    return role


def _may_touch_the_dsl_team(actor: User, *roles: Role) -> None:
    """The DSL team reads every report, so only the DSL puts someone in it or takes them out
    (an administrator could otherwise give report access to an account they control:
    issue 18's trial, H1). Switching a leaver off stays with the administrator too."""
    if actor.role is not Role.DSL and any(role in DSL_TEAM for role in roles):
        raise StaffError(ONLY_THE_DSL)


def lock_school(session: Session, school_id: int) -> None:
    """One account change at a time per school: two administrators switching off the last
    two readers at once each saw the other still there (the second trial). An UPDATE of the
    school's row takes PostgreSQL's row lock, and SQLite's write lock, until the commit;
    what is read after it is what the other change committed."""
    session.execute(update(School).where(School.id == school_id).values(id=School.id)
                    .execution_options(synchronize_session=False))


def _readers(session: Session, school_id: int) -> list[User]:
    """The DSL-team accounts that read reports: switched on, and with a password, or with
    one being reset (they signed in before, and the link is in their mailbox)."""
    return list(session.scalars(select(User).where(
        User.school_id == school_id, User.is_active.is_(True), User.role.in_(DSL_TEAM),
        (User.password_hash != NO_PASSWORD) | User.totp_secret.is_not(None))))


def _keeps_a_reader(session: Session, user: User, what: str) -> None:
    """Reports are never left with nobody to read them (issue 18's trial, H2): no DSL-team
    account is switched off or moved out of the team unless another reader remains."""
    if user.role not in DSL_TEAM:
        return
    others = [r for r in _readers(session, user.school_id or 0) if r.id != user.id]
    if not others:
        raise StaffError(f"{user.name} is the only DSL or deputy DSL who can read reports at "
                         f"this school: make another DSL or deputy first, then {what}.")


def _tell_the_dsl_team(session: Session, user: User, actor: User, school: School,
                       how: str) -> None:
    """Someone new can read every report: the rest of the DSL team is told by email (who,
    which role, by whom; never a report's words)."""
    for address in dsl_addresses(session, school.id):
        if address in (actor.email, user.email):
            continue
        _queue(session, to=address, kind="dsl_team_changed", school_id=school.id,
               subject=f"A new member of the DSL team at {school.name}",
               body=(f"{user.name} ({user.email}) {how} {ROLE_LABELS[user.role]} at "
                     f"{school.name}, by {actor.name}. They can read every report.\n\n"
                     "If you did not expect this, check the staff accounts page and tell "
                     "your head teacher."))


def _link(session: Session, user: User, actor: User, base_url: str, school: School, *,
          reset: bool = False) -> str:
    """End the account's open links, make a new one and queue the email with it (for a new
    account, or ``reset``: a forgotten password)."""
    now = utcnow()
    for old in session.scalars(select(StaffInvite).where(StaffInvite.user_id == user.id,
                                                         StaffInvite.ended_at.is_(None))):
        old.ended_at = now
    token = secrets.token_urlsafe(32)
    expires = now + timedelta(hours=INVITE_HOURS)
    session.add(StaffInvite(user_id=user.id, token_hash=_hash(token), created_by_id=actor.id,
                            expires_at=expires))
    link = f"{base_url.rstrip('/')}/staff/invite/{token}"
    until = f"{expires:%d %b %Y %H:%M} UTC"
    if reset:
        subject = f"Set a new Tell Us password at {school.name}"
        body = (f"{actor.name} has reset your Tell Us password at {school.name}: the old "
                "one no longer works, and you were signed out everywhere.\n\n"
                f"Set a new password here (the link works once, until {until}):\n{link}\n\n"
                "Your authenticator app stays as it is: you sign in with the new password "
                "and a code from it.\n\nIf you did not ask for this, tell your school's "
                "office and your DSL.")
    else:
        subject = f"Your Tell Us account at {school.name}"
        body = (f"{actor.name} has made you a Tell Us account at {school.name} "
                f"({ROLE_LABELS[user.role]}).\n\n"
                f"Set your password here (the link works once, until {until}):\n{link}\n\n"
                "Then you will set up an authenticator app on your phone for the second "
                "step of signing in.\n\nIf you did not expect this, ignore this email "
                "and tell your school's office.")
    _queue(session, to=user.email, kind="staff_invite", school_id=school.id, subject=subject,
           body=body)
    session.add(Event.by(actor, Action.USER_INVITED, {
        "user_id": user.id, "role": user.role.value, "expires": expires.isoformat()},
        school_id=school.id))
    session.flush()
    return token


def invite(session: Session, school: School, *, actor: User, email: str, name: str,
           role: str, base_url: str) -> User:
    """A new account with a one-time link to set its password, sent by email."""
    address = email.strip().lower()
    if not accounts.EMAIL_ADDRESS.fullmatch(address) or _hidden(address):
        raise StaffError("Give their email address, like name@school.sch.uk.")
    if len(address) > 254:
        raise StaffError("That email address is too long.")
    chosen = _role(role)
    _may_touch_the_dsl_team(actor, chosen)
    lock_school(session, school.id)  # two invitations of one address or name at once
    display = " ".join(unicodedata.normalize("NFC", name).split())
    if not display:
        raise StaffError("Give the name colleagues know them by.")
    if len(display) > NAME_LIMIT:
        raise StaffError(f"Keep the name to {NAME_LIMIT} characters.")
    if _hidden(display) or not _folded(display).strip():
        raise StaffError("The name has invisible characters that change how text reads: type "
                         "it again without pasting it.")
    folded = _folded(display)
    twin = next((u for u in session.scalars(select(User).where(User.school_id == school.id))
                 if _folded(u.display_name) == folded), None)
    if twin is not None:
        raise StaffError(f"{twin.email} is called {twin.name} already: give a name colleagues "
                         f"can tell apart in the records, like \"{display} (Year 5)\".")
    try:
        address = accounts.check_new_email(session, address)
    except accounts.AccountExists:
        raise StaffError(f"There is an account for {address} already.") from None
    user = User(email=address, display_name=display, password_hash=NO_PASSWORD, role=chosen,
                school_id=school.id)
    session.add(user)
    session.flush()
    _link(session, user, actor, base_url, school)
    if chosen in DSL_TEAM:
        _tell_the_dsl_team(session, user, actor, school, "was invited as")
    return user


def send_again(session: Session, school: School, user: User, *, actor: User,
               base_url: str) -> None:
    """A new link for an account that has not set its password, or whose password was
    reset (the old link ends)."""
    if user.password_hash != NO_PASSWORD:
        raise StaffError(f"{user.name} has set a password already: reset their second step "
                         "instead if they are locked out.")
    if not user.is_active:
        raise StaffError(f"{user.name}'s account is switched off: switch it on first.")
    _link(session, user, actor, base_url, school, reset=bool(user.totp_secret))


def reset_password(session: Session, school: School, user: User, *, actor: User,
                   base_url: str) -> int:
    """A forgotten password (issue 18's trial, M8): the old one stops working now, their
    sessions end, and a one-time link to set a new one goes to their own email address
    (never to whoever pressed the button). The second step stays as it is."""
    _not_self(user, actor, "reset the password of")
    lock_school(session, user.school_id or 0)
    session.refresh(user)
    if not user.is_active:
        raise StaffError(f"{user.name}'s account is switched off: switch it on first.")
    if user.password_hash == NO_PASSWORD:
        raise StaffError(f"{user.name} has not set a password yet: send them a new link "
                         "instead.")
    user.password_hash = NO_PASSWORD
    ended = accounts.end_sessions(session, user)
    user.throttle_epoch += 1
    session.add(Event.by(actor, Action.USER_PASSWORD_RESET, {
        "user_id": user.id, "why": "a link to set a new one was sent to their email"},
        school_id=user.school_id))
    _link(session, user, actor, base_url, school, reset=True)
    return ended


def _not_self(user: User, actor: User, what: str) -> None:
    if user.id == actor.id:
        raise StaffError(f"You can't {what} your own account: ask another administrator "
                         "or the DSL.")


def change_role(session: Session, user: User, *, actor: User, role: str) -> None:
    _not_self(user, actor, "change the role of")
    lock_school(session, user.school_id or 0)
    session.refresh(user)
    chosen = _role(role)
    if chosen is user.role:
        raise StaffError(f"{user.name} is {ROLE_LABELS[chosen]} already: nothing changed.")
    _may_touch_the_dsl_team(actor, chosen, user.role)
    if chosen not in DSL_TEAM:
        _keeps_a_reader(session, user, "change their role")
    before = user.role
    user.role = chosen
    session.add(Event.by(actor, Action.USER_ROLE_CHANGED, {
        "user_id": user.id, "from": before.value, "to": chosen.value},
        school_id=user.school_id))
    if chosen in DSL_TEAM and before not in DSL_TEAM:
        school = session.get(School, user.school_id)
        if school is not None:
            _tell_the_dsl_team(session, user, actor, school, "was made")
    session.flush()


def disable(session: Session, user: User, *, actor: User) -> int:
    """Switch a leaver's account off: every session ends now, on every device, and any
    link stops working. Their records stay, with their name on what they did."""
    _not_self(user, actor, "switch off")
    lock_school(session, user.school_id or 0)
    session.refresh(user)
    if not user.is_active:
        raise StaffError(f"{user.name}'s account is switched off already.")
    _keeps_a_reader(session, user, "switch this account off")
    user.is_active = False
    ended = accounts.end_sessions(session, user)
    user.throttle_epoch += 1  # no browser keeps a sign-in budget for it
    now = utcnow()
    for link in session.scalars(select(StaffInvite).where(StaffInvite.user_id == user.id,
                                                          StaffInvite.ended_at.is_(None))):
        link.ended_at = now
    session.add(Event.by(actor, Action.USER_DISABLED, {
        "user_id": user.id, "sessions_ended": ended}, school_id=user.school_id))
    session.flush()
    return ended


def enable(session: Session, user: User, *, actor: User) -> None:
    if user.is_active:
        raise StaffError(f"{user.name}'s account is switched on already.")
    # Switching a DSL-team account on again gives back report access: the DSL decides
    _may_touch_the_dsl_team(actor, user.role)
    user.is_active = True
    session.add(Event.by(actor, Action.USER_ENABLED, {"user_id": user.id},
                         school_id=user.school_id))
    school = session.get(School, user.school_id) if user.role in DSL_TEAM else None
    if school is not None:
        _tell_the_dsl_team(session, user, actor, school, "was switched on again as")
    session.flush()


def reset_second_step(session: Session, user: User, *, actor: User) -> int:
    """A lost phone: forget the authenticator and end the sessions; they set one up again
    at their next sign-in."""
    _not_self(user, actor, "reset the second step of")
    if not user.totp_secret:
        raise StaffError(f"{user.name} has no second step set up: nothing to reset.")
    twofactor.reset(session, user)
    ended = accounts.end_sessions(session, user)
    user.throttle_epoch += 1
    session.add(Event.by(actor, Action.USER_2FA_RESET, {"user_id": user.id},
                         school_id=user.school_id))
    session.flush()
    return ended


# --- the link ---------------------------------------------------------------------------


def open_link(session: Session, token: str, now: datetime | None = None) -> StaffInvite | None:
    """The invite a link is for, while it can still be used; None otherwise."""
    if not token or len(token) > 100:
        return None
    row = session.scalar(select(StaffInvite).where(StaffInvite.token_hash == _hash(token)))
    moment = now or utcnow()
    if row is None or row.ended_at is not None or row.expires_at <= moment \
            or not row.user.is_active or row.user.password_hash != NO_PASSWORD:
        return None
    return row


def accept(session: Session, row: StaffInvite, password: str, repeat: str) -> User:
    """Set the password from the link (the policy's words when refused); the link ends."""
    if password != repeat:
        raise StaffError("The two passwords are not the same.")
    # The link ends here, once: of two sends racing each other (two tabs, a double click
    # on two app servers) only the one whose UPDATE finds the link still open sets the
    # password (issue 18's trial, M1)
    ended = session.execute(update(StaffInvite).where(
        StaffInvite.id == row.id, StaffInvite.ended_at.is_(None))
        .values(ended_at=utcnow()).execution_options(synchronize_session=False))
    if getattr(ended, "rowcount", 0) != 1:
        raise StaffError("This link has been used already: sign in with the password you "
                         "set, or ask for a new link.")
    user = row.user
    school = session.get(School, user.school_id) if user.school_id else None
    try:
        user.password_hash = hash_password(password, personal_words(
            user.email, user.display_name, school.name if school else ""))
    except WeakPassword as error:
        raise StaffError(str(error)) from None
    accounts.end_sessions(session, user)  # a new password: nothing signed in before stays
    user.throttle_epoch += 1
    session.add(Event.new(Action.USER_INVITE_ACCEPTED, {"user_id": user.id},
                          school_id=user.school_id, actor_id=user.id))
    session.flush()
    return user


def signed_in_with_school_account(session: Session, user: User) -> None:
    """An invited account whose owner signed in with the school's sign-in service
    (portal.auth.views_sso) instead of setting a password from the link: the account is
    set up (it is told of reports as the DSL team's, and counts as a reader), it has no
    password (``SSO_ONLY`` matches none), and its open link ends."""
    if user.password_hash != NO_PASSWORD or user.last_login_at is not None:
        return  # a password of its own, or one being reset (they signed in before): as it is
    user.password_hash = SSO_ONLY
    now = utcnow()
    for link in session.scalars(select(StaffInvite).where(StaffInvite.user_id == user.id,
                                                          StaffInvite.ended_at.is_(None))):
        link.ended_at = now


__all__ = ["INVITE_HOURS", "NO_PASSWORD", "ONLY_THE_DSL", "SCHOOL_ROLES", "SSO_ONLY", "NotFound",
           "Row", "StaffError", "accept", "signed_in_with_school_account",
           "change_role", "disable", "enable", "invite", "listing", "of_school", "open_link",
           "reset_password", "reset_second_step", "send_again"]
