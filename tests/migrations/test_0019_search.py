"""Migration 0019: the search index is made, and filled from the reports already stored
(their text, the reporter's messages, the notes); downgrade drops it."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from portal import crypto, migrate, search
from portal.models import Role, User
from tests.migrations.test_0014_codes import REPORT
from tests.migrations.test_migrations import backends, connect, schema_diff, table_names


@backends
def test_0019_indexes_the_stored_reports_and_downgrade_drops_the_index(
        new_database: Callable[[], str]) -> None:
    crypto.install(crypto.Keyring(crypto.decode_key(crypto.new_key_text())))
    url = new_database()
    migrate.upgrade(url, "0014")
    with connect(url) as connection:
        connection.execute(text("INSERT INTO schools (id, slug, name, exit_url, created_at) "
                                "VALUES (1, 'oak', 'Oak', 'https://x.test', "
                                "'2026-01-01 00:00:00')"))
        for report_id in (1, 2):
            connection.execute(text(REPORT), {"id": report_id, "reasons": crypto.encrypt_text("[]"),
                                              "hash": f"{report_id:064d}", "acknowledged": None})
        connection.execute(text("UPDATE reports SET body = :body WHERE id = 1"),
                           {"body": crypto.encrypt_text("Harry took my coat")})
        connection.execute(text(
            "INSERT INTO messages (report_id, sender, body, created_at) VALUES "
            "(2, 'reporter', :body, '2026-01-03 00:00:00')"),
            {"body": crypto.encrypt_text("It was Quillon again")})
        connection.execute(text(
            "INSERT INTO events (school_id, report_id, action, payload, created_at) VALUES "
            "(1, 1, 'note.added', :payload, '2026-01-04 00:00:00')"),
            {"payload": crypto.encrypt_text(json.dumps({"note": "Spoke to Marisol"}))})
        connection.commit()

    migrate.upgrade(url, "head")
    assert schema_diff(url) == []  # with every later migration: the models' schema
    with connect(url) as connection:
        rows = {(r.report_id, r.term) for r in connection.execute(
            text("SELECT report_id, term FROM search_terms"))}
    assert (1, search.term("harry", 1)) in rows
    assert (1, search.term("coat", 1)) in rows
    assert (1, search.term("marisol", 1)) in rows
    assert (2, search.term("quillon", 1)) in rows
    engine = create_engine(url)
    with Session(engine) as session:  # and the application finds them
        session.add(User(email="d@oak.test", display_name="D", password_hash="x",
                         role=Role.DSL, school_id=1, created_at=datetime.now(UTC)))
        session.flush()
        dsl = session.query(User).one()
        assert [h.report.id for h in search.search(session, dsl, "marisol harry").hits] == [1]
        assert [h.report.id for h in search.search(session, dsl, "quillon").hits] == [2]
        session.rollback()
    engine.dispose()

    migrate.downgrade(url, "0014")
    assert "search_terms" not in table_names(url)
