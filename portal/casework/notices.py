"""Notices to the people around a case: the school contacts that the cyber-bullying
policy's steps ask to be informed (4.4, 4.9, 5.4, 5.8), and the trusted adult a pupil
chose to talk to. No Flask here.

Every email says only the school, the case number, why they are told and who is telling
them: never what was reported, never a child's name. Each send is a ``Notice`` row, an
outbox email and an audit event, in the same transaction as the rest of the request.

Sending twice: a form carries, for each person, how many times the notice had gone to
them when the page was drawn (its ``seen`` count). The same press arriving again (Reload
re-sending the form, a double click, a second tab drawn before the first send) finds that
count out of date and sends nothing; the DSL who wants to send again on purpose does so
from the page as it is now, which offers "Send again". Two presses at the same moment
both want the same round; the unique key on ``notices`` lets one of them have it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from .. import checklists, notifications
from ..events import Action
from ..forms import EMAIL
from ..models import (
    CONTACT_ROLE_LABELS,
    DSL_TEAM,
    ChecklistItem,
    ContactRole,
    Event,
    ItemState,
    Notice,
    NoticeKind,
    Report,
    ReportAdult,
    Role,
    School,
    SchoolContact,
    TrustedAdult,
    User,
    utcnow,
)
from ..triage import operations as ops
from ..triage.times import uk_date

# The policy steps that ask the school to inform someone, and whom (by role code).
# Cyber-bullying policy 4.4 "Inform Principal and Senior Management team", 4.9 "Inform
# the LA/MAT eSafety officer", 5.4 "Inform Principal and Senior Leadership Team", 5.8
# "Inform MAT eSafety officer".
NOTICE_STEPS: Mapping[str, tuple[ContactRole, ...]] = {
    "cyber-4.4": (ContactRole.PRINCIPAL, ContactRole.SLT),
    "cyber-4.9": (ContactRole.LA_ESAFETY, ContactRole.MAT_ESAFETY),
    "cyber-5.4": (ContactRole.PRINCIPAL, ContactRole.SLT),
    "cyber-5.8": (ContactRole.MAT_ESAFETY,),
}
ADULT_STEP = "adult"
NAME_LIMIT = 120
EMAIL_LIMIT = 254
# Who may be linked to a trusted adult: people who work with pupils.
ADULT_ACCOUNT_ROLES = frozenset({Role.STAFF, *DSL_TEAM})


class ContactError(ValueError):
    """A school contact that can't be saved as given, in plain words."""


class NoticeRefused(ops.InvalidTransition):
    """A notice the rules don't allow (wrong step, wrong person), in plain words."""


def roles_words(step: str) -> str:
    """"the Principal or senior leadership team": whom a step asks to be informed."""
    return " or ".join(CONTACT_ROLE_LABELS[r] for r in NOTICE_STEPS[step])


# --- The school's contacts --------------------------------------------------------------


def _contact_values(name: str, role: str, email: str) -> tuple[str, str, str]:
    name, email = name.strip(), email.strip()
    if not name:
        raise ContactError("Enter the contact's name.")
    if len(name) > NAME_LIMIT:
        raise ContactError(f"Keep the name to {NAME_LIMIT} characters.")
    if role not in {r.value for r in ContactRole}:
        raise ContactError("Choose the contact's role.")
    if len(email) > EMAIL_LIMIT or not EMAIL.match(email):
        raise ContactError("Enter an email address like name@school.example.")
    return name, role, email


def add_contact(session: Session, school: School, *, actor: User, name: str, role: str,
                email: str) -> SchoolContact:
    """Keep someone the policy steps ask the school to inform."""
    name, role, email = _contact_values(name, role, email)
    contact = SchoolContact(school_id=school.id, name=name, role=role, email=email)
    session.add(contact)
    session.flush()
    session.add(Event.by(actor, Action.CONTACT_ADDED, {"contact_id": contact.id, "role": role},
                         school_id=school.id))
    session.flush()
    return contact


