"""Anonymous means anonymous (SECURITY.md P1): no address, forwarded address or user agent is
stored in any table, kept in the rate limiter, or written to any log."""

from __future__ import annotations

import logging
import os
import re
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import inspect, select
from werkzeug.serving import make_server

from portal import create_app
from portal.config import Settings
from portal.logging import AnonymousRequestHandler
from portal.models import Base, Report, School
from portal.security import limiter
from tests.conftest import PUPIL, followup_code, hidden_fields

MARKER_AGENT = "MarkerAgent/1.0 zqx"
FORWARDED = "203.0.113.77"
# The client's own address: not 127.0.0.1, which is also the test database's host and so
# legitimately appears in the database driver's connection log lines.
CLIENT = "198.51.100.23"
CLIENT_ENV = {"REMOTE_ADDR": CLIENT}
MARKERS = (FORWARDED, CLIENT, "MarkerAgent")
HEADERS = {"User-Agent": MARKER_AGENT, "X-Forwarded-For": FORWARDED}
IDENTIFYING_COLUMN = re.compile(
    r"(?:^|_)(?:ip|ips|ipv[46]|ip_?addr(?:ess)?|addr|remote(?:_?addr)?|forwarded(?:_for)?)"
    r"(?:_|$)|agent|device|fingerprint",
    re.IGNORECASE,
)


@pytest.fixture(params=[0, 1], ids=["direct", "behind-one-proxy"])
def anon_app(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Flask]:
    """The portal reached directly, and behind one proxy (where X-Forwarded-For is trusted)."""
    application = create_app(replace(settings, proxy_hops=request.param))
    with application.app_context():
        limiter.reset()
    db = application.extensions["portal.sessionmaker"]()
    db.add(School(slug="oakfield", name="Oakfield Primary"))
    db.commit()
    db.close()
    yield application
    with application.app_context():
        limiter.reset()
    application.extensions["portal.engine"].dispose()


@pytest.fixture
def every_log_record(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """caplog at DEBUG for every logger, including ones that do not propagate to the root."""
    caplog.set_level(logging.DEBUG)
    quiet = []
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger):
            caplog.set_level(logging.DEBUG, logger=name)
            if not logger.propagate:
                logger.addHandler(caplog.handler)
                quiet.append(logger)
    yield caplog
    for logger in quiet:
        logger.removeHandler(caplog.handler)


def dump_tables(app: Flask) -> str:
    """Every row of every table, as text."""
    rows = []
    with app.extensions["portal.engine"].connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows.extend(f"{table.name}: {row!r}" for row in conn.execute(table.select()))
    return "\n".join(rows)


def dump_limiter() -> str:
    """Every key (and value) the rate limiter keeps, in memory or in Redis."""
    redis_url = os.environ.get("PORTAL_TEST_REDIS_URL")
    parts = []
    if redis_url:
        import redis

        client = redis.Redis.from_url(redis_url)
        try:
            for key in client.keys("*"):
                kind = client.type(key).decode()
                value: Any = {"string": client.get, "list": lambda k: client.lrange(k, 0, -1),
                              "zset": lambda k: client.zrange(k, 0, -1),
                              "hash": client.hgetall}.get(kind, lambda k: "")(key)
                parts.append(f"{key!r} {value!r}")
        finally:
            client.close()
    for storage in (limiter.storage, getattr(limiter, "_fallback_storage", None)):
        for attribute in ("storage", "expirations", "events"):
            held = getattr(storage, attribute, None)
            if held:
                parts.extend(f"{key!r} {value!r}" for key, value in dict(held).items())
    return "\n".join(parts)


