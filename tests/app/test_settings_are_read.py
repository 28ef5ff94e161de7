"""Every setting is read by the portal: no `PORTAL_*` config key or Settings field that is set
and then ignored (issue 13: the staff-session timeouts were set as PORTAL_STAFF_IDLE_MINUTES
and PORTAL_STAFF_ABSOLUTE_HOURS while portal.auth.sessions used its own constants)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from portal.config import Settings

PORTAL = Path(__file__).resolve().parents[2] / "portal"


def _source(*, leaving_out: str) -> str:
    return "\n".join(path.read_text() for path in sorted(PORTAL.rglob("*.py"))
                     if path.relative_to(PORTAL).as_posix() != leaving_out)


def test_every_portal_config_key_create_app_sets_is_read(app):
    # Where create_app sets them (portal/__init__.py) doesn't count as reading them.
    elsewhere = _source(leaving_out="__init__.py")
    unread = [key for key in app.config if key.startswith("PORTAL_")
              and not re.search(rf"[\"']{key}[\"']", elsewhere)]
    assert unread == []


@pytest.mark.parametrize("name", [f.name for f in dataclasses.fields(Settings)])
def test_every_settings_field_is_read(name):
    # Where config.py builds them doesn't count as reading them.
    assert re.search(rf"\.{name}\b", _source(leaving_out="config.py")), name
