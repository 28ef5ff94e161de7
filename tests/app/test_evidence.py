"""Evidence: hostile files refused with the words kept; photos cleaned of where and who;
hashes recorded; files kept safely and downloaded only by the school's DSL roles
(SECURITY.md P2; cyber-bullying policy 4.3 and 5.3: "Secure and preserve any evidence")."""

from __future__ import annotations

import hashlib
import io
import re

import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from portal import evidence
from portal.models import Event, Evidence, Report, Role
from tests.conftest import PARENT, PUPIL, Browser, followup_code, hidden_fields

MARKERS = (b"MARKERCAMERA", b"MARKERCOMMENT", b"MARKERXMP")


def gps_photo() -> bytes:
    """A phone photo: GPS position, camera make, a JPEG comment and XMP, all with markers."""
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "MARKERCAMERA"
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 12.5), 3: "W", 4: (0.0, 7.0, 39.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, comment=b"MARKERCOMMENT",
               xmp=b"<x:xmpmeta>MARKERXMP</x:xmpmeta>")
    data = out.getvalue()
    assert all(marker in data for marker in MARKERS)
    return data


def png(size=(40, 30), mode="RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size).save(out, "PNG")
    return out.getvalue()


def send(browser: Browser, files, form="pupil", **fields):
    """Send a report form with ``files`` as (filename, bytes) pairs under ``evidence``."""
    url = f"/s/oakfield/{form}"
    data = {**hidden_fields(browser.get(url).get_data(as_text=True), url),
            **(PUPIL if form == "pupil" else PARENT), **fields}
    data["evidence"] = [(io.BytesIO(content), name) for name, content in files]
    return browser.client.post(url, data=data, content_type="multipart/form-data")


def stored_files(app) -> list:
    folder = app.config["PORTAL_EVIDENCE_DIR"]
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def count(session: Session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_a_gps_tagged_commented_photo_goes_through_and_comes_back_clean(
        app, browser, school, make_user, session):
    photo = gps_photo()
    response = send(browser, [("IMG_0042.jpg", photo)],
                    what_happened="Screenshot of the messages attached")
    assert response.status_code == 200
    item = session.scalars(select(Evidence)).one()
    assert item.sha256_received == hashlib.sha256(photo).hexdigest()
    assert item.content_type == "image/jpeg"
    # Nothing on disk carries the sender's file name or the markers
    (path,) = stored_files(app)
    assert "IMG_0042" not in str(path)
    assert re.fullmatch(r"[0-9a-f]{32}\.jpg", path.name)
    on_disk = path.read_bytes()
    kept = evidence.read(path)
    assert not any(marker in kept for marker in MARKERS)
    assert hashlib.sha256(kept).hexdigest() == item.sha256_kept
    assert kept not in on_disk
    assert b"JFIF" not in on_disk
    # The DSL downloads it as an attachment, clean, and the hashes are on the case page
    dsl = make_user(school=school)
    staff = Browser(app.test_client())
    staff.login(dsl.email)
    case = staff.get(f"/staff/cases/{item.report_id}").get_data(as_text=True)
    assert item.sha256_received in case
    assert item.sha256_kept in case
    download = staff.get(f"/staff/cases/{item.report_id}/evidence/{item.id}")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    body = download.get_data()
    download.close()
    assert not any(marker in body for marker in MARKERS)
    image = Image.open(io.BytesIO(body))
    assert image.size == (64, 48)
    assert not image.getexif()
    assert "comment" not in image.info
    assert "xmp" not in image.info
    audit = session.scalars(select(Event).where(Event.action == "evidence.downloaded")).one()
    assert audit.actor_id == dsl.id


@pytest.mark.parametrize(("name", "content", "message"), [
    ("cute.jpg", b"<html><script>alert(1)</script></html>", "is not a picture"),
    ("bomb.png", None, "too large a picture"),
    ("broken.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 200, "looks damaged"),
    ("empty.png", b"", None),
])
def test_a_hostile_file_is_refused_and_the_childs_words_are_kept(
        app, browser, school, session, name, content, message):
    if content is None:
        content = png((10_000, 10_000), "1")  # 100 million pixels in a few kilobytes
    words = "He keeps sending me horrible pictures"
    response = send(browser, [("ok.png", png()), (name, content)], what_happened=words)
    html = response.get_data(as_text=True)
    if message is None:  # an empty file input is simply no file
        assert response.status_code == 200
        return
    assert response.status_code == 400
    assert message in html
    assert name in html  # which file was refused
    assert words in html  # nothing typed is lost
    assert count(session, Report) == 0
    assert stored_files(app) == []


def test_a_path_in_the_file_name_never_reaches_the_disk(app, browser, school, session):
    send(browser, [("../../../etc/x.png", png())])
    (path,) = stored_files(app)
    assert path.parent.parent == app.config["PORTAL_EVIDENCE_DIR"]
    assert ".." not in path.name
    assert re.fullmatch(r"[0-9a-f]{32}\.png", path.name)


def test_a_pdf_is_kept_rebuilt_with_both_hashes(app, browser, school, session):
    """tests/app/test_pdf_evidence.py has what is taken out of it."""
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    out = io.BytesIO()
    writer.write(out)
    pdf = out.getvalue()
    assert send(browser, [("letter.pdf", pdf)], form="parent").status_code == 200
    item = session.scalars(select(Evidence)).one()
    (path,) = stored_files(app)
    kept = evidence.read(path)
    assert kept.startswith(b"%PDF-")
    assert len(PdfReader(io.BytesIO(kept)).pages) == 1
    assert (item.content_type, item.sha256_received, item.sha256_kept) == (
        "application/pdf", hashlib.sha256(pdf).hexdigest(), hashlib.sha256(kept).hexdigest())


def test_more_than_five_files_are_refused(app, browser, school, session):
    response = send(browser, [(f"{i}.png", png()) for i in range(6)])
    assert response.status_code == 400
    assert "at most 5 files" in response.get_data(as_text=True)
    assert count(session, Report) == 0


def test_an_oversize_file_is_refused_before_anything_is_written(app, browser, school, session):
    """22 MB in one file: over the per-file limit but under the hard cap on the body, so it
    is refused on its own, with the words kept (tests/app/test_phone_photos.py has the cap)."""
    big = b"\x89PNG\r\n\x1a\n" + b"\x00" * (22 * 1024 * 1024)
    url = "/s/oakfield/pupil"
    fields = {**hidden_fields(browser.get(url).get_data(as_text=True), url), **PUPIL}
    items = [(k, v) for k, vs in fields.items() for v in (vs if isinstance(vs, list) else [vs])]
    # Encoded by hand: the test client's own encoder leaves a temporary file open.
    boundary, body = encode_multipart(MultiDict(
        [*items, ("evidence", FileStorage(io.BytesIO(big), "huge.png"))]))
    response = browser.client.post(url, data=body,
                                   content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 400
    assert "“huge.png”) is bigger than 10 MB" in response.get_data(as_text=True)
    assert count(session, Report) == 0
    assert stored_files(app) == []


def test_a_failed_commit_leaves_no_rows_and_no_files(app, browser, school, session):
    """SECURITY.md P10: the reporter is told the truth and keeps their words."""
    def fail(_session):
        raise OperationalError("COMMIT", {}, Exception("disk full"))

    event.listen(Session, "before_commit", fail)
    try:
        response = send(browser, [("a.png", png())], what_happened="Words that must survive")
    finally:
        event.remove(Session, "before_commit", fail)
    html = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "We could not save your report" in html
    assert "Words that must survive" in html
    assert count(session, Report) == 0
    assert count(session, Evidence) == 0
    assert stored_files(app) == []


def test_only_the_schools_dsl_roles_can_download(app, browser, school, make_school, make_user,
                                                 session):
    send(browser, [("a.png", png())])
    item = session.scalars(select(Evidence)).one()
    url = f"/staff/cases/{item.report_id}/evidence/{item.id}"
    other = make_user(school=make_school("elmwood", "Elmwood"))
    teacher = make_user(Role.STAFF, school=school)
    admin = make_user(Role.ADMIN, school=school)
    for user, status in ((other, 404), (teacher, 403), (admin, 403)):
        client = Browser(app.test_client())
        client.login(user.email)
        assert client.get(url).status_code == status, user.role
    assert Browser(app.test_client()).get(url).status_code == 302  # not signed in


def test_the_follow_up_page_says_files_were_kept(browser, school, session):
    response = send(browser, [("a.png", png())])
    code = followup_code(response.get_data(as_text=True))
    assert "1 kept safely" in browser.submit("/follow-up", {"code": code}).get_data(as_text=True)
