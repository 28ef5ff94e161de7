"""Passkeys (issue 18): ``staff_passkeys``, the WebAuthn credentials members of staff add as
their second step of signing in, beside the authenticator app.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-04

Upgrade adds the empty table (everyone keeps their authenticator app; a passkey is added
by its owner when they choose); downgrade drops it, and with it every passkey.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0028'
down_revision: str | Sequence[str] | None = '0027'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('staff_passkeys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('credential_id', sa.LargeBinary(length=1023), nullable=False),
    sa.Column('public_key', sa.LargeBinary(length=2048), nullable=False),
    sa.Column('sign_count', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_challenge', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_staff_passkeys_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_passkeys')),
    sa.UniqueConstraint('credential_id', name=op.f('uq_staff_passkeys_credential_id'))
    )
    with op.batch_alter_table('staff_passkeys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_passkeys_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('staff_passkeys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_passkeys_user_id'))
    op.drop_table('staff_passkeys')