def edit_contact(session: Session, contact: SchoolContact, *, actor: User, name: str,
                 role: str, email: str) -> list[str]:
    """Correct a contact's name, role or address; returns the fields changed."""
    values = dict(zip(("name", "role", "email"), _contact_values(name, role, email),
                      strict=True))
    changed = [field for field, value in values.items() if getattr(contact, field) != value]
    if not changed:
        raise ContactError("Nothing has changed.")
    for field in changed:
        setattr(contact, field, values[field])
    session.add(Event.by(actor, Action.CONTACT_EDITED,
                         {"contact_id": contact.id, "fields": changed},
                         school_id=contact.school_id))
    session.flush()
    return changed


def set_contact_active(session: Session, contact: SchoolContact, *, actor: User,
                       active: bool) -> None:
    """Stop offering a contact (kept: notices already sent name them), or offer them again."""
    if contact.active == active:
        raise ContactError("The contact is already " + ("in use." if active else "not in use."))
    contact.active = active
    session.add(Event.by(actor, Action.CONTACT_REACTIVATED if active
                         else Action.CONTACT_DEACTIVATED, {"contact_id": contact.id},
                         school_id=contact.school_id))
    session.flush()


def contacts(session: Session, school_id: int, *, active_only: bool = False,
             rows: Iterable[SchoolContact] | None = None) -> list[SchoolContact]:
    """The school's contacts, in use first (from ``rows``, the school's, when the caller
    has them)."""
    query = select(SchoolContact).where(SchoolContact.school_id == school_id)
    found = session.scalars(query) if rows is None else rows
    return sorted((c for c in found if c.school_id == school_id and (c.active or not active_only)),
                  key=lambda c: (not c.active, c.role, c.name.lower()))


# --- Trusted adults' accounts -------------------------------------------------------------


def adult_accounts(session: Session, school_id: int) -> list[User]:
    """The accounts a trusted adult can be linked to: the school's active staff."""
    return list(session.scalars(
        select(User).where(User.school_id == school_id, User.is_active.is_(True),
                           User.role.in_(ADULT_ACCOUNT_ROLES))
        .order_by(User.display_name, User.email)))


def link_adult_account(session: Session, adult: TrustedAdult, *, actor: User,
                       user: User | None) -> None:
    """Say which staff account is this trusted adult's (or none)."""
    if user is not None and (user.school_id != adult.school_id or not user.is_active
                             or user.role not in ADULT_ACCOUNT_ROLES):
        raise ContactError("Choose a member of staff of this school.")
    new = user.id if user else None
    if new == adult.user_id:
        raise ContactError("That is already the adult's account.")
    old = adult.user_id
    adult.user_id = new
    session.add(Event.by(actor, Action.ADULT_ACCOUNT_LINKED,
                         {"adult_id": adult.id, "from": old, "to": new},
                         school_id=adult.school_id))
    session.flush()


# --- Sending ------------------------------------------------------------------------------


def _count(session: Session, report: Report, kind: NoticeKind, step: str,
           person_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Notice).where(
        Notice.report_id == report.id, Notice.kind == kind.value, Notice.step == step,
        Notice.person_id == person_id)) or 0


def sent_counts(session: Session, report: Report) -> dict[tuple[str, int], int]:
    """How many times each notice went: (step, person id) → sends, for the forms' ``seen``."""
    rows = session.execute(
        select(Notice.step, Notice.person_id, func.count())
        .where(Notice.report_id == report.id,
               Notice.kind.in_([NoticeKind.CONTACT.value, NoticeKind.ADULT.value]))
        .group_by(Notice.step, Notice.person_id))
    return {(step, person): count for step, person, count in rows}


def _take(session: Session, report: Report, *, actor: User, kind: NoticeKind, step: str,
          person_id: int, seen: int) -> bool:
    """Claim the next round of this notice if the page was up to date; False: already sent."""
    if _count(session, report, kind, step, person_id) != seen:
        return False
    try:
        with session.begin_nested():
            session.add(Notice(report_id=report.id, kind=kind.value, step=step,
                               person_id=person_id, round=seen + 1, sent_by_id=actor.id,
                               sent_at=utcnow()))
            session.flush()
    except IntegrityError:
        return False  # another press of the same form had it a moment before
    return True


