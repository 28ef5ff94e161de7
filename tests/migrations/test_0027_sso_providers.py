"""Migration 0027 (issue 18): `sso_providers`, a school's or a trust's OpenID Connect
provider; exactly one of school and trust; downgrade drops the table and nothing else."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from portal import migrate
from tests.migrations.test_migrations import backends, connect, schema_diff, table_names

INSERT = ("INSERT INTO sso_providers (school_id, trust_id, label, issuer, client_id, "
          "client_secret, domains, enabled, updated_at) VALUES ({school}, {trust}, 'x', "
          "'https://login.example.com', 'c', 's', 'oakfield.test', false, CURRENT_TIMESTAMP)")


@backends
def test_0027_adds_the_providers_one_scope_each_and_downgrade_drops_them(
        new_database: Callable[[], str]) -> None:
    url = new_database()
    migrate.upgrade(url, "0026")
    assert "sso_providers" not in table_names(url)
    migrate.upgrade(url, "0027")
    with connect(url) as connection:
        connection.execute(text("INSERT INTO trusts (name, created_at) "
                                "VALUES ('Riverside', CURRENT_TIMESTAMP)"))
        connection.commit()
        with pytest.raises(IntegrityError):  # neither a school nor a trust
            connection.execute(text(INSERT.format(school="NULL", trust="NULL")))
        connection.rollback()
        connection.execute(text(INSERT.format(school="NULL", trust="1")))
        connection.commit()
    migrate.downgrade(url, "0026")
    assert "sso_providers" not in table_names(url)
    assert "trusts" in table_names(url)
    migrate.upgrade(url, "head")
    assert schema_diff(url) == []  # with every later migration: the models' schema
