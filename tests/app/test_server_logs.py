"""gunicorn, started as in production, logs requests without who sent them (SECURITY.md P1:
"The dev server's and gunicorn's access logs must not print client addresses for public
routes"; ASVS 5.0 16.2.5).

The server runs with its real configuration (gunicorn.conf.py), behind one trusted proxy hop
so that the forwarded address becomes the address the app sees, and with a marker user agent:
neither the connecting address, the forwarded address nor the user agent may appear in
anything the server prints.
"""

from __future__ import annotations

import shutil
import socket
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.app.gunicorn_server import (
    GUNICORN,
    Client,
    gunicorn,
    migrated_sqlite,
    portal_env,
)
from tests.conftest import PUPIL, followup_code, hidden_fields

MARKER_AGENT = "MarkerAgent/7.7 zqxlog"
FORWARDED = "203.0.113.9"
CONNECTING = "127.0.0.1"
HEADERS = {"User-Agent": MARKER_AGENT, "X-Forwarded-For": FORWARDED}


@pytest.fixture
def database(tmp_path: Path) -> str:
    """A migrated SQLite database with the school "oakfield"."""
    return migrated_sqlite(tmp_path / "served.sqlite")


@pytest.fixture
def served(tmp_path: Path, database: str) -> Any:
    """gunicorn -c gunicorn.conf.py 'portal:create_app()', one worker; yields (base, logs)."""
    env = portal_env(tmp_path, database,
                     PORTAL_PROXY_HOPS="1")  # the app takes 203.0.113.9 as the client's address
    with gunicorn(tmp_path, env) as server:
        yield server.base, server.logs, server.stop


def test_gunicorn_access_log_has_no_address_or_user_agent(served, database):
    base, logs, stop = served
    client = Client(base, HEADERS)
    assert client.request("/")[0] == 200
    status, page = client.request("/s/oakfield/pupil")
    assert status == 200
    fields = hidden_fields(page, "/s/oakfield/pupil")
    status, done = client.request("/s/oakfield/pupil", {**fields, **PUPIL})
    assert status == 200, done[:500]
    followup_code(done)
    assert client.request("/no/such/page")[0] == 404
    stop()

    output = logs()
    lines = output.splitlines()
    for request_line in ('"GET / HTTP/1.1"', '"GET /s/oakfield/pupil HTTP/1.1"',
                         '"POST /s/oakfield/pupil HTTP/1.1"', '"GET /no/such/page HTTP/1.1"'):
        assert any(request_line in line for line in lines), \
            f"no access-log line for {request_line}:\n{output}"
    access = [line for line in lines if " HTTP/1." in line]
    # The connecting address may appear once, in gunicorn's "Listening at" start-up line;
    # never in a line about a request.
    assert [line for line in access if CONNECTING in line] == []
    for marker in (FORWARDED, MARKER_AGENT, "MarkerAgent", "zqxlog"):
        found = [line for line in lines if marker in line]
        assert found == [], f"{marker} printed by the server: {found}"

    # The report really went through the server (so the log lines are of real requests).
    engine = create_engine(database)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM reports")).scalar() == 1
    finally:
        engine.dispose()


def test_the_check_would_see_an_address_in_the_default_format():
    """gunicorn's own default format prints the address (%(h)s): the portal's must not."""
    from gunicorn.config import AccessLogFormat

    from portal.logging import ACCESS_FORMAT

    assert "%(h)s" in AccessLogFormat.default
    for atom in ("%(h)s", "%(a)s", "%(f)s", "%({x-forwarded-for}i)s", "%({user-agent}i)s"):
        assert atom not in ACCESS_FORMAT.lower()
    assert shutil.which("gunicorn", path=str(GUNICORN.parent))


