"""Migration 0023: the table that keeps a finished term's figures as the head and the trust
lead were first shown them (figures rule 6) is made empty; downgrade drops it."""

from __future__ import annotations

from collections.abc import Callable

from portal import migrate
from tests.migrations.test_migrations import backends, schema_diff, table_names


@backends
def test_0023_makes_the_fixed_term_table_and_downgrade_drops_it(
        new_database: Callable[[], str]) -> None:
    url = new_database()
    migrate.upgrade(url, "0022")
    assert "figure_term_columns" not in table_names(url)
    migrate.upgrade(url, "0023")
    assert "figure_term_columns" in table_names(url)
    migrate.upgrade(url, "head")
    assert schema_diff(url) == []
    migrate.downgrade(url, "0022")
    assert "figure_term_columns" not in table_names(url)
    assert "figure_pupil_years" in table_names(url)
