"""Fixtures for migration tests: an empty database, SQLite always, PostgreSQL when asked.

On PostgreSQL every test gets a database of its own (``CREATE DATABASE tmp_...`` through
the ``PORTAL_TEST_DATABASE_URL`` connection), dropped afterwards, so runs are repeatable
and never touch the schema the other tests use.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PG_URL = os.environ.get("PORTAL_TEST_DATABASE_URL")


@pytest.fixture
def new_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """A factory of empty databases on the backend of ``request.param`` (sqlite/postgresql)."""
    backend = getattr(request, "param", "sqlite")
    created: list[str] = []

    if backend == "sqlite":

        def make_sqlite() -> str:
            path = tmp_path / f"db-{len(created)}.sqlite"
            created.append(str(path))
            return f"sqlite:///{path}"

        yield make_sqlite
        return

    if not PG_URL:
        pytest.skip("PORTAL_TEST_DATABASE_URL is not set (PostgreSQL migration tests)")
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")

    def make_postgres() -> str:
        name = f"tmp_migrations_{secrets.token_hex(6)}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)

    try:
        yield make_postgres
    finally:
        with admin.connect() as conn:
            for name in created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

