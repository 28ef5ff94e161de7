"""Messages between the DSL and a reporter, preserved evidence, and the email outbox."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, EncryptedText, UTCDateTime, enum_column, utcnow
from .user import User


class Sender(enum.StrEnum):
    STAFF = "staff"
    REPORTER = "reporter"


class Message(Base):
    """A message through the follow-up code: the DSL to the reporter, or the reporter's reply.

    Staff-only notes are events, never messages, so they can't reach the reporter.
    """

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_report_created", "report_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    sender: Mapped[Sender] = mapped_column(enum_column(Sender, "message_sender"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(EncryptedText())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # When the other side first saw it: the reporter (staff messages) or the DSL (replies).
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    author: Mapped[User | None] = relationship()


class Evidence(Base):
    """A file sent with a report, kept as the policy's preserved evidence (cyber 4.3, 5.3).

    No original filename is kept (it can name a child or a phone); the file lives outside
    ``static/`` under a server-made name; both hashes let anyone check what was kept.
    """

    __tablename__ = "evidence"
    __table_args__ = (Index("ix_evidence_report", "report_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(40))
    size_received: Mapped[int] = mapped_column(Integer)
    size_kept: Mapped[int] = mapped_column(Integer)
    sha256_received: Mapped[str] = mapped_column(String(64))
    sha256_kept: Mapped[str] = mapped_column(String(64))
    # What was done to it: "image rebuilt from pixels (metadata removed)" or "kept as sent".
    treatment: Mapped[str] = mapped_column(String(80))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Marked by a DSL as a suspected nude or semi-nude image of a child (UKCIS guidance):
    # never bundled, downloaded only with a written reason (portal.casework.nude_images).
    suspected_nude_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    suspected_nude_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Who added it: None for the reporter's own files; a member of staff's account for a
    # screenshot or a scanned printout the DSL added from the case page (issue 16).
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    added_by: Mapped[User | None] = relationship(foreign_keys=[added_by_id])

    @property
    def suspected_nude(self) -> bool:
        return self.suspected_nude_at is not None


class OutboxMessage(Base):
    """An email waiting to go: written in the same transaction as the change that causes it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "sent_at", "send_after"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(EncryptedText())
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(EncryptedText())
    kind: Mapped[str] = mapped_column(String(30))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    send_after: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # An SMTP error can quote the recipient's address: encrypted like the address.
    last_error: Mapped[str] = mapped_column(EncryptedText(), default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A sender takes a message before sending it (portal.notifications.claim): until then
    # nobody else may; a sender that dies holding it lets it go when the time runs out.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claim_token: Mapped[str | None] = mapped_column(String(32))


class EvidenceLink(Base):
    """A web address kept as evidence by the DSL, with the day it was seen (cyber-bullying
    policy 5.3: "secure and preserve any evidence including URLs, Screenshots and
    Printouts"). The address and the note are encrypted at rest."""

    __tablename__ = "evidence_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"),
                                           index=True)
    url: Mapped[str] = mapped_column(EncryptedText())
    seen_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(EncryptedText(), default="")
    added_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    added_by: Mapped[User] = relationship(foreign_keys=[added_by_id])
