"""Template helpers: labels from the vocabulary and readable times."""

from __future__ import annotations

from datetime import UTC, datetime

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


def when(moment: datetime | None) -> str:
    """A UTC timestamp for the record (chronologies are kept in UTC)."""
    return moment.strftime("%d %b %Y %H:%M UTC") if moment else ""


def init_app(app: Flask) -> None:
    app.jinja_env.filters["ago"] = ago
    app.jinja_env.filters["when"] = when
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
