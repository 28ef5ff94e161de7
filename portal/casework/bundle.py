"""An evidence bundle (issue 16): the case's kept files, its PDF summary, ``manifest.csv``
and ``custody.csv``, in one zip for the police, CEOP, social care or the local authority.

Cyber-bullying policy 5.3: "secure and preserve any evidence including URLs, Screenshots
and Printouts"; 5.6: "send all the evidence to CEOP". Making a bundle asks why, and for
whom, and records it (``evidence.bundled``); the bundle's own custody log then shows every
download and every earlier bundle of each file, and this one.

``manifest.csv``: each file's name in the zip, its type, the SHA-256 and size of what was
received and of what was kept, when it was added and by whom. A file marked as a suspected
nude image of a child is never copied into a bundle: its row says it was withheld, with
its hashes (portal.casework.nude_images). ``links.csv``: the web addresses kept, with the
day each was seen, when there are any. Recomputing a kept file's
SHA-256 gives the manifest's (the bytes are written as read, decrypted, never re-encoded).

No Flask here: the view passes the PDF it made and the folder the files are kept in.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from .. import crypto, evidence
from ..events import Action
from ..figures import safe_cell
from ..models import Event, Evidence, Report, User, utcnow
from ..triage.times import uk

# Who a bundle is for (the policy's agencies); the code is kept in the audit event.
BUNDLE_REASONS = {
    "police": "The police",
    "ceop": "CEOP (Child Exploitation and Online Protection)",
    "social_care": "Children's social care",
    "local_authority": "The local authority (LADO or the LA's safeguarding team)",
}
REFERENCE_LIMIT = 200


class BundleRefused(ValueError):
    """No bundle: no reason given, or a file that should be there is missing."""


@dataclass(frozen=True)
class Bundle:
    data: bytes
    name: str
    files: int


def _file_name(report: Report, number: int, item: Evidence) -> str:
    return f"report-{report.id}-evidence-{number}.{evidence.EXTENSIONS[item.content_type]}"


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([safe_cell(str(cell)) for cell in row])
    return out.getvalue().encode("utf-8-sig")  # a spreadsheet reads UTF-8 with its mark


def _kept_bytes(folder: Path, number: int, item: Evidence) -> bytes:
    """File ``number``'s kept bytes, read back and checked against the hash kept when it
    arrived; BundleRefused when it is missing or no longer matches."""
    path = folder / item.stored_name
    if not path.is_file():
        raise BundleRefused(f"File {number} is missing from the evidence store: nothing "
                            "was bundled. Tell the portal's administrator.")
    try:
        data = evidence.read(path)
    except crypto.TamperedData:
        data = b""
    if hashlib.sha256(data).hexdigest() != item.sha256_kept:
        raise BundleRefused(f"File {number} no longer matches the hash kept when it "
                            "arrived: nothing was bundled. Tell the portal's administrator.")
    return data


def make(session: Session, report: Report, *, actor: User, reason: str, reference: str,
         folder: Path, summary_pdf: Callable[[], bytes]) -> Bundle:
    """The bundle's bytes, and its audit event added to ``session`` (the caller commits once
    the response can be sent). Refused before anything is read or recorded without a reason
    from ``BUNDLE_REASONS``."""
    if reason not in BUNDLE_REASONS:
        raise BundleRefused("Choose who the bundle is for.")
    reference = " ".join(reference.split())
    if len(reference) > REFERENCE_LIMIT:
        raise BundleRefused(f"Keep the reference to {REFERENCE_LIMIT} characters.")
    kept: list[tuple[str, Evidence, bytes]] = []
    manifest = [["file", "content_type", "sha256_received", "sha256_kept", "bytes_received",
                 "bytes_kept", "added_at_uk", "added_by", "treatment"]]
    for number, item in enumerate(report.evidence, start=1):
        if item.suspected_nude:  # UKCIS: never copied or shared (portal.casework.nude_images)
            name = (f"file {number} withheld: suspected nude or semi-nude image of a child "
                    "(UKCIS guidance), not copied")
        else:
            name = _file_name(report, number, item)
            kept.append((name, item, _kept_bytes(folder, number, item)))
        manifest.append([name, item.content_type, item.sha256_received, item.sha256_kept,
                         str(item.size_received), str(item.size_kept), uk(item.received_at),
                         item.added_by.name if item.added_by else "the reporter, with the report",
                         item.treatment])
    links = [["url", "seen_on", "added_by", "added_at_uk", "note"]] + [
        [link.url, link.seen_on.isoformat(), link.added_by.name if link.added_by else "",
         uk(link.added_at), link.note] for link in report.evidence_links]
    now = utcnow()
    custody = [["file", "when_uk", "who", "what"]]
    names = {item.id: name for name, item, _data in kept}
    history = session.scalars(
        select(Event).where(Event.report_id == report.id,
                            Event.action.in_([Action.EVIDENCE_DOWNLOADED,
                                              Action.EVIDENCE_RELEASED,
                                              Action.EVIDENCE_BUNDLED]))
        .options(selectinload(Event.actor)).order_by(Event.created_at, Event.id))
    for event in history:
        who = event.actor.name if event.actor else "Tell Us"
        if event.action in (Action.EVIDENCE_DOWNLOADED, Action.EVIDENCE_RELEASED):
            downloaded = names.get(event.payload["evidence_id"])
            if downloaded:
                custody.append([downloaded, uk(event.created_at), who, "downloaded"])
        else:
            earlier = BUNDLE_REASONS.get(event.payload["reason"], event.payload["reason"])
            for item_id in event.payload["evidence_ids"]:
                if item_id in names:
                    custody.append([names[item_id], uk(event.created_at), who,
                                    f"put in a bundle for {earlier}"])
    for name, _item, _data in kept:
        custody.append([name, uk(now), actor.name,
                        f"put in this bundle for {BUNDLE_REASONS[reason]}"])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, _item, data in kept:
            archive.writestr(name, data)
        archive.writestr(f"case-{report.id}.pdf", summary_pdf())
        archive.writestr("manifest.csv", _csv(manifest))
        archive.writestr("custody.csv", _csv(custody))
        if len(links) > 1:
            archive.writestr("links.csv", _csv(links))
    session.add(Event.by(actor, Action.EVIDENCE_BUNDLED, {
        "reason": reason, "reference": reference, "evidence_ids": [i.id for _n, i, _d in kept]},
        school_id=report.school_id, report_id=report.id, created_at=now))
    return Bundle(buffer.getvalue(), f"case-{report.id}-evidence-bundle.zip", len(kept))


__all__ = ["BUNDLE_REASONS", "Bundle", "BundleRefused", "make"]
