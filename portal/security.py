"""Headers, rate-limit keys that never hold an address, and access logs without addresses."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import os
import secrets
import threading
import time
from datetime import UTC, datetime

import redis
from flask import Flask, Response, abort, current_app, g, request
from flask_limiter import Limiter
from itsdangerous import BadSignature, URLSafeSerializer
from limits import parse

log = logging.getLogger(__name__)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "geolocation=(), camera=(), microphone=(), interest-cohort=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def apply_headers(response: Response) -> Response:
    """Strict headers on every response, errors included; pages are never cached."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=63072000")
    if not request.path.startswith("/static/"):
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    return response


SALT_SECONDS = 2 * 24 * 3600  # a day's salt lives into the next day, then is gone
_FALLBACK_RETRY = 60.0
_salt_lock = threading.Lock()
_salts: dict[str, tuple[bytes, float]] = {}  # {day: (salt, keep until)} in this process


def _shared_salt(uri: str, day: str) -> bytes | None:
    """The day's salt from Redis, made there by whichever app server asks first."""
    client = redis.Redis.from_url(uri, socket_timeout=0.5, socket_connect_timeout=0.5)
    try:
        name = f"tellus:salt:{day}"
        client.set(name, os.urandom(32), nx=True, ex=SALT_SECONDS)
        salt = client.get(name)
    except redis.RedisError:
        log.warning("rate-limit salt: Redis did not answer; using this process's own salt")
        return None
    finally:
        client.close()
    return salt if isinstance(salt, bytes) and len(salt) == 32 else None


def _daily_salt() -> bytes:
    """A random salt for today (UTC), never derived from any secret (trial finding 15: keys
    derived from the secret key and the date could be reversed by anyone holding the key).
    Several app servers share it through the limiter's Redis, where it expires on its own;
    with memory storage (one process) it lives only in this process's memory. Once it is
    gone, nobody (the secret key's holder included) can link a limiter key to an address."""
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    now = time.monotonic()
    with _salt_lock:
        kept = _salts.get(day)
        if kept and kept[1] > now:
            return kept[0]
        uri = str(current_app.config.get("PORTAL_RATELIMIT_STORAGE_URI") or "memory://")
        shared = uri.startswith(("redis://", "rediss://"))
        salt = _shared_salt(uri, day) if shared else None
        # Redis down: limits run from each process's memory meanwhile (P9), so a salt of
        # this process's own does no harm; ask Redis again in a minute.
        until = now + _FALLBACK_RETRY if shared and salt is None else float("inf")
        if salt is None:
            salt = kept[0] if kept else os.urandom(32)
        _salts.clear()  # yesterday's salt is forgotten here too
        _salts[day] = (salt, until)
        return salt


def hashed(value: str) -> str:
    """HMAC of ``value`` under today's random salt: what the limiter stores instead of it."""
    return hmac.new(_daily_salt(), value.encode(), hashlib.sha256).hexdigest()[:32]


def on_school_network() -> bool:
    """Whether the request comes from one of the school networks (many tablets, one address)."""
    networks = current_app.config["PORTAL_SCHOOL_NETWORKS"]
    if not networks or not request.remote_addr:
        return False
    try:
        address = ipaddress.ip_address(request.remote_addr)
    except ValueError:
        return False
    return any(address in network for network in networks)


def kiosk_device() -> object | None:
    """The enrolled kiosk tablet making this request (set by the reporting blueprint)."""
    device: object | None = g.get("kiosk")
    return device


DEVICE_COOKIE = "tellus_device"
# New device identities one school network may be given a minute: a class of 30 opening
# the form on their own laptops at once, many times over. Past it, a browser goes on
# without one and shares the network's "no device" budget (one device's limits).
DEVICE_MINTS = "600 per minute"


def _device_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="tell-us-device-id")


def device_id() -> str | None:
    """This browser's device identity on a school network (its own signed cookie), which
    lives as long as the browser does: a report, which empties the form session, leaves
    it in place (trial finding 6: keyed on the session's CSRF secret, one device could
    take the whole network's hourly cap by starting new sessions)."""
    if "device_id" not in g:
        value = request.cookies.get(DEVICE_COOKIE)
        found = None
        if value and len(value) < 200:
            try:
                loaded = _device_serializer().loads(value)
            except BadSignature:
                loaded = None
            found = loaded if isinstance(loaded, str) and len(loaded) == 32 else None
        g.device_id = found
    return g.device_id  # type: ignore[no-any-return]


