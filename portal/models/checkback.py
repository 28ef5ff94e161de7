"""Checking back with the reporter ("Is it better now?"), and the indexes the queue's
filters of issue 14 read (decision, date range, overdue, a child who says no)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, EncryptedText, UTCDateTime, utcnow
from .report import Report
from .user import User

# The three answers, as stable codes; their words (for staff and for the child) are in
# FEELING_LABELS below.
BETTER = "better"
A_LITTLE_BETTER = "a_little_better"
NOT_BETTER = "not_better"
FEELINGS = (BETTER, A_LITTLE_BETTER, NOT_BETTER)
# The longest note or reason a DSL may write on a check-back.
NOTE_LIMIT = 1000
# The words staff read; the child's page shows the same words under a picture.
FEELING_LABELS = {BETTER: "Better", A_LITTLE_BETTER: "A little better",
                  NOT_BETTER: "Not better"}


class CheckBack(Base):
    """A date the DSL set to ask the reporter "Is it better now?", and their answer.

    A case has at most one open check-back (not answered, not cancelled) at a time, so an
    answer always belongs to exactly one of them. Nothing about the device, the address
    or the visit is kept with the answer (SECURITY P1): only what the reporter chose and
    wrote, and when."""

    __tablename__ = "check_backs"
    __table_args__ = (
        Index("ix_check_backs_report", "report_id", "due_on"),
        # "a child said it is not better": the queue finds each school's cases whose
        # latest answer is "not better" through this index, without reading reports.
        Index("ix_check_backs_latest", "latest", "answer", "report_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    due_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(EncryptedText(), default="")
    scheduled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cancel_reason: Mapped[str] = mapped_column(EncryptedText(), default="")
    # The answer: a code of FEELINGS, what else the reporter wrote (encrypted), when.
    answer: Mapped[str | None] = mapped_column(String(20))
    more: Mapped[str] = mapped_column(EncryptedText(), default="")
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # True on the case's most recent answer only: the queue's "not better" reads it.
    latest: Mapped[bool] = mapped_column(Boolean, default=False)
    # The team was emailed about this "not better" answer (once per answer).
    alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    report: Mapped[Report] = relationship()
    scheduled_by: Mapped[User | None] = relationship(foreign_keys=[scheduled_by_id])
    cancelled_by: Mapped[User | None] = relationship(foreign_keys=[cancelled_by_id])

    @property
    def is_open(self) -> bool:
        return self.answered_at is None and self.cancelled_at is None


# The queue's new filters (portal.triage.operations.QueueFilters), each read in the
# queue's own order (school, urgency descending, time) so a page never sorts every match.
_RANK = (Report.urgency.desc(), Report.created_at, Report.id)
Index("ix_reports_category", Report.school_id, Report.category, *_RANK)
# Arrival between two dates: the count, and the page for a range the planner finds narrow.
Index("ix_reports_arrived", Report.school_id, Report.created_at)
# Overdue: not yet acknowledged (few, however many a school keeps), by arrival; it holds
# every column the filter asks, so the planner reads it alone rather than the (larger)
# arrival index.
Index("ix_reports_unacknowledged", Report.school_id, Report.created_at, Report.urgency,
      Report.status,
      sqlite_where=text("acknowledged_at IS NULL"),
      postgresql_where=text("acknowledged_at IS NULL"))
