"""A case worked together by two schools of one trust (issue 16; anti-bullying policy: "the
DSL will collaborate with other schools"): ``case_shares`` (which case, from which school to
which, what was shared beyond the summary, the note, who shared it and when, who ended it,
when and why) and ``shared_actions`` (what each school did, recorded on the share for the
other to read). When the owning school's retention deletes the case, the share keeps the
other school's own actions and loses its case (ON DELETE SET NULL).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04

Upgrade adds the two empty tables (nothing was shared before); downgrade drops them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0025'
down_revision: str | Sequence[str] | None = '0024'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('case_shares',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=True),
    sa.Column('from_school_id', sa.Integer(), nullable=False),
    sa.Column('to_school_id', sa.Integer(), nullable=False),
    sa.Column('with_words', sa.Boolean(), nullable=False),
    sa.Column('with_people', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('shared_by_id', sa.Integer(), nullable=False),
    sa.Column('shared_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_by_id', sa.Integer(), nullable=True),
    sa.Column('end_reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['ended_by_id'], ['users.id'], name=op.f('fk_case_shares_ended_by_id_users')),
    sa.ForeignKeyConstraint(['from_school_id'], ['schools.id'], name=op.f('fk_case_shares_from_school_id_schools')),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_case_shares_report_id_reports'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['shared_by_id'], ['users.id'], name=op.f('fk_case_shares_shared_by_id_users')),
    sa.ForeignKeyConstraint(['to_school_id'], ['schools.id'], name=op.f('fk_case_shares_to_school_id_schools')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_shares'))
    )
    with op.batch_alter_table('case_shares', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_shares_report_id'), ['report_id'], unique=False)
        batch_op.create_index('ix_case_shares_to', ['to_school_id', 'shared_at'], unique=False)

    op.create_table('shared_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('share_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('done_on', sa.Date(), nullable=False),
    sa.Column('what', sa.Text(), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['added_by_id'], ['users.id'], name=op.f('fk_shared_actions_added_by_id_users')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_shared_actions_school_id_schools')),
    sa.ForeignKeyConstraint(['share_id'], ['case_shares.id'], name=op.f('fk_shared_actions_share_id_case_shares'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shared_actions'))
    )
    with op.batch_alter_table('shared_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shared_actions_share_id'), ['share_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('shared_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shared_actions_share_id'))

    op.drop_table('shared_actions')
    with op.batch_alter_table('case_shares', schema=None) as batch_op:
        batch_op.drop_index('ix_case_shares_to')
        batch_op.drop_index(batch_op.f('ix_case_shares_report_id'))

    op.drop_table('case_shares')
