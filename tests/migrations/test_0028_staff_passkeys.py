"""Migration 0028 (issue 18): `staff_passkeys`, the passkeys members of staff add as their
second step; one credential id once; an account's passkeys go with it; downgrade drops the
table and leaves the accounts."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from portal import migrate
from tests.migrations.test_migrations import (
    add_account,
    backends,
    connect,
    schema_diff,
    table_names,
)

KEY = ("INSERT INTO staff_passkeys (user_id, credential_id, public_key, sign_count, name, "
       "created_at) VALUES (1, :id, :key, 0, 'Laptop', CURRENT_TIMESTAMP)")


@backends
def test_0028_adds_the_passkeys_and_downgrade_drops_them(
        new_database: Callable[[], str]) -> None:
    url = new_database()
    migrate.upgrade(url, "0027")
    add_account(url)
    migrate.upgrade(url, "0028")
    with connect(url) as connection:
        connection.execute(text(KEY), {"id": b"\x01" * 32, "key": b"\x02" * 77})
        connection.commit()
        with pytest.raises(IntegrityError):  # the same credential twice
            connection.execute(text(KEY), {"id": b"\x01" * 32, "key": b"\x03" * 77})
        connection.rollback()
        assert connection.execute(text("SELECT name FROM staff_passkeys")).scalars().all() \
            == ["Laptop"]
    migrate.downgrade(url, "0027")
    assert "staff_passkeys" not in table_names(url)
    with connect(url) as connection:
        assert connection.execute(text("SELECT email FROM users")).scalars().all() == \
            ["a@b.test"]
    migrate.upgrade(url, "head")
    assert schema_diff(url) == []  # with every later migration: the models' schema
