"""The queue's indexes, and each pupil's recurring flag kept rather than worked out per page.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23

The queue reads a school's reports by urgency (descending), then time, then id: with the
order in the index, the first page is read rather than sorted out of every report.
``reports.in_queue`` (open, or a reply unread) is a stored generated column, so the
default view has an index of its own that neither database's planner can overlook.

``pupils.recurring`` is worked out here for the pupils already linked, with the rule
portal.linking applies (the school's N reports within D days, at any point in the history);
the rule is copied rather than imported, so this migration stays as it is when the code moves.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | Sequence[str] | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_CASES = "status <> 'closed' OR has_unread_reply"
UNNOTIFIED = "team_notified_at IS NULL"
RANK = [sa.text('urgency DESC'), 'created_at', 'id']


def _recurring(dates: list, count: int, days: int) -> bool:
    ordered = sorted(dates)
    return any(ordered[i + count - 1] - ordered[i] <= timedelta(days=days)
               for i in range(len(ordered) - count + 1))


def _store_recurring() -> None:
    conn = op.get_bind()
    schools = sa.table('schools', sa.column('id', sa.Integer()),
                       sa.column('recurring_count', sa.Integer()),
                       sa.column('recurring_days', sa.Integer()))
    reports = sa.table('reports', sa.column('id', sa.Integer()),
                       sa.column('school_id', sa.Integer()),
                       sa.column('created_at', sa.DateTime(timezone=True)))
    links = sa.table('report_pupils', sa.column('report_id', sa.Integer()),
                     sa.column('pupil_id', sa.Integer()),
                     sa.column('unlinked_at', sa.DateTime(timezone=True)))
    pupils = sa.table('pupils', sa.column('id', sa.Integer()),
                      sa.column('recurring', sa.Boolean()))
    rules = {row.id: (row.recurring_count, row.recurring_days)
             for row in conn.execute(sa.select(schools))}
    dates: dict[tuple[int, int], list] = defaultdict(list)
    for school_id, pupil_id, created in conn.execute(
            sa.select(reports.c.school_id, links.c.pupil_id, reports.c.created_at)
            .join(links, links.c.report_id == reports.c.id)
            .where(links.c.unlinked_at.is_(None)).distinct()):
        dates[(school_id, pupil_id)].append(created)
    flagged = sorted(pupil_id for (school_id, pupil_id), moments in dates.items()
                     if _recurring(moments, *rules[school_id]))
    for start in range(0, len(flagged), 500):
        conn.execute(sa.update(pupils).where(pupils.c.id.in_(flagged[start:start + 500]))
                     .values(recurring=True))


def upgrade() -> None:
    with op.batch_alter_table('pupils', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recurring', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    _store_recurring()
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('in_queue', sa.Boolean(),
                                      sa.Computed(OPEN_CASES, persisted=True), nullable=True))
    op.drop_index('ix_reports_queue', table_name='reports')
    op.create_index('ix_reports_rank', 'reports', ['school_id', *RANK])
    op.create_index('ix_reports_status', 'reports', ['school_id', 'status', *RANK])
    op.create_index('ix_reports_open', 'reports', ['school_id', 'in_queue', *RANK])
    op.create_index('ix_reports_id_school_urgency', 'reports', ['id', 'school_id', 'urgency'])
    op.create_index('ix_reports_unnotified', 'reports', ['school_id', 'created_at'],
                    sqlite_where=sa.text(UNNOTIFIED), postgresql_where=sa.text(UNNOTIFIED))
    # Statistics for the planners, so a school upgrading with years of reports gets the
    # new indexes used at once.
    op.execute('ANALYZE')


def downgrade() -> None:
    for name in ('ix_reports_unnotified', 'ix_reports_id_school_urgency', 'ix_reports_open',
                 'ix_reports_status', 'ix_reports_rank'):
        op.drop_index(name, table_name='reports')
    op.create_index('ix_reports_queue', 'reports',
                    ['school_id', 'status', 'urgency', 'created_at'])
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_column('in_queue')
    with op.batch_alter_table('pupils', schema=None) as batch_op:
        batch_op.drop_column('recurring')
