"""The people around a case (issue 14): the school's contacts that policy steps ask to be
informed, the notices sent to them, to a trusted adult and to the member of staff who
recorded a concern, and which trusted adult a pupil chose."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, EncryptedText, UTCDateTime, utcnow
from .user import User


class ContactRole(enum.StrEnum):
    """Who a contact is to the school: the codes the policy steps key on."""

    PRINCIPAL = "principal"
    SLT = "slt"
    LA_ESAFETY = "la_esafety"
    MAT_ESAFETY = "mat_esafety"


CONTACT_ROLE_LABELS = {
    ContactRole.PRINCIPAL: "Principal",
    ContactRole.SLT: "Senior leadership team",
    ContactRole.LA_ESAFETY: "Local authority eSafety officer",
    ContactRole.MAT_ESAFETY: "Trust (MAT) eSafety officer",
}


class SchoolContact(Base):
    """Someone a policy step asks the school to inform (cyber-bullying policy 4.4, 4.9,
    5.4, 5.8). Never deleted: a notice sent to them keeps naming them."""

    __tablename__ = "school_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    name: Mapped[str] = mapped_column(EncryptedText())
    role: Mapped[str] = mapped_column(String(20))  # a ContactRole code
    email: Mapped[str] = mapped_column(EncryptedText())
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class NoticeKind(enum.StrEnum):
    CONTACT = "contact"  # a school contact, from a checklist step
    ADULT = "adult"  # the trusted adult the pupil asked for
    AUTHOR = "author"  # the member of staff who recorded the concern


class Notice(Base):
    """One email sent about a case to someone around it, and why.

    ``round`` counts the sends of the same notice (same report, step and person): a form
    says which round it would send, so the same press arriving twice (Reload, a double
    click, a second tab) finds that round taken and sends nothing; asking again on
    purpose is a fresh page and the next round. The unique key makes two presses at the
    same moment send once."""

    __tablename__ = "notices"
    __table_args__ = (
        UniqueConstraint("report_id", "kind", "step", "person_id", "round",
                         name="uq_notices_once"),
        Index("ix_notices_report", "report_id", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # a NoticeKind code
    # The checklist step's code ("cyber-4.4"); "adult"; or, for the author, "acted"/"closed".
    step: Mapped[str] = mapped_column(String(40))
    # The contact's, the trusted adult's or the author's (user) id, by ``kind``.
    person_id: Mapped[int] = mapped_column(Integer)
    round: Mapped[int] = mapped_column(Integer, default=1)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    sent_by: Mapped[User | None] = relationship()


class ReportAdult(Base):
    """The trusted adult a pupil chose, by id (the report keeps the name as it was then in
    ``preferred_adult``). Reports from before this table have no row; the case page then
    finds the adult by that name."""

    __tablename__ = "report_adults"

    report_id: Mapped[int] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    adult_id: Mapped[int] = mapped_column(ForeignKey("trusted_adults.id"), index=True)