def _give_device_id(response: Response) -> Response:
    """A browser on a school network without a device identity gets one (if the network
    has not been given too many this minute). Never stored with a report or logged."""
    if (request.path.startswith("/static/") or kiosk_device() is not None
            or not on_school_network() or device_id() is not None
            or not current_app.config.get("RATELIMIT_ENABLED", True)):
        return response
    try:
        allowed = limiter.limiter.hit(parse(DEVICE_MINTS), "mint", network_key())
    except Exception:  # the limiter's storage is down: identities still help, so give one
        log.warning("device identity: limiter storage unavailable; giving one anyway")
        allowed = True
    if allowed:
        response.set_cookie(DEVICE_COOKIE, _device_serializer().dumps(secrets.token_hex(16)),
                            httponly=True, samesite="Lax", path="/",
                            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))
    return response


def client_key() -> str:
    """Per enrolled tablet; per device on a school network (its device cookie; browsers
    without one share one device's budget); per address elsewhere."""
    device = kiosk_device()
    if device is not None:
        return "kiosk:" + hashed(f"kiosk:{device.id}")  # type: ignore[attr-defined]
    if on_school_network():
        identity = device_id()
        if identity:
            return "dev:" + hashed("dev:" + identity)
        return "net-nodevice:" + hashed("net:" + str(request.remote_addr))
    return "addr:" + hashed("addr:" + str(request.remote_addr))


def network_key() -> str:
    """One key for a whole school network (a generous cap for all its devices together)."""
    return "net:" + hashed("net:" + str(request.remote_addr))


def report_limits() -> str:
    """Limits on sending a report: an enrolled tablet or a device on a school network (a
    class queueing at one tablet), or an address elsewhere."""
    if kiosk_device() is not None or on_school_network():
        return "20 per minute;200 per hour"
    return "10 per minute;60 per hour"


def network_report_limits() -> str:
    """A school's whole network may send thousands of reports an hour (an assembly's worth).
    Enrolled kiosks are not counted here (``is_kiosk``): each has its own limits and
    cannot be forged, so a flood from one device can never stop the school's kiosks."""
    if on_school_network():
        return "5000 per hour"
    return "10 per minute;60 per hour"


def is_kiosk() -> bool:
    """``exempt_when`` for the network-wide report cap: enrolled kiosks are exempt."""
    return kiosk_device() is not None


def network_login_limits() -> str:
    """Failed staff sign-ins from one whole school network (a staff room at 8:30 fails a
    few; a script rotating device identities fails thousands)."""
    if on_school_network():
        return "60 per minute;600 per hour"
    return "30 per minute;300 per hour"


def network_guess_limits() -> str:
    """Follow-up code guesses from one whole school network, whatever its devices do (a
    device that drops its cookie gets a fresh per-device budget; the network's does not
    reset). Generous: a class checking their codes at once is nowhere near it."""
    if on_school_network():
        return "120 per minute;1000 per hour"
    return "10 per minute;60 per hour"


def default_limits() -> str:
    """Every route: generous per device; a whole school network shares more headroom."""
    return "3000 per minute" if on_school_network() else "300 per minute"


limiter = Limiter(
    key_func=client_key,
    default_limits=[default_limits],
    headers_enabled=True,
    in_memory_fallback_enabled=True,
    key_prefix="tellus",
)


def check_origin() -> None:
    """Refuse a state change sent from another site: browsers name the page's origin on
    every POST (even with no-referrer), so a cross-site form is refused before anything."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    origin = request.headers.get("Origin")
    if origin and origin != "null" and origin != request.host_url.rstrip("/"):
        abort(400)


def init_app(app: Flask) -> None:
    app.config["RATELIMIT_STORAGE_URI"] = app.config["PORTAL_RATELIMIT_STORAGE_URI"]
    app.config["RATELIMIT_ENABLED"] = app.config["PORTAL_RATELIMIT_ENABLED"]
    app.config["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] = True
    app.config["RATELIMIT_HEADERS_ENABLED"] = True
    app.config["RATELIMIT_KEY_PREFIX"] = "tellus"
    limiter.init_app(app)
    app.before_request(check_origin)
    app.after_request(apply_headers)
    app.after_request(_give_device_id)
