"""Figures: ``figure_counts`` and ``figure_pupil_days``, the day counts the figures pages
add up (portal.figures.rollup), and an index of each school's reports by arrival.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02

Upgrade counts the reports already stored (their pupils' year groups and SEND status are
encrypted, so it decrypts them with the data key, as 0019 does); ``portal figures-rebuild``
does the same at any time. Downgrade drops the tables.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0021'
down_revision: str | Sequence[str] | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _count_existing() -> None:
    conn = op.get_bind()
    if not conn.execute(sa.text("SELECT 1 FROM reports LIMIT 1")).first():
        return
    from portal.figures import rollup

    _crypto()
    rollup.rebuild(conn, years=False)  # 0022 makes the children's year rows


def _crypto() -> None:
    """A keyring for the encrypted roster columns: the app's, or the configured one."""
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


def upgrade() -> None:
    op.create_table(
        'figure_counts',
        sa.Column('school_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('figure', sa.String(length=20), nullable=False),
        sa.Column('value', sa.String(length=60), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['school_id'], ['schools.id'],
                                name=op.f('fk_figure_counts_school_id_schools'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('school_id', 'day', 'figure', 'value',
                                name=op.f('pk_figure_counts')),
        sqlite_with_rowid=False,
    )
    op.create_table(
        'figure_sealed_days',
        sa.Column('school_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('counts', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['school_id'], ['schools.id'],
                                name=op.f('fk_figure_sealed_days_school_id_schools'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('school_id', 'day', name=op.f('pk_figure_sealed_days')),
        sqlite_with_rowid=False,
    )
    op.create_table(
        'figure_pupil_days',
        sa.Column('school_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('pupil_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('role', sa.String(length=30), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['school_id'], ['schools.id'],
                                name=op.f('fk_figure_pupil_days_school_id_schools'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('school_id', 'day', 'pupil_id', 'role',
                                name=op.f('pk_figure_pupil_days')),
        sqlite_with_rowid=False,
    )
    op.create_index('ix_figure_pupil_days_pupil', 'figure_pupil_days',
                    ['school_id', 'pupil_id', 'role', 'day', 'count'], unique=False)
    _count_existing()


def downgrade() -> None:
    op.drop_index('ix_figure_pupil_days_pupil', table_name='figure_pupil_days')
    op.drop_table('figure_pupil_days')
    op.drop_table('figure_sealed_days')
    op.drop_table('figure_counts')
