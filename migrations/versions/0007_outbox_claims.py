"""Outbox claims: a sender takes a message (until ``claimed_until``, under its own
``claim_token``) with one conditional UPDATE before sending it, so each email leaves once
with several workers and senders, on SQLite as on PostgreSQL.

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-01

Both columns are nullable: the messages already waiting are unclaimed.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | Sequence[str] | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_until', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('claim_token', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('claim_token')
        batch_op.drop_column('claimed_until')
