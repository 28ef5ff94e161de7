"""What each part of the case page adds to its template context.

The case page (``views._render_case``) is built from parts: the report, the checklist,
and the case work of issue 14 (parties, parents, checking back, notices), each in its
own module. A part registers a function ``(session, report, forms) -> dict`` with
``@case_part``; ``forms`` holds the forms a refused POST re-renders with the person's
typed values (by the name the part gave them), so a part reads its own form from there
and makes a fresh one otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from ..models import Report

Part = Callable[[Session, Report, Mapping[str, Any]], dict[str, Any]]
PARTS: list[Part] = []


def case_part(function: Part) -> Part:
    """Register ``function`` as a part of the case page's context."""
    PARTS.append(function)
    return function


def context(session: Session, report: Report, forms: Mapping[str, Any]) -> dict[str, Any]:
    """Every registered part's context for this report, merged (a name used twice is a
    bug, so it fails loudly)."""
    merged: dict[str, Any] = {}
    for part in PARTS:
        for key, value in part(session, report, forms).items():
            if key in merged:
                raise KeyError(f"case page context {key!r} set by two parts")
            merged[key] = value
    return merged
