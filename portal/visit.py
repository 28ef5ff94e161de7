"""One person's visit to the reporter pages, so that nothing of one child reaches the next.

DESIGN.md: "Whatever a later user of the same browser does (Back, Forward, Reload that re-sends
a form, Send again, history, after "I'm finished", a quick exit or a kiosk reset), they never
see an earlier reporter's words, choices, name or follow-up code ... Words are kept for the
child who typed them, within their own visit, and for nobody else."

A visit is the browser's form session (the ``tellus`` cookie), which is emptied after every
report, by the quick exit and by a kiosk reset. The server issues the one-time values that
forms carry and remembers, in the visit, a keyed digest of each (never the value itself, so
reading the cookie tells nothing). A form that comes back carrying a value this visit was not
given (a form re-sent from history after the visit ended, or a value planted by another page)
is treated as a stranger's: its words are not shown again, and no stored code is revealed.

- ``FORMS``: the report forms' ``submission`` value. A repeat of the same form (a double
  click) is recognised only while the visit that sent it lasts.
- ``PASSES``: the follow-up page's ``once`` value. Each pass opens the status page once, so
  pressing Reload on it (which re-sends the code) asks for the code again.

No Flask here: callers pass the session mapping and the app's secret key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import MutableMapping
from typing import Any

FORMS = "forms"
PASSES = "passes"
KEEP = 8  # a few tabs or retries at once; older values are forgotten
_VALUE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def _digest(secret_key: str, purpose: str, value: str) -> str:
    mac = hmac.new(secret_key.encode(), f"visit:{purpose}:{value}".encode(), hashlib.sha256)
    return mac.hexdigest()[:24]


def issue(store: MutableMapping[str, Any], secret_key: str, purpose: str) -> str:
    """A new one-time value for a form of this visit; the visit keeps only its digest."""
    value = secrets.token_urlsafe(24)
    kept = [d for d in store.get(purpose, []) if isinstance(d, str)]
    kept.append(_digest(secret_key, purpose, value))
    store[purpose] = kept[-KEEP:]
    return value


def holds(store: MutableMapping[str, Any], secret_key: str, purpose: str,
          value: object) -> bool:
    """Whether ``value`` was issued to this visit (and not yet spent)."""
    if not isinstance(value, str) or not _VALUE.match(value):
        return False
    kept = store.get(purpose, [])
    digest = _digest(secret_key, purpose, value)
    return isinstance(kept, list) and any(hmac.compare_digest(digest, d)
                                          for d in kept if isinstance(d, str))


def spend(store: MutableMapping[str, Any], secret_key: str, purpose: str,
          value: object) -> bool:
    """Use a value once: True (and it is forgotten) if this visit holds it."""
    if not holds(store, secret_key, purpose, value):
        return False
    assert isinstance(value, str)
    digest = _digest(secret_key, purpose, value)
    store[purpose] = [d for d in store.get(purpose, []) if d != digest]
    return True
