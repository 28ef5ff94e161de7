"""Migration 0020: the ``head`` role is allowed by ``users.role``'s CHECK; downgrade refuses
while a head account exists (nobody's role is changed behind their back), and once there
are none puts the old constraint back."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from portal import migrate
from tests.migrations.test_migrations import backends, check_constraints, connect

INSERT = text("INSERT INTO users (email, display_name, password_hash, role, school_id,"
              " is_active, created_at) VALUES (:email, '', 'x', :role, 1, true,"
              " CURRENT_TIMESTAMP)")


def _school(url: str) -> None:
    with connect(url) as connection:
        connection.execute(text("INSERT INTO schools (id, slug, name, exit_url, created_at) "
                                "VALUES (1, 'oak', 'Oak', 'https://x.test', "
                                "'2026-01-01 00:00:00')"))
        connection.execute(INSERT, {"email": "dsl@oak.test", "role": "dsl"})
        connection.commit()


def _add(url: str, email: str, role: str) -> None:
    with connect(url) as connection:
        connection.execute(INSERT, {"email": email, "role": role})
        connection.commit()


@backends
def test_0020_allows_head_and_downgrade_refuses_while_heads_exist(
        new_database: Callable[[], str]) -> None:
    url = new_database()
    migrate.upgrade(url, "0019")
    _school(url)
    with pytest.raises(IntegrityError):
        _add(url, "head@oak.test", "head")  # 0019 does not know the role

    migrate.upgrade(url, "0020")
    _add(url, "head@oak.test", "head")
    with pytest.raises(IntegrityError):
        _add(url, "root@oak.test", "root")  # still a closed list
    with connect(url) as connection:
        assert connection.execute(text("SELECT email, role FROM users ORDER BY id")).all() == [
            ("dsl@oak.test", "dsl"), ("head@oak.test", "head")]

    with pytest.raises(RuntimeError, match="role 'head'"):
        migrate.downgrade(url, "0019")
    with connect(url) as connection:  # refused whole: still at 0020, the head kept
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() \
            == "0020"
        assert connection.execute(text("SELECT count(*) FROM users")).scalar() == 2
        connection.execute(text("UPDATE users SET role = 'staff', is_active = false"
                                " WHERE email = 'head@oak.test'"))
        connection.commit()

    migrate.downgrade(url, "0019")
    with connect(url) as connection:
        assert connection.execute(text("SELECT email, role FROM users ORDER BY id")).all() == [
            ("dsl@oak.test", "dsl"), ("head@oak.test", "staff")]
    with pytest.raises(IntegrityError):
        _add(url, "head2@oak.test", "head")  # the old constraint is back
    assert {name for name, _ in check_constraints(url)["users"]} == {"ck_users_role"}

    migrate.upgrade(url, "head")
    _add(url, "head2@oak.test", "head")
