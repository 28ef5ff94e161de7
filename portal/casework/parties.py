"""The people involved in a report and what is done for each of them. No Flask here.

Anti-bullying policy, "Responding to incidents": the school "will interview all parties
involved", "will involve [the person being bullied] in any decision making", and
"Sanctions ... and support will be implemented in consultation with all parties
concerned"; "Supporting pupils": "Offer ... counselling and support to the target, the
bully or the observer". Cyber policy 7.5: "the person being bullied might not know who
their bully is"; 10.1: "Until such time that the perpetrator is found guilty, they will be
considered innocent".

Each record is an operation that writes its audit event, acknowledges the report if it
is the first action on it, and flushes (never commits). Nothing here is ever deleted:
support ends, or is reviewed, with a note.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from .. import search
from ..events import Action
from ..models import (
    SANCTIONS,
    SUPPORT_FOR_ROLE,
    Event,
    Finding,
    LinkRole,
    PartyInterview,
    PartyKind,
    PartySupport,
    PartyVoice,
    Pupil,
    Report,
    ReportPupil,
    SupportState,
    SupportType,
    User,
    utcnow,
)
from ..models.party import SUPPORT_LABELS
from ..vocabulary import Category
from . import checkback
from .acknowledge import InvalidTransition, acknowledge
from .dates import out_of_range

DESCRIPTION_MAX = 300
NAME_MAX = 160
TEXT_MAX = 4000
NOTE_MIN = 5


class PartyError(InvalidTransition):
    """Something the rules refuse about a party or its records, in plain words."""


class AlreadyRecorded(PartyError):
    """The same record sent again (a double tap, a form sent twice): nothing new is added."""


AGAIN = ("That was recorded already: the same form was sent twice. Nothing new was added; "
         "it is in the list above.")


class PartyNotFound(LookupError):
    """A party id that is not one of this report's current parties (answered as 404)."""


def _same_school(report: Report, actor: User) -> None:
    if actor.school_id != report.school_id:
        raise PartyNotFound("That report is not one of your school's.")


def party_of(session: Session, report: Report, party_id: int, *, actor: User) -> ReportPupil:
    """Party ``party_id`` of ``report``; PartyNotFound for another report's or school's id,
    or a party who was removed."""
    _same_school(report, actor)
    party = session.get(ReportPupil, party_id)
    if party is None or party.report_id != report.id or party.unlinked_at is not None:
        raise PartyNotFound("That person is not involved in this report.")
    return party


