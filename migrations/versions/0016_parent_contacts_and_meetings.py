"""Parents and carers kept informed: contacts from the roster, what parents were told,
meetings with parents (issue 14).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02

- ``parent_contacts``: a pupil's parent or carer contacts from the MIS export (name,
  relationship, email and phone encrypted), replaced when an import carries them.
- ``parents_told``: per party (``report_pupils``), when their parents were told, who, how,
  by whom and what. Never changed; a correction names the record it corrects.
- ``parent_meetings`` and ``parent_meeting_parties``: a meeting invited, then held or not
  attended, for one or several parties of a case.

New tables only: downgrade drops them (and what they held).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0016'
down_revision: str | Sequence[str] | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('parent_contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pupil_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=True),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('relationship', sa.Text(), nullable=False),
    sa.Column('email', sa.Text(), nullable=False),
    sa.Column('phone', sa.Text(), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['pupil_id'], ['pupils.id'],
                            name=op.f('fk_parent_contacts_pupil_id_pupils'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parent_contacts'))
    )
    op.create_index('ix_parent_contacts_pupil', 'parent_contacts', ['pupil_id', 'position'],
                    unique=False)
    op.create_table('parents_told',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('told_on', sa.Date(), nullable=False),
    sa.Column('told', sa.Text(), nullable=False),
    sa.Column('how', sa.String(length=20), nullable=False),
    sa.Column('by_user_id', sa.Integer(), nullable=True),
    sa.Column('by_name', sa.Text(), nullable=False),
    sa.Column('what', sa.Text(), nullable=False),
    sa.Column('corrects_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['by_user_id'], ['users.id'],
                            name=op.f('fk_parents_told_by_user_id_users')),
    sa.ForeignKeyConstraint(['corrects_id'], ['parents_told.id'],
                            name=op.f('fk_parents_told_corrects_id_parents_told')),
    sa.ForeignKeyConstraint(['party_id'], ['report_pupils.id'],
                            name=op.f('fk_parents_told_party_id_report_pupils'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'],
                            name=op.f('fk_parents_told_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'],
                            name=op.f('fk_parents_told_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parents_told'))
    )
    op.create_index('ix_parents_told_party', 'parents_told', ['party_id'], unique=False)
    op.create_index('ix_parents_told_report', 'parents_told', ['report_id'], unique=False)
    op.create_table('parent_meetings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('invited_on', sa.Date(), nullable=False),
    sa.Column('invited_how', sa.String(length=20), nullable=False),
    sa.Column('meeting_on', sa.Date(), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('attended', sa.Text(), nullable=False),
    sa.Column('agreed', sa.Text(), nullable=False),
    sa.Column('next_steps', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'],
                            name=op.f('fk_parent_meetings_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'],
                            name=op.f('fk_parent_meetings_report_id_reports'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parent_meetings'))
    )
    op.create_index('ix_parent_meetings_report', 'parent_meetings', ['report_id'],
                    unique=False)
    op.create_table('parent_meeting_parties',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['parent_meetings.id'],
                            name=op.f('fk_parent_meeting_parties_meeting_id_parent_meetings'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['party_id'], ['report_pupils.id'],
                            name=op.f('fk_parent_meeting_parties_party_id_report_pupils'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parent_meeting_parties'))
    )
    op.create_index('ix_parent_meeting_parties_meeting', 'parent_meeting_parties',
                    ['meeting_id'], unique=False)
    op.create_index('ix_parent_meeting_parties_party', 'parent_meeting_parties', ['party_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_parent_meeting_parties_party', table_name='parent_meeting_parties')
    op.drop_index('ix_parent_meeting_parties_meeting', table_name='parent_meeting_parties')
    op.drop_table('parent_meeting_parties')
    op.drop_index('ix_parent_meetings_report', table_name='parent_meetings')
    op.drop_table('parent_meetings')
    op.drop_index('ix_parents_told_report', table_name='parents_told')
    op.drop_index('ix_parents_told_party', table_name='parents_told')
    op.drop_table('parents_told')
    op.drop_index('ix_parent_contacts_pupil', table_name='parent_contacts')
    op.drop_table('parent_contacts')
