"""The people involved in a report (parties), and what is recorded about each of them.

A party is a row of ``report_pupils`` (``portal.models.ReportPupil``): a roster pupil, or
someone not on the roster. Anti-bullying policy: bullying "can be perpetrated or
experienced by any member of the community, including adults"; cyber policy 2: it can
"target pupils, staff and others"; 7.5: "the person being bullied might not know who their
bully is". Support, sanctions, the child's voice and interviews are kept per party, never
deleted: ending or reviewing a record is a new fact with its own event.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, EncryptedText, UTCDateTime, enum_column, utcnow
from .user import User


class PartyKind(enum.StrEnum):
    """Who a party is."""

    ROSTER_PUPIL = "roster_pupil"
    OTHER_SCHOOL_PUPIL = "other_school_pupil"
    ADULT = "adult"
    STAFF_MEMBER = "staff_member"
    UNKNOWN = "unknown"


PARTY_KIND_LABELS = {
    PartyKind.ROSTER_PUPIL: "Pupil on the roster",
    PartyKind.OTHER_SCHOOL_PUPIL: "Pupil of another school",
    PartyKind.ADULT: "Adult",
    PartyKind.STAFF_MEMBER: "Member of staff",
    PartyKind.UNKNOWN: "Not known (yet)",
}


class Finding(enum.StrEnum):
    """The DSL's finding about an alleged perpetrator (cyber policy 10.1)."""

    RESPONSIBLE = "responsible"
    NOT_UPHELD = "not_upheld"


FINDING_LABELS = {
    Finding.RESPONSIBLE: "Found responsible",
    Finding.NOT_UPHELD: "Allegation not upheld",
}


class SupportType(enum.StrEnum):
    SUPPORT = "support"
    SANCTION = "sanction"


SUPPORT_TYPE_LABELS = {SupportType.SUPPORT: "Support", SupportType.SANCTION: "Sanction"}

# The anti-bullying policy's lists ("Supporting pupils"), by the role they are for. Codes
# are stable; the words beside them can be reworded or translated.
TARGET_SUPPORT = {
    "reassurance_pastoral": "Reassurance and continuous pastoral support",
    "talk_to_chosen_staff": "An immediate opportunity to talk to a member of staff of "
                            "their choice",
    "self_esteem": "Working towards restoring self-esteem and confidence",
    "ongoing_support": "Ongoing support",
    "counselling": "Formal counselling",
    "engage_parents": "Engaging with parents and carers",
    "early_help_specialist": "Early help or specialist children's services",
}
PERPETRATOR_SUPPORT = {
    "discuss_change": "Discussing what happened and the need to change",
    "behaviour_education": "Education and support about their behaviour",
    "content_removal": "Content removed and reported to the service provider",
    "early_help_police": "Early help, the police or specialist services",
}
WITNESS_SUPPORT = {
    "witness_reassurance": "Reassurance",
    "witness_support": "Support",
    "witness_counselling": "Counselling",
}
# The behaviour policy's sanctions: "official warnings, detentions, removal of privileges
# (including online access ...), and fixed-term or permanent exclusions".
SANCTIONS = {
    "official_warning": "Official warning",
    "detention": "Detention",
    "removal_of_privileges": "Removal of privileges",
    "removal_of_online_access": "Removal of online access",
    "fixed_term_exclusion": "Fixed-term exclusion (suspension)",
    "permanent_exclusion": "Permanent exclusion",
}
SUPPORT_FOR_ROLE = {
    "target": TARGET_SUPPORT,
    "alleged_perpetrator": PERPETRATOR_SUPPORT,
    "witness": WITNESS_SUPPORT,
}
SUPPORT_LABELS = {**TARGET_SUPPORT, **PERPETRATOR_SUPPORT, **WITNESS_SUPPORT, **SANCTIONS}


class SupportState(enum.StrEnum):
    ACTIVE = "active"
    ENDED = "ended"


class PartySupport(Base):
    """Support or a sanction for one party: what, who gives it, from when, when to review."""

    __tablename__ = "party_support"
    __table_args__ = (Index("ix_party_support_party", "party_id", "starts_on"),
                      Index("ix_party_support_report", "report_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    party_id: Mapped[int] = mapped_column(ForeignKey("report_pupils.id", ondelete="CASCADE"))
    type: Mapped[SupportType] = mapped_column(enum_column(SupportType, "support_type"))
    code: Mapped[str] = mapped_column(String(40))
    given_by: Mapped[str] = mapped_column(EncryptedText(), default="")
    starts_on: Mapped[date] = mapped_column(Date)
    review_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(EncryptedText(), default="")
    state: Mapped[SupportState] = mapped_column(enum_column(SupportState, "support_state"),
                                                default=SupportState.ACTIVE)
    last_reviewed_on: Mapped[date | None] = mapped_column(Date)
    review_note: Mapped[str] = mapped_column(EncryptedText(), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    recorded_by: Mapped[User | None] = relationship()


class PartyVoice(Base):
    """What the child wants to happen ("involve them in any decision making"), dated."""

    __tablename__ = "party_voices"
    __table_args__ = (Index("ix_party_voices_party", "party_id", "said_on"),
                      Index("ix_party_voices_report", "report_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    party_id: Mapped[int] = mapped_column(ForeignKey("report_pupils.id", ondelete="CASCADE"))
    said_on: Mapped[date] = mapped_column(Date)
    wants: Mapped[str] = mapped_column(EncryptedText())
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    recorded_by: Mapped[User | None] = relationship()


class PartyInterview(Base):
    """A short record of an interview with one party ("interview all parties involved")."""

    __tablename__ = "party_interviews"
    __table_args__ = (Index("ix_party_interviews_party", "party_id", "held_on"),
                      Index("ix_party_interviews_report", "report_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    party_id: Mapped[int] = mapped_column(ForeignKey("report_pupils.id", ondelete="CASCADE"))
    held_on: Mapped[date] = mapped_column(Date)
    interviewer: Mapped[str] = mapped_column(EncryptedText())
    present: Mapped[str] = mapped_column(EncryptedText(), default="")
    account: Mapped[str] = mapped_column(EncryptedText())
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    recorded_by: Mapped[User | None] = relationship()
