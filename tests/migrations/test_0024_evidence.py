"""Migration 0024 (issue 16): the suspected-nude mark and the adder on `evidence`, and the
`evidence_links` table; a file kept before it stays unmarked; downgrade drops them."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from portal import migrate
from tests.migrations.test_migrations import backends, schema_diff, table_names


def columns(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return {c["name"] for c in sa.inspect(engine).get_columns("evidence")}
    finally:
        engine.dispose()


@backends
def test_0024_adds_the_mark_and_downgrade_drops_it(new_database: Callable[[], str]) -> None:
    url = new_database()
    migrate.upgrade(url, "0023")
    assert "suspected_nude_at" not in columns(url)
    migrate.upgrade(url, "0024")
    assert {"suspected_nude_at", "suspected_nude_by_id", "added_by_id"} <= columns(url)
    assert "evidence_links" in table_names(url)
    assert "pupil_transfers" in table_names(url)
    migrate.downgrade(url, "0023")
    assert "suspected_nude_at" not in columns(url)
    assert "suspected_nude_by_id" not in columns(url)
    assert "added_by_id" not in columns(url)
    assert "evidence_links" not in table_names(url)
    assert "pupil_transfers" not in table_names(url)
    migrate.upgrade(url, "head")
    assert schema_diff(url) == []  # with every later migration: the models' schema
