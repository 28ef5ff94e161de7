"""Migration 0016: the parents' tables (contacts, parents told, meetings) come and go."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import create_engine, inspect

from portal import migrate
from tests.migrations.test_migrations import backends, schema_diff

TABLES = {"parent_contacts", "parents_told", "parent_meetings", "parent_meeting_parties"}


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


@backends
def test_0016_adds_the_parents_tables_and_downgrade_takes_them_away(
        new_database: Callable[[], str]) -> None:
    url = new_database()
    migrate.upgrade(url, "0014")
    assert _tables(url) & TABLES == set()
    migrate.upgrade(url, "0016")
    assert _tables(url) >= TABLES
    migrate.downgrade(url, "0014")
    assert _tables(url) & TABLES == set()
    migrate.upgrade(url, "head")
    assert _tables(url) >= TABLES
    assert schema_diff(url) == []
