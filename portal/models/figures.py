"""Stored counts behind the figures page (portal.figures.rollup keeps them).

A governors' report reads a term of a school's reports, and the year before: at a million
reports that is too much to count on every page view, and the year groups and SEND status
it needs are encrypted. So each school day keeps its counts, per figure: the page adds up
a period's days (a few thousand small rows, whatever the number of reports).

Rows hold numbers and codes only: never report text, never a name. The counts that come
from encrypted roster columns (year groups, SEND) are kept encrypted too, one sealed row
per school day (``FigureSealedDay``): stored in the clear beside ``report_pupils`` they
would tell anyone holding a copy of the database, without the key, which linked child has
SEND. A child appears in
``figure_pupil_days`` by roster id alone (no name), so "children named in two or more
reports" can be counted for any period; the figures pages show only the count.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, EncryptedJSON, UTCDateTime, utcnow


class FigureCount(Base):
    """How many of a school's reports that arrived on ``day`` have ``value`` for ``figure``
    (a report counts once per value: a report about two kinds counts under both)."""

    __tablename__ = "figure_counts"
    __table_args__ = ({"sqlite_with_rowid": False},)

    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"),
                                           primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    figure: Mapped[str] = mapped_column(String(20), primary_key=True)
    value: Mapped[str] = mapped_column(String(60), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


class FigurePupilDay(Base):
    """How many of a school's reports that arrived on ``day`` name pupil ``pupil_id`` in
    ``role`` (target, alleged perpetrator, witness)."""

    __tablename__ = "figure_pupil_days"
    __table_args__ = (
        # "Named in two or more reports of a period": each child's days, in order
        # (portal.figures.compute looks up the first two in the period per child).
        Index("ix_figure_pupil_days_pupil", "school_id", "pupil_id", "role", "day", "count"),
        {"sqlite_with_rowid": False},
    )

    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"),
                                           primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    pupil_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str] = mapped_column(String(30), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


class FigurePupilYear(Base):
    """A child's days of one calendar year in ``role``, as bits (bit ``i`` is 1 January +
    ``i`` days, little-endian bytes): the days they were named in a report (``named``) and
    the days they were named in two or more (``twice``). Derived from ``figure_pupil_days``
    and kept with it (portal.figures.rollup).

    "Children named in two or more reports of a period" is then a mask and a count of bits
    per child and year (portal.figures.compute): a few thousand small rows for a whole
    roster, however long the school's history, where a look-up per child and period in
    ``figure_pupil_days`` grew with it."""

    __tablename__ = "figure_pupil_years"
    __table_args__ = ({"sqlite_with_rowid": False},)

    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"),
                                           primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    pupil_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    role: Mapped[str] = mapped_column(String(30), primary_key=True)
    named: Mapped[bytes] = mapped_column(LargeBinary)
    twice: Mapped[bytes] = mapped_column(LargeBinary)


class FigureSealedDay(Base):
    """A school day's counts that come from encrypted roster columns, encrypted as they
    are: ``{"year": {"Year 3": 2, ...}, "send": {"yes": 1, "no": 4}}`` (reports naming a
    child of that year group; naming a child with SEND, or children none of whom has it).
    Reports with no child linked are the day's total less these two."""

    __tablename__ = "figure_sealed_days"
    __table_args__ = ({"sqlite_with_rowid": False},)

    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"),
                                           primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    counts: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON())


class FigureTermColumn(Base):
    """One column of a school's figures for one whole school term, as the head and the
    trust lead are shown it: each cell after the small-number rule, with the count behind
    it, and the term's total. Fixed the first time that term is shown to either after it
    ended (portal.figures.terms, model.py's rule 6), so a change made later to the records
    (a child's SEND status or year group, a late link or decision) cannot be read off the
    difference between two days' pages. Encrypted: the counts behind "fewer than 5" are in
    it. ``{"total": [count, shown], "tables": {table: {row: [label, count, value, shown,
    protected]}}}`` (``value`` is None where the rule hides the count)."""

    __tablename__ = "figure_term_columns"

    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"),
                                           primary_key=True)
    first_day: Mapped[date] = mapped_column(Date, primary_key=True)
    last_day: Mapped[date] = mapped_column(Date)
    column: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON())
    counted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
