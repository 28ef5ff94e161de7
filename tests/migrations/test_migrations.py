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
