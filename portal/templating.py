"""Template helpers: labels from the vocabulary and readable times."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Flask

from . import vocabulary as v
from .models import ACTION_LABELS, LINK_ROLE_LABELS, SEN_LABELS, Role


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    """How long ago, in the words a busy DSL scans fastest ("3 h", "2 d")."""
    if moment is None:
        return ""
    seconds = int(((now or datetime.now(UTC)) - moment).total_seconds())
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


def concern_labels(value: str | None) -> str:
    """A parent's concerns (codes joined with commas in ``Report.concern``) in words."""
    return ", ".join(v.CONCERN_LABELS[c] for c in v.concern_codes(value))


def when(moment: datetime | None) -> str:
    """A UTC timestamp for the record (chronologies are kept in UTC)."""
    return moment.strftime("%d %b %Y %H:%M UTC") if moment else ""


UK = ZoneInfo("Europe/London")


def uk_time(moment: datetime) -> datetime:
    """A stored UTC moment as the clock on a wall in the UK shows it (GMT or BST)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UK)


def uk_date(moment: datetime | None) -> str:
    """The UK day of a moment, as a reporter reads it: "2 July 2026"."""
    if moment is None:
        return ""
    local = uk_time(moment)
    return f"{local.day} {local:%B %Y}"


def uk_datetime(moment: datetime | None) -> str:
    """The UK day and time of a moment, as a reporter reads it: "2 July 2026, 00:30"."""
    if moment is None:
        return ""
    return f"{uk_date(moment)}, {uk_time(moment):%H:%M}"


def init_app(app: Flask) -> None:
    app.jinja_env.filters["ago"] = ago
    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["uk_date"] = uk_date
    app.jinja_env.filters["uk_datetime"] = uk_datetime
    app.jinja_env.filters["concern_labels"] = concern_labels
    app.jinja_env.globals.update(
        KIND_LABELS=v.KIND_LABELS,
        PLACE_LABELS=v.PLACE_LABELS,
        WHEN_LABELS=v.WHEN_LABELS,
        YES_NO_LABELS=v.YES_NO_LABELS,
        ABOUT_LABELS=v.ABOUT_LABELS,
        CONCERN_LABELS=v.CONCERN_LABELS,
        CONTACT_LABELS=v.CONTACT_LABELS,
        STATUS_LABELS=v.STATUS_LABELS,
        STATUS_SHORT=v.STATUS_SHORT,
        CATEGORY_LABELS=v.CATEGORY_LABELS,
        SOURCE_LABELS=v.SOURCE_LABELS,
        ROLE_LABELS={r.value: r.label for r in Role},
        KIND_ICONS={c.value: c.icon for c in v.KINDS},
        KIND_CHILD_LABELS={c.value: c.child for c in v.KINDS},
        LINK_ROLE_LABELS={k.value: label for k, label in LINK_ROLE_LABELS.items()},
        ACTION_LABELS={k.value: label for k, label in ACTION_LABELS.items()},
        SEN_LABELS={k.value: label for k, label in SEN_LABELS.items()},
        HOW_LABELS={c.value: c.adult for c in v.HOW_INFORMED},
        AGENCY_LABELS={c.value: c.adult for c in v.AGENCIES},
    )
