"""Evidence the DSL adds from the case page (issue 16): screenshots and scans of printouts,
with the same checks, metadata stripping and hashes as a reporter's files, and web
addresses with the day they were seen. Cyber-bullying policy 5.3: "secure and preserve any
evidence including URLs, Screenshots and Printouts". Each addition is an audit event."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from .. import evidence
from ..events import Action
from ..models import Event, EvidenceLink, Report, User
from ..reporting.operations import keep_files
from . import dates
from .acknowledge import InvalidTransition, acknowledge

URL_LIMIT = 2_000
NOTE_LIMIT = 1_000


def add_files(session: Session, report: Report, files: list[evidence.CleanFile], *,
              actor: User, evidence_dir: Path) -> tuple[Path, ...]:
    """Keep cleaned files on the case as added by ``actor``; returns the paths written (the
    caller removes them if its commit fails)."""
    if not files:
        raise InvalidTransition("Choose a file, or give a web address.")
    before = {e.id for e in report.evidence}
    written = keep_files(session, report, files, evidence_dir, added_by=actor)
    added = [e.id for e in report.evidence if e.id not in before]
    session.add(Event.by(actor, Action.EVIDENCE_ADDED, {"evidence_ids": added},
                         school_id=report.school_id, report_id=report.id))
    acknowledge(session, report, actor=actor)
    return written


def add_link(session: Session, report: Report, *, actor: User, url: str, seen_on: date,
             note: str, today: date) -> EvidenceLink:
    """Keep a web address with the day it was seen; refused in words when it is not an
    http(s) address, too long, or seen on a day that cannot be right."""
    address = url.strip()
    parts = urlsplit(address)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc \
            or any(c.isspace() for c in address):
        raise InvalidTransition("Give the whole web address, starting https:// (or http://).")
    if len(address) > URL_LIMIT:
        raise InvalidTransition(f"Keep the web address to {URL_LIMIT} characters.")
    if seen_on > today:
        raise InvalidTransition("The day it was seen can't be in the future.")
    # a day before the portal could have been in use is a typing slip (year 0206)
    if seen_on < dates.EARLIEST:
        raise InvalidTransition("Check the year of the day it was seen.")
    text = note.strip()
    if len(text) > NOTE_LIMIT:
        raise InvalidTransition(f"Keep the note to {NOTE_LIMIT} characters.")
    if any((kept.url, kept.seen_on) == (address, seen_on) for kept in report.evidence_links):
        raise InvalidTransition("That web address is kept already for that day: nothing "
                                "new was added.")
    link = EvidenceLink(report_id=report.id, url=address, seen_on=seen_on, note=text,
                        added_by_id=actor.id)
    session.add(link)
    session.flush()
    session.add(Event.by(actor, Action.EVIDENCE_LINK_ADDED,
                         {"link_id": link.id, "seen_on": seen_on.isoformat()},
                         school_id=report.school_id, report_id=report.id))
    session.expire(report, ["evidence_links"])
    acknowledge(session, report, actor=actor)
    return link


__all__ = ["add_files", "add_link"]
