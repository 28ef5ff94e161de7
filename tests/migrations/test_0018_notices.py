"""Migration 0018: school contacts, notices and the chosen adult by id; existing trusted
adults get no account and existing reports keep their adult's name; downgrade removes the
three tables and the column and keeps everything else."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from portal import migrate
from tests.migrations.test_migrations import backends, connect, schema_diff

NEW_TABLES = {"school_contacts", "notices", "report_adults"}


def _tables(url: str) -> set[str]:
    with connect(url) as connection:
        return set(inspect(connection).get_table_names())


def _columns(url: str, table: str) -> set[str]:
    with connect(url) as connection:
        return {c["name"] for c in inspect(connection).get_columns(table)}


@backends
def test_0018_upgrades_with_old_rows_kept_and_downgrades(
        new_database: Callable[[], str]) -> None:
    url = new_database()
    migrate.upgrade(url, "0014")
    with connect(url) as connection:
        connection.execute(text("INSERT INTO schools (id, slug, name, exit_url, created_at) "
                                "VALUES (1, 'oak', 'Oak', 'https://x.test', "
                                "'2026-01-01 00:00:00')"))
        connection.execute(text("INSERT INTO trusted_adults (id, school_id, name, description,"
                                " position, active) VALUES (1, 1, 'Mrs Patel', '', 1, true)"))
        connection.commit()
    assert not NEW_TABLES & _tables(url)

    migrate.upgrade(url, "0018")
    assert _tables(url) >= NEW_TABLES
    with connect(url) as connection:
        assert connection.execute(text("SELECT name, user_id FROM trusted_adults")).all() == [
            ("Mrs Patel", None)]
        insert = text("INSERT INTO notices (report_id, kind, step, person_id, round, sent_at)"
                      " VALUES (:r, 'contact', 'cyber-4.4', 1, 1, '2026-01-02 00:00:00')")
        connection.execute(text(
            "INSERT INTO reports (id, school_id, source, status, category, created_at,"
            " updated_at, urgency, urgency_reasons, followup_code_hash, body, places,"
            " people_involved, anonymous, reporter_name, reporter_class, child_name,"
            " child_year, since_when, parent_name, contact_email, contact_phone,"
            " preferred_adult, legal_hold, legal_hold_reason, close_override,"
            " has_unread_reply, notify_updates) VALUES (1, 1, 'pupil', 'new', 'allegation',"
            " '2026-01-01 00:00:00', '2026-01-01 00:00:00', 0, '[]', :hash, 'b', '[]', '',"
            " true, '', '', '', '', '', '', '', '', '', false, '', '', false, false)"),
            {"hash": "0" * 64})
        connection.execute(insert, {"r": 1})
        connection.commit()
        # the same notice, same round: the database itself sends it once
        with pytest.raises(IntegrityError):
            connection.execute(insert, {"r": 1})
        connection.rollback()

    migrate.downgrade(url, "0014")
    assert not NEW_TABLES & _tables(url)
    assert "user_id" not in _columns(url, "trusted_adults")
    with connect(url) as connection:
        assert connection.execute(text("SELECT name FROM trusted_adults")).scalar() == \
            "Mrs Patel"
        assert connection.execute(text("SELECT count(*) FROM reports")).scalar() == 1
    migrate.upgrade(url, "head")  # and up again
    assert _tables(url) >= NEW_TABLES
    assert schema_diff(url) == []  # with every later migration: the models' schema
