"""Evidence the DSL adds from the case page (issue 16; cyber-bullying policy 5.3: "secure
and preserve any evidence including URLs, Screenshots and Printouts"): files with the same
checks, metadata stripping and hashes as a reporter's, and web addresses with the day seen;
each an audit event, in the bundle, the PDF and the chronology."""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from datetime import date, timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from portal.models import Event, Evidence, EvidenceLink, Report, Role
from tests.conftest import Browser, hidden_fields
from tests.pdf_text import pdf_text

TODAY = date.today()


@pytest.fixture
def case(school, make_report):
    stored, _ = make_report(school)
    page = f"/staff/cases/{stored.id}"
    return {"id": stored.id, "page": page, "add": f"{page}/evidence"}


def photo_with_gps() -> bytes:
    """A JPEG carrying EXIF (a camera make and a GPS block), as a phone writes it."""
    image = Image.new("RGB", (80, 60), "green")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0)}  # GPSInfo
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def send(browser, case, *, files=(), **fields):
    token = hidden_fields(browser.get(case["page"]).get_data(as_text=True), case["add"])
    data = {**token, "link_url": "", "link_seen_on": TODAY.isoformat(), "link_note": "",
            **fields, "evidence": [(io.BytesIO(d), n) for n, d in files]}
    return browser.client.post(case["add"], data=data, content_type="multipart/form-data")


def test_a_screenshot_added_by_the_dsl_is_cleaned_hashed_and_recorded(browser, case,
                                                                       session, dsl, app):
    sent = photo_with_gps()
    response = send(browser, case, files=[("screenshot.jpg", sent)])
    assert response.status_code == 302
    assert response.headers["Location"].endswith("#evidence")
    (item,) = session.scalars(select(Evidence).where(Evidence.report_id == case["id"]))
    assert item.added_by_id == dsl.id
    assert item.sha256_received == hashlib.sha256(sent).hexdigest()
    assert item.sha256_kept != item.sha256_received  # rebuilt from pixels
    kept = app.config["PORTAL_EVIDENCE_DIR"] / str(session.get(Report, case["id"]).school_id)
    from portal import evidence as store

    data = store.read(kept / item.stored_name)
    assert b"PhoneMaker" not in data
    assert Image.open(io.BytesIO(data)).getexif().get(0x8825) is None
    (event,) = session.scalars(select(Event).where(Event.action == "evidence.added"))
    assert (event.actor_id, event.payload) == (dsl.id, {"evidence_ids": [item.id]})
    page = browser.get(case["page"]).get_data(as_text=True)
    assert "1 evidence file added from the case page" in page
    assert f"added by {dsl.name}" in page


def test_a_web_address_is_kept_with_the_day_seen_and_goes_in_the_bundle(browser, case,
                                                                        session, dsl):
    url = "https://social.example/post/123?x=<script>"
    response = send(browser, case, link_url=url,
                    link_seen_on=(TODAY - timedelta(days=2)).isoformat(),
                    link_note="Posted about her at 9pm")
    assert response.status_code == 302
    (link,) = session.scalars(select(EvidenceLink))
    assert (link.url, link.seen_on, link.added_by_id) == (url, TODAY - timedelta(days=2), dsl.id)
    page = browser.get(case["page"]).get_data(as_text=True)
    assert "https://social.example/post/123?x=&lt;script&gt;" in page
    assert f'href="{url}' not in page  # kept as text, never a link the portal opens
    archive = zipfile.ZipFile(io.BytesIO(browser.get(
        f"{case['page']}/bundle.zip?reason=police").data))
    (row,) = csv.DictReader(io.StringIO(archive.read("links.csv").decode("utf-8-sig")))
    assert (row["url"], row["seen_on"], row["note"]) == (
        url, (TODAY - timedelta(days=2)).isoformat(), "Posted about her at 9pm")
    text = pdf_text(browser.get(f"{case['page']}/export.pdf").data)
    assert "Posted about her at 9pm" in text


@pytest.mark.parametrize(("fields", "message"), [
    ({}, "Choose a file, or give a web address."),
    ({"link_url": "javascript:alert(1)"}, "starting https://"),
    ({"link_url": "https://x.example/a", "link_seen_on": ""}, "Enter the day it was seen"),
    ({"link_url": "https://x.example/a",
      "link_seen_on": (TODAY + timedelta(days=3)).isoformat()}, "be in the future"),
    ({"link_url": "https://x.example/a", "link_seen_on": "0206-01-01"}, "Check the year"),
    ({"link_url": "https://x.example/a", "link_seen_on": "tomorrow"},
     "Enter the day it was seen as a date"),
])
def test_bad_input_is_refused_in_words_and_keeps_what_was_typed(browser, case, session, dsl,
                                                                fields, message):
    response = send(browser, case, link_note="Her note stays", **fields)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html
    assert "Her note stays" in html
    assert session.scalars(select(EvidenceLink)).all() == []
    assert session.scalars(select(Event).where(Event.action.in_(
        ["evidence.added", "evidence.link_added"]))).all() == []


def test_a_file_that_is_not_a_picture_or_pdf_is_refused_and_nothing_is_kept(
        browser, case, session, dsl, app, school):
    response = send(browser, case, files=[("notes.exe", b"MZ\x90\x00 not a picture")],
                    link_url="https://x.example/kept-too")
    assert response.status_code == 400
    assert "choose the files again" in response.get_data(as_text=True)
    assert session.scalars(select(Evidence)).all() == []
    assert session.scalars(select(EvidenceLink)).all() == []  # all or nothing
    folder = app.config["PORTAL_EVIDENCE_DIR"] / str(school.id)
    assert not folder.exists() or list(folder.iterdir()) == []


def test_a_refused_link_after_good_files_keeps_no_file(browser, case, session, dsl, app,
                                                      school):
    response = send(browser, case, files=[("ok.jpg", photo_with_gps())],
                    link_url="https://x.example/a",
                    link_seen_on=(TODAY + timedelta(days=1)).isoformat())
    assert response.status_code == 400
    assert session.scalars(select(Evidence)).all() == []
    folder = app.config["PORTAL_EVIDENCE_DIR"] / str(school.id)
    assert not folder.exists() or list(folder.iterdir()) == []


def test_other_schools_and_roles_cannot_add(app, case, make_school, make_user, school,
                                            session):
    for user in (make_user(Role.DSL, make_school("elm", "Elm Park")),
                 make_user(Role.STAFF, school), make_user(Role.HEAD, school)):
        other = Browser(app.test_client())
        other.login(user.email)
        response = other.client.post(case["add"], data={"link_url": "https://x.example/"})
        assert response.status_code in (400, 403, 404)
    assert session.scalars(select(EvidenceLink)).all() == []


def test_the_case_page_with_the_evidence_form_has_unique_ids(browser, case, dsl):
    import re

    send(browser, case, files=[("a.jpg", photo_with_gps())], link_url="https://x.example/a")
    html = browser.get(case["page"]).get_data(as_text=True)
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    assert 'for="add-evidence-files"' in html


def test_the_same_web_address_sent_twice_is_kept_once(browser, case, session, dsl):
    """A trial's finding: the same address and day sent twice were kept twice."""
    assert send(browser, case, link_url="https://dup.example/x").status_code == 302
    again = send(browser, case, link_url="https://dup.example/x")
    assert again.status_code == 400
    assert "kept already for that day" in again.get_data(as_text=True)
    assert len(session.scalars(select(EvidenceLink)).all()) == 1
