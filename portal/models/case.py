"""What the DSL does on a case: checklist items the policies require, and recorded actions."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, EncryptedText, UTCDateTime, enum_column, utcnow
from .user import User


class ItemState(enum.StrEnum):
    OPEN = "open"
    DONE = "done"
    NOT_NEEDED = "not_needed"


class CaseChecklist(Base):
    """A policy checklist this case has, and the version of its definition (portal.
    checklists) the case's steps were last brought up to."""

    __tablename__ = "case_checklists"

    report_id: Mapped[int] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    checklist: Mapped[str] = mapped_column(String(30), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    attached_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ChecklistItem(Base):
    """One step a policy requires on this case: ``key`` is the step's stable code
    ("cyber-4.3"); portal.checklists has its words, retired steps' included."""

    __tablename__ = "checklist_items"
    __table_args__ = (Index("ix_checklist_items_report", "report_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    checklist: Mapped[str] = mapped_column(String(30))
    key: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(Integer, default=0)
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    state: Mapped[ItemState] = mapped_column(enum_column(ItemState, "item_state"),
                                             default=ItemState.OPEN)
    note: Mapped[str] = mapped_column(EncryptedText(), default="")
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    done_by: Mapped[User | None] = relationship()


class ActionKind(enum.StrEnum):
    PARENTS_INFORMED = "parents_informed"
    SUPPORT_TARGET = "support_target"
    SUPPORT_PERPETRATOR = "support_perpetrator"
    SANCTION = "sanction"
    AGENCY = "agency"


ACTION_LABELS = {
    ActionKind.PARENTS_INFORMED: "Parents or carers informed",
    ActionKind.SUPPORT_TARGET: "Support for the pupil who was bullied",
    ActionKind.SUPPORT_PERPETRATOR: "Support for the pupil who bullied",
    ActionKind.SANCTION: "Sanction under the behaviour policy",
    ActionKind.AGENCY: "Other agency involved",
}


class CaseAction(Base):
    """Something done on a case and recorded: who was told, how, when; support; agencies."""

    __tablename__ = "case_actions"
    __table_args__ = (Index("ix_case_actions_report", "report_id", "happened_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    kind: Mapped[ActionKind] = mapped_column(enum_column(ActionKind, "action_kind"))
    # Parents informed: who was told and how; agencies: which one.
    who: Mapped[str] = mapped_column(EncryptedText(), default="")
    how: Mapped[str] = mapped_column(String(40), default="")
    agency: Mapped[str] = mapped_column(String(40), default="")
    happened_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(EncryptedText(), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    recorded_by: Mapped[User | None] = relationship()
