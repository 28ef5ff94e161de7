"""Search index: ``search_terms``, a keyed blind index of the words of each report.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02

One row per distinct word per report: the school, the term (64 bits of an HMAC of the
normalised word under the school's search key, portal.search), the report's time and id.
The primary key is the look-up (school, term, newest first); a second index finds a
report's rows when it is deleted. SQLite keeps the table WITHOUT ROWID (the key is the row).

Upgrade indexes the reports already stored (their text, the reporter's messages and the
notes), decrypting them with the data key as 0009 and 0014 do; ``portal search-reindex``
does the same at any time. Downgrade drops the table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = '0019'
down_revision: str | Sequence[str] | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXTS = ("body", "people_involved", "reporter_name", "reporter_class", "child_name",
         "parent_name", "since_when")


def _crypto() -> Any:
    """portal.crypto with a keyring installed: the app's, or the configured one (as 0014)."""
    from portal import crypto

    try:
        crypto.keyring()
    except RuntimeError:
        try:
            from flask import current_app

            settings = current_app.config["PORTAL_SETTINGS"]
        except (RuntimeError, KeyError):
            from portal.config import Settings

            settings = Settings.from_env()
        crypto.install(crypto.load_keyring(settings.instance_dir, settings.data_key))
    return crypto


def _index_existing() -> None:
    conn = op.get_bind()
    if not conn.execute(sa.text("SELECT 1 FROM reports LIMIT 1")).first():
        return
    crypto = _crypto()
    import json

    from portal.search import terms

    texts: dict[int, list[str]] = {}
    meta: dict[int, tuple[int, Any]] = {}
    reports = sa.table('reports', sa.column('id', sa.Integer()),
                       sa.column('school_id', sa.Integer()),
                       sa.column('created_at', sa.DateTime(timezone=True)),
                       *(sa.column(name, sa.Text()) for name in TEXTS))
    for row in conn.execute(sa.select(reports.c.id, reports.c.school_id, reports.c.created_at,
                                      *(reports.c[name] for name in TEXTS))):
        meta[row[0]] = (row[1], row[2])
        texts[row[0]] = [crypto.decrypt_text(v) for v in row[3:] if v]
    for report_id, body in conn.execute(sa.text(
            "SELECT report_id, body FROM messages WHERE sender = 'reporter'")):
        if report_id in texts and body:
            texts[report_id].append(crypto.decrypt_text(body))
    for report_id, payload in conn.execute(sa.text(
            "SELECT report_id, payload FROM events WHERE action = 'note.added'")):
        if report_id in texts and payload:
            note = json.loads(crypto.decrypt_text(payload)).get("note", "")
            texts[report_id].append(str(note))
    table = sa.table('search_terms', sa.column('school_id', sa.Integer()),
                     sa.column('term', sa.BigInteger()),
                     sa.column('created_at', sa.DateTime(timezone=True)),
                     sa.column('report_id', sa.Integer()))
    rows = [{"school_id": meta[rid][0], "term": t, "created_at": meta[rid][1],
             "report_id": rid} for rid, found in texts.items()
            for t in sorted(terms(found, meta[rid][0]))]
    for start in range(0, len(rows), 5000):
        conn.execute(table.insert(), rows[start:start + 5000])


def upgrade() -> None:
    op.create_table(
        'search_terms',
        sa.Column('school_id', sa.Integer(), nullable=False),
        sa.Column('term', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('report_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(['report_id'], ['reports.id'],
                                name=op.f('fk_search_terms_report_id_reports'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['school_id'], ['schools.id'],
                                name=op.f('fk_search_terms_school_id_schools')),
        sa.PrimaryKeyConstraint('school_id', 'term', 'created_at', 'report_id',
                                name=op.f('pk_search_terms')),
        sqlite_with_rowid=False,
    )
    op.create_index('ix_search_terms_report', 'search_terms', ['report_id'], unique=False)
    _index_existing()


def downgrade() -> None:
    op.drop_index('ix_search_terms_report', table_name='search_terms')
    op.drop_table('search_terms')
