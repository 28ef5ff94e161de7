"""Migration 0014: urgency reasons stored as words become codes, checklist step keys become
step codes, and each case records its checklists' versions; downgrade gives the old back."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.orm import Session

from portal import crypto, migrate
from portal.models import CaseChecklist, Report
from tests.migrations.test_migrations import backends, connect, schema_diff

REPORT = (
    "INSERT INTO reports (id, school_id, source, status, category, created_at, updated_at,"
    " acknowledged_at, urgency, urgency_reasons, followup_code_hash, body, places,"
    " people_involved, anonymous, reporter_name, reporter_class, child_name, child_year,"
    " since_when, parent_name, contact_email, contact_phone, preferred_adult, legal_hold,"
    " legal_hold_reason, close_override, has_unread_reply, notify_updates) VALUES (:id, 1,"
    " 'pupil', 'new', 'allegation', '2026-01-01 00:00:00', '2026-01-01 00:00:00',"
    " :acknowledged, 100, :reasons, :hash, 'body', '[]', '', true, '', '', '', '', '', '',"
    " '', '', '', false, '', '', false, false)"
)
STEP = ("INSERT INTO checklist_items (report_id, checklist, key, position, required, state,"
        " note) VALUES (:report, :checklist, :key, :position, true, 'open', '')")

THREAT = ["Threat to kill or hurt", "Does not feel safe right now", "Online or outside school"]
# Every form a stored reason list could have before 0014, by report id.
OLD_SHAPES: dict[int, Any] = {
    1: ("sealed", THREAT),  # the usual: encrypted JSON list of words
    2: ("sealed", []),  # nothing ranked it
    3: ("empty", ""),  # the column's default when 0009 retyped it on SQLite
    4: ("plain", ["Not sure they feel safe right now"]),  # stored before encryption (0009)
    5: ("sealed", ["Weapon mentioned", "Words no version wrote"]),  # one it can't place
    6: ("sealed", [{"code": "long_refusal"}]),  # already codes (a newer app wrote it)
}
NEW_FORM = {
    1: [{"code": "threat_to_hurt"}, {"code": "not_safe"}, {"code": "online"}],
    2: [],
    3: [],
    4: [{"code": "not_sure_safe"}],
    5: [{"code": "weapon"}, {"code": "unplaced", "words": "Words no version wrote"}],
    6: [{"code": "long_refusal"}],
}
OLD_STEPS = [(1, "responding", "interview_all", 0), (1, "online", "4.3", 1),
             (1, "malicious", "5.6", 2), (2, "responding", "immediate_safety", 0)]


def _stored(shape: str, value: Any) -> str | None:
    if shape == "empty":
        return ""
    raw = json.dumps(value)
    return raw if shape == "plain" else crypto.encrypt_text(raw)


def _reasons(url: str) -> dict[int, Any]:
    with connect(url) as connection:
        rows = connection.execute(text("SELECT id, urgency_reasons FROM reports")).all()
    return {row.id: None if row.urgency_reasons is None
            else json.loads(crypto.decrypt_text(row.urgency_reasons)) for row in rows}


def _keys(url: str) -> list[tuple[int, str, str]]:
    with connect(url) as connection:
        return [tuple(r) for r in connection.execute(text(
            "SELECT report_id, checklist, key FROM checklist_items ORDER BY report_id, position"))]


@backends
def test_0014_turns_stored_words_into_codes_and_downgrade_gives_the_words_back(
        new_database: Callable[[], str]) -> None:
    crypto.install(crypto.Keyring(crypto.decode_key(crypto.new_key_text())))
    url = new_database()
    migrate.upgrade(url, "0012")
    with connect(url) as connection:
        connection.execute(text("INSERT INTO schools (id, slug, name, exit_url, created_at) "
                                "VALUES (1, 'oak', 'Oak', 'https://x.test', "
                                "'2026-01-01 00:00:00')"))
        for report_id, (shape, value) in OLD_SHAPES.items():
            connection.execute(text(REPORT), {
                "id": report_id, "reasons": _stored(shape, value), "hash": f"{report_id:064d}",
                "acknowledged": "2026-01-02 09:00:00" if report_id == 1 else None})
        for report_id, checklist, key, position in OLD_STEPS:
            connection.execute(text(STEP), {"report": report_id, "checklist": checklist,
                                            "key": key, "position": position})
        connection.commit()

    migrate.upgrade(url, "0014")
    assert _reasons(url) == NEW_FORM
    with connect(url) as connection:
        raw = connection.execute(text("SELECT urgency_reasons FROM reports WHERE id = 4")).scalar()
    assert raw.startswith("enc1:")  # the one stored before encryption is sealed now
    assert _keys(url) == [(1, "responding", "responding-interview_all"),
                          (1, "online", "cyber-4.3"), (1, "malicious", "cyber-5.6"),
                          (2, "responding", "responding-immediate_safety")]
    engine = create_engine(url)
    with Session(engine) as session:  # the application reads them
        report = session.get(Report, 1)
        assert report.reason_codes == ["threat_to_hurt", "not_safe", "online"]
        attached = {(c.report_id, c.checklist): c for c in session.query(CaseChecklist)}
        assert set(attached) == {(1, "responding"), (1, "online"), (1, "malicious"),
                                 (2, "responding")}
        assert {c.version for c in attached.values()} == {1}
        # attached when acknowledged (as checklists used to start), else at arrival
        assert attached[(1, "online")].attached_at.isoformat().startswith("2026-01-02T09:00")
        assert attached[(2, "responding")].attached_at.isoformat().startswith("2026-01-01")
    engine.dispose()

    migrate.downgrade(url, "0012")
    back = _reasons(url)
    assert back[1] == THREAT
    assert back[2] == []
    assert back[3] == []
    assert back[4] == ["Not sure they feel safe right now"]
    assert back[5] == ["Weapon mentioned", "Words no version wrote"]
    assert back[6] == ["Not coming to school for two weeks or more: a safeguarding signal"]
    assert [(r, c, k) for r, c, k, _p in OLD_STEPS] == _keys(url)
    with connect(url) as connection:
        assert "case_checklists" not in inspect(connection).get_table_names()
    migrate.upgrade(url, "head")  # and up again
    assert _reasons(url)[1] == NEW_FORM[1]
    assert schema_diff(url) == []  # later migrations included: the models' schema


@backends
def test_0014_keeps_the_matched_list_entries_a_newer_app_wrote_until_downgrade(
        new_database: Callable[[], str]) -> None:
    crypto.install(crypto.Keyring(crypto.decode_key(crypto.new_key_text())))
    url = new_database()
    migrate.upgrade(url, "0012")
    coded = [{"code": "threat_to_hurt", "matched": ["kill me"]}]
    with connect(url) as connection:
        connection.execute(text("INSERT INTO schools (id, slug, name, exit_url, created_at) "
                                "VALUES (1, 'oak', 'Oak', 'https://x.test', "
                                "'2026-01-01 00:00:00')"))
        connection.execute(text(REPORT), {"id": 1, "reasons": _stored("sealed", coded),
                                          "hash": "1" * 64, "acknowledged": None})
        connection.commit()
    migrate.upgrade(url, "0014")
    assert _reasons(url)[1] == coded
    migrate.downgrade(url, "0012")
    assert _reasons(url)[1] == ["Threat to kill or hurt"]
