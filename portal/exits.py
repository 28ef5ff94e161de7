"""Where the quick-exit button goes: only places that cannot tell the school who left.

A trial found that a DSL or administrator could set the quick exit to any https address,
their own server included, and so learn each reporter's IP address seconds after a report
(DESIGN.md: "Anonymous means anonymous"). The school now chooses from a short fixed list of
big public sites whose logs no school can read, or a plain page the portal serves itself
(which, like every public page, logs no address). No Flask here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Exit:
    url: str
    label: str


TABLES = "/tables"  # the portal's own neutral page (a times-table square)
DESTINATIONS = (
    Exit("https://www.bbc.co.uk/weather", "BBC Weather"),
    Exit("https://www.bbc.co.uk/bitesize", "BBC Bitesize"),
    Exit("https://www.bbc.co.uk/cbbc", "CBBC"),
    Exit("https://www.google.co.uk/", "Google"),
    Exit(TABLES, "Times tables (a page of this portal; no other site is visited)"),
)
DEFAULT = DESTINATIONS[0].url
_ALLOWED = {d.url for d in DESTINATIONS}


def destination(stored: str | None) -> str:
    """Where to send a reporter: the school's choice if it is on the list, else the default
    (a school row from before the list, or an address typed into the database)."""
    return stored if stored in _ALLOWED else DEFAULT


def choices() -> dict[str, str]:
    """{url: label} for the settings form."""
    return {d.url: d.label for d in DESTINATIONS}
