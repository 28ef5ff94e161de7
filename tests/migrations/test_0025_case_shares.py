"""Migration 0025 (issue 16): `case_shares` and `shared_actions`, a case worked together by
two schools of a trust; a report from before it has no share; downgrade drops both tables
and keeps the reports."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import text

from portal import migrate
from tests.migrations.test_migrations import backends, connect, schema_diff, table_names


@backends
def test_0025_adds_the_share_tables_and_downgrade_drops_them(
        new_database: Callable[[], str]) -> None:
    url = new_database()
    migrate.upgrade(url, "0024")
    assert "case_shares" not in table_names(url)
    migrate.upgrade(url, "0025")
    assert {"case_shares", "shared_actions"} <= table_names(url)
    with connect(url) as connection:
        assert connection.execute(text("SELECT count(*) FROM case_shares")).scalar() == 0
    migrate.downgrade(url, "0024")
    assert "case_shares" not in table_names(url)
    assert "shared_actions" not in table_names(url)
    assert "reports" in table_names(url)
    migrate.upgrade(url, "head")
    assert schema_diff(url) == []  # with every later migration: the models' schema
