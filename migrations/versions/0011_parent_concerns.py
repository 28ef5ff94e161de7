"""A parent may tick several concerns: ``reports.concern`` holds codes joined with commas.

Revision ID: 0011
Revises: 0005
Create Date: 2026-12-01

All five codes joined ("bullying,behaviour_change,school_refusal,online,other") are 53
characters, more than the 30 the column had (PostgreSQL would refuse the report), so it is
widened to 120. Downgrading keeps each report's first concern only.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | Sequence[str] | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


OPEN_CASES = "status <> 'closed' OR has_unread_reply"
RANK = [sa.text('urgency DESC'), 'created_at', 'id']


def _concern_length(old: int, new: int) -> None:
    """On PostgreSQL the column is altered in place. SQLite rebuilds the table, and cannot
    copy into the generated ``in_queue`` column: that column (and its index) is taken off
    for the rebuild and put back, worked out again by SQLite from the same rule."""
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("reports", "concern", existing_type=sa.String(length=old),
                        type_=sa.String(length=new), existing_nullable=True)
        return
    op.drop_index("ix_reports_open", table_name="reports")
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_column("in_queue")
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.alter_column("concern", existing_type=sa.String(length=old),
                              type_=sa.String(length=new), existing_nullable=True)
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("in_queue", sa.Boolean(),
                                      sa.Computed(OPEN_CASES, persisted=True), nullable=True))
    op.create_index("ix_reports_open", "reports", ["school_id", "in_queue", *RANK])


def upgrade() -> None:
    _concern_length(30, 120)


def downgrade() -> None:
    reports = sa.table("reports", sa.column("id", sa.Integer),
                       sa.column("concern", sa.String))
    bind = op.get_bind()
    rows = bind.execute(sa.select(reports.c.id, reports.c.concern)
                        .where(reports.c.concern.like("%,%"))).all()
    for row_id, concern in rows:
        bind.execute(reports.update().where(reports.c.id == row_id)
                     .values(concern=concern.split(",")[0]))
    _concern_length(120, 30)
