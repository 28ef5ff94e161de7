"""Check back with the reporter ("Is it better now?"), and the queue filters' indexes.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02

- ``check_backs``: a date the DSL set to ask the reporter "Is it better now?" through
  their follow-up code, and the answer (a code, optional words encrypted, the time; no
  device, address or session). ``latest`` marks a case's most recent answer, which the
  queue ranks ("a child who says no is seen first").
- Indexes for the queue's new filters: decision (``ix_reports_category``), arrival dates
  (``ix_reports_arrived``), overdue (``ix_reports_unacknowledged``, partial: only reports
  nobody has acknowledged).

Downgrade drops the table and the indexes (the answers go with it).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0017'
down_revision: str | Sequence[str] | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RANK = [sa.text('urgency DESC'), 'created_at', 'id']
UNACKNOWLEDGED = sa.text("acknowledged_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "check_backs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("scheduled_by_id", sa.Integer(), nullable=True),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by_id", sa.Integer(), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=False),
        sa.Column("answer", sa.String(length=20), nullable=True),
        sa.Column("more", sa.Text(), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("latest", sa.Boolean(), nullable=False),
        sa.Column("alerted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["report_id"], ["reports.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["scheduled_by_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["cancelled_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_check_backs_report", "check_backs", ["report_id", "due_on"])
    op.create_index("ix_check_backs_latest", "check_backs", ["latest", "answer", "report_id"])
    op.create_index("ix_reports_category", "reports", ["school_id", "category", *RANK])
    op.create_index("ix_reports_arrived", "reports", ["school_id", "created_at"])
    op.create_index("ix_reports_unacknowledged", "reports",
                    ["school_id", "created_at", "urgency", "status"], sqlite_where=UNACKNOWLEDGED, postgresql_where=UNACKNOWLEDGED)


def downgrade() -> None:
    op.drop_index("ix_reports_unacknowledged", table_name="reports")
    op.drop_index("ix_reports_arrived", table_name="reports")
    op.drop_index("ix_reports_category", table_name="reports")
    op.drop_index("ix_check_backs_latest", table_name="check_backs")
    op.drop_index("ix_check_backs_report", table_name="check_backs")
    op.drop_table("check_backs")