@dataclass(frozen=True)
class Sent:
    """What a press of "Send notice" did: whom it told, and whom it had told already."""

    told: list[SchoolContact]
    already: list[SchoolContact]


def notice_item(report: Report, step: str) -> ChecklistItem:
    """The case's checklist step that asks for this notice, or NoticeRefused."""
    if step not in NOTICE_STEPS:
        raise NoticeRefused("That step does not ask for anyone to be informed.")
    for item in report.checklist_items:
        if item.key == step:
            return item
    raise NoticeRefused("This case does not have that step.")


def send_step_notice(session: Session, report: Report, *, actor: User, step: str,
                     to: Sequence[SchoolContact], seen: Mapping[int, int], mark_done: bool,
                     base_url: str) -> Sent:
    """Email the chosen contacts that the policy step asks them to be informed of this case
    ("Inform Principal and Senior Management team", cyber-bullying policy 4.4, and 4.9,
    5.4, 5.8); with ``mark_done``, the step is marked done with "Told NAME by email on
    DATE" (unless it is done already). ``seen``: each contact's sends when the page was
    drawn."""
    item = notice_item(report, step)
    if not to:
        raise ops.ReasonRequired(f"Choose who to tell ({roles_words(step)}).")
    allowed = {r.value for r in NOTICE_STEPS[step]}
    for contact in to:
        if contact.school_id != report.school_id:
            raise NoticeRefused("Choose from the school's contacts.")
        if contact.role not in allowed:
            raise NoticeRefused(f"This step asks to inform the {roles_words(step)}: "
                                f"{contact.name} is the "
                                f"{CONTACT_ROLE_LABELS[ContactRole(contact.role)]}.")
        if not contact.active:
            raise NoticeRefused(f"{contact.name} is no longer one of the school's contacts.")
    school = session.get(School, report.school_id)
    school_name = school.name if school else "the school"
    told: list[SchoolContact] = []
    already: list[SchoolContact] = []
    for contact in dict.fromkeys(to):
        if not _take(session, report, actor=actor, kind=NoticeKind.CONTACT, step=step,
                     person_id=contact.id, seen=seen.get(contact.id, 0)):
            already.append(contact)
            continue
        told.append(contact)
        words = checklists.step_words(step)
        clause = step.removeprefix("cyber-")
        body = (f"{actor.name} at {school_name} is letting you know about case number "
                f"{report.id} in Tell Us, the school's reporting portal.\n\n"
                f"The school's cyber-bullying policy asks that you are informed (step "
                f"{clause}: {words}).\n\n"
                f"Sign in to see the case, if your account allows it: "
                f"{base_url.rstrip('/')}/staff/cases/{report.id}\n"
                f"Otherwise, please speak to {actor.name}.\n\n"
                "This email never contains what was reported or the names of the children "
                "involved.\n")
        notifications._queue(session, to=contact.email,
                             subject=f"Case {report.id} at {school_name}: you are informed",
                             body=body, kind="step_notice", school_id=report.school_id)
        session.add(Event.by(actor, Action.NOTICE_SENT,
                             {"contact_id": contact.id, "step": step, "role": contact.role},
                             school_id=report.school_id, report_id=report.id))
    if told and mark_done and item.state != ItemState.DONE:
        names = ", ".join(c.name for c in told)
        ops.update_step(session, item, actor=actor, state=ItemState.DONE,
                        note=f"Told {names} by email on {uk_date(utcnow())}")
    ops.acknowledge(session, report, actor=actor)  # the first action acknowledges
    return Sent(told, already)


# --- The trusted adult the pupil asked for -------------------------------------------------


