"""When an untouched report becomes overdue, counted in school days.

School-set: urgent reports by the end of the same school day, others within two school
days (defaults). Weekends are not school days; the school day ends at a local hour.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Europe/London")


def _school_day_end(day: datetime, hour: int) -> datetime:
    return datetime.combine(day.date(), time(hour), tzinfo=LOCAL)


def due_by(arrived: datetime, *, urgent: bool, urgent_days: int = 0, normal_days: int = 2,
           day_ends_hour: int = 16) -> datetime:
    """The moment (UTC) by which a report must have been acknowledged."""
    local = arrived.astimezone(LOCAL)
    # A report that arrives after the day ends or at a weekend counts from the next school day.
    end = _school_day_end(local, day_ends_hour)
    if local.weekday() >= 5 or local >= end:
        local = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        while local.weekday() >= 5:
            local += timedelta(days=1)
        end = _school_day_end(local, day_ends_hour)
    days = urgent_days if urgent else normal_days
    while days > 0:
        end += timedelta(days=1)
        if end.weekday() < 5:
            days -= 1
    # Re-anchor to the local hour in case a clock change happened in between.
    return _school_day_end(end, day_ends_hour).astimezone(UTC)


def is_overdue(arrived: datetime, acknowledged: datetime | None, *, urgent: bool,
               now: datetime, **school: int) -> bool:
    """Untouched (not acknowledged) past its due time."""
    return acknowledged is None and now > due_by(arrived, urgent=urgent, **school)


def arrived_before(now: datetime, *, urgent: bool, urgent_days: int = 0, normal_days: int = 2,
                   day_ends_hour: int = 16) -> datetime:
    """The arrival time before which an unacknowledged report is overdue at ``now``: the
    queue's "overdue" filter asks ``created_at < arrived_before(...)`` in SQL, which agrees
    with ``is_overdue`` because ``due_by`` never goes down as arrival goes up.

    A report arriving before the end of school day D (local) is due at the end of D plus
    the school's days; so the cut-off is the end of the latest school day whose due time
    has passed."""
    day = now.astimezone(LOCAL).replace(hour=0, minute=0, second=0, microsecond=0)
    for _ in range(60):  # weeks of school days are covered many times over
        if day.weekday() < 5:
            due = due_by(day, urgent=urgent, urgent_days=urgent_days, normal_days=normal_days,
                         day_ends_hour=day_ends_hour)
            if due < now:
                return _school_day_end(day, day_ends_hour).astimezone(UTC)
        day = (day - timedelta(days=1)).replace(hour=0)
    return _school_day_end(day, day_ends_hour).astimezone(UTC)
