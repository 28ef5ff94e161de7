"""The Alembic migrations build exactly the models' schema, and take it all down again."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, inspect, text
from sqlalchemy.exc import IntegrityError

from portal import migrate
from portal.models import Base

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]
backends = pytest.mark.parametrize("new_database", BACKENDS, indirect=True)


@contextmanager
def connect(url: str) -> Iterator[Connection]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def schema_diff(url: str) -> list[Any]:
    """What autogenerate would still write to make the database match the models."""
    with connect(url) as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def check_constraints(url: str) -> dict[str, set[tuple[str | None, str]]]:
    """Each table's CHECK constraints (autogenerate does not compare these)."""
    with connect(url) as connection:
        inspector = inspect(connection)
        return {
            table: {
                (ck["name"], " ".join(ck["sqltext"].split()))
                for ck in inspector.get_check_constraints(table)
            }
            for table in inspector.get_table_names()
            if table != "alembic_version"
        }


def add_account(url: str, email: str = "a@b.test") -> None:
    """One DSL account, written as the schema of 0026 onwards takes it."""
    with connect(url) as connection:
        connection.execute(text(
            "INSERT INTO users (email, display_name, password_hash, role, is_active, "
            "created_at, totp_last_step, throttle_epoch) VALUES (:email, 'A', 'x', 'dsl', "
            "true, CURRENT_TIMESTAMP, 0, 0)"), {"email": email})
        connection.commit()


def table_names(url: str) -> set[str]:
    with connect(url) as connection:
        return set(inspect(connection).get_table_names())


