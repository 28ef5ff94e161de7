"""A case worked together by two schools of one trust (issue 16; anti-bullying policy: "the
DSL will collaborate with other schools" when bullying crosses schools).

The owning school shares one of its cases with another school of the trust. The other
school's DSL team reads what was shared (never the reporter's identity or contact details)
and records its own actions; both schools read each other's actions on the share. Either
school ends the share, with a reason. The case stays the owning school's: its queue,
figures and retention. When the owning school's retention rule deletes the case, the share
ends, the owning school's actions go with the case, and the partner keeps its own actions and
its audit trail's events (which hold no words of the case).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, EncryptedText, UTCDateTime, utcnow
from .user import User


class CaseShare(Base):
    """One case shared with one other school: who shared it, when, why, what they chose to
    share beyond the summary, and (once ended) who ended it, when and why."""

    __tablename__ = "case_shares"
    __table_args__ = (Index("ix_case_shares_to", "to_school_id", "shared_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # None once the owning school's retention deleted the case: the other school keeps its
    # own actions (portal.casework.sharing.end_with_the_case)
    report_id: Mapped[int | None] = mapped_column(
        ForeignKey("reports.id", ondelete="SET NULL"), index=True)
    from_school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    to_school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    # What the partner reads beyond the summary (kinds, where, when, decision, status):
    # the reporter's own words, and the names and roles of the people involved.
    with_words: Mapped[bool] = mapped_column(Boolean, default=False)
    with_people: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(EncryptedText(), default="")
    shared_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    shared_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    end_reason: Mapped[str] = mapped_column(EncryptedText(), default="")

    shared_by: Mapped[User] = relationship(foreign_keys=[shared_by_id])
    ended_by: Mapped[User | None] = relationship(foreign_keys=[ended_by_id])
    actions: Mapped[list[SharedAction]] = relationship(
        order_by="SharedAction.done_on, SharedAction.id", cascade="all, delete-orphan")

    @property
    def active(self) -> bool:
        return self.ended_at is None


class SharedAction(Base):
    """An action one of the two schools took and recorded on the share, for the other to
    read: what was done (encrypted), the day, which school, who recorded it."""

    __tablename__ = "shared_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    share_id: Mapped[int] = mapped_column(ForeignKey("case_shares.id", ondelete="CASCADE"),
                                          index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    done_on: Mapped[date] = mapped_column(Date)
    what: Mapped[str] = mapped_column(EncryptedText())
    added_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    added_by: Mapped[User] = relationship(foreign_keys=[added_by_id])
