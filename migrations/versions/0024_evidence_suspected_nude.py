"""Evidence: a file a DSL marks as a suspected nude or semi-nude image of a child
(issue 16; UKCIS, "Sharing nudes and semi-nudes": staff must not view, copy, print, share
or forward such images). ``suspected_nude_at`` and ``suspected_nude_by_id``: when and by
whom it was marked. From then on it is never put in a bundle and is downloaded only with a
written reason naming the referral (portal.casework.nude_images).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03

Upgrade adds the two empty columns (no file is marked); downgrade drops them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0024'
down_revision: str | Sequence[str] | None = '0023'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('evidence') as batch:
        batch.add_column(sa.Column('suspected_nude_at', sa.DateTime(timezone=True),
                                   nullable=True))
        batch.add_column(sa.Column('suspected_nude_by_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f('fk_evidence_suspected_nude_by_id_users'), 'users',
                                 ['suspected_nude_by_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('evidence') as batch:
        batch.drop_constraint(op.f('fk_evidence_suspected_nude_by_id_users'),
                              type_='foreignkey')
        batch.drop_column('suspected_nude_by_id')
        batch.drop_column('suspected_nude_at')