def test_an_anonymous_report_leaves_no_address_or_user_agent_anywhere(anon_app,
                                                                      every_log_record):
    """After an anonymous report, a code check and a reply through the code, no table,
    limiter key or log holds a marker."""
    client = anon_app.test_client()
    client.environ_base.update(CLIENT_ENV)
    url = "/s/oakfield/pupil"
    page = client.get(url, headers=HEADERS)
    fields = hidden_fields(page.get_data(as_text=True), url)
    done = client.post(url, data={**fields, **PUPIL, "anonymous": "yes"}, headers=HEADERS)
    assert done.status_code == 200
    code = followup_code(done.get_data(as_text=True))
    fields = hidden_fields(client.get("/follow-up", headers=HEADERS).get_data(as_text=True),
                           "/follow-up")
    status = client.post("/follow-up", data={**fields, "code": code}, headers=HEADERS)
    assert status.status_code == 200
    fields = hidden_fields(status.get_data(as_text=True), "/follow-up")  # the reply form's
    replied = client.post("/follow-up", data={**fields, "code": code,
                                              "message": "It happened again today"},
                          headers=HEADERS)
    assert "We sent your message to the school" in replied.get_data(as_text=True)

    tables = dump_tables(anon_app)
    assert "It happened again today" in tables
    assert "They keep calling me names at lunch." in tables  # the report is in the dump
    keys = dump_limiter()
    assert "tellus" in keys, "the limiter recorded nothing, so this test would prove nothing"
    logs = "\n".join(f"{r.name} {r.getMessage()} {r.__dict__!r}" for r in every_log_record.records)
    for marker in MARKERS:
        assert marker not in tables, f"{marker} stored in the database"
        assert marker not in keys, f"{marker} in a rate-limit key"
        assert marker not in logs, f"{marker} logged"


def test_the_stored_anonymous_report_has_no_name(anon_app):
    """The anonymous report itself keeps no name or class, even if one was typed."""
    client = anon_app.test_client()
    url = "/s/oakfield/pupil"
    fields = hidden_fields(client.get(url).get_data(as_text=True), url)
    client.post(url, data={**fields, **PUPIL, "reporter_name": "Jo Bloggs",
                           "reporter_class": "5B"}, headers=HEADERS)
    db = anon_app.extensions["portal.sessionmaker"]()
    try:
        report = db.scalars(select(Report)).one()
        assert (report.anonymous, report.reporter_name, report.reporter_class) == (True, "", "")
    finally:
        db.close()


@pytest.mark.parametrize("name", ["ip", "client_ip", "ip_address", "ipaddr", "remote_addr",
                                  "user_agent", "useragent", "device_id", "x_forwarded_for",
                                  "addr"])
def test_the_column_pattern_catches_identifying_names(name):
    """The schema check below would catch each of these column names."""
    assert IDENTIFYING_COLUMN.search(name)


@pytest.mark.parametrize("name", ["description", "recipient", "contact_email", "ship_to",
                                  "id", "school_id", "people_involved"])
def test_the_column_pattern_lets_ordinary_names_through(name):
    """Ordinary columns that merely contain the letters "ip" are not flagged."""
    assert not IDENTIFYING_COLUMN.search(name)


def test_no_column_is_named_like_an_address_agent_or_device(app):
    """No table, in the models or in the database made from them, has an identifying column."""
    found = [f"{t.name}.{c.name}" for t in Base.metadata.sorted_tables for c in t.columns
             if IDENTIFYING_COLUMN.search(c.name)]
    inspector = inspect(app.extensions["portal.engine"])
    found += [f"{table}.{column['name']}" for table in inspector.get_table_names()
              for column in inspector.get_columns(table)
              if IDENTIFYING_COLUMN.search(column["name"])]
    assert not found


def test_the_development_server_logs_requests_without_the_client_address(app, caplog):
    """AnonymousRequestHandler logs each request line, but never the client's address; the
    app still sees the address (it was "-", which shared one rate limit among every client
    of `portal run` and shut /metrics: trial M11)."""
    caplog.set_level(logging.INFO, logger="werkzeug")
    seen: list[str | None] = []

    @app.before_request
    def _remember() -> None:
        from flask import request as current

        seen.append(current.remote_addr)

    server = make_server("127.0.0.1", 0, app, request_handler=AnonymousRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        request = urllib.request.Request(f"http://127.0.0.1:{server.server_port}/follow-up",
                                         headers={"User-Agent": MARKER_AGENT})
        with opener.open(request, timeout=10) as response:
            assert response.status == 200
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    request_lines = [line for line in lines if "GET /follow-up" in line]
    assert seen == ["127.0.0.1"]  # the app still knows where a request came from
    assert request_lines, f"the request was not logged: {lines}"
    for line in lines:
        assert CLIENT not in line, line
        assert "MarkerAgent" not in line, line
