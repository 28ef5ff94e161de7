"""Logging that never records who a reporter is.

The design: "For an anonymous report nothing that identifies the device or person is
stored or logged". Werkzeug's and gunicorn's access logs print the client address by
default; the portal's servers print a line without it. gunicorn's error log names the
client too ("Invalid request from ip=...: <the request line or header as sent>") for every
malformed request; ``AnonymousGunicornLogger`` keeps only what kind of request it was.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from gunicorn.glogging import Logger as GunicornLogger
from werkzeug.serving import WSGIRequestHandler

ACCESS_FORMAT = '- - %(t)s "%(r)s" %(s)s %(b)s %(M)sms'
"""gunicorn ``access_log_format`` without ``%(h)s`` (address), ``%(a)s`` (user agent) or referer."""


class AnonymousRequestHandler(WSGIRequestHandler):
    """The development server's request handler, logging requests without the client address.
    (Only the log line leaves it out: werkzeug's ``address_string`` is also the request's
    REMOTE_ADDR, which the rate limits and /metrics read.)"""

    def log(self, type: str, message: str, *args: Any) -> None:  # noqa: A002 - werkzeug's name
        logging.getLogger("werkzeug").log(
            logging.ERROR if type == "error" else logging.INFO,
            "- - [%s] %s", self.log_date_time_string(), scrub_secrets(message % args),
        )


_INVALID_REQUEST = re.compile(r"^Invalid request from ip=\S*: (?P<error>.*)$", re.DOTALL)
_HEX = r"[0-9A-Fa-f]{1,4}"
_IPV4 = r"\d{1,3}(?:\.\d{1,3}){3}"
# An IPv4 address (a port may follow), or an IPv6 one in full or with "::".
_ADDRESS = re.compile(
    rf"(?<![\w.]){_IPV4}(?![\w.])"
    rf"|(?<![\w.:])(?:(?:{_HEX}:){{7}}{_HEX}"
    rf"|(?:{_HEX}(?::{_HEX}){{0,6}})?::(?:(?:{_HEX}:){{0,6}}(?:{_IPV4}|{_HEX}))?)"
    rf"(?![\w.]|:[0-9A-Fa-f])")


# An invitation's one-time link (portal.admin.staff) is a secret while it is open: never in
# a log line. A server's line has the path as the client sent it, so any character may be
# percent-encoded ("/staff/%69nvite/…" reaches the same page), in either case, and slashes
# doubled.
def _sent_as(path: str) -> str:
    return "".join("(?:/|%2f)+" if c == "/" else
                   f"(?:{re.escape(c)}|%{ord(c.lower()):02x}|%{ord(c.upper()):02x})"
                   for c in path)


_SECRET_PATH = re.compile(f"({_sent_as('/staff/invite/')})[^\\s\"?]+", re.IGNORECASE)


def scrub_secrets(message: str) -> str:
    return _SECRET_PATH.sub(r"\1[link]", message)


def scrub_server_message(message: str) -> str:
    """A gunicorn log message without a client address or what the client sent.

    A refused request is reported by its kind only ("Invalid HTTP request line"): the text
    after the first quote or colon is what the client sent and may name anyone. Any other
    message has addresses replaced by ``[address]``."""
    invalid = _INVALID_REQUEST.match(message)
    if invalid:
        kind = re.split(r"[:'\"]", invalid.group("error"), maxsplit=1)[0].strip()
        message = f"Invalid request: {kind or 'refused'}"
    return _ADDRESS.sub("[address]", scrub_secrets(message))


class _ScrubAddresses(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        # The server's own listening address is configuration, not a client's.
        if not message.startswith(("Listening at:", "Control socket listening at")):
            record.msg, record.args = scrub_server_message(message), None
        return True


class AnonymousGunicornLogger(GunicornLogger):
    """gunicorn's logger (``logger_class`` in gunicorn.conf.py) whose error and access logs
    never name a client address, malformed requests included."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            if not any(isinstance(f, _ScrubAddresses) for f in log.filters):
                log.addFilter(_ScrubAddresses())
