"""Working one case together across two schools of a trust (issue 16; anti-bullying policy:
"the DSL will collaborate with other schools" when bullying crosses schools). No Flask here.

- The owning school's DSL team shares a case with another school of the same trust, saying
  why and what they ask of them, and choosing what is shared beyond the summary: the
  reporter's own words, the names and roles of the people involved. One share per school
  at a time.
- The other school's DSL team reads what was shared (``shared_view``), never the reporter's
  name, class or contact details, the messages, the evidence, the notes or the chronology,
  and records its own actions on the share. Both schools read both schools' actions.
- Either school ends the share with a reason; the other school then reads only its own
  actions and the end. Every step is an audit event at each school it concerns: on the case
  at the owning school, on the share at the other (which has no case).
- The case stays the owning school's: its queue, figures and retention. The partner's queue,
  figures and searches never see it; the share goes with the case when the owning school's
  retention rule deletes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..events import Action
from ..models import (
    PARTY_KIND_LABELS,
    CaseShare,
    Event,
    Report,
    School,
    SharedAction,
    User,
    utcnow,
)
from ..models.pupil import LinkRole
from ..notifications import _queue, dsl_addresses
from ..vocabulary import (
    CATEGORY_LABELS,
    KIND_LABELS,
    PLACE_LABELS,
    SOURCE_LABELS,
    STATUS_LABELS,
    WHEN_LABELS,
    Source,
)
from . import dates, parties, transfer
from .acknowledge import InvalidTransition, acknowledge

NOTE_LIMIT = 1_000
ACTION_LIMIT = 2_000


class ShareNotFound(LookupError):
    """No such share for this school (another school's id, or none at all)."""


# The other schools of the trust a case can be shared with: those a child's record can go to
destinations = transfer.destinations


def _words(text: str, *, limit: int, what: str) -> str:
    value = text.strip()
    if not value:
        raise InvalidTransition(f"Write {what}.")
    if len(value) > limit:
        raise InvalidTransition(f"Keep {what} to {limit:,} characters.")
    return value


def share(session: Session, report: Report, *, actor: User, to_school_id: int, note: str,
          with_words: bool, with_people: bool) -> CaseShare:
    """Share the case with another school of the trust (refused in words for any other
    school, the school itself, or a school it is shared with already)."""
    school = session.get(School, report.school_id)
    if school is None or actor.school_id != school.id:
        raise InvalidTransition("Only the case's own school can share it.")
    target = next((s for s in destinations(session, school) if s.id == to_school_id), None)
    if target is None:
        raise InvalidTransition("Choose another school of your trust to work on this case "
                                "with.")
    reason = _words(note, limit=NOTE_LIMIT, what="why you are sharing it and what you ask "
                                              "of them")
    if any(s.active and s.to_school_id == target.id for s in report.shares):
        raise InvalidTransition(f"This case is shared with {target.name} already. End that "
                                "share first to share it again with other choices.")
    row = CaseShare(report_id=report.id, from_school_id=school.id, to_school_id=target.id,
                    with_words=with_words, with_people=with_people, note=reason,
                    shared_by_id=actor.id)
    session.add(row)
    session.flush()
    session.add(Event.by(actor, Action.CASE_SHARED, {
        "share_id": row.id, "to_school": target.name, "with_words": with_words,
        "with_people": with_people}, school_id=school.id, report_id=report.id))
    session.add(Event.by(actor, Action.SHARE_RECEIVED, {
        "share_id": row.id, "from_school": school.name}, school_id=target.id))
    _tell_partner(session, row, school, target)
    session.expire(report, ["shares"])
    acknowledge(session, report, actor=actor)
    return row


def get(session: Session, share_id: int, *, actor: User) -> CaseShare:
    """A share the actor's school is one of the two schools of; ShareNotFound otherwise."""
    row = session.get(CaseShare, share_id)
    if row is None or actor.school_id not in (row.from_school_id, row.to_school_id):
        raise ShareNotFound("No such shared case.")
    return row


def _name(session: Session, school_id: int) -> str:
    school = session.get(School, school_id)
    return school.name if school else ""


def _tell_partner(session: Session, row: CaseShare, school: School, target: School) -> None:
    """An email to the other school's DSL team: that a case waits for them, and where.
    Nothing of the case is in it (no child, no words), only the two schools' names."""
    base = (session.info.get("portal.base_url") or "").rstrip("/")
    for address in dsl_addresses(session, target.id):
        _queue(session, to=address, kind="case_shared", school_id=target.id,
               subject=f"{school.name} has shared a case with you",
               body=(f"{school.name}'s DSL has shared a case with {target.name} to work on "
                     "together, and says what they ask of you.\n\n"
                     f"Sign in to read it: {base}/staff/shares/{row.id}\n"))


def in_one_trust(session: Session, row: CaseShare) -> bool:
    """Whether the two schools are still in one trust (a school that leaves the trust
    reads nothing more of the other's case)."""
    owner, partner = session.get(School, row.from_school_id), session.get(School,
                                                                          row.to_school_id)
    return owner is not None and partner is not None and owner.trust_id is not None \
        and owner.trust_id == partner.trust_id


def _events(session: Session, row: CaseShare, actor: User, action: Action,
            payload: dict[str, object]) -> None:
    """The same step recorded at both schools: on the case at the owning school, on the
    share at the other."""
    if row.report_id is not None:
        session.add(Event.by(actor, action, payload, school_id=row.from_school_id,
                             report_id=row.report_id))
    session.add(Event.by(actor, action, payload, school_id=row.to_school_id))


def add_action(session: Session, row: CaseShare, *, actor: User, done_on: date, what: str,
               today: date) -> SharedAction:
    """An action the actor's school took, recorded on the share for both schools to read."""
    if actor.school_id not in (row.from_school_id, row.to_school_id):
        raise ShareNotFound("No such shared case.")
    if not row.active:
        raise InvalidTransition("This share has ended: record what you do on your own "
                                "records now.")
    if not in_one_trust(session, row):
        raise InvalidTransition("The two schools are no longer in one trust: the share "
                                "can only be ended now.")
    words = _words(what, limit=ACTION_LIMIT, what="what was done")
    if done_on > today:
        raise InvalidTransition("The day it was done can't be in the future.")
    problem = dates.out_of_range(done_on, "it was done", today)
    if problem:
        raise InvalidTransition(problem)
    report = session.get(Report, row.report_id) if row.report_id is not None else None
    if report is not None and done_on < report.created_at.date() - timedelta(days=1):
        raise InvalidTransition(f"The day it was done is before the report was made "
                                f"({report.created_at:%d %b %Y}): check the date.")
    if any((a.school_id, a.done_on, a.what) == (actor.school_id, done_on, words)
           for a in row.actions):
        raise InvalidTransition("That action is recorded already: nothing new was added.")
    action = SharedAction(share_id=row.id, school_id=actor.school_id or 0, done_on=done_on,
                          what=words, added_by_id=actor.id)
    session.add(action)
    session.flush()
    payload = {"share_id": row.id, "action_id": action.id, "done_on": done_on.isoformat()}
    if actor.school_id == row.from_school_id:
        session.add(Event.by(actor, Action.SHARE_ACTION_ADDED, payload,
                             school_id=row.from_school_id, report_id=row.report_id))
        if report is not None:
            acknowledge(session, report, actor=actor)
    else:  # on the case too: the owning school's chronology shows the partner's work
        _events(session, row, actor, Action.SHARE_ACTION_ADDED, payload)
    session.expire(row, ["actions"])
    return action


def end(session: Session, row: CaseShare, *, actor: User, reason: str) -> None:
    """End the share (either school), with a reason; recorded at both schools."""
    if actor.school_id not in (row.from_school_id, row.to_school_id):
        raise ShareNotFound("No such shared case.")
    if not row.active:
        raise InvalidTransition("This share has ended already.")
    why = _words(reason, limit=NOTE_LIMIT, what="why the share ends")
    row.ended_at = utcnow()
    row.ended_by_id = actor.id
    row.end_reason = why
    _events(session, row, actor, Action.SHARE_ENDED, {
        "share_id": row.id, "ended_by_school": _name(session, actor.school_id or 0),
        "reason": why})


def record_view(session: Session, row: CaseShare, *, actor: User) -> None:
    """The partner school reading the shared case: an event in its own audit trail, and on
    the case at the owning school (who read the reporter's words is the owner's to know)."""
    payload = {"share_id": row.id, "from_school": _name(session, row.from_school_id)}
    if row.report_id is not None:
        session.add(Event.by(actor, Action.SHARE_VIEWED, payload,
                             school_id=row.from_school_id, report_id=row.report_id))
    session.add(Event.by(actor, Action.SHARE_VIEWED, payload, school_id=row.to_school_id))


def for_case(session: Session, report: Report) -> list[CaseShare]:
    """The case's shares, oldest first, with their actions and people: a fixed number of
    queries however many shares and actions (the case page's budget)."""
    return list(session.scalars(
        select(CaseShare).where(CaseShare.report_id == report.id)
        .options(selectinload(CaseShare.actions).selectinload(SharedAction.added_by),
                 selectinload(CaseShare.shared_by), selectinload(CaseShare.ended_by))
        .order_by(CaseShare.shared_at, CaseShare.id)))


def received(session: Session, school_id: int) -> list[CaseShare]:
    """The cases other schools of the trust share with this one, active first, newest
    first."""
    rows = list(session.scalars(select(CaseShare).where(CaseShare.to_school_id == school_id)
                                .options(selectinload(CaseShare.shared_by))
                                .order_by(CaseShare.shared_at.desc(), CaseShare.id.desc())))
    return sorted(rows, key=lambda r: not r.active)


def sent(session: Session, school_id: int) -> list[CaseShare]:
    """The cases this school shares with others, active first, newest first."""
    rows = list(session.scalars(select(CaseShare).where(CaseShare.from_school_id == school_id)
                                .options(selectinload(CaseShare.shared_by))
                                .order_by(CaseShare.shared_at.desc(), CaseShare.id.desc())))
    return sorted(rows, key=lambda r: not r.active)


def end_with_the_case(session: Session, report: Report) -> None:
    """The owning school's retention deletes the case: each share ends (said at the other
    school, in its own trail), the owning school's actions go with the case, and the other
    school keeps its own actions, as its own record."""
    now = utcnow()
    owner = _name(session, report.school_id)
    for row in list(session.scalars(select(CaseShare).where(
            CaseShare.report_id == report.id))):
        for action in list(row.actions):
            if action.school_id == row.from_school_id:
                session.delete(action)
        if row.active:
            row.ended_at = now
            row.end_reason = f"The case reached the end of {owner}'s retention period."
            session.add(Event.new(Action.SHARE_ENDED, {
                "share_id": row.id, "ended_by_school": owner, "reason": row.end_reason},
                school_id=row.to_school_id))
        row.report_id = None
    session.flush()


UNNAMED = "Not named: they, or their family, may be who reported it"


def may_be_the_reporter(report: Report) -> frozenset[LinkRole]:
    """The roles whose names could tell the other school who reported it: the child it
    happened to, when they said "it's happening to me" or their parent reported it; a
    witness, when a pupil saw it happen; both, for a concern a member of staff was told
    about by a pupil."""
    if report.source is Source.PARENT:
        return frozenset({LinkRole.TARGET})
    if report.source is Source.STAFF:
        return frozenset({LinkRole.TARGET, LinkRole.WITNESS})
    return frozenset({LinkRole.TARGET}) if report.about == "me" \
        else frozenset({LinkRole.WITNESS})


@dataclass(frozen=True)
class Person:
    label: str
    kind: str
    role: str


@dataclass(frozen=True)
class SharedCase:
    """What the other school reads of the case: the summary always; the reporter's words
    and the people involved only when the owning school chose to share them. Never who
    reported it or how to reach them."""

    reference: str
    received: object
    source: str
    kinds: list[str]
    when: str
    places: list[str]
    decision: str
    status: str
    words: str | None
    people_involved: str | None
    people: list[Person] | None


def shared_view(session: Session, row: CaseShare) -> SharedCase | None:
    """The shared case as the other school reads it (None once the share has ended)."""
    report = session.get(Report, row.report_id) if row.report_id is not None else None
    if report is None or not row.active or not in_one_trust(session, row):
        return None
    school = session.get(School, row.from_school_id)
    people = None
    if row.with_people:
        where = school.name if school else "the school"
        unnamed = may_be_the_reporter(report)
        people = [Person(label=p.label, role=p.role_words,
                         kind=f"Pupil at {where}, {p.pupil.year_group}" if p.pupil
                         else PARTY_KIND_LABELS[p.party_kind])
                  if p.role not in unnamed else
                  Person(label=UNNAMED, role=p.role_words, kind="")
                  for p in parties.parties(session, report)]
    return SharedCase(
        reference=f"{school.name if school else ''} case {report.id}",
        received=report.created_at, source=SOURCE_LABELS[report.source],
        kinds=[KIND_LABELS.get(k, k) for k in report.kind_values],
        when=WHEN_LABELS.get(report.when, "") if report.when else "",
        places=[PLACE_LABELS.get(p, p) for p in (report.places or [])],
        decision=CATEGORY_LABELS[report.category], status=STATUS_LABELS[report.status],
        words=(report.body or "") if row.with_words else None,
        people_involved=(report.people_involved or "") if row.with_words else None,
        people=people)


__all__ = ["ACTION_LIMIT", "NOTE_LIMIT", "Person", "ShareNotFound", "SharedCase",
           "add_action", "destinations", "end", "end_with_the_case", "for_case", "get",
           "in_one_trust", "may_be_the_reporter", "received", "record_view",
           "sent", "share", "shared_view"]
