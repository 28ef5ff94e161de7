"""Real gunicorn for tests: started as in production (`gunicorn -c gunicorn.conf.py
'portal:create_app()'`) on a free loopback port, with a tiny HTTP client that keeps cookies."""

from __future__ import annotations

import http.cookiejar
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from portal import migrate
from portal.config import PROJECT_DIR
from portal.models import School, TrustedAdult

GUNICORN = Path(sys.executable).with_name("gunicorn")
PORTAL = Path(sys.executable).with_name("portal")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def migrated_sqlite(path: Path) -> str:
    """A migrated SQLite database at ``path`` with the school "oakfield"."""
    url = f"sqlite:///{path}"
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


def portal_env(tmp_path: Path, database: str, **extra: str) -> dict[str, str]:
    """The environment a deployment gives gunicorn and `portal` (no PORTAL_* from outside)."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")},
        "PORTAL_DATABASE_URL": database,
        "PORTAL_SECRET_KEY": "test-secret-key-for-the-server-tests-0123456789",
        "PORTAL_INSTANCE_DIR": str(tmp_path / "instance"),
        "PORTAL_RATELIMIT_STORAGE_URI": "memory://",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


class Client:
    """A tiny browser over real HTTP: cookies kept, no proxy, never follows redirects."""

    def __init__(self, base: str, headers: dict[str, str] | None = None) -> None:
        self.base = base
        self.headers = headers or {}
        self.cookies = http.cookiejar.CookieJar()

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: Any, **kwargs: Any) -> None:
                return None

        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor(self.cookies),
            NoRedirect())

    def request(self, path: str, data: dict[str, Any] | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body, headers=self.headers)
        try:
            with self.opener.open(req, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.read().decode(errors="replace")


@dataclass
class Served:
    base: str
    port: int
    logs: Callable[[], str]
    stop: Callable[[], None]


@contextmanager
def gunicorn(tmp_path: Path, env: dict[str, str], *, workers: int = 1,
             threads: int = 1) -> Iterator[Served]:
    """Run gunicorn with the portal's gunicorn.conf.py until the block ends."""
    if not GUNICORN.exists():
        pytest.fail(f"gunicorn is not installed in the environment ({GUNICORN})")
    port = free_port()
    env = {**env, "PORTAL_BIND": f"127.0.0.1:{port}", "PORTAL_WORKERS": str(workers),
           "PORTAL_THREADS": str(threads)}
    out_path, err_path = tmp_path / f"gunicorn-{port}.out", tmp_path / f"gunicorn-{port}.err"
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
        yield Served(base, port, logs, stop)
    finally:
        stop()