def _text(value: str, *, limit: int, what: str, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise PartyError(f"Write {what}.")
    if len(text) > limit:
        raise PartyError(f"Keep {what} to {limit} characters or fewer.")
    return text


def _not_future(day: date, what: str) -> None:
    if day > date.today():
        raise PartyError(f"The date {what} can't be in the future.")
    _in_range(day, what)


def _in_range(day: date, what: str) -> None:
    """A trial's finding: 0001-01-01 and 9999-12-31 were taken as dates."""
    problem = out_of_range(day, what)
    if problem:
        raise PartyError(problem)


def add_party(session: Session, report: Report, *, actor: User, kind: PartyKind,
              role: LinkRole, description: str) -> ReportPupil:
    """Record someone involved who is not on the roster: a pupil of another school, an
    adult, a member of staff, or someone not known yet (cyber policy 7.5)."""
    _same_school(report, actor)
    if kind == PartyKind.ROSTER_PUPIL:
        raise PartyError("Find a pupil on the roster to link them; this form is for "
                         "someone who is not on it.")
    text = _text(description, limit=DESCRIPTION_MAX, what="who they are",
                 required=kind != PartyKind.UNKNOWN)
    # The same form sent twice (a second tab, a retry) is one person, not two.
    same = session.scalars(select(ReportPupil).where(
        ReportPupil.report_id == report.id, ReportPupil.unlinked_at.is_(None),
        ReportPupil.pupil_id.is_(None), ReportPupil.party_kind == kind,
        ReportPupil.role == role))
    if any(p.description == text for p in same):  # descriptions are encrypted: compared here
        raise AlreadyRecorded(AGAIN)
    party = ReportPupil(report_id=report.id, pupil_id=None, party_kind=kind,
                        description=text, role=role, linked_by_id=actor.id)
    session.add(party)
    session.flush()
    session.add(Event.by(actor, Action.PARTY_ADDED,
                         {"party_id": party.id, "kind": kind.value, "role": role.value},
                         school_id=report.school_id, report_id=report.id))
    search.index_text(session, report, text)  # "has anyone mentioned Harry before?"
    session.expire(report, ["pupil_links"])
    acknowledge(session, report, actor=actor)
    return party


def record_finding(session: Session, report: Report, party: ReportPupil, *, actor: User,
                   finding: Finding, reason: str) -> None:
    """The DSL's finding about an alleged perpetrator. Until it says "responsible" they are
    "considered innocent" (cyber 10.1), and "responsible" needs the case decided as a
    Bullying Incident first."""
    _same_school(report, actor)
    if party.report_id != report.id:
        raise PartyNotFound("That person is not involved in this report.")
    if party.role != LinkRole.ALLEGED_PERPETRATOR:
        raise PartyError("A finding is recorded only for an alleged perpetrator.")
    if finding == Finding.RESPONSIBLE and report.category != Category.BULLYING_INCIDENT:
        raise PartyError("Record the decision “Bullying Incident” before finding anyone "
                         "responsible: until then they are considered innocent.")
    text = _text(reason, limit=TEXT_MAX, what="the reason for the finding")
    if len(text) < NOTE_MIN:
        raise PartyError("Write the reason for the finding (a sentence is enough).")
    if party.finding == finding:
        raise PartyError("That finding is already recorded.")
    party.finding = finding
    party.finding_reason = text
    party.finding_by_id = actor.id
    party.finding_at = utcnow()
    session.add(Event.by(actor, Action.FINDING_RECORDED,
                         {"party_id": party.id, "finding": finding.value, "reason": text},
                         school_id=report.school_id, report_id=report.id))
    acknowledge(session, report, actor=actor)


def support_choices(role: LinkRole, type_: SupportType) -> dict[str, str]:
    """The codes (and words) the policy lists for a party of ``role``: support for a
    target, a perpetrator or a witness; sanctions only for a perpetrator."""
    if type_ == SupportType.SANCTION:
        return dict(SANCTIONS) if role == LinkRole.ALLEGED_PERPETRATOR else {}
    return dict(SUPPORT_FOR_ROLE[role.value])


def add_support(session: Session, report: Report, party: ReportPupil, *, actor: User,
                type_: SupportType, code: str, given_by: str, starts_on: date,
                review_on: date | None, note: str, ask_reporter: bool = False,
                today: date | None = None) -> PartySupport:
    """Support or a sanction for one party: what (a code from the policy's lists), who
    gives it, from when, and when to review it (never before it starts). With
    ``ask_reporter``, the reporter is asked "Is it better now?" on the review date, a
    check-back (issue 14: "On a review date, the reporter (through their follow-up code)
    can be asked a simple question"): only for support of a target, with a review date,
    when no other check-back is waiting."""
    _same_school(report, actor)
    if party.report_id != report.id or party.unlinked_at is not None:
        raise PartyNotFound("That person is not involved in this report.")
    if type_ == SupportType.SANCTION and party.role != LinkRole.ALLEGED_PERPETRATOR:
        raise PartyError("Sanctions are only for a perpetrator.")
    if code not in support_choices(party.role, type_):
        raise PartyError("Choose what the support or sanction is from the list.")
    who = _text(given_by, limit=NAME_MAX, what="who gives it")
    if review_on is not None and review_on < starts_on:
        raise PartyError("The review date can't be before the start date.")
    _in_range(starts_on, "it starts")
    if review_on is not None:
        _in_range(review_on, "of the review")
    text = _text(note, limit=TEXT_MAX, what="the note", required=False)
    if any((r.type, r.code, r.given_by, r.starts_on, r.review_on, r.note)
           == (type_, code, who, starts_on, review_on, text) for r in party.support):
        raise AlreadyRecorded(AGAIN)
    if ask_reporter:  # refused before anything is recorded, so the form can be sent again
        if party.role != LinkRole.TARGET or type_ != SupportType.SUPPORT:
            raise PartyError("The reporter is asked only about support for a target.")
        if review_on is None:
            raise PartyError("Choose a review date to ask the reporter on.")
        if review_on < (today or checkback.today()):
            raise PartyError("Choose a review date from today on to ask the reporter.")
        waiting = checkback.open_check(session, report)
        if waiting is not None:
            raise PartyError(
                f"The reporter is already to be asked on "
                f"{waiting.due_on.strftime('%-d %B %Y')}: untick “ask the reporter”, or "
                "cancel that check-back first.")
    record = PartySupport(report_id=report.id, party_id=party.id, type=type_, code=code,
                          given_by=who, starts_on=starts_on, review_on=review_on, note=text,
                          recorded_by_id=actor.id)
    session.add(record)
    session.flush()
    session.add(Event.by(actor, Action.SUPPORT_RECORDED,
                         {"party_id": party.id, "support_id": record.id,
                          "type": type_.value, "code": code,
                          "starts_on": starts_on.isoformat(),
                          "review_on": review_on.isoformat() if review_on else None},
                         school_id=report.school_id, report_id=report.id))
    session.expire(party, ["support"])
    search.index_text(session, report, text)
    acknowledge(session, report, actor=actor)
    if ask_reporter and review_on is not None:
        checkback.schedule(session, report, actor=actor, due_on=review_on, on=today,
                           note=f"Asked on the review date of the support: "
                                f"{SUPPORT_LABELS.get(code, code)}.")
    return record


REVIEW_OUTCOMES = {"reviewed": "Reviewed: it carries on", "ended": "Ended"}


def review_support(session: Session, report: Report, record: PartySupport, *, actor: User,
                   outcome: str, note: str, review_on: date | None,
                   today: date | None = None) -> None:
    """Review support or a sanction (it carries on, perhaps to a new review date) or end
    it, with a note. The record stays; the event is the history."""
    _same_school(report, actor)
    if record.report_id != report.id:
        raise PartyNotFound("That record is not on this report.")
    if outcome not in REVIEW_OUTCOMES:
        raise PartyError("Choose reviewed or ended.")
    if record.state == SupportState.ENDED:
        raise PartyError("That has ended already.")
    text = _text(note, limit=TEXT_MAX, what="what the review found")
    if len(text) < NOTE_MIN:
        raise PartyError("Write what the review found (a sentence is enough).")
    if outcome == "ended" and review_on is not None:
        raise PartyError("Ended support has no next review date.")
    if review_on is not None and review_on < record.starts_on:
        raise PartyError("The review date can't be before the start date.")
    if review_on is not None:
        _in_range(review_on, "of the next review")
    day = today or date.today()
    # The same review sent twice (a retry) is one review: the same day, words and next
    # review date (an "ended" sent twice is refused above: it has ended already).
    if outcome == "reviewed" and (record.last_reviewed_on, record.review_note,
                                  record.review_on) == (day, text, review_on):
        raise AlreadyRecorded(AGAIN)
    record.last_reviewed_on = day
    record.review_note = text
    if outcome == "ended":
        record.state = SupportState.ENDED
        record.review_on = None
    else:
        record.review_on = review_on
    session.add(Event.by(actor, Action.SUPPORT_REVIEWED,
                         {"party_id": record.party_id, "support_id": record.id,
                          "code": record.code, "outcome": outcome, "note": text,
                          "review_on": review_on.isoformat() if review_on else None},
                         school_id=report.school_id, report_id=report.id))
    acknowledge(session, report, actor=actor)


def record_voice(session: Session, report: Report, party: ReportPupil, *, actor: User,
                 said_on: date, wants: str) -> PartyVoice:
    """What the child wants to happen, in their words where possible ("involve them in
    any decision making")."""
    _same_school(report, actor)
    if party.report_id != report.id or party.unlinked_at is not None:
        raise PartyNotFound("That person is not involved in this report.")
    _not_future(said_on, "they said it")
    text = _text(wants, limit=TEXT_MAX, what="what they want to happen")
    if any((v.said_on, v.wants) == (said_on, text) for v in party.voices):
        raise AlreadyRecorded(AGAIN)
    voice = PartyVoice(report_id=report.id, party_id=party.id, said_on=said_on, wants=text,
                       recorded_by_id=actor.id)
    session.add(voice)
    session.flush()
    session.add(Event.by(actor, Action.VOICE_RECORDED,
                         {"party_id": party.id, "voice_id": voice.id,
                          "said_on": said_on.isoformat()},
                         school_id=report.school_id, report_id=report.id))
    session.expire(party, ["voices"])
    search.index_text(session, report, text)
    acknowledge(session, report, actor=actor)
    return voice


def record_interview(session: Session, report: Report, party: ReportPupil, *, actor: User,
                     held_on: date, interviewer: str, present: str,
                     account: str) -> PartyInterview:
    """A short record of an interview with one party ("interview all parties involved"):
    when, who interviewed, who else was there, what they said."""
    _same_school(report, actor)
    if party.report_id != report.id or party.unlinked_at is not None:
        raise PartyNotFound("That person is not involved in this report.")
    _not_future(held_on, "of the interview")
    who = _text(interviewer, limit=NAME_MAX, what="who interviewed them")
    others = _text(present, limit=TEXT_MAX, what="who else was there", required=False)
    text = _text(account, limit=TEXT_MAX, what="a short account of the interview")
    if any((i.held_on, i.interviewer, i.present, i.account) == (held_on, who, others, text)
           for i in party.interviews):
        raise AlreadyRecorded(AGAIN)
    interview = PartyInterview(report_id=report.id, party_id=party.id, held_on=held_on,
                               interviewer=who, present=others, account=text,
                               recorded_by_id=actor.id)
    session.add(interview)
    session.flush()
    session.add(Event.by(actor, Action.INTERVIEW_RECORDED,
                         {"party_id": party.id, "interview_id": interview.id,
                          "held_on": held_on.isoformat()},
                         school_id=report.school_id, report_id=report.id))
    session.expire(party, ["interviews"])
    search.index_text(session, report, f"{text} {others}")
    acknowledge(session, report, actor=actor)
    return interview


def parties(session: Session, report: Report, *, unlinked_too: bool = False
            ) -> list[ReportPupil]:
    """The report's current parties (and, with ``unlinked_too``, the ones unlinked since)
    with everything recorded about each, in a fixed number of queries however many."""
    current = () if unlinked_too else (ReportPupil.unlinked_at.is_(None),)
    return list(session.scalars(
        select(ReportPupil)
        .where(ReportPupil.report_id == report.id, *current)
        .options(selectinload(ReportPupil.pupil),
                 selectinload(ReportPupil.finding_by),
                 selectinload(ReportPupil.support).selectinload(PartySupport.recorded_by),
                 selectinload(ReportPupil.voices).selectinload(PartyVoice.recorded_by),
                 selectinload(ReportPupil.interviews).selectinload(PartyInterview.recorded_by))
        .order_by(ReportPupil.linked_at, ReportPupil.id)))


def for_pupil(session: Session, pupil: Pupil) -> dict[int, list[ReportPupil]]:
    """Report id -> this child's party rows there (one per role), each with its support,
    sanctions, finding, voice and interviews (a fixed number of queries however many)."""
    rows = session.scalars(
        select(ReportPupil)
        .where(ReportPupil.pupil_id == pupil.id, ReportPupil.unlinked_at.is_(None))
        .options(selectinload(ReportPupil.finding_by),
                 selectinload(ReportPupil.support).selectinload(PartySupport.recorded_by),
                 selectinload(ReportPupil.voices).selectinload(PartyVoice.recorded_by),
                 selectinload(ReportPupil.interviews).selectinload(PartyInterview.recorded_by))
        .order_by(ReportPupil.linked_at, ReportPupil.id))
    found: dict[int, list[ReportPupil]] = {}
    for row in rows:
        found.setdefault(row.report_id, []).append(row)
    return found
