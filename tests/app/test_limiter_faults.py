"""The rate limiter's storage fails mid-run (SECURITY.md P9): "when the limiter's storage is
down, limits stay in force from memory (in_memory_fallback_enabled), never off and never a
500" and "Redis stopped mid-run -> limits still apply and reports are still stored".

The test runs its own redis-server on a free port, so stopping it disturbs nothing else.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal import create_app
from portal.config import Settings
from portal.models import Report, School, TrustedAdult
from portal.security import limiter
from tests.conftest import PUPIL, Browser, followup_code

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
PUPIL_URL = "/s/oakfield/pupil"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def redis_command(port: int, *words: str) -> bytes:
    """One command in the inline protocol, its raw reply (enough for DBSIZE and KEYS)."""
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        sock.sendall(" ".join(words).encode() + b"\r\n")
        time.sleep(0.05)
        return sock.recv(65536)


class RedisServer:
    """A throwaway redis-server: no snapshots, no append-only file, local only."""

    def __init__(self, port: int, folder: Path) -> None:
        self.port = port
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        assert self.process is None
        self.starts += 1
        log = self.folder / f"redis-{self.starts}.log"
        with log.open("wb") as out:
            self.process = subprocess.Popen(  # noqa: S603 - fixed arguments
                [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", str(self.folder)],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + 15
        while not ping(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"redis-server did not start: {log.read_text(errors='replace')}")
            time.sleep(0.05)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        deadline = time.monotonic() + 10
        while ping(self.port) and time.monotonic() < deadline:
            time.sleep(0.05)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    if not os.path.exists(REDIS_SERVER):
        if os.environ.get("CI"):
            pytest.fail(f"{REDIS_SERVER} is missing, and CI must run the Redis fault test")
        pytest.skip("redis-server is not installed")
    folder = tmp_path / "redis"
    folder.mkdir()
    server = RedisServer(free_port(), folder)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_app(settings: Settings, redis_server: RedisServer) -> Iterator[Flask]:
    """The portal with its limiter on the throwaway Redis, and one school."""
    app = create_app(replace(settings,
                             ratelimit_storage_uri=f"redis://127.0.0.1:{redis_server.port}/0"))
    with app.app_context():
        limiter.reset()
    db = app.extensions["portal.sessionmaker"]()
    school = School(slug="oakfield", name="Oakfield Primary",
                    exit_url="https://www.bbc.co.uk/bitesize")
    db.add(school)
    db.flush()
    db.add(TrustedAdult(school_id=school.id, name="Mrs Patel", description="Class 4 teacher",
                        position=1))
    db.commit()
    db.close()
    try:
        yield app
    finally:
        # The limiter is one object for the whole process: leave it as the next test expects
        # (its main storage healthy, nothing counted in the in-memory fallback).
        limiter._storage_dead = False
        fallback = getattr(limiter, "_fallback_storage", None)
        if fallback is not None:
            fallback.reset()
        if redis_server.process is not None:
            with app.app_context():
                limiter.reset()
        app.extensions["portal.engine"].dispose()


def stored(app: Flask) -> list[str]:
    db = app.extensions["portal.sessionmaker"]()
    try:
        return list(db.scalars(select(Report.body).order_by(Report.id)))
    finally:
        db.close()


def count(app: Flask) -> int:
    db = app.extensions["portal.sessionmaker"]()
    try:
        return int(db.scalar(select(func.count()).select_from(Report)) or 0)
    finally:
        db.close()


def limiter_keys(port: int) -> bytes:
    return redis_command(port, "KEYS", "*tellus*")


def test_reports_are_kept_and_limits_hold_while_redis_is_down(redis_app, redis_server):
    browser = Browser(redis_app.test_client())
    statuses: list[tuple[str, int]] = []

    def note(what: str, response: Any) -> Any:
        statuses.append((what, response.status_code))
        assert "Traceback" not in response.get_data(as_text=True)
        return response

    # Redis up: reports go in, and the limiter counts them in Redis.
    codes = []
    for number in range(3):
        done = note("report (redis up)", browser.submit(
            PUPIL_URL, {**PUPIL, "what_happened": f"Before the outage, report {number}"}))
        assert done.status_code == 200
        codes.append(followup_code(done.get_data(as_text=True)))
    assert b"tellus" in limiter_keys(redis_server.port), "the limiter did not use Redis"
    assert count(redis_app) == 3

    # Redis stops.
    redis_server.stop()
    assert not ping(redis_server.port)

    # (a) Reports are still stored.
    for number in range(3):
        done = note("report (redis down)", browser.submit(
            PUPIL_URL, {**PUPIL, "what_happened": f"During the outage, report {number}"}))
        assert done.status_code == 200, done.status_code
        followup_code(done.get_data(as_text=True))
    assert stored(redis_app)[3:] == [f"During the outage, report {n}" for n in range(3)]

    # (b) Limits still apply, from memory: follow-up code guesses, 10 a minute.
    guesses = [note("follow-up guess (redis down)",
                    browser.submit("/follow-up", {"code": f"{n:020d}"})).status_code
               for n in range(11)]
    assert guesses[:10] == [200] * 10, guesses
    assert guesses[10] == 429, f"no limit while Redis is down: {guesses}"
    refused = browser.submit("/follow-up", {"code": codes[0]})
    assert refused.status_code == 429
    assert refused.headers.get("Retry-After")

    # The report limit holds from memory too (10 a minute from one address), and the refused
    # report keeps the child's words on the page.
    statuses_before = count(redis_app)
    for number in range(7):  # 3 already sent during the outage: 10 in this minute
        assert note("report (redis down)", browser.submit(
            PUPIL_URL, {**PUPIL, "what_happened": f"More, {number}"})).status_code == 200
    words = "Eleventh while Redis is down, words to keep"
    refused = note("report (redis down)",
                   browser.submit(PUPIL_URL, {**PUPIL, "what_happened": words}))
    assert refused.status_code == 429
    assert words in refused.get_data(as_text=True)
    assert count(redis_app) == statuses_before + 7

    # (c) Never a 500.
    assert [s for s in statuses if s[1] >= 500] == []

    # Redis comes back on the same port: requests still work, reports are stored ...
    redis_server.start()
    fresh = Browser(redis_app.test_client())
    fresh.client.environ_base["REMOTE_ADDR"] = "198.51.100.7"  # not yet limited
    done = note("report (redis back)", fresh.submit(
        PUPIL_URL, {**PUPIL, "what_happened": "After the outage"}))
    assert done.status_code == 200
    assert stored(redis_app)[-1] == "After the outage"

    # ... and the limiter goes back to Redis (it re-checks the backend with back-off).
    deadline = time.monotonic() + 70
    while b"tellus" not in limiter_keys(redis_server.port):
        assert time.monotonic() < deadline, "the limiter never went back to Redis"
        assert note("page (redis back)", fresh.get("/follow-up")).status_code == 200
        time.sleep(0.5)
    assert note("follow-up (redis back)",
                fresh.submit("/follow-up", {"code": codes[1]})).status_code == 200
    assert [s for s in statuses if s[1] >= 500] == []
