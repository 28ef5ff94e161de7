"""What each part of the case page adds to its template context.

The case page (``views._render_case``) is built from parts: the report, the checklist,
and the case work of issue 14 (parties, parents, checking back, notices), each in its
own module. A part registers a function ``(case, forms) -> dict`` with ``@case_part``;
``case`` is the page's ``CaseRows`` (the session, the report, and the rows that several
parts read, each loaded once per page); ``forms`` holds the forms a refused POST re-renders
with the person's typed values (by the name the part gave them), so a part reads its own
form from there and makes a fresh one otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cached_property
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..casework import parties as party_rows
from ..models import Report, ReportPupil, SchoolContact, TrustedAdult, User


class CaseRows:
    """Rows of one case that several parts of its page read, each loaded at most once
    while the page is built (a GET: nothing is written between the parts)."""

    def __init__(self, session: Session, report: Report) -> None:
        self.session = session
        self.report = report

    @cached_property
    def every_party(self) -> list[ReportPupil]:
        """Every party the case has had, unlinked ones too (the chronology names them),
        with their pupil and everything recorded about them."""
        return party_rows.parties(self.session, self.report, unlinked_too=True)

    @cached_property
    def parties(self) -> list[ReportPupil]:
        """The case's current parties, in the order linked."""
        return [p for p in self.every_party if p.unlinked_at is None]

    @cached_property
    def staff(self) -> list[User]:
        """Every account of the school, left ones too (the chronology names them)."""
        return list(self.session.scalars(select(User).where(
            User.school_id == self.report.school_id)))

    @cached_property
    def school_contacts(self) -> list[SchoolContact]:
        return list(self.session.scalars(select(SchoolContact).where(
            SchoolContact.school_id == self.report.school_id)))

    @cached_property
    def adults(self) -> list[TrustedAdult]:
        return list(self.session.scalars(select(TrustedAdult).where(
            TrustedAdult.school_id == self.report.school_id)))


Part = Callable[[CaseRows, Mapping[str, Any]], dict[str, Any]]
PARTS: list[Part] = []


def case_part(function: Part) -> Part:
    """Register ``function`` as a part of the case page's context."""
    PARTS.append(function)
    return function


def context(case: CaseRows, forms: Mapping[str, Any]) -> dict[str, Any]:
    """Every registered part's context for this case, merged (a name used twice is a
    bug, so it fails loudly)."""
    merged: dict[str, Any] = {}
    for part in PARTS:
        for key, value in part(case, forms).items():
            if key in merged:
                raise KeyError(f"case page context {key!r} set by two parts")
            merged[key] = value
    return merged
