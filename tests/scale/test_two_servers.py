"""Scale-out: two app servers on one PostgreSQL and one Redis behave as one portal.

Two real gunicorn instances (`gunicorn -c gunicorn.conf.py 'portal:create_app()'`, one
worker each, on their own ports and instance directories, sharing only the database, the
Redis rate-limit store and the secrets) serve a fresh, migrated PostgreSQL database. Then:

(a) a rate limit counts across both servers: 6 follow-up tries on A and 4 on B use up the
    10 a minute; the 11th, on B, is refused;
(b) a report sent through A is in the DSL's queue on B, and its case page opens on B;
(c) a staff session made on A works on B with the same cookie, and signing out on B ends
    it on A.

Runs only when PORTAL_TEST_DATABASE_URL and PORTAL_TEST_REDIS_URL are set (CI sets them).
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import http.cookiejar
import os
import re
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from portal import create_app, migrate
from portal.auth.passwords import hash_password
from portal.config import PROJECT_DIR, Settings
from portal.db import session_scope
from portal.models import Role, School, TrustedAdult, User

PG_URL = os.environ.get("PORTAL_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("PORTAL_TEST_REDIS_URL")
REDIS_DB = 3  # a database of its own, flushed before and after
GUNICORN = PROJECT_DIR / ".venv" / "bin" / "gunicorn"
PASSWORD = "correct-horse-battery-9"
DSL = "dsl@scale.test"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # the DSL's authenticator, when 2FA is on
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
SUBMISSION = re.compile(r'name="submission"[^>]*value="([^"]+)"')
ONE_TIME = re.compile(r'name="(once|submission)"[^>]*value="([^"]+)"')
CODE = re.compile(r'data-followup-code="([0-9-]+)"')
CASE = re.compile(r'href="/staff/cases/(\d+)"')

pytestmark = pytest.mark.skipif(
    not (PG_URL and REDIS_URL and PG_URL.startswith("postgresql")),
    reason="scale-out needs PostgreSQL and Redis: set PORTAL_TEST_DATABASE_URL and "
           "PORTAL_TEST_REDIS_URL",
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


@pytest.fixture
def database() -> Iterator[str]:
    """A fresh PostgreSQL database, migrated to head; dropped afterwards."""
    assert PG_URL
    name = f"scaleout_{secrets.token_hex(4)}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        migrate.upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def limiter_store() -> Iterator[str]:
    """Redis database 3 on the test Redis, empty before and after."""
    assert REDIS_URL
    where = urllib.parse.urlsplit(REDIS_URL)
    store = f"redis://{where.hostname or '127.0.0.1'}:{where.port or 6379}/{REDIS_DB}"
    client = redis.Redis.from_url(store)
    client.flushdb()
    yield store
    client.flushdb()
    client.close()


@pytest.fixture
def secrets_env() -> dict[str, str]:
    """What every app server of one portal shares: the signing secret and the data key."""
    return {"PORTAL_SECRET_KEY": secrets.token_hex(32),
            "PORTAL_DATA_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()}


@pytest.fixture
def school(database: str, secrets_env: dict[str, str], tmp_path: Path) -> str:
    """A school and its DSL, written as the portal writes them (same keys)."""
    settings = Settings(instance_dir=tmp_path / "setup", database_url=database,
                        secret_key=secrets_env["PORTAL_SECRET_KEY"], ratelimit_enabled=False)
    if "data_key" in {f.name for f in dataclasses.fields(Settings)}:
        settings = dataclasses.replace(settings, data_key=secrets_env["PORTAL_DATA_KEY"])
    app = create_app(settings)
    with session_scope(app) as session:
        row = School(slug="scale", name="Scale-out Primary", exit_url="https://example.org/")
        session.add(row)
        session.flush()
        session.add(TrustedAdult(school_id=row.id, name="Mrs Patel", description="Teacher",
                                 position=1))
        second_factor = {"totp_secret": TOTP_SECRET} if hasattr(User, "totp_secret") else {}
        session.add(User(email=DSL, display_name="Scale DSL", role=Role.DSL, school_id=row.id,
                         password_hash=hash_password(PASSWORD), **second_factor))
    app.extensions["portal.engine"].dispose()
    return "scale"


def _start(name: str, env: dict[str, str], tmp_path: Path) -> Server:
    port = _free_port()
    instance = tmp_path / f"instance-{name}"
    log = tmp_path / f"gunicorn-{name}.log"
    full = {**{k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}, **env,
            "PORTAL_BIND": f"127.0.0.1:{port}", "PORTAL_WORKERS": "1",
            "PORTAL_INSTANCE_DIR": str(instance)}
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our gunicorn, fixed arguments
            [str(GUNICORN), "-c", "gunicorn.conf.py", "portal:create_app()"],
            cwd=PROJECT_DIR, env=full, stdout=out, stderr=subprocess.STDOUT)
    return Server(name, port, process, log)


def _stop(server: Server) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=10)


def _wait_healthy(server: Server, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.process.poll() is None, f"{server.name} exited:\n{server.output()}"
        try:
            with urllib.request.urlopen(f"{server.url}/healthz", timeout=2) as reply:  # noqa: S310
                if reply.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{server.name} did not answer /healthz:\n{server.output()}")


@pytest.fixture
def servers(database: str, limiter_store: str, secrets_env: dict[str, str], school: str,
            tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    """Servers A and B: same database, Redis and secrets; nothing else shared."""
    env = {"PORTAL_DATABASE_URL": database, "PORTAL_RATELIMIT_STORAGE_URI": limiter_store,
           "PORTAL_RATELIMIT_ENABLED": "1", **secrets_env}
    started: list[Server] = []
    try:
        for name in ("A", "B"):
            started.append(_start(name, env, tmp_path))
        for server in started:
            _wait_healthy(server)
        yield started[0], started[1]
    finally:
        for server in started:
            _stop(server)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: object, **_kwargs: object) -> None:
        return None


@dataclass
class Reply:
    status: int
    location: str
    body: str


class Browser:
    """A browser's cookie jar (cookies belong to the host, not the port: one jar sees the
    same cookie on both servers, as behind one proxy), redirects not followed."""

    def __init__(self) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar),
                                                  _NoRedirect)

    def copy(self) -> Browser:
        """Another browser holding copies of this one's cookies (a replayed cookie)."""
        other = Browser()
        for cookie in self.jar:
            other.jar.set_cookie(copy.copy(cookie))
        return other

    def open(self, url: str, form: dict[str, str] | None = None) -> Reply:
        body = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(url, data=body, timeout=30) as response:
                return Reply(response.status, response.headers.get("Location", ""),
                             response.read().decode())
        except urllib.error.HTTPError as error:
            with error:
                return Reply(error.code, error.headers.get("Location", ""),
                             error.read().decode())

    def submit(self, page: str, action: str, fields: dict[str, str]) -> Reply:
        """Load ``page``, then post its hidden values (the CSRF token and the one-time
        values the server issues, as a browser would) with ``fields`` to ``action``."""
        loaded = self.open(page)
        assert loaded.status == 200, (page, loaded.status)
        token = CSRF.search(loaded.body)
        assert token, f"no CSRF token on {page}"
        hidden = {name: value for name, value in ONE_TIME.findall(loaded.body)}
        return self.open(action, {**hidden, "csrf_token": token.group(1), **fields})

    def login(self, server: Server) -> Reply:
        """Sign in as the DSL: password, then the authenticator's code if it is asked for."""
        reply = self.submit(f"{server.url}/staff/login", f"{server.url}/staff/login",
                            {"email": DSL, "password": PASSWORD})
        if reply.status == 302 and "/staff/login/code" in reply.location:
            import pyotp

            page = f"{server.url}/staff/login/code"
            reply = self.submit(page, page, {"otp": pyotp.TOTP(TOTP_SECRET).now()})
        return reply