def chosen_adult(session: Session, report: Report,
                 adults: Sequence[TrustedAdult] | None = None) -> TrustedAdult | None:
    """The trusted adult the pupil chose: by id since reports keep it (``report_adults``);
    for an older report, the school's one adult of the name it kept, if there is one
    (``adults``: the school's, when the caller has them)."""
    row = session.get(ReportAdult, report.id)
    if row is not None:
        adult = session.get(TrustedAdult, row.adult_id)
        return adult if adult is not None and adult.school_id == report.school_id else None
    if not report.preferred_adult:
        return None
    school = session.scalars(select(TrustedAdult).where(
        TrustedAdult.school_id == report.school_id)) if adults is None else adults
    named = [a for a in school
             if a.school_id == report.school_id and a.name == report.preferred_adult]
    return named[0] if len(named) == 1 else None


def adult_account(session: Session, adult: TrustedAdult | None) -> User | None:
    """The chosen adult's staff account, if they have one that can be told."""
    if adult is None or adult.user_id is None:
        return None
    user = session.get(User, adult.user_id)
    if user is None or not user.is_active or user.school_id != adult.school_id:
        return None
    return user


def tell_adult(session: Session, report: Report, *, actor: User, seen: int) -> bool:
    """Tell the adult the pupil chose that a pupil asked to talk to them, and to see the DSL
    first; never who or why. Returns False when this page's press had been sent already.

    The DSL presses it; it is never automatic. The policy offers "an immediate
    opportunity to discuss the experience with ... a member of staff of their choice",
    but the adult a child names could be the one the report is about, and only the DSL,
    having read it, can tell."""
    adult = chosen_adult(session, report)
    user = adult_account(session, adult)
    if adult is None or user is None:
        raise NoticeRefused("The adult the pupil chose has no staff account to tell.")
    if not _take(session, report, actor=actor, kind=NoticeKind.ADULT, step=ADULT_STEP,
                 person_id=adult.id, seen=seen):
        return False
    school = session.get(School, report.school_id)
    school_name = school.name if school else "the school"
    body = (f"A pupil at {school_name} has asked to talk to you.\n\n"
            f"Please see {actor.name} (safeguarding) before you speak to the pupil: they "
            "will tell you who it is and what you need to know.\n\n"
            "This email never says who the pupil is or what they reported.\n")
    notifications._queue(session, to=user.email, subject="A pupil has asked to talk to you",
                         body=body, kind="adult_told", school_id=report.school_id)
    session.add(Event.by(actor, Action.ADULT_TOLD, {"adult_id": adult.id, "user_id": user.id},
                         school_id=report.school_id, report_id=report.id))
    ops.acknowledge(session, report, actor=actor)  # the first action acknowledges
    return True


# --- What the case page lists ---------------------------------------------------------------


@dataclass(frozen=True)
class SentLine:
    """One notice in the case's "Notices sent" list."""

    to: str
    why: str
    by: str
    at: datetime


def sent_list(session: Session, report: Report, *,
              school_contacts: Iterable[SchoolContact] | None = None,
              adults: Iterable[TrustedAdult] | None = None) -> list[SentLine]:
    """Every notice sent about the case to a contact or the chosen adult, oldest first
    (``school_contacts`` and ``adults``: the school's, when the caller has them)."""
    rows = list(session.scalars(
        select(Notice).where(Notice.report_id == report.id,
                             Notice.kind.in_([NoticeKind.CONTACT.value,
                                              NoticeKind.ADULT.value]))
        .order_by(Notice.sent_at, Notice.id)))
    if school_contacts is None:
        school_contacts = session.scalars(select(SchoolContact).where(
            SchoolContact.school_id == report.school_id))
    if adults is None:
        adults = session.scalars(select(TrustedAdult).where(
            TrustedAdult.school_id == report.school_id))
    people = {c.id: c for c in school_contacts if c.school_id == report.school_id}
    chosen = {a.id: a for a in adults if a.school_id == report.school_id}
    lines = []
    for row in rows:
        by = row.sent_by.name if row.sent_by else "Tell Us"
        if row.kind == NoticeKind.CONTACT.value:
            contact = people.get(row.person_id)
            who = (f"{contact.name} ({CONTACT_ROLE_LABELS[ContactRole(contact.role)]})"
                   if contact else "a former contact")
            lines.append(SentLine(who, checklists.step_words(row.step), by, row.sent_at))
        else:
            adult = chosen.get(row.person_id)
            lines.append(SentLine(adult.name if adult else "the adult the pupil chose",
                                  "The pupil asked to talk to them", by, row.sent_at))
    return lines


