"""PDF evidence is kept without its document details (Info, XMP) or anything active
(JavaScript, OpenAction, AA, Launch, embedded files), its pages whole; the SHA-256 of what
was received and of what was kept are both recorded (SECURITY.md P2)."""

from __future__ import annotations

import hashlib
import io

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from portal import evidence
from portal.models import Evidence, Report
from tests.app.test_phone_photos import post
from tests.conftest import Browser
from tests.evidence_files import PDF_MARKERS, PDF_TEXT, hostile_pdf


def active_keys(reader: PdfReader) -> set[str]:
    """Every name in the document that can hold metadata or act on opening."""
    found: set[str] = set()
    root = reader.trailer["/Root"]
    found |= {k for k in ("/OpenAction", "/AA", "/Names", "/Metadata", "/AcroForm")
              if k in root}
    if "/Info" in reader.trailer:
        found.add("/Info")
    for page in reader.pages:
        found |= {k for k in ("/AA", "/Metadata") if k in page}
        for annot in page.get("/Annots", []) or []:
            action = annot.get_object().get("/A")
            if action is not None:
                found.add(str(action.get_object().get("/S")))
    return found


def test_the_hostile_pdf_really_carries_it_all():
    data = hostile_pdf()
    assert all(marker in data for marker in PDF_MARKERS)
    reader = PdfReader(io.BytesIO(data))
    assert reader.metadata.author == "MARKERAUTHOR"
    assert {"/OpenAction", "/AA", "/Names", "/Metadata", "/Info", "/Launch"} <= \
        active_keys(reader)


def test_a_pdf_is_kept_without_its_details_or_scripts(app, browser, school, make_user,
                                                      session):
    pdf = hostile_pdf()
    response = post(browser, "parent", [("letter from school.pdf", pdf)])
    assert response.status_code == 200, response.get_data(as_text=True)[:400]
    item = session.scalars(select(Evidence)).one()
    assert item.content_type == "application/pdf"
    assert item.sha256_received == hashlib.sha256(pdf).hexdigest()
    dsl = make_user(school=school)
    staff = Browser(app.test_client())
    staff.login(dsl.email)
    download = staff.get(f"/staff/cases/{item.report_id}/evidence/{item.id}")
    kept = download.get_data()
    download.close()
    assert hashlib.sha256(kept).hexdigest() == item.sha256_kept != item.sha256_received
    assert not [marker for marker in PDF_MARKERS if marker in kept]
    reader = PdfReader(io.BytesIO(kept))
    assert active_keys(reader) == set()
    assert reader.xmp_metadata is None
    assert len(reader.pages) == 1
    assert PDF_TEXT in reader.pages[0].extract_text()
    # What was done is recorded, and fits its column (PostgreSQL enforces the length).
    assert len(item.treatment) <= Evidence.__table__.c.treatment.type.length
    assert "scripts" in item.treatment


def test_a_pdf_locked_with_a_password_is_refused_with_the_words_kept(browser, school,
                                                                     session):
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.encrypt("secret-password")
    out = io.BytesIO()
    writer.write(out)
    details = "The messages are in the attached PDF"
    response = post(browser, "parent", [("locked.pdf", out.getvalue())], details=details)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "locked with a password" in html
    assert "locked.pdf" in html
    assert details in html
    assert session.scalar(select(func.count()).select_from(Report)) == 0


def test_a_damaged_pdf_is_refused():
    with pytest.raises(evidence.EvidenceRefused, match="looks damaged"):
        evidence.clean(b"%PDF-1.4\nnothing here at all\n", "File 1")
