"""Reports and the kinds of bullying they describe."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Computed,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..vocabulary import Category, Source, Status
from .base import Base, EncryptedJSON, EncryptedText, UTCDateTime, enum_column, utcnow
from .case import CaseAction, CaseChecklist, ChecklistItem
from .conversation import Evidence, EvidenceLink, Message
from .pupil import ReportPupil
from .school import School
from .share import CaseShare
from .user import User

# What "open" means for the queue: not closed, or the reporter wrote back since.
OPEN_CASES = "status <> 'closed' OR has_unread_reply"


class Report(Base):
    """One submission from a pupil, a parent or a member of staff, and its triage state."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    source: Mapped[Source] = mapped_column(enum_column(Source, "report_source"))
    status: Mapped[Status] = mapped_column(enum_column(Status, "report_status"), default=Status.NEW)
    category: Mapped[Category] = mapped_column(
        enum_column(Category, "report_category"), default=Category.ALLEGATION
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # Priority rules (portal.priority): a score and the reasons behind it.
    urgency: Mapped[int] = mapped_column(Integer, default=0)
    # Why, as reason codes (portal.vocabulary.Reason) with the word-list entries that
    # matched: [{"code": "threat_to_hurt", "matched": ["kill you"]}, {"code": "online"}].
    # Pages show the words (portal.priority.reason_words). They say what the report
    # describes: encrypted.
    urgency_reasons: Mapped[list[dict[str, Any]]] = mapped_column(EncryptedJSON(), default=list)

    # Follow-up code: only its SHA-256 is kept.
    followup_code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # A double POST of the same form stores one report: the form's one-time token is kept
    # hashed, and the follow-up code sealed under a key only that token can rebuild.
    submission_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    sealed_code: Mapped[bytes | None] = mapped_column(LargeBinary)

    # What the reporter told us (pupil and parent forms).
    body: Mapped[str] = mapped_column(EncryptedText())
    about: Mapped[str | None] = mapped_column(String(20))
    when: Mapped[str | None] = mapped_column(String(20))
    happened_before: Mapped[str | None] = mapped_column(String(20))
    places: Mapped[list[str]] = mapped_column(JSON, default=list)
    people_involved: Mapped[str] = mapped_column(EncryptedText(), default="")
    feels_safe: Mapped[str | None] = mapped_column(String(20))
    anonymous: Mapped[bool] = mapped_column(Boolean, default=True)
    reporter_name: Mapped[str] = mapped_column(EncryptedText(), default="")
    reporter_class: Mapped[str] = mapped_column(EncryptedText(), default="")
    preferred_adult: Mapped[str] = mapped_column(EncryptedText(), default="")

    # Parent form.
    child_name: Mapped[str] = mapped_column(EncryptedText(), default="")
    child_year: Mapped[str] = mapped_column(String(30), default="")
    # One or more codes from portal.vocabulary.CONCERNS, joined with commas (all of them
    # fit: migration 0011 widened the column from 30 characters).
    concern: Mapped[str | None] = mapped_column(String(120))
    since_when: Mapped[str] = mapped_column(EncryptedText(), default="")
    told_before: Mapped[str | None] = mapped_column(String(20))
    parent_name: Mapped[str] = mapped_column(EncryptedText(), default="")
    contact_email: Mapped[str] = mapped_column(EncryptedText(), default="")
    contact_phone: Mapped[str] = mapped_column(EncryptedText(), default="")
    contact_preference: Mapped[str | None] = mapped_column(String(20))

    # A concern recorded by a member of staff.
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # The member of the DSL team the case is assigned to.
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # Retention (portal.retention): a legal hold keeps the record past its date.
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    legal_hold_reason: Mapped[str] = mapped_column(EncryptedText(), default="")
    # Set when the DSL closes a case with a required checklist item still open.
    close_override: Mapped[str] = mapped_column(EncryptedText(), default="")
    # The reporter replied and no DSL has read it yet: the queue shows it, even if closed.
    has_unread_reply: Mapped[bool] = mapped_column(Boolean, default=False)
    # In the queue's default view ("open"): worked out by the database from the two above,
    # so it can never disagree with them, and indexed (ix_reports_open).
    in_queue: Mapped[bool] = mapped_column(Boolean, Computed(OPEN_CASES, persisted=True))
    # A parent who gave an email chose to be told (only) that something changed.
    notify_updates: Mapped[bool] = mapped_column(Boolean, default=False)
    # When the DSL team was told about this report (at once if urgent, else in a digest).
    team_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    school: Mapped[School] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    assigned_to: Mapped[User | None] = relationship(foreign_keys=[assigned_to_id])
    pupil_links: Mapped[list[ReportPupil]] = relationship(
        primaryjoin="and_(ReportPupil.report_id == Report.id, ReportPupil.unlinked_at.is_(None))",
        viewonly=True, order_by="ReportPupil.linked_at",
    )
    checklist_items: Mapped[list[ChecklistItem]] = relationship(
        order_by="ChecklistItem.position", cascade="all, delete-orphan"
    )
    checklists: Mapped[list[CaseChecklist]] = relationship(
        order_by="CaseChecklist.attached_at", cascade="all, delete-orphan"
    )
    actions: Mapped[list[CaseAction]] = relationship(
        order_by="CaseAction.happened_on", cascade="all, delete-orphan"
    )
    messages: Mapped[list[Message]] = relationship(
        order_by="Message.created_at", cascade="all, delete-orphan"
    )
    evidence: Mapped[list[Evidence]] = relationship(
        order_by="Evidence.id", cascade="all, delete-orphan"
    )
    evidence_links: Mapped[list[EvidenceLink]] = relationship(
        order_by="EvidenceLink.id", cascade="all, delete-orphan"
    )
    # shared with other schools of the trust (portal.casework.sharing): ended and let go
    # when the case is deleted (the other school keeps its own actions)
    shares: Mapped[list[CaseShare]] = relationship(order_by="CaseShare.shared_at")
    kinds: Mapped[list[ReportKind]] = relationship(
        back_populates="report", cascade="all, delete-orphan", order_by="ReportKind.kind"
    )

    @property
    def kind_values(self) -> list[str]:
        return [k.kind for k in self.kinds]

    @property
    def reason_codes(self) -> list[str]:
        """The codes of the urgency reasons, in order ("threat_to_hurt", "online")."""
        return [str(item.get("code", "")) for item in self.urgency_reasons or []]

    def as_sent(self) -> dict[str, Any]:
        """The fields the reporter filled in, for the follow-up page."""
        return {"body": self.body, "kinds": self.kind_values, "places": list(self.places)}


# The queue reads each school's reports highest urgency first, then by time (portal.triage.
# operations.queue): these indexes hold that order, so a page never sorts every report.
# The default view has its own: open cases are few however many closed ones a school keeps.
_RANK = (Report.urgency.desc(), Report.created_at, Report.id)
Index("ix_reports_rank", Report.school_id, *_RANK)
Index("ix_reports_status", Report.school_id, Report.status, *_RANK)
Index("ix_reports_open", Report.school_id, Report.in_queue, *_RANK)
# Counting one kind's reports looks each up by id for its school and urgency: this narrow
# index answers that without reading the (wide, encrypted) report rows.
Index("ix_reports_id_school_urgency", Report.id, Report.school_id, Report.urgency)
# The digest (portal.notifications.due_digests) looks for reports the team hasn't been told of.
Index("ix_reports_unnotified", Report.school_id, Report.created_at,
      sqlite_where=text("team_notified_at IS NULL"),
      postgresql_where=text("team_notified_at IS NULL"))


class ReportKind(Base):
    """A kind of bullying or concern a report describes (queue filters use it)."""

    __tablename__ = "report_kinds"
    __table_args__ = (Index("ix_report_kinds_kind_report", "kind", "report_id"),)

    report_id: Mapped[int] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(30), primary_key=True)

    report: Mapped[Report] = relationship(back_populates="kinds")
