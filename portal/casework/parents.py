"""Parents and carers kept informed at all stages, per party. No Flask here.

Anti-bullying policy: "The school will ensure parents/carers are kept informed about the
concern and action taken"; "Keep them informed at all stages"; "Inviting parents/carers
into school to form part of the discussions around reoccurring incidents"; and for a
perpetrator, "Informing parents/carers to help change the attitude and behaviour of the
child".

A party is a row of ``report_pupils`` (its id is the party id). Each rule takes the
session and the actor, refuses in plain words (``ParentsError``, ``PartyNotFound``),
writes its audit event, acknowledges the case if it is the first action on it, and
flushes, never commits. Nothing here is ever deleted: a correction of what parents were
told is a new record naming the one it corrects.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..events import Action
from ..models import (
    DSL_TEAM,
    Event,
    MeetingParty,
    MeetingState,
    ParentContact,
    ParentMeeting,
    ParentsTold,
    Pupil,
    Report,
    ReportPupil,
    ToldHow,
    User,
)
from .acknowledge import InvalidTransition, acknowledge
from .dates import out_of_range

TEXT_LIMIT = 4000
NAME_LIMIT = 160
# How an invitation to a meeting can go (a meeting is not a way to invite to one).
INVITE_HOW = tuple(h for h in ToldHow if h != ToldHow.MEETING)
RECURRING_PROMPT = ("Inviting parents/carers into school to form part of the discussions "
                    "around reoccurring incidents")


class ParentsError(InvalidTransition):
    """A record about parents the rules refuse, with the reason in plain words."""


class AlreadyRecorded(ParentsError):
    """The same record sent again (a double tap, a form sent twice): nothing new is added."""


AGAIN = ("That was recorded already: the same form was sent twice. Nothing new was added; "
         "it is in the list above.")


class PartyNotFound(ParentsError):
    """A party id that is not a roster child of this case (another report's, unlinked)."""


def _text(value: str, what: str, limit: int = TEXT_LIMIT, *, needed: bool = False) -> str:
    text = (value or "").strip()
    if needed and not text:
        raise ParentsError(f"Write {what}.")
    if len(text) > limit:
        raise ParentsError(f"Keep {what} to {limit} characters or fewer.")
    return text


def _not_future(day: date, what: str) -> date:
    if day > date.today():
        raise ParentsError(f"The date {what} can't be in the future.")
    return _in_range(day, what)


def _in_range(day: date, what: str) -> date:
    problem = out_of_range(day, what)
    if problem:
        raise ParentsError(problem)
    return day


def party_of(session: Session, report: Report, party_id: int) -> ReportPupil:
    """The party ``party_id`` of ``report``: a roster child linked to it now. Another
    report's party, an unlinked one or a person not on the roster is refused."""
    party = session.get(ReportPupil, party_id)
    if (party is None or party.report_id != report.id or party.unlinked_at is not None
            or party.pupil_id is None):
        raise PartyNotFound("That child is not linked to this case.")
    return party


def roster_parties(session: Session, report: Report) -> list[ReportPupil]:
    """The case's parties that are roster children, linked now, in the order linked."""
    return list(session.scalars(
        select(ReportPupil).where(ReportPupil.report_id == report.id,
                                  ReportPupil.unlinked_at.is_(None),
                                  ReportPupil.pupil_id.is_not(None))
        .options(selectinload(ReportPupil.pupil))
        .order_by(ReportPupil.linked_at, ReportPupil.id)))


def contacts_for(session: Session, pupil_ids: Iterable[int]) -> dict[int, list[ParentContact]]:
    """Each pupil's parent and carer contacts, by priority then position (one query)."""
    ids = sorted(set(pupil_ids))
    found: dict[int, list[ParentContact]] = defaultdict(list)
    if not ids:
        return found
    for contact in session.scalars(select(ParentContact)
                                   .where(ParentContact.pupil_id.in_(ids))
                                   .order_by(ParentContact.pupil_id, ParentContact.position)):
        found[contact.pupil_id].append(contact)
    for contacts in found.values():
        contacts.sort(key=lambda c: (c.priority or 10, c.position))
    return found


def record_parents_told(session: Session, report: Report, party_id: int, *, actor: User,
                        told_on: date, how: str, what: str, contact_id: int | None = None,
                        told_name: str = "", by_user_id: int | None = None,
                        by_name: str = "", corrects_id: int | None = None) -> ParentsTold:
    """Record that the parents or carers of one party were told something: when, who (a
    contact of that child, or a name typed), how, by whom (the actor, another account of
    the school, or a member of staff named) and what ("Keep them informed at all stages").
    ``corrects_id``: the earlier record of this party that this one corrects."""
    party = party_of(session, report, party_id)
    _not_future(told_on, "they were told")
    try:
        code = ToldHow(how)
    except ValueError:
        raise ParentsError("Choose how they were told.") from None
    typed = _text(told_name, "who was told", NAME_LIMIT)
    if contact_id is not None:
        contact = session.get(ParentContact, contact_id)
        if contact is None or contact.pupil_id != party.pupil_id:
            raise ParentsError("Choose one of this child's contacts, or type who was told.")
        told = typed or contact.label
    elif typed:
        told = typed
    else:
        raise ParentsError("Choose the parent or carer who was told, or type their name.")
    named = _text(by_name, "the name of who told them", NAME_LIMIT)
    teller: User | None = None
    if not named:
        teller = actor if by_user_id is None else session.get(User, by_user_id)
        if teller is None or teller.school_id != report.school_id:
            raise ParentsError("Choose a member of staff of this school, or type their name.")
    text = _text(what, "what they were told", needed=True)
    if corrects_id is not None:
        earlier = session.get(ParentsTold, corrects_id)
        if earlier is None or earlier.party_id != party.id:
            raise ParentsError("The record to correct is not one of this child's.")
    same = (told_on, told, code.value, teller.id if teller else None, named, text, corrects_id)
    if any((r.told_on, r.told, r.how, r.by_user_id, r.by_name, r.what, r.corrects_id) == same
           for r in session.scalars(select(ParentsTold).where(
               ParentsTold.party_id == party.id, ParentsTold.told_on == told_on))):
        raise AlreadyRecorded(AGAIN)
    record = ParentsTold(report_id=report.id, party_id=party.id, told_on=told_on, told=told,
                         how=code.value, by_user_id=teller.id if teller else None,
                         by_name=named, what=text, corrects_id=corrects_id,
                         recorded_by_id=actor.id)
    session.add(record)
    session.flush()
    session.add(Event.by(actor, Action.PARENTS_TOLD, {
        "record_id": record.id, "party_id": party.id, "pupil_id": party.pupil_id,
        "told_on": told_on.isoformat(), "told": told, "how": code.value,
        "by": named or (teller.name if teller else ""),
        "by_user_id": teller.id if teller else None, "what": text,
        "corrects": corrects_id}, school_id=report.school_id, report_id=report.id))
    acknowledge(session, report, actor=actor)
    return record


def invite_to_meeting(session: Session, report: Report, party_ids: Sequence[int], *,
                      actor: User, invited_on: date, invited_how: str,
                      meeting_on: date | None = None) -> ParentMeeting:
    """Invite the parents or carers of one or several parties of a case to a meeting
    ("Inviting parents/carers into school to form part of the discussions around
    reoccurring incidents"); an event for each party. The meeting is completed later."""
    ids = list(dict.fromkeys(party_ids))
    if not ids:
        raise ParentsError("Choose whose parents or carers are invited.")
    parties = [party_of(session, report, pid) for pid in ids]
    _not_future(invited_on, "of the invitation")
    try:
        how = ToldHow(invited_how)
    except ValueError:
        raise ParentsError("Choose how they were invited.") from None
    if how not in INVITE_HOW:
        raise ParentsError("Choose how they were invited.")
    if meeting_on is not None and meeting_on < invited_on:
        raise ParentsError("The meeting can't be before the invitation.")
    if meeting_on is not None:
        _in_range(meeting_on, "of the meeting")
    wanted = sorted(p.id for p in parties)
    if any(sorted(m.party_ids) == wanted and (m.invited_how, m.meeting_on, m.state)
           == (how.value, meeting_on, MeetingState.INVITED.value)
           for m in session.scalars(select(ParentMeeting).where(
               ParentMeeting.report_id == report.id, ParentMeeting.invited_on == invited_on))):
        raise AlreadyRecorded(AGAIN)
    meeting = ParentMeeting(report_id=report.id, invited_on=invited_on, invited_how=how.value,
                            meeting_on=meeting_on, state=MeetingState.INVITED.value,
                            recorded_by_id=actor.id,
                            parties=[MeetingParty(party_id=p.id) for p in parties])
    session.add(meeting)
    session.flush()
    for party in parties:
        session.add(Event.by(actor, Action.MEETING_INVITED, {
            "meeting_id": meeting.id, "party_id": party.id, "pupil_id": party.pupil_id,
            "invited_on": invited_on.isoformat(), "invited_how": how.value,
            "meeting_on": meeting_on.isoformat() if meeting_on else None},
            school_id=report.school_id, report_id=report.id))
    acknowledge(session, report, actor=actor)
    return meeting


def meeting_of(session: Session, report: Report, meeting_id: int) -> ParentMeeting:
    """The meeting ``meeting_id`` of ``report``; another case's is refused."""
    meeting = session.get(ParentMeeting, meeting_id)
    if meeting is None or meeting.report_id != report.id:
        raise ParentsError("That meeting is not one of this case's.")
    return meeting


def complete_meeting(session: Session, report: Report, meeting_id: int, *, actor: User,
                     outcome: str, meeting_on: date, attended: str = "", agreed: str = "",
                     next_steps: str = "") -> ParentMeeting:
    """Record how a meeting went: held (who attended, what was agreed) or not attended,
    and the next steps. Recording it again corrects it; each time is an event per party
    with everything recorded, so the earlier version stays in the chronology."""
    meeting = meeting_of(session, report, meeting_id)
    try:
        state = MeetingState(outcome)
    except ValueError:
        raise ParentsError("Choose whether the meeting was held or they did not attend.") \
            from None
    if state == MeetingState.INVITED:
        raise ParentsError("Choose whether the meeting was held or they did not attend.")
    _not_future(meeting_on, "of the meeting")
    if meeting_on < meeting.invited_on:
        raise ParentsError("The meeting can't be before the invitation.")
    who = _text(attended, "who attended", 400, needed=state == MeetingState.ATTENDED)
    what = _text(agreed, "what was agreed", needed=state == MeetingState.ATTENDED)
    steps = _text(next_steps, "the next steps")
    # The same outcome sent twice is not a correction: nothing differs from what is kept.
    if (meeting.state, meeting.meeting_on, meeting.attended or "", meeting.agreed or "",
            meeting.next_steps or "") == (state.value, meeting_on, who, what, steps):
        raise AlreadyRecorded(AGAIN)
    before = meeting.state
    meeting.state, meeting.meeting_on = state.value, meeting_on
    meeting.attended, meeting.agreed, meeting.next_steps = who, what, steps
    session.flush()
    for link in meeting.parties:
        party = session.get(ReportPupil, link.party_id)
        session.add(Event.by(actor, Action.MEETING_COMPLETED, {
            "meeting_id": meeting.id, "party_id": link.party_id,
            "pupil_id": party.pupil_id if party and party.pupil_id else 0,
            "from": before, "to": state.value, "meeting_on": meeting_on.isoformat(),
            "attended": who, "agreed": what, "next_steps": steps},
            school_id=report.school_id, report_id=report.id))
    acknowledge(session, report, actor=actor)
    return meeting


# --- what the pages show -----------------------------------------------------------------


@dataclass
class PartyParents:
    """Everything about one party's parents on a case: contacts, what they were told, the
    meetings for them, and whether the recurring prompt shows."""

    party: ReportPupil
    contacts: list[ParentContact] = field(default_factory=list)
    told: list[ParentsTold] = field(default_factory=list)
    meetings: list[ParentMeeting] = field(default_factory=list)
    prompt: bool = False


def for_case(session: Session, report: Report,
             current: Sequence[ReportPupil] | None = None) -> list[PartyParents]:
    """Per roster party of the case, its parents' record (a fixed number of queries).

    The recurring prompt shows for a party whose child is recurring (Pupil.recurring, kept
    by portal.linking.store_recurring) while no meeting invitation for that child has been
    recorded IN THIS CASE. (The flag has no date it was set, so "since the child became
    recurring" can't be told apart; this case is the place the DSL acts from.)"""
    parties = roster_parties(session, report) if current is None else [
        p for p in current if p.pupil_id is not None]
    contacts = contacts_for(session, [p.pupil_id for p in parties if p.pupil_id])
    told = list(session.scalars(
        select(ParentsTold).where(ParentsTold.report_id == report.id)
        .options(selectinload(ParentsTold.by_user), selectinload(ParentsTold.recorded_by))
        .order_by(ParentsTold.told_on, ParentsTold.id)))
    meetings = list(session.scalars(
        select(ParentMeeting).where(ParentMeeting.report_id == report.id)
        .options(selectinload(ParentMeeting.parties))
        .order_by(ParentMeeting.invited_on, ParentMeeting.id)))
    pupil_of = {p.id: p.pupil_id for p in parties}
    invited = {pupil_of.get(mp.party_id) for m in meetings for mp in m.parties}
    rows = []
    for party in parties:
        rows.append(PartyParents(
            party=party, contacts=contacts.get(party.pupil_id or 0, []),
            told=[t for t in told if t.party_id == party.id],
            meetings=[m for m in meetings if party.id in m.party_ids],
            prompt=party.pupil is not None and party.pupil.recurring
            and party.pupil_id not in invited))
    return rows


@dataclass(frozen=True)
class PupilParents:
    """A child's parents across every case: contacts, and per report what was told and the
    meetings (for the child's chronology page)."""

    contacts: list[ParentContact]
    told: dict[int, list[ParentsTold]]
    meetings: dict[int, list[ParentMeeting]]

    @property
    def report_ids(self) -> list[int]:
        return sorted(set(self.told) | set(self.meetings))


def for_pupil(session: Session, pupil: Pupil) -> PupilParents:
    """Contacts, parents told and meetings for one child, by report (fixed queries)."""
    contacts = contacts_for(session, [pupil.id]).get(pupil.id, [])
    parties = select(ReportPupil.id).where(ReportPupil.pupil_id == pupil.id)
    told: dict[int, list[ParentsTold]] = defaultdict(list)
    for record in session.scalars(
            select(ParentsTold).where(ParentsTold.party_id.in_(parties))
            .options(selectinload(ParentsTold.by_user))
            .order_by(ParentsTold.told_on, ParentsTold.id)):
        told[record.report_id].append(record)
    meetings: dict[int, list[ParentMeeting]] = defaultdict(list)
    for meeting in session.scalars(
            select(ParentMeeting).join(MeetingParty, MeetingParty.meeting_id == ParentMeeting.id)
            .where(MeetingParty.party_id.in_(parties)).distinct()
            .order_by(ParentMeeting.invited_on, ParentMeeting.id)):
        meetings[meeting.report_id].append(meeting)
    return PupilParents(contacts, dict(told), dict(meetings))


def staff_of(session: Session, school_id: int, accounts: Iterable[User] | None = None
             ) -> list[User]:
    """Who can be named as having told the parents: the school's active accounts, the DSL
    team first (from ``accounts``, the school's, when the caller has them)."""
    users = session.scalars(select(User).where(User.school_id == school_id)) \
        if accounts is None else accounts
    return sorted((u for u in users if u.is_active and u.school_id == school_id),
                  key=lambda u: (u.role not in DSL_TEAM, u.name.lower()))


__all__ = ["INVITE_HOW", "RECURRING_PROMPT", "ParentsError", "PartyNotFound", "PartyParents",
           "PupilParents", "complete_meeting", "contacts_for", "for_case", "for_pupil",
           "invite_to_meeting", "meeting_of", "party_of", "record_parents_told",
           "roster_parties", "staff_of"]
