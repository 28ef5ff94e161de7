"""0015: report_pupils becomes the table of parties; support, voices, interviews per party.

Existing links are roster pupils afterwards and read as before; downgrade removes the
parties the old table can't hold (nobody on the roster) and keeps every roster link."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from portal import crypto, migrate
from portal.models import PartyKind, ReportPupil
from tests.migrations.test_0014_codes import REPORT
from tests.migrations.test_migrations import backends, connect, schema_diff, table_names

PUPIL = ("INSERT INTO pupils (id, school_id, upn, upn_hash, first_name, last_name, year_group,"
         " form, sen_status, on_roll, recurring, created_at, updated_at) VALUES (1, 1, 'u',"
         " :hash, 'f', 'l', '', '', 'N', true, false, '2026-01-01', '2026-01-01')")
# No id given: PostgreSQL's sequence then knows the row, as it would in a real school.
LINK = ("INSERT INTO report_pupils (report_id, pupil_id, role, linked_at) VALUES"
        " (1, 1, 'target', '2026-01-02 00:00:00')")


@backends
def test_0015_keeps_every_link_as_a_roster_party_and_downgrade_drops_only_the_others(
        new_database: Callable[[], str]) -> None:
    crypto.install(crypto.Keyring(crypto.decode_key(crypto.new_key_text())))
    url = new_database()
    migrate.upgrade(url, "0014")
    with connect(url) as connection:
        connection.execute(text("INSERT INTO schools (id, slug, name, exit_url, created_at) "
                                "VALUES (1, 'oak', 'Oak', 'https://x.test', "
                                "'2026-01-01 00:00:00')"))
        connection.execute(text(REPORT), {"id": 1, "reasons": "", "hash": "1" * 64,
                                          "acknowledged": None})
        connection.execute(text(PUPIL), {"hash": "2" * 64})
        connection.execute(text(LINK))
        link_id = connection.execute(text("SELECT id FROM report_pupils")).scalar_one()
        connection.commit()

    migrate.upgrade(url, "0015")
    assert {"party_support", "party_voices", "party_interviews"} <= table_names(url)
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            old = session.get(ReportPupil, link_id)
            assert (old.party_kind, old.pupil_id, old.description, old.finding) == (
                PartyKind.ROSTER_PUPIL, 1, "", None)
            session.add(ReportPupil(report_id=1, pupil_id=None, party_kind=PartyKind.UNKNOWN,
                                    description="an account", role="alleged_perpetrator"))
            session.commit()
    finally:
        engine.dispose()

    migrate.downgrade(url, "0014")
    assert "party_support" not in table_names(url)
    with connect(url) as connection:
        rows = connection.execute(text("SELECT id, pupil_id, role FROM report_pupils")).all()
    assert [tuple(r) for r in rows] == [(link_id, 1, "target")]
    migrate.upgrade(url, "head")
    assert schema_diff(url) == []
