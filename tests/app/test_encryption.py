"""Encryption at rest (SECURITY.md P13): a copied database or evidence folder reveals no
report text, names, contact details or messages; tampering is detected; keys rotate."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select, text

from portal import crypto
from portal.cli import cli
from portal.models import (
    Event,
    FigureSealedDay,
    LinkRole,
    Message,
    Pupil,
    Report,
    ReportPupil,
)
from portal.rotation import encrypted_columns
from tests.conftest import PARENT, PUPIL, Browser, followup_code, hidden_fields

MARKER = "ZQXMARKER"


def raw_dump(app) -> bytes:
    """Everything the database holds, as bytes: the SQLite file itself, or every row of
    every table read without the application's types (PostgreSQL)."""
    engine = app.extensions["portal.engine"]
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        path = Path(engine.url.database)
        return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
    with engine.connect() as connection:
        names = connection.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars().all()
        return "\n".join(repr(connection.execute(text(f'SELECT * FROM "{n}"')).all())
                         for n in names).encode()


def photo_with_marker() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (10, 10), (1, 2, 3)).save(out, "PNG")
    return out.getvalue()


def test_the_raw_database_and_files_hold_no_report_text(app, browser, school, make_user,
                                                        session):
    url = "/s/oakfield/pupil"
    fields = {**hidden_fields(browser.get(url).get_data(as_text=True), url), **PUPIL,
              "what_happened": f"{MARKER} said horrible things",
              "who_involved": f"{MARKER}-who", "anonymous": "no",
              "reporter_name": f"{MARKER}name", "reporter_class": f"{MARKER}class",
              "evidence": [(io.BytesIO(photo_with_marker()), "a.png")]}
    done = browser.client.post(url, data=fields, content_type="multipart/form-data")
    code = followup_code(done.get_data(as_text=True))
    browser.submit("/s/oakfield/parent", {**PARENT, "child_name": f"{MARKER}child",
                                          "details": f"{MARKER} details",
                                          "parent_name": f"{MARKER}parent",
                                          "contact_email": "zqxmarker@example.org",
                                          "contact_phone": "01632 960 777",
                                          "since_when": f"{MARKER} weeks"})
    staff = Browser(app.test_client())
    staff.login(make_user(school=school).email)
    report = session.scalars(select(Report).order_by(Report.id)).first()
    page = f"/staff/cases/{report.id}"
    staff.submit(page, {"note": f"{MARKER} staff note"}, action=f"{page}/notes")
    staff.submit(page, {"message": f"{MARKER} message"}, action=f"{page}/messages")
    # The application still reads everything
    html = staff.get(page).get_data(as_text=True)
    assert f"{MARKER} said horrible things" in html
    assert f"{MARKER} staff note" in html
    assert f"{MARKER} message" in browser.submit("/follow-up", {"code": code}).get_data(
        as_text=True)
    # ...but the stored bytes don't
    dump = raw_dump(app)
    assert b"enc1:" in dump  # ciphertext is there, so the dump is the real data
    for needle in (MARKER.encode(), b"zqxmarker@example.org", b"01632 960 777"):
        assert needle not in dump, needle
    folder = app.config["PORTAL_EVIDENCE_DIR"]
    (stored,) = [p for p in folder.rglob("*") if p.is_file()]
    assert stored.read_bytes().startswith(crypto.FILE_MAGIC)
    assert b"PNG" not in stored.read_bytes()[:64]


def test_every_sensitive_column_is_encrypted():
    covered = set(encrypted_columns())
    for column in [("reports", "body"), ("reports", "people_involved"),
                   ("reports", "reporter_name"), ("reports", "reporter_class"),
                   ("reports", "child_name"), ("reports", "parent_name"),
                   ("reports", "contact_email"), ("reports", "contact_phone"),
                   ("messages", "body"), ("events", "payload"), ("outbox", "to_address"),
                   ("users", "totp_secret"),
                   # who a pupil is, what a report says happened, what was decided
                   ("pupils", "upn"), ("pupils", "first_name"), ("pupils", "last_name"),
                   ("pupils", "date_of_birth"), ("pupils", "year_group"), ("pupils", "form"),
                   ("pupils", "sen_status"), ("reports", "urgency_reasons"),
                   ("reports", "preferred_adult"), ("outbox", "last_error")]:
        assert column in covered, column


def test_tampered_ciphertext_is_detected(app, school, make_report, session):
    report, _ = make_report(school, what_happened="kept safe")
    stored = session.execute(text("SELECT body FROM reports WHERE id = :id"),
                             {"id": report.id}).scalar()
    prefix, ident, payload = stored.split(":", 2)
    flipped = payload[:-6] + ("A" if payload[-6] != "A" else "B") + payload[-5:]
    session.execute(text("UPDATE reports SET body = :b WHERE id = :id"),
                    {"b": f"{prefix}:{ident}:{flipped}", "id": report.id})
    session.commit()
    session.expire_all()
    with pytest.raises(crypto.TamperedData):
        session.scalars(select(Report)).one().body  # noqa: B018 - loading is the test


def test_rotate_key_re_encrypts_text_and_files(app, browser, school, make_report, session):
    report, _ = make_report(school, what_happened="before rotation")
    # a linked child, so the figures' sealed day (year group, SEND) is rotated too: a
    # table keyed by school and day, with no id column
    child = Pupil(school_id=school.id, upn="R1", first_name="Ada", last_name="Rotate",
                  year_group="Year 4", on_roll=True)
    session.add(child)
    session.flush()
    session.add(ReportPupil(report_id=report.id, pupil_id=child.id, role=LinkRole.TARGET))
    session.commit()
    url = "/s/oakfield/pupil"
    browser.client.post(url, data={**hidden_fields(browser.get(url).get_data(as_text=True),
                                                   url), **PUPIL,
                                   "evidence": [(io.BytesIO(photo_with_marker()), "a.png")]},
                        content_type="multipart/form-data")
    old_id = crypto.key_id(crypto.keyring().current)
    result = app.test_cli_runner().invoke(cli, ["rotate-key"])
    assert result.exit_code == 0, result.output
    new_id = crypto.key_id(crypto.keyring().current)
    assert new_id != old_id
    dump = raw_dump(app)
    assert f"enc1:{old_id}:".encode() not in dump
    assert f"enc1:{new_id}:".encode() in dump
    assert not (Path(app.instance_path) / "data_key.old").exists()
    session.expire_all()
    assert {r.body for r in session.scalars(select(Report))} >= {"before rotation"}
    assert [d.counts["year"] for d in session.scalars(select(FigureSealedDay))] == [
        {"Year 4": 1}]
    (stored,) = [p for p in app.config["PORTAL_EVIDENCE_DIR"].rglob("*") if p.is_file()]
    assert stored.read_bytes()[4:12].decode() == new_id
    Image.open(io.BytesIO(crypto.decrypt_file(stored.read_bytes()))).verify()


def test_values_stored_before_encryption_are_still_read(app, school, make_report, session):
    report, _ = make_report(school)
    session.execute(text("UPDATE reports SET body = 'plain old text' WHERE id = :id"),
                    {"id": report.id})
    session.commit()
    session.expire_all()
    assert session.get(Report, report.id).body == "plain old text"
    assert session.scalars(select(Message)).all() == []
    assert session.scalars(select(Event)).first() is not None
