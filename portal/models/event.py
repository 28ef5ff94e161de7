"""The append-only chronology and audit trail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from .base import Base, EncryptedText, UTCDateTime, utcnow
from .user import User


class AppendOnlyError(RuntimeError):
    """An attempt to change or delete an audit event through the application."""


class Event(Base):
    """Something that happened: a report arrived, was viewed, changed, noted; a login.

    KCSIE record keeping asks for concerns, decisions and their reasons in writing; an
    event is never edited or deleted by the application, corrections are new events.
    Events hold staff-written reasons and notes, never the reporter's words.
    """

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_report_created", "report_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    # What changed, from and to ("12:alleged_perpetrator", "allegation" -> "bullying"):
    # encrypted like the text, so the chronology says what happened only to the app.
    old_value: Mapped[str | None] = mapped_column(EncryptedText())
    new_value: Mapped[str | None] = mapped_column(EncryptedText())
    text: Mapped[str | None] = mapped_column(EncryptedText())
    # The network address of a member of staff acting (audit: "from which staff address").
    # Never set for reporters: an event without an actor has no address.
    staff_address: Mapped[str | None] = mapped_column(String(45))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    actor: Mapped[User | None] = relationship()

    @classmethod
    def by(cls, actor: User, **values: object) -> Event:
        """An event done by a member of staff, with the address they acted from."""
        return cls(actor_id=actor.id, staff_address=actor.address, **values)


@event.listens_for(Session, "before_flush")
def _refuse_event_changes(session: Session, _ctx: object, _instances: object) -> None:
    for obj in session.dirty:
        if isinstance(obj, Event) and session.is_modified(obj):
            raise AppendOnlyError("audit events cannot be changed")
    for obj in session.deleted:
        if isinstance(obj, Event):
            raise AppendOnlyError("audit events cannot be deleted")
