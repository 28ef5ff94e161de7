"""The dates the case work forms take (a trial's finding: 0001-01-01 and 9999-12-31 were
kept): none before the portal could have been in use, and none more than a few years
ahead. Each module raises its own error with the words this gives."""

from __future__ import annotations

from datetime import date

EARLIEST = date(2000, 1, 1)
AHEAD_YEARS = 5


def out_of_range(day: date, what: str, today: date | None = None) -> str | None:
    """Why ``day`` can't be right, in words, or None when it can."""
    now = today or date.today()
    if day < EARLIEST:
        return f"Check the year of the date {what}."
    if day > now.replace(year=now.year + AHEAD_YEARS, day=1):
        return f"The date {what} is more than {AHEAD_YEARS} years ahead: check the year."
    return None
