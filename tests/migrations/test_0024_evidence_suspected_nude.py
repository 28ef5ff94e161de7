"""Migration 0024: a kept file can be marked as a suspected nude image of a child (issue 16):
two empty columns on ``evidence``; a file kept before it stays unmarked; downgrade drops them."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from portal import migrate
from tests.migrations.test_migrations import backends, schema_diff


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
    assert {"suspected_nude_at", "suspected_nude_by_id"} <= columns(url)
    assert schema_diff(url) == []
    migrate.downgrade(url, "0023")
    assert "suspected_nude_at" not in columns(url)
    assert "suspected_nude_by_id" not in columns(url)
