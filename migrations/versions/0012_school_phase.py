"""A school's phase (primary, secondary or all-through) decides the year groups it offers.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02

Schools stored before this get "all_through", so their forms keep offering every year
group; downgrading drops the column (each school offers every year again, as before).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | Sequence[str] | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("schools", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phase", sa.String(length=20), nullable=False,
                                      server_default="all_through"))


def downgrade() -> None:
    with op.batch_alter_table("schools", schema=None) as batch_op:
        batch_op.drop_column("phase")
