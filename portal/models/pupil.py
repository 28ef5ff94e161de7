"""The school roster and the pupils linked to each report."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from .base import (
    Base,
    EncryptedDate,
    EncryptedEnum,
    EncryptedText,
    UTCDateTime,
    enum_column,
    utcnow,
)
from .party import (
    PARTY_KIND_LABELS,
    Finding,
    PartyInterview,
    PartyKind,
    PartySupport,
    PartyVoice,
)
from .user import User


class SenStatus(enum.StrEnum):
    """SEN status as a school MIS exports it (SEN Code of Practice: N, K, E)."""

    NONE = "N"
    SEN_SUPPORT = "K"
    EHC_PLAN = "E"


SEN_LABELS = {SenStatus.NONE: "No SEN", SenStatus.SEN_SUPPORT: "SEN support",
              SenStatus.EHC_PLAN: "EHC plan"}


class LinkRole(enum.StrEnum):
    TARGET = "target"
    ALLEGED_PERPETRATOR = "alleged_perpetrator"
    WITNESS = "witness"


LINK_ROLE_LABELS = {LinkRole.TARGET: "Target", LinkRole.ALLEGED_PERPETRATOR:
                    "Alleged perpetrator", LinkRole.WITNESS: "Witness"}


class Pupil(Base):
    """A child on the school roster (imported from the MIS or added by an admin).

    Everything that says who the child is (UPN, names, date of birth, year, form, SEN
    status) is encrypted (SECURITY P13): a stolen database shows a numbered pupil of a
    school, on roll or not, recurring or not, and nothing else. The roster is searched and
    sorted in Python after loading one school's pupils (portal.linking.search_pupils); the
    UPN is found by its blind index ``upn_hash`` (portal.crypto.blind_index), which also
    keeps it unique within the school."""

    __tablename__ = "pupils"
    __table_args__ = (UniqueConstraint("school_id", "upn_hash", name="uq_pupils_school_upn"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    # UPN or admission number: the school's own identifier, unique within the school.
    upn: Mapped[str] = mapped_column(EncryptedText())
    upn_hash: Mapped[str] = mapped_column(String(64))
    first_name: Mapped[str] = mapped_column(EncryptedText())
    last_name: Mapped[str] = mapped_column(EncryptedText())
    date_of_birth: Mapped[date | None] = mapped_column(EncryptedDate())
    year_group: Mapped[str] = mapped_column(EncryptedText(), default="")
    form: Mapped[str] = mapped_column(EncryptedText(), default="")
    sen_status: Mapped[SenStatus] = mapped_column(EncryptedEnum(SenStatus),
                                                  default=SenStatus.NONE)
    on_roll: Mapped[bool] = mapped_column(Boolean, default=True)
    # In the school's "N reports within D days" at some point in their history: kept by
    # portal.linking.store_recurring whenever a link, a report or the rule changes, so the
    # queue never reads a child's whole history to show the flag.
    recurring: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    links: Mapped[list[ReportPupil]] = relationship(back_populates="pupil")

    @validates("upn")
    def _index_upn(self, _key: str, value: str) -> str:
        self.upn_hash = upn_index(value)
        return value

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def has_send(self) -> bool:
        return self.sen_status != SenStatus.NONE


def upn_index(upn: str) -> str:
    """The blind index of a UPN (upper case, as rosters store it)."""
    from ..crypto import blind_index

    return blind_index(upn.strip().upper())


class ReportPupil(Base):
    """A party to a report, with their role: a roster pupil linked by the DSL, or someone
    not on the roster (``party_kind`` and ``description``: "Year 8 at Hillside Academy",
    "an Instagram account called x"). Its ``id`` is the party id that support, sanctions,
    the child's voice and interviews hang from (portal.models.party). Unlinking keeps the
    row."""

    __tablename__ = "report_pupils"
    __table_args__ = (Index("ix_report_pupils_pupil_report", "pupil_id", "report_id"),
                      Index("ix_report_pupils_report", "report_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    # None for a party who is not on the roster.
    pupil_id: Mapped[int | None] = mapped_column(ForeignKey("pupils.id"))
    party_kind: Mapped[PartyKind] = mapped_column(enum_column(PartyKind, "party_kind"),
                                                  default=PartyKind.ROSTER_PUPIL)
    description: Mapped[str] = mapped_column(EncryptedText(), default="")
    role: Mapped[LinkRole] = mapped_column(enum_column(LinkRole, "link_role"))
    linked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    unlinked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Cyber policy 10.1: an alleged perpetrator is "considered innocent" until a finding.
    finding: Mapped[Finding | None] = mapped_column(enum_column(Finding, "finding"))
    finding_reason: Mapped[str] = mapped_column(EncryptedText(), default="")
    finding_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    finding_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    pupil: Mapped[Pupil | None] = relationship(back_populates="links")
    linked_by: Mapped[User | None] = relationship(foreign_keys=[linked_by_id])
    finding_by: Mapped[User | None] = relationship(foreign_keys=[finding_by_id])
    support: Mapped[list[PartySupport]] = relationship(
        order_by="PartySupport.starts_on, PartySupport.id", viewonly=True)
    voices: Mapped[list[PartyVoice]] = relationship(
        order_by="PartyVoice.said_on, PartyVoice.id", viewonly=True)
    interviews: Mapped[list[PartyInterview]] = relationship(
        order_by="PartyInterview.held_on, PartyInterview.id", viewonly=True)

    @property
    def on_roster(self) -> bool:
        return self.pupil_id is not None

    @property
    def label(self) -> str:
        """How the case page and the chronology name this party."""
        if self.pupil is not None:
            return self.pupil.name
        if self.description:
            return self.description
        return PARTY_KIND_LABELS[self.party_kind]

    @property
    def role_words(self) -> str:
        """"Alleged perpetrator" until a finding says otherwise (cyber policy 10.1)."""
        if self.role == LinkRole.ALLEGED_PERPETRATOR and self.finding == Finding.RESPONSIBLE:
            return "Perpetrator (found responsible)"
        return LINK_ROLE_LABELS[self.role]
