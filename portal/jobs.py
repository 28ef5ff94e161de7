"""Work done just after a request: try the outbox once, in the background, so a slow or
absent mail server never holds up the person who is reporting."""

from __future__ import annotations

import logging
import threading

from flask import Flask

from . import notifications

log = logging.getLogger(__name__)
_running: set[threading.Thread] = set()


def send_now(app: Flask, limit: int = 20) -> tuple[int, int]:
    """Deliver what is due now (used by the background try and by tests)."""
    smtp = app.config.get("PORTAL_SMTP")
    if smtp is None:
        return 0, 0
    session = app.extensions["portal.sessionmaker"]()
    try:
        return notifications.deliver(session, smtp, limit=limit)
    finally:
        session.close()


def send_soon(app: Flask) -> threading.Thread | None:
    """Try the outbox once in a background thread; ``portal outbox send`` retries later."""
    if app.config.get("PORTAL_SMTP") is None or app.config.get("PORTAL_SEND_INLINE") is False:
        return None

    def run() -> None:
        try:
            send_now(app)
        except Exception as error:  # the outbox keeps the mail; the scheduled sender retries it
            # The class only: a database error's text carries its statement's parameters.
            log.warning("sending the outbox after a request failed (%s); the scheduled "
                        "sender will try again", type(error).__name__)
        finally:
            _running.discard(threading.current_thread())

    thread = threading.Thread(target=run, name="outbox-send", daemon=True)
    _running.add(thread)
    thread.start()
    return thread


def wait_idle(timeout: float = 15.0) -> None:
    """Wait for background sends to finish (shutdown and tests)."""
    for thread in list(_running):
        thread.join(timeout)