LONG = "a" * 9000  # longer than gunicorn's 8190-byte request-line and header-field limits
MALFORMED = [
    # What scanners, broken clients and attackers send; each is refused by gunicorn itself,
    # before the app sees it, and gunicorn's error log used to say "from ip=127.0.0.1".
    f"GET /\x01bad HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: {FORWARDED}\r\n\r\n",
    f"GET /\x01?via={FORWARDED} HTTP/1.1\r\nHost: x\r\n\r\n",  # an address in the line
    f"THIS IS NOT HTTP\r\nX-Forwarded-For: {FORWARDED}\r\n\r\n",
    f"G@T / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: {FORWARDED}\r\n\r\n",
    f"GET / HTTP/9.9\r\nHost: x\r\nX-Forwarded-For: {FORWARDED}\r\n\r\n",
    f"GET /{LONG} HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: {FORWARDED}\r\n\r\n",
    f"GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: {FORWARDED}\r\nX-Long: {LONG}\r\n\r\n",
    f"GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: {FORWARDED}\r\nBad Header: y\r\n\r\n",
    f"GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For : {FORWARDED}\r\n\r\n",
    f"GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: {FORWARDED}\x00\r\n\r\n",
    f"GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: {FORWARDED}\r\n"
    "X-Forwarded-Proto: https\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Ssl: off\r\n\r\n",
]


def raw_request(port: int, data: str) -> bytes:
    """Send bytes as they are over a socket from 127.0.0.1 and read the whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(data.encode("latin-1"))
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_malformed_requests_are_logged_without_the_client_address(tmp_path, database):
    env = portal_env(tmp_path, database, PORTAL_PROXY_HOPS="1")
    with gunicorn(tmp_path, env) as server:
        answers = [raw_request(server.port, data) for data in MALFORMED]
        assert Client(server.base, HEADERS).request("/")[0] == 200  # still serving
        server.stop()
        output = server.logs()
    # Each was refused by gunicorn (4xx/5xx), so each went through its error handling.
    statuses = [answer.split(b" ", 2)[1] for answer in answers]
    refused = [status.startswith((b"4", b"5")) for status in statuses]
    assert all(refused), " ".join(f"{i}:{s.decode()}" for i, s in enumerate(statuses))
    lines = output.splitlines()
    # The check sees gunicorn's messages about the bad requests (a warning for each).
    warnings = [line for line in lines if "[WARNING]" in line]
    assert len(warnings) == len(MALFORMED), output
    # ... and what kind of request it was is still there for whoever runs the server.
    for kind in ("Invalid HTTP request line", "Invalid HTTP method", "Request Line is too large",
                 "limit request headers fields size", "Invalid HTTP header name"):
        assert any(kind in line for line in warnings), output
    # The listening address is the server's own, printed once at start-up; no other line
    # may name the connecting address, and none may carry the forwarded marker.
    about_requests = [line for line in lines if "Listening at:" not in line]
    assert [line for line in about_requests if CONNECTING in line] == [], output
    assert [line for line in lines if FORWARDED in line] == [], output
    assert [line for line in lines if "ip=" in line] == [], output


@pytest.mark.parametrize(("message", "kept"), [
    ("Invalid request from ip=::1: Invalid HTTP method: 'G@T'",
     "Invalid request: Invalid HTTP method"),
    ("Invalid request from ip=2001:db8::7: Request Line is too large (9014 > 8190)",
     "Invalid request: Request Line is too large (9014 > 8190)"),
    ("Invalid request from ip=: limit request headers fields size",
     "Invalid request: limit request headers fields size"),
    ("Proxy request from '198.51.100.4' not allowed", "Proxy request from '[address]' not allowed"),
    ("peer [fe80::1]:5000 and ::ffff:10.0.0.7 went at 12:30:45",
     "peer [[address]]:5000 and [address] went at 12:30:45"),
])
def test_server_messages_keep_the_kind_and_lose_the_address(message, kept):
    """IPv6 peers (and unix sockets, with an empty address) too, not just 127.0.0.1."""
    from portal.logging import scrub_server_message

    assert scrub_server_message(message) == kept
