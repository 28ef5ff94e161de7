"""A child's record sent to another school of the same trust (issue 16; KCSIE: the child's
safeguarding file goes with them when they change school)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, EncryptedJSON, EncryptedText, UTCDateTime, utcnow
from .user import User


class PupilTransfer(Base):
    """One transfer: from which school's child, to which school, by whom and when, and the
    record as it stood then (``record``: portal.casework.transfer.snapshot, encrypted).
    The receiving school reads the copy, never the sending school's rows: each school's
    queue, figures and retention stay its own, and later changes at the sending school are
    not sent on."""

    __tablename__ = "pupil_transfers"
    __table_args__ = (Index("ix_pupil_transfers_to", "to_school_id", "sent_at"),
                      Index("ix_pupil_transfers_from", "from_school_id", "sent_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    from_school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    to_school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    # the child at the sending school; None once that row is gone (retention)
    pupil_id: Mapped[int | None] = mapped_column(ForeignKey("pupils.id", ondelete="SET NULL"))
    # the child at the receiving school, matched by UPN when they are on its roster
    to_pupil_id: Mapped[int | None] = mapped_column(ForeignKey("pupils.id",
                                                               ondelete="SET NULL"))
    pupil_name: Mapped[str] = mapped_column(EncryptedText())
    note: Mapped[str] = mapped_column(EncryptedText(), default="")
    record: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON())
    sent_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    sent_by: Mapped[User] = relationship(foreign_keys=[sent_by_id])
