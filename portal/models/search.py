"""The search index: a keyed blind index of the words in a school's reports (portal.search)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime


class SearchTerm(Base):
    """One word of one report, as an HMAC under the school's search key (never the word).

    The primary key is the look-up "reports of school S containing term T, newest first":
    ``created_at`` is the report's own (copied so the index holds the order, and the same
    in every row of a report, so a second word is checked by one primary-key probe)."""

    __tablename__ = "search_terms"
    __table_args__ = (
        Index("ix_search_terms_report", "report_id"),
        {"sqlite_with_rowid": False},
    )

    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), primary_key=True)
    term: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
