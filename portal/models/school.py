"""Trusts, schools and the adults a pupil may ask to talk to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..vocabulary import DEFAULT_PHASE
from .base import Base, UTCDateTime, utcnow


class Trust(Base):
    """A multi-academy trust or local authority that runs several schools."""

    __tablename__ = "trusts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    schools: Mapped[list[School]] = relationship(back_populates="trust")


class School(Base):
    """A school; every report, pupil and staff account belongs to exactly one."""

    __tablename__ = "schools"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    trust_id: Mapped[int | None] = mapped_column(ForeignKey("trusts.id"), index=True)
    # Where the quick-exit button sends a reporter: a neutral page the school chooses.
    exit_url: Mapped[str] = mapped_column(String(300), default="https://www.bbc.co.uk/weather")
    # "Repeated over time": a pupil linked to this many reports within this many days.
    recurring_count: Mapped[int] = mapped_column(Integer, default=3)
    recurring_days: Mapped[int] = mapped_column(Integer, default=60)
    # When an untouched report becomes overdue, in school days (0 = the same school day).
    urgent_due_days: Mapped[int] = mapped_column(Integer, default=0)
    normal_due_days: Mapped[int] = mapped_column(Integer, default=2)
    # The school day ends at this local hour (Europe/London); weekends are not school days.
    day_ends_hour: Mapped[int] = mapped_column(Integer, default=16)
    # Local hours at which the DSL team gets a digest of new, non-urgent reports.
    digest_hours: Mapped[str] = mapped_column(String(60), default="8,13,16")
    last_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Retention of records that were not bullying or stayed unsubstantiated (IRMS toolkit:
    # a school-set period after closing; child-protection records keep DOB + 25 years).
    retention_years_unsubstantiated: Mapped[int] = mapped_column(Integer, default=1)
    # Primary, secondary or all-through (vocabulary.Phase): the year groups its forms offer.
    phase: Mapped[str] = mapped_column(String(20), default=DEFAULT_PHASE,
                                       server_default=DEFAULT_PHASE.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    trust: Mapped[Trust | None] = relationship(back_populates="schools")
    trusted_adults: Mapped[list[TrustedAdult]] = relationship(
        back_populates="school", order_by="TrustedAdult.position"
    )


class TrustedAdult(Base):
    """An adult pupils can choose to talk to ("Offering ... a member of staff of their choice")."""

    __tablename__ = "trusted_adults"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    # How a child knows them: "Class 4 teacher", "Learning mentor".
    description: Mapped[str] = mapped_column(String(120), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Their staff account, if they have one: they can then be told a pupil asked for them.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    school: Mapped[School] = relationship(back_populates="trusted_adults")