def head_revision() -> str:
    """The newest revision in migrations/versions."""
    head = ScriptDirectory.from_config(migrate.alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def test_one_linear_history_starting_at_0001() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    assert script.get_heads() == [script.get_current_head()]
    first = script.get_revision("0001")
    assert first is not None
    assert first.down_revision is None


def test_config_keeps_the_url_intact() -> None:
    url = "postgresql+psycopg://portal:p%40ss%25word@db.internal/portal"
    config = migrate.alembic_config(url)
    assert config.get_main_option("sqlalchemy.url") == url
    assert config.attributes["database_url"] == url
    assert config.get_main_option("script_location") == str(migrate.MIGRATIONS_DIR)


@backends
def test_upgrade_head_gives_exactly_the_models_schema(new_database: Callable[[], str]) -> None:
    url = new_database()
    migrate.upgrade(url, "head")

    assert schema_diff(url) == []
    assert migrate.current(url) == head_revision()
    assert table_names(url) == set(Base.metadata.tables) | {"alembic_version"}


@backends
def test_check_constraints_match_the_models(new_database: Callable[[], str]) -> None:
    migrated, created = new_database(), new_database()
    migrate.upgrade(migrated)
    engine = create_engine(created)
    Base.metadata.create_all(engine)
    engine.dispose()

    found = check_constraints(migrated)
    assert found == check_constraints(created)
    assert {name for name, _ in found["reports"]} == {
        "ck_reports_report_source", "ck_reports_report_status", "ck_reports_report_category",
    }
    assert {name for name, _ in found["users"]} == {"ck_users_role"}


@backends
def test_enum_and_json_columns_work_after_upgrade(new_database: Callable[[], str]) -> None:
    url = new_database()
    migrate.upgrade(url)
    with connect(url) as connection:
        connection.execute(text(
            "INSERT INTO schools (id, slug, name, exit_url, created_at) "
            "VALUES (1, 'oak', 'Oak', 'https://example.org', CURRENT_TIMESTAMP)"
        ))
        connection.execute(text(
            "INSERT INTO users (email, display_name, password_hash, role, school_id, is_active,"
            " created_at) VALUES ('a@example.org', '', 'x', 'dsl', 1, true, CURRENT_TIMESTAMP)"
        ))
        connection.commit()
        with pytest.raises(IntegrityError):
            connection.execute(text(
                "INSERT INTO users (email, display_name, password_hash, role, is_active,"
                " created_at) VALUES ('b@example.org', '', 'x', 'root', true, CURRENT_TIMESTAMP)"
            ))
        connection.rollback()


@backends
def test_downgrade_base_leaves_only_alembic_version(new_database: Callable[[], str]) -> None:
    url = new_database()
    migrate.upgrade(url, "head")
    migrate.downgrade(url, "base")

    assert table_names(url) == {"alembic_version"}
    assert migrate.current(url) is None

    # And the way back up works again from there.
    migrate.upgrade(url, "head")
    assert schema_diff(url) == []


def test_rows_stored_before_0002_get_the_policy_defaults(tmp_path) -> None:
    """Schools created at 0001 get 3 reports / 60 days and the overdue defaults in 0002."""
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    migrate.upgrade(url, "0001")
    with connect(url) as connection:
        connection.execute(text("INSERT INTO schools (slug, name, exit_url, created_at) "
                                "VALUES ('old', 'Old School', 'https://x.test', "
                                "'2026-01-01 00:00:00')"))
        connection.commit()
    migrate.upgrade(url, "0002")
    with connect(url) as connection:
        row = connection.execute(text(
            "SELECT recurring_count, recurring_days, urgent_due_days, normal_due_days, "
            "day_ends_hour FROM schools")).one()
    assert tuple(row) == (3, 60, 0, 2, 16)


# --- 0009: names and values encrypted, rows made with the old schema ---------------------

OLD_ROWS = [
    "INSERT INTO schools (id, slug, name, exit_url, created_at) "
    "VALUES (1, 'oak', 'Oak', 'https://x.test', '2026-01-01 00:00:00')",
    "INSERT INTO pupils (id, school_id, upn, first_name, last_name, date_of_birth, year_group,"
    " form, sen_status, on_roll, recurring, created_at, updated_at) VALUES (1, 1,"
    " 'Q801234567890', 'Zebedee', 'Quartermain', '2015-03-14', 'Year 5', 'Kestrels', 'E',"
    " true, false, '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
    "INSERT INTO reports (id, school_id, source, status, category, created_at, updated_at,"
    " urgency, urgency_reasons, followup_code_hash, body, places, people_involved, anonymous,"
    " reporter_name, reporter_class, preferred_adult, child_name, child_year, since_when,"
    " parent_name, contact_email, contact_phone, legal_hold, legal_hold_reason,"
    " close_override, has_unread_reply, notify_updates) VALUES (1, 1, 'pupil', 'in_review',"
    " 'bullying_incident', '2026-01-01 00:00:00', '2026-01-01 00:00:00', 120,"
    " '[\"Threat to kill or hurt\", \"Does not feel safe right now\"]', :hash, 'body',"
    " '[]', '', true, '', '', 'Mrs Wolstenholme', '', '', '', '', '', '', false, '', '',"
    " false, false)",
    "INSERT INTO report_pupils (id, report_id, pupil_id, role, linked_at) VALUES (1, 1, 1,"
    " 'alleged_perpetrator', '2026-01-02 00:00:00')",
    "INSERT INTO events (id, school_id, report_id, action, old_value, new_value, created_at)"
    " VALUES (1, 1, 1, 'pupil.linked', NULL, '1:alleged_perpetrator', '2026-01-02 00:00:00'),"
    " (2, 1, 1, 'category.changed', 'allegation', 'bullying_incident', '2026-01-02 00:00:00')",
    "INSERT INTO outbox (id, to_address, subject, body, kind, created_at, send_after, attempts,"
    " last_error) VALUES (1, 'x', 's', 'b', 'urgent', '2026-01-02 00:00:00',"
    " '2026-01-02 00:00:00', 1, 'SMTPRecipientsRefused: zebedee.parent@example.org')",
]
OLD_TEXT = {("pupils", "upn"): "Q801234567890", ("pupils", "first_name"): "Zebedee",
            ("pupils", "last_name"): "Quartermain", ("pupils", "date_of_birth"): "2015-03-14",
            ("pupils", "year_group"): "Year 5", ("pupils", "form"): "Kestrels",
            ("pupils", "sen_status"): "E", ("reports", "preferred_adult"): "Mrs Wolstenholme",
            ("events", "new_value"): "1:alleged_perpetrator",
            ("outbox", "last_error"): "SMTPRecipientsRefused: zebedee.parent@example.org"}


def _raw(url: str) -> dict[tuple[str, str], Any]:
    with connect(url) as connection:
        found = {key: connection.execute(text(f"SELECT {key[1]} FROM {key[0]} "
                                              "ORDER BY id LIMIT 1")).scalar()
                 for key in OLD_TEXT}
        found["reasons"] = connection.execute(text("SELECT urgency_reasons FROM reports")) \
            .scalar()
        found["decision"] = tuple(connection.execute(text(
            "SELECT old_value, new_value FROM events WHERE id = 2")).one())
    return found


@backends
def test_0009_encrypts_rows_stored_before_it_and_downgrade_gives_them_back(
        new_database: Callable[[], str]) -> None:
    import json
    from pathlib import Path

    from sqlalchemy.orm import Session

    from portal import crypto
    from portal.models import Event, OutboxMessage, Pupil, Report, SenStatus, upn_index

    crypto.install(crypto.Keyring(crypto.decode_key(crypto.new_key_text())))
    url = new_database()
    migrate.upgrade(url, "0005")
    with connect(url) as connection:
        for statement in OLD_ROWS:
            connection.execute(text(statement), {"hash": "a" * 64})
        connection.commit()

    migrate.upgrade(url, "0012")  # through 0009, which seals them (0013 reshapes events)
    sealed = _raw(url)
    for key, plain in OLD_TEXT.items():
        assert sealed[key].startswith("enc1:"), key
        assert crypto.decrypt_text(sealed[key]) == plain, key
    assert sealed["reasons"].startswith("enc1:")
    assert all(v.startswith("enc1:") for v in sealed["decision"])
    if url.startswith("sqlite"):
        raw = Path(url.removeprefix("sqlite:///")).read_bytes()
        for needle in (b"Zebedee", b"Quartermain", b"Q801234567890", b"Kestrels",
                       b"Threat to kill", b"Wolstenholme", b"1:alleged_perpetrator"):
            assert needle not in raw, needle
    migrate.upgrade(url, "head")
    engine = create_engine(url)
    with Session(engine) as session:  # the application reads them as before
        pupil = session.get(Pupil, 1)
        assert (pupil.name, pupil.upn, str(pupil.date_of_birth), pupil.form,
                pupil.sen_status) == ("Zebedee Quartermain", "Q801234567890", "2015-03-14",
                                      "Kestrels", SenStatus.EHC_PLAN)
        assert pupil.upn_hash == upn_index("Q801234567890")
        report = session.get(Report, 1)
        # sealed by 0009, and turned into reason codes by 0014
        assert report.urgency_reasons == [{"code": "threat_to_hurt"}, {"code": "not_safe"}]
        assert report.preferred_adult == "Mrs Wolstenholme"
        assert session.get(Event, 2).payload == {"from": "allegation",
                                                 "to": "bullying_incident", "reason": ""}
        assert "zebedee.parent" in session.get(OutboxMessage, 1).last_error
        # the blind index keeps the UPN unique in the school
        session.add(Pupil(school_id=1, upn="Q801234567890", first_name="A", last_name="B"))
        with pytest.raises(IntegrityError):
            session.commit()
    engine.dispose()
    assert schema_diff(url) == []

    migrate.downgrade(url, "0005")
    plain = _raw(url)
    for key, value in OLD_TEXT.items():
        assert str(plain[key]) == value, key
    reasons = plain["reasons"]
    assert (json.loads(reasons) if isinstance(reasons, str) else reasons) == [
        "Threat to kill or hurt", "Does not feel safe right now"]
    assert plain["decision"] == ("allegation", "bullying_incident")
    with connect(url) as connection:
        with pytest.raises(IntegrityError):  # the old constraints are back
            connection.execute(text(
                "INSERT INTO pupils (school_id, upn, first_name, last_name, year_group, form,"
                " sen_status, on_roll, recurring, created_at, updated_at) VALUES (1, 'X1',"
                " 'A', 'B', '', '', 'Z', true, false, '2026-01-01', '2026-01-01')"))
        connection.rollback()


# --- 0012: a school's phase (which year groups it has) -----------------------------------

@backends
def test_0012_gives_existing_schools_every_year_and_downgrades(
        new_database: Callable[[], str]) -> None:
    url = new_database()
    migrate.upgrade(url, "0011")
    with connect(url) as connection:
        connection.execute(text("INSERT INTO schools (id, slug, name, exit_url, created_at) "
                                "VALUES (1, 'old', 'Old School', 'https://x.test', "
                                "'2026-01-01 00:00:00')"))
        connection.commit()
    migrate.upgrade(url, "0012")
    with connect(url) as connection:
        assert connection.execute(text("SELECT phase FROM schools")).scalar() == "all_through"
        connection.execute(text("UPDATE schools SET phase = 'primary'"))
        connection.commit()
    migrate.downgrade(url, "0011")
    with connect(url) as connection:
        columns = {c["name"] for c in inspect(connection).get_columns("schools")}
        assert "phase" not in columns
        assert connection.execute(text("SELECT name FROM schools")).scalar() == "Old School"
    migrate.upgrade(url, "head")
    assert schema_diff(url) == []
    with connect(url) as connection:
        assert connection.execute(text("SELECT phase FROM schools")).scalar() == "all_through"


# --- 0013: events get a structured payload; the old packed strings are parsed -------------

LONG_KINDS = ["verbal", "physical", "emotional", "property", "online", "prejudice_race",
              "prejudice_religion", "prejudice_disability", "prejudice_sexual_orientation"]
# (id, report, action, old_value, new_value, text) exactly as the code before 0013 wrote them,
# and the payload 0013 must make of each: every action, every packed shape.
EVENTS_0012: list[tuple[int, int | None, str, str | None, str | None, str | None,
                        dict[str, Any]]] = [
    (10, 1, "report.received", None, "pupil", None, {"source": "pupil"}),
    (11, 1, "case.viewed", None, None, None, {}),
    (12, 1, "case.acknowledged", None, None, None, {}),
    (13, 1, "case.assigned", "", "1", None, {"from": None, "to": 1}),
    (14, 1, "case.assigned", "1", "", None, {"from": 1, "to": None}),
    (15, 1, "status.changed", "new", "in_review", "Looking into it now.",
     {"from": "new", "to": "in_review", "reason": "Looking into it now."}),
    (16, 1, "category.changed", "allegation", "bullying_incident", "Three weeks of it.",
     {"from": "allegation", "to": "bullying_incident", "reason": "Three weeks of it."}),
    (17, 1, "note.added", None, None, "Spoke to the class teacher.",
     {"note": "Spoke to the class teacher."}),
    # a change whose "to" was cut: not the latest, so it can't be recovered
    (18, 1, "kinds.changed", "verbal", ",".join(LONG_KINDS)[:80], "After review.",
     {"from": ["verbal"], "to": ",".join(LONG_KINDS)[:80].split(","),
      "reason": "After review.", "complete": False}),
    # the latest change: its cut "to" is the report's kinds now, so it comes back whole
    (19, 1, "kinds.changed", ",".join(LONG_KINDS)[:80], ",".join(LONG_KINDS)[:80],
     "Added prejudice-based kinds.",
     {"from": ",".join(LONG_KINDS)[:80].split(","), "to": LONG_KINDS,
      "reason": "Added prejudice-based kinds.", "complete": False}),
    (20, 1, "checklist.added", None, "malicious", None, {"checklist": "malicious"}),
    (21, 1, "step.updated", "online:4.3", "open->done", "Screenshots kept.",
     {"checklist": "online", "step": "4.3", "from": "open", "to": "done",
      "note": "Screenshots kept."}),
    (22, 1, "step.updated", "responding:interview_all", "done->open", None,
     {"checklist": "responding", "step": "interview_all", "from": "done", "to": "open",
      "note": None}),
    (23, 1, "action.recorded", None, "parents_informed", "Phoned mum.",
     {"action": "parents_informed", "note": "Phoned mum."}),
    (24, 1, "action.recorded", None, "agency", None, {"action": "agency", "note": None}),
    (25, 1, "message.to_reporter", None, None, None, {}),
    (26, 1, "message.from_reporter", None, None, None, {}),
    (27, 1, "evidence.downloaded", None, "4", None, {"evidence_id": 4}),
    (28, 1, "hold.set", None, None, "The police asked us to keep it.",
     {"reason": "The police asked us to keep it."}),
    (29, 1, "hold.lifted", None, None, "Case closed by the police.",
     {"reason": "Case closed by the police."}),
    (30, 1, "pupil.linked", None, "1:alleged_perpetrator", None,
     {"pupil_id": 1, "role": "alleged_perpetrator"}),
    (31, 1, "pupil.unlinked", "1:witness", None, "Wrong child picked.",
     {"pupil_id": 1, "role": "witness", "reason": "Wrong child picked."}),
    (32, None, "report.purged", "unsubstantiated", "report 7 of 2025-01-02", None,
     {"retention_class": "unsubstantiated", "report_id": 7, "reported_on": "2025-01-02"}),
    (33, None, "pupil.viewed", None, "1", None, {"pupil_id": 1}),
    (34, None, "pupil.saved", None, "1", None, {"pupil_id": 1}),
    (35, None, "roster.imported", None, None, "3 added, 1 updated, 20 unchanged",
     {"added": 3, "updated": 1, "unchanged": 20}),
    (36, None, "adult.added", None, "2", None, {"adult_id": 2}),
    (37, None, "adult.shown", None, "2", None, {"adult_id": 2}),
    (38, None, "adult.hidden", None, "2", None, {"adult_id": 2}),
    (39, None, "school.created", None, "oak", None, {"slug": "oak"}),
    (40, None, "school.settings", None, None, "recurring_count: 3 → 4; phase: all_through → "
     "primary", {"changes": [{"setting": "recurring_count", "from": "3", "to": "4"},
                             {"setting": "phase", "from": "all_through", "to": "primary"}]}),
    (41, None, "device.enrolled", None, "5", None, {"device_id": 5}),
    (42, None, "device.revoked", None, "5", None, {"device_id": 5}),
    (43, None, "user.created", None, "dsl", "Account 1 added from the command line",
     {"user_id": 1, "role": "dsl"}),
    (44, None, "user.2fa_reset", None, "1", None, {"user_id": 1}),
    (45, None, "user.unlocked", None, "1", None, {"user_id": 1}),
    (46, None, "user.password_reset", None, None, "Account 1: demo password renewed",
     {"user_id": 1, "why": "demo password renewed"}),
    (47, None, "staff.login", None, "recovery_code", None, {"method": "recovery_code"}),
    (48, None, "staff.2fa_enrolled", None, None, None, {}),
    (49, None, "staff.logout", None, None, None, {}),
]


def _old_events(url: str, rows: list[tuple[Any, ...]]) -> None:
    """Write ``rows`` as the code before 0013 did: values encrypted, in the old columns."""
    from portal import crypto

    with connect(url) as connection:
        for row_id, report_id, action, old, new, note, _payload in rows:
            connection.execute(text(
                "INSERT INTO events (id, school_id, report_id, actor_id, action, old_value,"
                " new_value, text, created_at) VALUES (:id, 1, :report, NULL, :action, :old,"
                " :new, :text, :at)"), {
                "id": row_id, "report": report_id, "action": action,
                "old": None if old is None else crypto.encrypt_text(old),
                "new": None if new is None else crypto.encrypt_text(new),
                "text": None if note is None else crypto.encrypt_text(note),
                "at": f"2026-01-03 00:00:{row_id:02d}"})
        connection.commit()


def _at_0012(url: str) -> None:
    migrate.upgrade(url, "0005")
    with connect(url) as connection:
        for statement in OLD_ROWS:
            connection.execute(text(statement), {"hash": "a" * 64})
        connection.commit()
    migrate.upgrade(url, "0012")


@backends
def test_0013_turns_every_old_event_shape_into_its_payload_and_back(
        new_database: Callable[[], str]) -> None:
    from sqlalchemy.orm import Session

    from portal import crypto
    from portal.events import check_payload
    from portal.models import Event

    crypto.install(crypto.Keyring(crypto.decode_key(crypto.new_key_text())))
    url = new_database()
    _at_0012(url)
    with connect(url) as connection:  # the report's kinds now: the latest change's "to"
        for kind in LONG_KINDS:
            connection.execute(text("INSERT INTO report_kinds (report_id, kind) VALUES "
                                    "(1, :kind)"), {"kind": kind})
        connection.commit()
    _old_events(url, EVENTS_0012)

    migrate.upgrade(url, "0013")
    engine = create_engine(url)
    with Session(engine) as session:
        for row_id, _report, action, *_old, payload in EVENTS_0012:
            event = session.get(Event, row_id)
            expected = dict(payload)
            if row_id == 19:  # recovered whole from the report's kinds; "from" stays cut
                expected["to"] = LONG_KINDS
            assert event.payload == expected, action
            assert check_payload(event.action, event.payload) == event.payload, action
        # 0009's rows too
        assert session.get(Event, 1).payload == {"pupil_id": 1, "role": "alleged_perpetrator"}
    engine.dispose()
    with connect(url) as connection:  # sealed at rest
        payloads = connection.execute(text("SELECT payload FROM events")).scalars().all()
        assert payloads
        assert all(p.startswith("enc1:") for p in payloads)
        with pytest.raises(Exception, match="append-only"):
            connection.execute(text("UPDATE events SET action = 'note.added'"))
        connection.rollback()
        with pytest.raises(Exception, match="append-only"):
            connection.execute(text("DELETE FROM events"))
        connection.rollback()

    migrate.downgrade(url, "0012")
    with connect(url) as connection:
        back = {row.id: tuple(None if v is None else crypto.decrypt_text(v)
                              for v in (row.old_value, row.new_value, row.text))
                for row in connection.execute(text(
                    "SELECT id, old_value, new_value, text FROM events"))}
        connection.execute(text("UPDATE events SET action = action"))  # no triggers at 0012
        connection.rollback()
    for row_id, _report, action, old, new, note, _payload in EVENTS_0012:
        if row_id == 19:  # downgrade writes the recovered list whole (text since 0009)
            assert back[row_id] == (old, ",".join(LONG_KINDS), note)
        else:
            assert back[row_id] == (old, new, note), action
    migrate.upgrade(url, "head")
    assert schema_diff(url) == []


@backends
def test_0013_stops_on_an_event_it_cannot_read_without_loss(
        new_database: Callable[[], str]) -> None:
    from portal import crypto

    crypto.install(crypto.Keyring(crypto.decode_key(crypto.new_key_text())))
    url = new_database()
    _at_0012(url)
    _old_events(url, [(10, 1, "pupil.linked", None, "Zebedee", None, {})])
    with pytest.raises(Exception, match=r"event 10 \(pupil\.linked\)"):
        migrate.upgrade(url, "0013")
    assert migrate.current(url) == "0012"
    with connect(url) as connection:  # read before anything changed: still the 0012 table
        assert "payload" not in {c["name"] for c in inspect(connection).get_columns("events")}
