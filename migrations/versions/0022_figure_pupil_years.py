"""Figures: ``figure_pupil_years``, each child's days of a calendar year as bits, derived
from ``figure_pupil_days`` (portal.figures.rollup keeps both).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-02

"Children named in two or more reports of a period" looked up each child's first two days
in the period in ``figure_pupil_days``: at a million reports on PostgreSQL that one count
took most of the figures page, and grew with the history (bench/figures.py). A year of a
child's days as bits answers it with a mask and a count of bits.

Upgrade fills the table from the day counts already kept (no report is read, nothing is
decrypted); downgrade drops it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0022'
down_revision: str | Sequence[str] | None = '0021'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'figure_pupil_years',
        sa.Column('school_id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('pupil_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('role', sa.String(length=30), nullable=False),
        sa.Column('named', sa.LargeBinary(), nullable=False),
        sa.Column('twice', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['school_id'], ['schools.id'],
                                name=op.f('fk_figure_pupil_years_school_id_schools'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('school_id', 'year', 'pupil_id', 'role',
                                name=op.f('pk_figure_pupil_years')),
        sqlite_with_rowid=False,
    )
    from portal.figures import rollup

    rollup.rebuild_years(op.get_bind())


def downgrade() -> None:
    op.drop_table('figure_pupil_years')
