"""Migration 0021: the figures' day counts are made, and filled from the reports already
stored (their pupils' year groups and SEND status decrypted with the data key); downgrade
drops them."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date

from sqlalchemy import text

from portal import crypto, migrate
from tests.migrations.test_0014_codes import REPORT
from tests.migrations.test_migrations import backends, connect, schema_diff, table_names

BEFORE = "0020"


@backends
def test_0021_counts_the_stored_reports_and_downgrade_drops_the_counts(
        new_database: Callable[[], str]) -> None:
    crypto.install(crypto.Keyring(crypto.decode_key(crypto.new_key_text())))
    url = new_database()
    migrate.upgrade(url, BEFORE)
    with connect(url) as connection:
        connection.execute(text("INSERT INTO schools (id, slug, name, exit_url, created_at) "
                                "VALUES (1, 'oak', 'Oak', 'https://x.test', "
                                "'2026-01-01 00:00:00')"))
        for report_id in (1, 2):
            connection.execute(text(REPORT), {"id": report_id, "reasons": crypto.encrypt_text("[]"),
                                              "hash": f"{report_id:064d}", "acknowledged": None})
        connection.execute(text("UPDATE reports SET created_at = '2026-01-01 10:30:00'"))
        connection.execute(text(
            "INSERT INTO pupils (id, school_id, upn, upn_hash, first_name, last_name, "
            "year_group, form, sen_status, on_roll, recurring, created_at, updated_at) VALUES "
            "(1, 1, :upn, 'h', :first, :last, :year, :form, :sen, true, false, "
            "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"),
            {"upn": crypto.encrypt_text("A1"), "first": crypto.encrypt_text("Ada"),
             "last": crypto.encrypt_text("Lovelace"), "year": crypto.encrypt_text("Year 3"),
             "form": crypto.encrypt_text("3A"), "sen": crypto.encrypt_text("K")})
        connection.execute(text(
            "INSERT INTO report_pupils (report_id, pupil_id, party_kind, description, role, "
            "linked_at, finding_reason) VALUES (1, 1, 'roster_pupil', :empty, 'target', "
            "'2026-01-02 00:00:00', :empty)"), {"empty": crypto.encrypt_text("")})
        connection.commit()

    migrate.upgrade(url, "0021")
    with connect(url) as connection:
        counts = {(r.figure, r.value): r.count for r in connection.execute(text(
            "SELECT figure, value, count FROM figure_counts WHERE school_id = 1"))}
        days = {r.day for r in connection.execute(text("SELECT day FROM figure_counts"))}
        sealed = [crypto.decrypt_text(r.counts) for r in connection.execute(text(
            "SELECT counts FROM figure_sealed_days WHERE school_id = 1"))]
        pupils = list(connection.execute(text(
            "SELECT pupil_id, role, count FROM figure_pupil_days")))
    assert counts[("total", "all")] == 2
    # the year group and SEND status, decrypted from the roster, are sealed again
    assert [json.loads(s) for s in sealed] == [{"send": {"yes": 1}, "year": {"Year 3": 1}}]
    assert not any(figure in ("year", "send") for figure, _ in counts)
    assert {str(d)[:10] for d in days} == {date(2026, 1, 1).isoformat()}
    assert [tuple(p) for p in pupils] == [(1, "target", 1)]
    migrate.upgrade(url, "head")
    assert schema_diff(url) == []  # with every later migration: the models' schema

    migrate.downgrade(url, BEFORE)
    assert "figure_counts" not in table_names(url)
    assert "figure_pupil_days" not in table_names(url)
    assert "figure_sealed_days" not in table_names(url)
