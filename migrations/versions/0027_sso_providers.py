"""Single sign-on (issue 18): ``sso_providers``, a school's or a trust's OpenID Connect
provider (issuer, the portal's client id and encrypted secret there, the email domains it
speaks for). Exactly one of school_id and trust_id is set.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-04

Upgrade adds the empty table (every school signs in with passwords until an administrator
configures a provider); downgrade drops it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0027'
down_revision: str | Sequence[str] | None = '0026'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('sso_providers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.Column('trust_id', sa.Integer(), nullable=True),
    sa.Column('label', sa.String(length=80), nullable=False),
    sa.Column('issuer', sa.String(length=500), nullable=False),
    sa.Column('client_id', sa.String(length=500), nullable=False),
    sa.Column('client_secret', sa.Text(), nullable=False),
    sa.Column('domains', sa.Text(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('(school_id IS NULL) <> (trust_id IS NULL)', name=op.f('ck_sso_providers_one_scope')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_sso_providers_school_id_schools')),
    sa.ForeignKeyConstraint(['trust_id'], ['trusts.id'], name=op.f('fk_sso_providers_trust_id_trusts')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_sso_providers_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sso_providers')),
    sa.UniqueConstraint('school_id', name=op.f('uq_sso_providers_school_id')),
    sa.UniqueConstraint('trust_id', name=op.f('uq_sso_providers_trust_id'))
    )


def downgrade() -> None:
    op.drop_table('sso_providers')
