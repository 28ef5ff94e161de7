"""Migration 0022: each child's year of days as bits (``figure_pupil_years``) is made from
the day counts 0021 keeps, without reading a report; downgrade drops the table."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import text

from portal import migrate
from tests.migrations.test_migrations import backends, connect, schema_diff, table_names

BEFORE = "0021"


@backends
def test_0022_makes_each_childs_year_from_the_day_counts_and_downgrade_drops_it(
        new_database: Callable[[], str]) -> None:
    url = new_database()
    migrate.upgrade(url, BEFORE)
    with connect(url) as connection:
        connection.execute(text("INSERT INTO schools (id, slug, name, exit_url, created_at) "
                                "VALUES (1, 'oak', 'Oak', 'https://x.test', "
                                "'2026-01-01 00:00:00')"))
        # child 7: the target of one report on 2 January and of two on 3 January 2026,
        # and of one on 31 December 2025
        for day, count in (("2026-01-02", 1), ("2026-01-03", 2), ("2025-12-31", 1)):
            connection.execute(text(
                "INSERT INTO figure_pupil_days (school_id, day, pupil_id, role, count) "
                "VALUES (1, :day, 7, 'target', :count)"), {"day": day, "count": count})
        connection.commit()

    migrate.upgrade(url, "0022")
    with connect(url) as connection:
        rows = {(r.year, r.role): (int.from_bytes(r.named, "little"),
                                   int.from_bytes(r.twice, "little"))
                for r in connection.execute(text(
                    "SELECT year, role, named, twice FROM figure_pupil_years "
                    "WHERE school_id = 1 AND pupil_id = 7"))}
    # bit i is 1 January + i days
    assert rows == {(2026, "target"): (0b110, 0b100), (2025, "target"): (1 << 364, 0)}

    migrate.upgrade(url, "head")
    assert schema_diff(url) == []  # with every later migration: the models' schema
    migrate.downgrade(url, BEFORE)
    assert "figure_pupil_years" not in table_names(url)
    assert "figure_pupil_days" in table_names(url)
