"""Migration 0026 (issue 18): `staff_invites`, the one-time links that set a new member of
staff's password; accounts from before it are untouched; downgrade drops the table."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import text

from portal import migrate
from tests.migrations.test_migrations import (
    add_account,
    backends,
    connect,
    schema_diff,
    table_names,
)


@backends
def test_0026_adds_the_invitations_and_downgrade_drops_them(
        new_database: Callable[[], str]) -> None:
    url = new_database()
    migrate.upgrade(url, "0025")
    add_account(url)
    migrate.upgrade(url, "0026")
    assert "staff_invites" in table_names(url)
    migrate.downgrade(url, "0025")
    assert "staff_invites" not in table_names(url)
    with connect(url) as connection:
        assert connection.execute(text("SELECT email FROM users")).scalars().all() == \
            ["a@b.test"]
    migrate.upgrade(url, "head")
    assert schema_diff(url) == []  # with every later migration: the models' schema
