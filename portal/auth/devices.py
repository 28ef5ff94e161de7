"""Device cookies for the sign-in throttle (OWASP "Slow down online guessing attacks with
device cookies"). No Flask here.

A browser where an account signed in (both steps) is given a signed cookie naming that
account and a random device id. Sign-in tries that carry a valid one for the account they
name are throttled per device; all other tries for an account share one budget. So an
outsider who knows a DSL's email can spend only the shared budget, never the one of the
DSL's own browser. The cookie signs nobody in: it only chooses which budget a try spends.

Each entry also holds the account's throttle epoch when it was issued. Resetting the second
factor or the password (someone else may have signed in) and unlocking the account bump
the epoch, so every browser's entry for that account stops counting until it signs in
fully again.
"""

from __future__ import annotations

import secrets

from itsdangerous import BadData, URLSafeTimedSerializer

COOKIE = "tellus_signin"
MAX_AGE = 180 * 24 * 3600  # a browser used at least twice a year stays trusted
KEEP = 5  # accounts remembered per browser (a shared staff-room computer)
_SALT = "tell-us-device-cookie"


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=_SALT)


def _entries(secret_key: str, value: str | None) -> list[tuple[int, str, int]]:
    """The (account id, device id, epoch) entries in a cookie that is ours, unchanged and
    in date (an entry from before epochs were kept counts as epoch 0)."""
    if not value:
        return []
    try:
        data = _serializer(secret_key).loads(value, max_age=MAX_AGE)
    except BadData:
        return []
    pairs = data.get("d") if isinstance(data, dict) else None
    if not isinstance(pairs, list):
        return []
    return [(p[0], p[1], p[2] if len(p) == 3 else 0) for p in pairs
            if isinstance(p, list) and len(p) in (2, 3) and type(p[0]) is int
            and isinstance(p[1], str) and (len(p) == 2 or type(p[2]) is int)]


def device_for(secret_key: str, value: str | None, user_id: int | None,
               epoch: int) -> str | None:
    """The device id this browser holds for ``user_id``, if its cookie is valid for it and
    was issued in the account's current ``epoch``."""
    if user_id is None:
        return None
    for account, device, issued in _entries(secret_key, value):
        if account == user_id and issued == epoch:
            return device
    return None


def remember(secret_key: str, value: str | None, user_id: int, epoch: int) -> str:
    """The cookie value after ``user_id`` signed in on this browser: its device id is kept
    if it was issued in this ``epoch`` (its own budget goes on), or a new one is made;
    other accounts' entries stay."""
    entries = _entries(secret_key, value)
    device = next((d for a, d, e in entries if a == user_id and e == epoch), None) \
        or secrets.token_urlsafe(16)
    others = [[a, d, e] for a, d, e in entries if a != user_id][-(KEEP - 1):]
    return _serializer(secret_key).dumps({"d": [*others, [user_id, device, epoch]]})
