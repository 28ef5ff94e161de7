"""A file that follows the child (issue 16; KCSIE: a child's safeguarding file is transferred
when they change school). When a pupil moves to another school of the same trust on the
portal, their DSL sends the record: the new school's DSL reads a copy as it stood that day,
read-only and marked as transferred with the date; the sending school keeps its own record
and the transfer in its audit trail. Each school's queue, figures and retention stay its
own: the copy is not a case of the new school and is never counted in its figures.

What travels is what the child's own page shows (portal/templates/triage/pupil.html):
every concern with the child's role, the decision and status; what was done for the child
(support, sanctions, findings, what they wanted, interviews); what their parents were told
and meetings. No other child is named, and no report's own words travel (they stay with
the school the report was made to). For a school outside the trust, the child's PDF and the
evidence bundle are the transfer.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import linking
from ..events import Action
from ..models import (
    FINDING_LABELS,
    LINK_ROLE_LABELS,
    SEN_LABELS,
    SUPPORT_LABELS,
    Event,
    Pupil,
    PupilTransfer,
    School,
    User,
)
from ..vocabulary import CATEGORY_LABELS, KIND_LABELS, SOURCE_LABELS, STATUS_LABELS
from . import parents, parties
from .acknowledge import InvalidTransition

NOTE_LIMIT = 1_000


class TransferNotFound(LookupError):
    """No such transfer for this school."""


def _day(value: Any) -> str:
    return value.isoformat() if value is not None else ""


def snapshot(session: Session, pupil: Pupil) -> dict[str, Any]:
    """The child's record as their page shows it today, in words (codes turned into labels,
    so the copy reads the same whatever the sending school changes later)."""
    entries = linking.chronology(session, pupil)
    done = parties.for_pupil(session, pupil)
    kin = parents.for_pupil(session, pupil)
    concerns = [{
        "date": _day(e.report.created_at.date()), "report": e.report.id,
        "role": e.role_words or LINK_ROLE_LABELS[e.role], "source": SOURCE_LABELS[e.report.source],
        "anonymous": bool(e.report.anonymous),
        "kinds": [KIND_LABELS.get(k, k).split(" (")[0] for k in e.report.kind_values],
        "decision": CATEGORY_LABELS[e.report.category],
        "status": STATUS_LABELS[e.report.status]} for e in entries]
    records = []
    for report_id, rows in sorted(done.items()):
        for party in rows:
            records.append({
                "report": report_id, "role": party.role_words,
                "finding": FINDING_LABELS[party.finding] if party.finding else "",
                "finding_reason": party.finding_reason or "",
                "support": [{
                    "what": ("Sanction: " if s.type.value == "sanction" else "Support: ")
                    + SUPPORT_LABELS.get(s.code, s.code),
                    "given_by": s.given_by, "from": _day(s.starts_on),
                    "review": _day(s.review_on), "ended": s.state.value == "ended",
                    "note": s.note or "", "review_note": s.review_note or ""}
                    for s in party.support],
                "wanted": [{"on": _day(v.said_on), "words": v.wants} for v in party.voices],
                "interviews": [{"on": _day(i.held_on), "by": i.interviewer,
                                "present": i.present, "account": i.account}
                               for i in party.interviews]})
    told = [{"report": report_id, "on": _day(t.told_on), "told": t.told, "how": t.how_words,
             "by": t.by, "what": t.what} for report_id in kin.report_ids
            for t in kin.told.get(report_id, [])]
    meetings = [{"report": report_id, "state": m.state_words, "invited": _day(m.invited_on),
                 "on": _day(m.meeting_on), "attended": m.attended or "",
                 "agreed": m.agreed or "", "next_steps": m.next_steps or ""}
                for report_id in kin.report_ids for m in kin.meetings.get(report_id, [])]
    return {"name": pupil.name, "year_group": pupil.year_group, "form": pupil.form,
            "upn": pupil.upn, "sen": SEN_LABELS[pupil.sen_status]
            if pupil.has_send else "", "concerns": concerns, "records": records,
            "told": told, "meetings": meetings}


def destinations(session: Session, school: School) -> list[School]:
    """The other schools of the trust a record can be sent to."""
    if school.trust_id is None:
        return []
    return list(session.scalars(select(School).where(
        School.trust_id == school.trust_id, School.id != school.id).order_by(School.name)))


def send(session: Session, pupil: Pupil, *, actor: User, to_school_id: int,
         note: str) -> PupilTransfer:
    """Send the child's record to another school of the trust (refused in words for any
    other school, the school itself included)."""
    school = session.get(School, pupil.school_id)
    if school is None or actor.school_id != school.id:
        raise InvalidTransition("Only the child's own school can send their record.")
    target = next((s for s in destinations(session, school) if s.id == to_school_id), None)
    if target is None:
        raise InvalidTransition("Choose another school of your trust. For a school outside "
                                "the trust, the child's PDF and the evidence bundle are "
                                "the transfer.")
    text = note.strip()
    if len(text) > NOTE_LIMIT:
        raise InvalidTransition(f"Keep the note to {NOTE_LIMIT} characters.")
    record = {**snapshot(session, pupil), "school": school.name}
    # The same form sent twice (a double press, a resend) is one transfer: nothing new.
    if any((t.record, t.note) == (record, text) for t in session.scalars(
            select(PupilTransfer).where(PupilTransfer.pupil_id == pupil.id,
                                        PupilTransfer.to_school_id == target.id))):
        raise InvalidTransition(f"{pupil.first_name}’s record was sent to {target.name} "
                                "already, and nothing in it has changed since.")
    match = session.scalar(select(Pupil).where(Pupil.school_id == target.id,
                                               Pupil.upn_hash == pupil.upn_hash))
    transfer = PupilTransfer(from_school_id=school.id, to_school_id=target.id,
                             pupil_id=pupil.id, to_pupil_id=match.id if match else None,
                             pupil_name=pupil.name, note=text, record=record,
                             sent_by_id=actor.id)
    session.add(transfer)
    session.flush()
    session.add(Event.by(actor, Action.PUPIL_TRANSFERRED, {
        "pupil_id": pupil.id, "transfer_id": transfer.id, "to_school": target.slug},
        school_id=school.id))
    session.add(Event.by(actor, Action.TRANSFER_RECEIVED, {
        "transfer_id": transfer.id, "from_school": school.slug,
        "pupil_id": transfer.to_pupil_id}, school_id=target.id))
    return transfer


def for_school(session: Session, school_id: int) -> tuple[list[PupilTransfer],
                                                           list[PupilTransfer]]:
    """(received, sent) transfers of a school, newest first."""
    rows = list(session.scalars(select(PupilTransfer).where(
        (PupilTransfer.to_school_id == school_id) | (PupilTransfer.from_school_id == school_id))
        .order_by(PupilTransfer.sent_at.desc(), PupilTransfer.id.desc())))
    return ([t for t in rows if t.to_school_id == school_id],
            [t for t in rows if t.from_school_id == school_id])


def read(session: Session, transfer_id: int, *, actor: User) -> PupilTransfer:
    """A transfer the actor's school sent or received; reading a received one is recorded."""
    transfer = session.get(PupilTransfer, transfer_id)
    if transfer is None or actor.school_id not in (transfer.to_school_id,
                                                   transfer.from_school_id):
        raise TransferNotFound("No such transfer.")
    session.add(Event.by(actor, Action.TRANSFER_VIEWED, {"transfer_id": transfer.id},
                         school_id=actor.school_id))
    return transfer


__all__ = ["TransferNotFound", "destinations", "for_school", "read", "send", "snapshot"]
