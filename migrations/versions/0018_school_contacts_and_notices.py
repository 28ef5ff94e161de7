"""The people around the case: school contacts, notices, the chosen adult by id.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02

- ``school_contacts``: whom the cyber-bullying policy's steps 4.4, 4.9, 5.4 and 5.8 ask the
  school to inform (name and address encrypted, a role code).
- ``notices``: each email sent about a case to a contact, the trusted adult a pupil chose,
  or the member of staff who recorded the concern; unique per report, kind, step, person
  and round, so the same press sends once.
- ``report_adults``: the trusted adult a pupil chose, by id. Reports stored before keep
  only the name (``reports.preferred_adult``); the case page finds the adult by that name.
- ``trusted_adults.user_id``: the adult's staff account, if any (none for existing rows).

Downgrade drops the three tables and the column; the notices' audit events stay.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0018'
down_revision: str | Sequence[str] | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'school_contacts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('school_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.Text(), nullable=False),
        sa.Column('role', sa.String(length=20), nullable=False),
        sa.Column('email', sa.Text(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['school_id'], ['schools.id'],
                                name=op.f('fk_school_contacts_school_id_schools')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_school_contacts')),
    )
    op.create_index(op.f('ix_school_contacts_school_id'), 'school_contacts', ['school_id'])
    op.create_table(
        'notices',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('report_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('step', sa.String(length=40), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('round', sa.Integer(), nullable=False),
        sa.Column('sent_by_id', sa.Integer(), nullable=True),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['report_id'], ['reports.id'],
                                name=op.f('fk_notices_report_id_reports'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['sent_by_id'], ['users.id'],
                                name=op.f('fk_notices_sent_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notices')),
        sa.UniqueConstraint('report_id', 'kind', 'step', 'person_id', 'round',
                            name='uq_notices_once'),
    )
    op.create_index('ix_notices_report', 'notices', ['report_id', 'sent_at'])
    op.create_table(
        'report_adults',
        sa.Column('report_id', sa.Integer(), nullable=False),
        sa.Column('adult_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['adult_id'], ['trusted_adults.id'],
                                name=op.f('fk_report_adults_adult_id_trusted_adults')),
        sa.ForeignKeyConstraint(['report_id'], ['reports.id'],
                                name=op.f('fk_report_adults_report_id_reports'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('report_id', name=op.f('pk_report_adults')),
    )
    op.create_index(op.f('ix_report_adults_adult_id'), 'report_adults', ['adult_id'])
    with op.batch_alter_table('trusted_adults') as batch:
        batch.add_column(sa.Column('user_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f('fk_trusted_adults_user_id_users'), 'users',
                                 ['user_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('trusted_adults') as batch:
        batch.drop_constraint(op.f('fk_trusted_adults_user_id_users'), type_='foreignkey')
        batch.drop_column('user_id')
    op.drop_index(op.f('ix_report_adults_adult_id'), table_name='report_adults')
    op.drop_table('report_adults')
    op.drop_index('ix_notices_report', table_name='notices')
    op.drop_table('notices')
    op.drop_index(op.f('ix_school_contacts_school_id'), table_name='school_contacts')
    op.drop_table('school_contacts')
