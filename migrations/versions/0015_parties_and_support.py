"""Parties not on the roster; findings; support, sanctions, the child's voice, interviews.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02

- ``report_pupils`` becomes the table of parties: ``pupil_id`` may be empty (someone not
  on the roster), ``party_kind`` says who they are (existing rows: ``roster_pupil``),
  ``description`` (encrypted) says what is known of them, and ``finding`` /
  ``finding_reason`` / ``finding_by_id`` / ``finding_at`` hold the DSL's finding about an
  alleged perpetrator (cyber policy 10.1).
- ``party_support``, ``party_voices``, ``party_interviews``: records per party.

Downgrade drops the three tables and the new columns, and deletes the parties who are not
on the roster (the old table can't hold them). Their events stay in the audit trail.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015'
down_revision: str | Sequence[str] | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARTY_KINDS = ('roster_pupil', 'other_school_pupil', 'adult', 'staff_member', 'unknown')


def _one_of(column: str, values: Sequence[str], name: str) -> sa.CheckConstraint:
    """The CHECK constraint SQLAlchemy's non-native Enum creates, with its conventional name."""
    listed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=op.f(name))


def _records(name: str, *columns: sa.Column, checks: Sequence[sa.CheckConstraint] = ()) -> None:
    op.create_table(
        name,
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('report_id', sa.Integer(), nullable=False),
        sa.Column('party_id', sa.Integer(), nullable=False),
        *columns,
        sa.Column('recorded_by_id', sa.Integer(), nullable=True),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['party_id'], ['report_pupils.id'],
                                name=op.f(f'fk_{name}_party_id_report_pupils'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'],
                                name=op.f(f'fk_{name}_recorded_by_id_users')),
        sa.ForeignKeyConstraint(['report_id'], ['reports.id'],
                                name=op.f(f'fk_{name}_report_id_reports'), ondelete='CASCADE'),
        *checks,
        sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{name}')),
    )


def upgrade() -> None:
    with op.batch_alter_table('report_pupils', schema=None) as batch_op:
        batch_op.alter_column('pupil_id', existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column('party_kind', sa.String(length=32), nullable=False,
                                      server_default='roster_pupil'))
        batch_op.add_column(sa.Column('description', sa.Text(), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('finding', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('finding_reason', sa.Text(), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('finding_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('finding_at', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.create_foreign_key(op.f('fk_report_pupils_finding_by_id_users'), 'users',
                                    ['finding_by_id'], ['id'])
        batch_op.create_check_constraint(
            op.f('ck_report_pupils_party_kind'),
            f"party_kind IN ({', '.join(repr(k) for k in PARTY_KINDS)})")
        batch_op.create_check_constraint(op.f('ck_report_pupils_finding'),
                                         "finding IN ('responsible', 'not_upheld')")
    # The defaults filled the existing rows; the models give every new row its values.
    with op.batch_alter_table('report_pupils', schema=None) as batch_op:
        batch_op.alter_column('party_kind', existing_type=sa.String(length=32),
                              server_default=None)
        batch_op.alter_column('description', existing_type=sa.Text(), server_default=None)
        batch_op.alter_column('finding_reason', existing_type=sa.Text(), server_default=None)

    _records(
        'party_support',
        sa.Column('type', sa.String(length=32), nullable=False),
        sa.Column('code', sa.String(length=40), nullable=False),
        sa.Column('given_by', sa.Text(), nullable=False),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('review_on', sa.Date(), nullable=True),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('state', sa.String(length=32), nullable=False),
        sa.Column('last_reviewed_on', sa.Date(), nullable=True),
        sa.Column('review_note', sa.Text(), nullable=False),
        checks=[_one_of('type', ('support', 'sanction'), 'ck_party_support_support_type'),
                _one_of('state', ('active', 'ended'), 'ck_party_support_support_state')])
    with op.batch_alter_table('party_support', schema=None) as batch_op:
        batch_op.create_index('ix_party_support_party', ['party_id', 'starts_on'], unique=False)
        batch_op.create_index('ix_party_support_report', ['report_id'], unique=False)
    _records(
        'party_voices',
        sa.Column('said_on', sa.Date(), nullable=False),
        sa.Column('wants', sa.Text(), nullable=False))
    with op.batch_alter_table('party_voices', schema=None) as batch_op:
        batch_op.create_index('ix_party_voices_party', ['party_id', 'said_on'], unique=False)
        batch_op.create_index('ix_party_voices_report', ['report_id'], unique=False)
    _records(
        'party_interviews',
        sa.Column('held_on', sa.Date(), nullable=False),
        sa.Column('interviewer', sa.Text(), nullable=False),
        sa.Column('present', sa.Text(), nullable=False),
        sa.Column('account', sa.Text(), nullable=False))
    with op.batch_alter_table('party_interviews', schema=None) as batch_op:
        batch_op.create_index('ix_party_interviews_party', ['party_id', 'held_on'],
                              unique=False)
        batch_op.create_index('ix_party_interviews_report', ['report_id'], unique=False)


def downgrade() -> None:
    for name in ('party_interviews', 'party_voices', 'party_support'):
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_index(f'ix_{name}_report')
            batch_op.drop_index(f'ix_{name}_party')
        op.drop_table(name)
    op.execute("DELETE FROM report_pupils WHERE pupil_id IS NULL")
    with op.batch_alter_table('report_pupils', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_report_pupils_finding'), type_='check')
        batch_op.drop_constraint(op.f('ck_report_pupils_party_kind'), type_='check')
        batch_op.drop_constraint(op.f('fk_report_pupils_finding_by_id_users'),
                                 type_='foreignkey')
        batch_op.drop_column('finding_at')
        batch_op.drop_column('finding_by_id')
        batch_op.drop_column('finding_reason')
        batch_op.drop_column('finding')
        batch_op.drop_column('description')
        batch_op.drop_column('party_kind')
        batch_op.alter_column('pupil_id', existing_type=sa.Integer(), nullable=False)
