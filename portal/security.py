"""Headers, rate-limit keys that never hold an address, and access logs without addresses."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from datetime import UTC, datetime

from flask import Flask, Response, abort, current_app, g, request, session
from flask_limiter import Limiter

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


def _rotating_key() -> bytes:
    """A secret that changes every UTC day, so yesterday's limiter keys can't be linked."""
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, b"ratelimit:" + day.encode(), hashlib.sha256).digest()


def hashed(value: str) -> str:
    """HMAC of ``value`` under the rotating secret: what the limiter stores instead of it."""
    return hmac.new(_rotating_key(), value.encode(), hashlib.sha256).hexdigest()[:32]


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
    return g.get("kiosk")


def client_key() -> str:
    """Per enrolled tablet; per device on a school network (the browser's CSRF secret);
    per address elsewhere."""
    device = kiosk_device()
    if device is not None:
        return "kiosk:" + hashed(f"kiosk:{device.id}")  # type: ignore[attr-defined]
    if on_school_network():
        device = session.get("csrf_token")
        if device:
            return "dev:" + hashed("dev:" + str(device))
        return "net:" + hashed("net:" + str(request.remote_addr))
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
    """A school's whole network may send thousands of reports an hour (an assembly's worth)."""
    if on_school_network() or kiosk_device() is not None:
        return "5000 per hour"
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