def test_a_rate_limit_counts_across_both_servers(servers):
    a, b = servers
    browser = Browser()
    answers = []
    for server in [a] * 6 + [b] * 5:
        reply = browser.submit(f"{server.url}/follow-up", f"{server.url}/follow-up",
                               {"code": "0000-0000-0000-0000-0000"})
        answers.append((server.name, reply.status))

    assert answers[:10] == [("A", 200)] * 6 + [("B", 200)] * 4, (answers, b.output())
    assert answers[10] == ("B", 429), answers


def test_a_report_sent_through_a_is_in_the_queue_and_opens_on_b(servers, school):
    a, b = servers
    tablet = Browser()
    form = tablet.open(f"{a.url}/s/{school}/pupil")
    assert form.status == 200, a.output()
    fields = {"csrf_token": CSRF.search(form.body).group(1),  # type: ignore[union-attr]
              "submission": SUBMISSION.search(form.body).group(1),  # type: ignore[union-attr]
              "about": "me", "kinds": "verbal", "what_happened": "Scale-out marker: names at "
              "lunch every day.", "places": "lunch_hall", "when": "today",
              "happened_before": "yes", "who_involved": "", "feels_safe": "yes",
              "anonymous": "yes", "adult": "anyone"}
    sent = tablet.open(f"{a.url}/s/{school}/pupil", fields)
    assert sent.status == 200, (sent.status, a.output())
    assert CODE.search(sent.body), "no follow-up code on the confirmation page"

    dsl = Browser()
    assert dsl.login(b).status == 302, b.output()
    queue = dsl.open(f"{b.url}/staff/")
    assert queue.status == 200
    assert 'data-total="1"' in queue.body
    case_ids = CASE.findall(queue.body)
    assert len(case_ids) == 1
    case = dsl.open(f"{b.url}/staff/cases/{case_ids[0]}")
    assert case.status == 200, b.output()
    assert "Scale-out marker: names at lunch every day." in case.body


def test_a_staff_session_from_a_works_on_b_and_signing_out_on_b_ends_it_on_a(servers):
    a, b = servers
    dsl = Browser()
    assert dsl.login(a).status == 302, a.output()
    assert dsl.open(f"{a.url}/staff/").status == 200

    # the same cookie on the other server
    on_b = dsl.open(f"{b.url}/staff/")
    assert on_b.status == 200, (on_b.status, on_b.location)
    assert "data-total" in on_b.body

    kept = dsl.copy()
    signed_out = dsl.submit(f"{b.url}/staff/logout", f"{b.url}/staff/logout", {})
    assert signed_out.status == 302
    assert "/staff/login" in signed_out.location

    # gone on A as well, even for a copy of the cookie kept from before signing out
    for browser in (dsl, kept):
        after = browser.open(f"{a.url}/staff/")
        assert after.status == 302, after.status
        assert "/staff/login" in after.location, after.location
