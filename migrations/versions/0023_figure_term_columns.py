"""Figures: ``figure_term_columns``, a finished term's figures as the head and the trust
lead were first shown them (portal.figures.terms, model.py's rule 6).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03

A trial found that a term long over still moved as the roster changed (a child joining
the SEND register moved the SEND table by the number of reports that named them), so two
days' pages told a head about one child. Upgrade makes the empty table: each term is
fixed the first time it is shown after this; downgrade drops it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0023'
down_revision: str | Sequence[str] | None = '0022'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'figure_term_columns',
        sa.Column('school_id', sa.Integer(), nullable=False),
        sa.Column('first_day', sa.Date(), nullable=False),
        sa.Column('last_day', sa.Date(), nullable=False),
        sa.Column('column', sa.Text(), nullable=False),
        sa.Column('counted_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['school_id'], ['schools.id'],
                                name=op.f('fk_figure_term_columns_school_id_schools'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('school_id', 'first_day', name=op.f('pk_figure_term_columns')),
    )


def downgrade() -> None:
    op.drop_table('figure_term_columns')
