"""Nude and semi-nude images of children (issue 16), as the UKCIS guidance for schools
("Sharing nudes and semi-nudes: advice for education settings") asks: staff must not
view, copy, print, share or forward such images.

A DSL marks a kept file as a suspected nude or semi-nude image (``mark``). From then on:
- the portal never shows it (it never previews any file: every file is an attachment);
- it is never put in an evidence bundle (portal.casework.bundle lists it as withheld,
  with its hashes, which is what CEOP and the police match images by);
- it is downloaded only with a written reason that names the referral (``release``),
  each time an audit event with that reason;
- the report becomes a safeguarding concern with the malicious posts checklist, whose
  step 5.6 is "Send all the evidence to CEOP" (cyber-bullying policy 5.6).
A mark is not undone here: a file marked by mistake stays withheld, which is the safe way
round, and the DSL's note says why it was marked.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from .. import checklists
from ..events import Action
from ..models import Event, Evidence, Report, User, utcnow
from ..triage import operations as ops
from ..vocabulary import Category
from .acknowledge import InvalidTransition, acknowledge

DECISION_REASON = ("A kept file was marked as a suspected nude or semi-nude image of a "
                   "child (UKCIS guidance): a safeguarding concern.")
NOTE_LIMIT = 1_000
RELEASE_MIN = 15
RELEASE_LIMIT = 1_000


class EvidenceNotFound(LookupError):
    """No such file on this case."""


def _of(report: Report, evidence_id: int) -> Evidence:
    item = next((e for e in report.evidence if e.id == evidence_id), None)
    if item is None:
        raise EvidenceNotFound("That file is not part of this case.")
    return item


def mark(session: Session, report: Report, evidence_id: int, *, actor: User,
         note: str) -> Evidence:
    """Mark a kept file as a suspected nude or semi-nude image of a child."""
    item = _of(report, evidence_id)
    if item.suspected_nude:
        raise InvalidTransition("That file is already marked as a suspected nude image.")
    text = note.strip()
    if len(text) > NOTE_LIMIT:
        raise InvalidTransition(f"Keep the note to {NOTE_LIMIT} characters.")
    item.suspected_nude_at = utcnow()
    item.suspected_nude_by_id = actor.id
    session.add(Event.by(actor, Action.EVIDENCE_MARKED_NUDE,
                         {"evidence_id": item.id, "note": text},
                         school_id=report.school_id, report_id=report.id))
    if report.category != Category.SAFEGUARDING:
        ops.record_decision(session, report, actor=actor, category=Category.SAFEGUARDING,
                            reason=DECISION_REASON)
    if checklists.attach(session, report, [checklists.MALICIOUS]):
        session.add(Event.by(actor, Action.CHECKLIST_ADDED,
                             {"checklist": checklists.MALICIOUS},
                             school_id=report.school_id, report_id=report.id))
    acknowledge(session, report, actor=actor)
    session.flush()
    return item


def release(session: Session, report: Report, evidence_id: int, *, actor: User,
            reason: str) -> Evidence:
    """A marked file let out once, for the referral its reason names (an audit event);
    refused before anything is recorded without such a reason."""
    item = _of(report, evidence_id)
    if not item.suspected_nude:
        raise InvalidTransition("That file is not marked: download it from the case.")
    text = " ".join(reason.split())
    if len(text) < RELEASE_MIN:
        raise InvalidTransition("Write why it must leave and name the referral, for "
                                "example “CEOP referral 12345, asked for by the officer”.")
    if len(text) > RELEASE_LIMIT:
        raise InvalidTransition(f"Keep the reason to {RELEASE_LIMIT} characters.")
    session.add(Event.by(actor, Action.EVIDENCE_RELEASED,
                         {"evidence_id": item.id, "reason": text},
                         school_id=report.school_id, report_id=report.id))
    session.flush()
    return item


__all__ = ["DECISION_REASON", "EvidenceNotFound", "mark", "release"]