def notice_items(report: Report) -> list[ChecklistItem]:
    """The case's steps that ask for a notice, in checklist order."""
    return [item for item in report.checklist_items if item.key in NOTICE_STEPS]


# --- The notices addressed to the Principal (the head's page) ----------------------------------

# Whom cyber-bullying policy 4.4 "Inform Principal and Senior Management team" and 5.4
# "Inform Principal and Senior Leadership Team" address: the head teacher / SLT.
PRINCIPAL_ROLES = (ContactRole.PRINCIPAL, ContactRole.SLT)
PRINCIPAL_STEPS = tuple(step for step, roles in NOTICE_STEPS.items()
                        if set(roles) & set(PRINCIPAL_ROLES))
PRINCIPAL_PAGE = 100


@dataclass(frozen=True)
class PrincipalLine:
    """One notice sent to the Principal or SLT: when, under which step, about which case
    number, by whom, to which role. Never what was reported nor a child's name."""

    at: datetime
    step: str
    words: str
    report_id: int
    by: str
    to: str

    @property
    def clause(self) -> str:
        """The policy's clause number: "4.4" for "cyber-4.4"."""
        return self.step.removeprefix("cyber-")


@dataclass(frozen=True)
class PrincipalNotices:
    """A page of the school's notices to the Principal/SLT, newest first."""

    lines: list[PrincipalLine]
    page: int
    older: bool  # there are older notices on the next page


def principal_notices(session: Session, school_id: int, *, page: int = 1,
                      per_page: int = PRINCIPAL_PAGE) -> PrincipalNotices:
    """The notices the school sent under the steps addressed to the Principal/SLT
    (cyber-bullying policy 4.4 and 5.4), newest first, ``per_page`` at a time. One query,
    whatever the page holds; it reads only the notice, the case number, the sender's name
    and the contact's role (never a report's text)."""
    sender = aliased(User)
    page = max(page, 1)
    rows = session.execute(
        select(Notice.sent_at, Notice.step, Notice.report_id, sender.display_name,
               sender.email, SchoolContact.role)
        .join(Report, Report.id == Notice.report_id)
        .join(SchoolContact, SchoolContact.id == Notice.person_id)
        .outerjoin(sender, sender.id == Notice.sent_by_id)
        # Only this school's: the report's school and the contact's (SECURITY P8).
        .where(Report.school_id == school_id, SchoolContact.school_id == school_id,
               Notice.kind == NoticeKind.CONTACT.value, Notice.step.in_(PRINCIPAL_STEPS),
               SchoolContact.role.in_([r.value for r in PRINCIPAL_ROLES]))
        .order_by(Notice.sent_at.desc(), Notice.id.desc())
        .offset((page - 1) * per_page).limit(per_page + 1)).all()
    lines = [PrincipalLine(at=at, step=step, words=checklists.step_words(step),
                           report_id=report_id, by=(name or email) if email else "Tell Us",
                           to=CONTACT_ROLE_LABELS[ContactRole(role)])
             for at, step, report_id, name, email, role in rows[:per_page]]
    return PrincipalNotices(lines, page, older=len(rows) > per_page)


def eligible(all_contacts: Iterable[SchoolContact], step: str) -> list[SchoolContact]:
    allowed = {r.value for r in NOTICE_STEPS[step]}
    return [c for c in all_contacts if c.active and c.role in allowed]


__all__ = ["ADULT_STEP", "NOTICE_STEPS", "PRINCIPAL_STEPS", "ContactError", "NoticeRefused",
           "PrincipalLine", "PrincipalNotices", "Sent", "SentLine", "add_contact",
           "adult_account", "chosen_adult", "edit_contact", "link_adult_account",
           "principal_notices", "send_step_notice", "sent_counts", "sent_list",
           "set_contact_active", "tell_adult"]
