"""Evidence (issue 16): a file a DSL marks as a suspected nude or semi-nude image of a child,
files the staff add, and web addresses kept as evidence.

- ``evidence.suspected_nude_at`` and ``suspected_nude_by_id``: when and by whom a file was
  marked (UKCIS, "Sharing nudes and semi-nudes": staff must not view, copy, print, share or
  forward such images). A marked file is never bundled and is downloaded only with a
  written reason naming the referral (portal.casework.nude_images).
- ``evidence.added_by_id``: the member of staff who added a file from the case page; None
  for the reporter's own files (every file kept before this).
- ``evidence_links``: a URL the DSL kept with the day it was seen (cyber-bullying policy
  5.3: "secure and preserve any evidence including URLs, Screenshots and Printouts").
- ``pupil_transfers``: a child's record sent to another school of the trust (KCSIE), a copy
  as it stood then (portal.casework.transfer).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03

Upgrade adds the empty columns (no file is marked; every file is the reporter's) and the
empty table; downgrade drops them.
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
        batch.add_column(sa.Column('added_by_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f('fk_evidence_suspected_nude_by_id_users'), 'users',
                                 ['suspected_nude_by_id'], ['id'])
        batch.create_foreign_key(op.f('fk_evidence_added_by_id_users'), 'users',
                                 ['added_by_id'], ['id'])
    op.create_table(
        'evidence_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('report_id', sa.Integer(), nullable=False),
        sa.Column('url', sa.Text(), nullable=False),
        sa.Column('seen_on', sa.Date(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('added_by_id', sa.Integer(), nullable=False),
        sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['added_by_id'], ['users.id'],
                                name=op.f('fk_evidence_links_added_by_id_users')),
        sa.ForeignKeyConstraint(['report_id'], ['reports.id'],
                                name=op.f('fk_evidence_links_report_id_reports'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence_links')),
    )
    op.create_index(op.f('ix_evidence_links_report_id'), 'evidence_links', ['report_id'],
                    unique=False)
    op.create_table(
        'pupil_transfers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('from_school_id', sa.Integer(), nullable=False),
        sa.Column('to_school_id', sa.Integer(), nullable=False),
        sa.Column('pupil_id', sa.Integer(), nullable=True),
        sa.Column('to_pupil_id', sa.Integer(), nullable=True),
        sa.Column('pupil_name', sa.Text(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('record', sa.Text(), nullable=False),
        sa.Column('sent_by_id', sa.Integer(), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['from_school_id'], ['schools.id'],
                                name=op.f('fk_pupil_transfers_from_school_id_schools')),
        sa.ForeignKeyConstraint(['to_school_id'], ['schools.id'],
                                name=op.f('fk_pupil_transfers_to_school_id_schools')),
        sa.ForeignKeyConstraint(['pupil_id'], ['pupils.id'],
                                name=op.f('fk_pupil_transfers_pupil_id_pupils'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['to_pupil_id'], ['pupils.id'],
                                name=op.f('fk_pupil_transfers_to_pupil_id_pupils'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['sent_by_id'], ['users.id'],
                                name=op.f('fk_pupil_transfers_sent_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pupil_transfers')),
    )
    op.create_index('ix_pupil_transfers_to', 'pupil_transfers', ['to_school_id', 'sent_at'])
    op.create_index('ix_pupil_transfers_from', 'pupil_transfers',
                    ['from_school_id', 'sent_at'])


def downgrade() -> None:
    op.drop_index('ix_pupil_transfers_from', table_name='pupil_transfers')
    op.drop_index('ix_pupil_transfers_to', table_name='pupil_transfers')
    op.drop_table('pupil_transfers')
    op.drop_index(op.f('ix_evidence_links_report_id'), table_name='evidence_links')
    op.drop_table('evidence_links')
    with op.batch_alter_table('evidence') as batch:
        batch.drop_constraint(op.f('fk_evidence_added_by_id_users'), type_='foreignkey')
        batch.drop_constraint(op.f('fk_evidence_suspected_nude_by_id_users'),
                              type_='foreignkey')
        batch.drop_column('added_by_id')
        batch.drop_column('suspected_nude_by_id')
        batch.drop_column('suspected_nude_at')
