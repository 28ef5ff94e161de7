"""Parents and carers kept informed at all stages (issue 14).

Anti-bullying policy: "The school will ensure parents/carers are kept informed about the
concern and action taken"; "Keep them informed at all stages"; "Inviting parents/carers
into school to form part of the discussions around reoccurring incidents".

Three families of rows: a pupil's parent or carer contacts (from the MIS roster import,
replaced on each import that carries them), what parents were told (per party, never
changed or deleted: a correction is a new record naming the one it corrects), and
meetings with parents (per party or for several parties of one case, invited first and
completed later). Everything a person typed or that names a person is encrypted.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, EncryptedText, UTCDateTime, utcnow
from .pupil import ReportPupil
from .user import User


class ToldHow(enum.StrEnum):
    """How parents or carers were told, or invited to a meeting."""

    PHONE = "phone"
    IN_PERSON = "in_person"
    MEETING = "meeting"
    LETTER = "letter"
    EMAIL = "email"
    TEXT = "text"


TOLD_HOW_LABELS = {ToldHow.PHONE: "Phone call", ToldHow.IN_PERSON: "In person",
                   ToldHow.MEETING: "Meeting", ToldHow.LETTER: "Letter",
                   ToldHow.EMAIL: "Email", ToldHow.TEXT: "Text message"}
# How someone was invited, as the end of a sentence ("invited 2 Dec 2026 in person"; a trial
# found "invited by in person").
HOW_PHRASES = {ToldHow.PHONE: "by phone", ToldHow.IN_PERSON: "in person",
               ToldHow.MEETING: "at a meeting", ToldHow.LETTER: "by letter",
               ToldHow.EMAIL: "by email", ToldHow.TEXT: "by text message"}


class MeetingState(enum.StrEnum):
    """Where a meeting with parents stands."""

    INVITED = "invited"
    ATTENDED = "attended"
    DID_NOT_ATTEND = "did_not_attend"


MEETING_STATE_LABELS = {MeetingState.INVITED: "Invited",
                        MeetingState.ATTENDED: "Meeting held",
                        MeetingState.DID_NOT_ATTEND: "Did not attend"}


def _words(labels: Mapping[Any, str], code: str) -> str:
    """The words of a stored code, or the code itself if it has none now."""
    return next((words for key, words in labels.items() if key == code), code)


class ParentContact(Base):
    """A parent or carer of a pupil, as the school's MIS export lists them (contact 1, 2,
    3 with a priority). Replaced whole for a pupil when an import carries contacts."""

    __tablename__ = "parent_contacts"
    __table_args__ = (Index("ix_parent_contacts_pupil", "pupil_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id", ondelete="CASCADE"))
    # contact 1, 2 or 3 in the file
    position: Mapped[int] = mapped_column(Integer)
    # the MIS's contact priority (1 is called first); None when the file gives none
    priority: Mapped[int | None] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(EncryptedText())
    relationship: Mapped[str] = mapped_column(EncryptedText(), default="")
    email: Mapped[str] = mapped_column(EncryptedText(), default="")
    phone: Mapped[str] = mapped_column(EncryptedText(), default="")
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def label(self) -> str:
        """The contact as a member of staff picks them: "Sara Khan (Mother)"."""
        return f"{self.name} ({self.relationship})" if self.relationship else self.name


class ParentsTold(Base):
    """Parents or carers of one party were told something: when, who, how, by whom, what.
    Never changed or deleted; ``corrects_id`` names the record a correction replaces."""

    __tablename__ = "parents_told"
    __table_args__ = (Index("ix_parents_told_report", "report_id"),
                      Index("ix_parents_told_party", "party_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    party_id: Mapped[int] = mapped_column(ForeignKey("report_pupils.id", ondelete="CASCADE"))
    told_on: Mapped[date] = mapped_column(Date)
    # who was told, in words (a contact's name and relationship when one was picked: the
    # contact rows are replaced on the next roster import, so no key to them is kept)
    told: Mapped[str] = mapped_column(EncryptedText())
    how: Mapped[str] = mapped_column(String(20))
    # who told them: a staff account, or a member of staff named in words
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    by_name: Mapped[str] = mapped_column(EncryptedText(), default="")
    what: Mapped[str] = mapped_column(EncryptedText())
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("parents_told.id"))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    party: Mapped[ReportPupil] = relationship()
    by_user: Mapped[User | None] = relationship(foreign_keys=[by_user_id])
    recorded_by: Mapped[User] = relationship(foreign_keys=[recorded_by_id])

    @property
    def how_words(self) -> str:
        return _words(TOLD_HOW_LABELS, self.how)

    @property
    def by(self) -> str:
        """Who told the parents, in words."""
        if self.by_name:
            return self.by_name
        return self.by_user.name if self.by_user else ""


class ParentMeeting(Base):
    """A meeting with parents or carers about one case, for one or several of its parties:
    invited (when, how, for which date), then held or not attended, what was agreed and
    the next steps."""

    __tablename__ = "parent_meetings"
    __table_args__ = (Index("ix_parent_meetings_report", "report_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    invited_on: Mapped[date] = mapped_column(Date)
    invited_how: Mapped[str] = mapped_column(String(20))
    meeting_on: Mapped[date | None] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(20), default=MeetingState.INVITED.value)
    attended: Mapped[str] = mapped_column(EncryptedText(), default="")
    agreed: Mapped[str] = mapped_column(EncryptedText(), default="")
    next_steps: Mapped[str] = mapped_column(EncryptedText(), default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow,
                                                 onupdate=utcnow)

    parties: Mapped[list[MeetingParty]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", order_by="MeetingParty.id")
    recorded_by: Mapped[User] = relationship()

    @property
    def state_words(self) -> str:
        return _words(MEETING_STATE_LABELS, self.state)

    @property
    def invited_how_words(self) -> str:
        return _words(TOLD_HOW_LABELS, self.invited_how)

    @property
    def invited_how_phrase(self) -> str:
        return _words(HOW_PHRASES, self.invited_how)

    @property
    def party_ids(self) -> list[int]:
        return [p.party_id for p in self.parties]


class MeetingParty(Base):
    """One party a meeting with parents is about."""

    __tablename__ = "parent_meeting_parties"
    __table_args__ = (Index("ix_parent_meeting_parties_party", "party_id"),
                      Index("ix_parent_meeting_parties_meeting", "meeting_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("parent_meetings.id",
                                                       ondelete="CASCADE"))
    party_id: Mapped[int] = mapped_column(ForeignKey("report_pupils.id", ondelete="CASCADE"))

    meeting: Mapped[ParentMeeting] = relationship(back_populates="parties")
    party: Mapped[ReportPupil] = relationship()
