"""Times as staff read them: UK local time (Europe/London), with the zone ("GMT"/"BST").

The record keeps UTC (every stored timestamp, and each page's ``<time datetime>``); only
what a person reads is local. No Flask here."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def uk(moment: datetime | None) -> str:
    """``moment`` in UK local time, e.g. "01 Jul 2026 13:00 BST", "01 Dec 2026 09:00 GMT"."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(LONDON).strftime("%d %b %Y %H:%M %Z")


def uk_date(moment: datetime | None) -> str:
    """The UK calendar day of ``moment`` (00:30 BST is that day, not the one before)."""
    return uk(moment)[:11] if moment else ""
