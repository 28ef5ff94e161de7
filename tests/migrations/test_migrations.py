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

    migrate.upgrade(url, "head")  # through 0009, which seals them, and what follows
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
        assert (session.get(Event, 2).old_value, session.get(Event, 2).new_value) == (
            "allegation", "bullying_incident")
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
