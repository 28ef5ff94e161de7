"""Logging that never records who a reporter is.

The design: "For an anonymous report nothing that identifies the device or person is
stored or logged". Werkzeug's and gunicorn's access logs print the client address by
default; the portal's servers print a line without it.
"""

from __future__ import annotations

import logging
from typing import Any

from werkzeug.serving import WSGIRequestHandler

ACCESS_FORMAT = '- - %(t)s "%(r)s" %(s)s %(b)s %(M)sms'
"""gunicorn ``access_log_format`` without ``%(h)s`` (address), ``%(a)s`` (user agent) or referer."""


class AnonymousRequestHandler(WSGIRequestHandler):
    """The development server's request handler, logging requests without the client address."""

    def address_string(self) -> str:
        return "-"

    def log(self, type: str, message: str, *args: Any) -> None:  # noqa: A002 - werkzeug's name
        logging.getLogger("werkzeug").log(
            logging.ERROR if type == "error" else logging.INFO,
            "- - [%s] %s", self.log_date_time_string(), message % args,
        )
