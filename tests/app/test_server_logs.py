"""gunicorn, started as in production, logs requests without who sent them (SECURITY.md P1:
"The dev server's and gunicorn's access logs must not print client addresses for public
routes"; ASVS 5.0 16.2.5).

The server runs with its real configuration (gunicorn.conf.py), behind one trusted proxy hop
so that the forwarded address becomes the address the app sees, and with a marker user agent:
neither the connecting address, the forwarded address nor the user agent may appear in
anything the server prints.
"""

from __future__ import annotations

import http.cookiejar
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from portal import migrate
from portal.config import PROJECT_DIR
from portal.models import School, TrustedAdult
from tests.conftest import PUPIL, followup_code, hidden_fields

MARKER_AGENT = "MarkerAgent/7.7 zqxlog"
FORWARDED = "203.0.113.9"
CONNECTING = "127.0.0.1"
HEADERS = {"User-Agent": MARKER_AGENT, "X-Forwarded-For": FORWARDED}
GUNICORN = Path(sys.executable).with_name("gunicorn")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def database(tmp_path: Path) -> str:
    """A migrated SQLite database with the school "oakfield"."""
    url = f"sqlite:///{tmp_path / 'served.sqlite'}"
    migrate.upgrade(url)
    engine = create_engine(url)
    try:
        with Session(engine) as db:
            school = School(slug="oakfield", name="Oakfield Primary",
                            exit_url="https://www.bbc.co.uk/bitesize")
            db.add(school)
            db.flush()
            db.add(TrustedAdult(school_id=school.id, name="Mrs Patel",
                                description="Class 4 teacher", position=1))
            db.commit()
    finally:
        engine.dispose()
    return url


class Client:
    """A tiny browser over real HTTP: cookies kept, no proxy, never follows redirects."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookies = http.cookiejar.CookieJar()

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: Any, **kwargs: Any) -> None:
                return None

        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor(self.cookies),
            NoRedirect())

    def request(self, path: str, data: dict[str, Any] | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body, headers=HEADERS)
        try:
            with self.opener.open(req, timeout=20) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.read().decode(errors="replace")


@pytest.fixture
def served(tmp_path: Path, database: str) -> Any:
    """gunicorn -c gunicorn.conf.py 'portal:create_app()', one worker; yields (base, logs)."""
    if not GUNICORN.exists():
        pytest.fail(f"gunicorn is not installed in the environment ({GUNICORN})")
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")},
        "PORTAL_BIND": f"127.0.0.1:{port}",
        "PORTAL_WORKERS": "1",
        "PORTAL_THREADS": "1",
        "PORTAL_DATABASE_URL": database,
        "PORTAL_SECRET_KEY": "test-secret-key-for-the-log-test-0123456789",
        "PORTAL_INSTANCE_DIR": str(tmp_path / "instance"),
        "PORTAL_RATELIMIT_STORAGE_URI": "memory://",
        "PORTAL_PROXY_HOPS": "1",  # the app takes 203.0.113.9 as the client's address
        "PYTHONUNBUFFERED": "1",
    }
    out_path, err_path = tmp_path / "gunicorn.out", tmp_path / "gunicorn.err"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        process = subprocess.Popen(  # noqa: S603 - fixed arguments
            [str(GUNICORN), "-c", "gunicorn.conf.py", "portal:create_app()"],
            cwd=PROJECT_DIR, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
        )
    base = f"http://127.0.0.1:{port}"

    def logs() -> str:
        return out_path.read_text(errors="replace") + err_path.read_text(errors="replace")

    def stop() -> None:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    try:
        deadline = time.monotonic() + 60
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        while True:
            if process.poll() is not None:
                pytest.fail(f"gunicorn exited with {process.returncode}:\n{logs()}")
            try:
                with opener.open(base + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not answer within 60 s:\n{logs()}")
            time.sleep(0.2)
        yield base, logs, stop
    finally:
        stop()


def test_gunicorn_access_log_has_no_address_or_user_agent(served, database):
    base, logs, stop = served
    client = Client(base)
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
