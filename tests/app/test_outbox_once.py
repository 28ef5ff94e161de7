"""Each email leaves once (finding 18): with several gunicorn workers each trying the outbox
after its requests, and `portal outbox send` running beside them, on SQLite (where
``FOR UPDATE SKIP LOCKED`` does nothing) as on PostgreSQL. A sender claims a message with
one conditional UPDATE before it sends; a crashed sender's claim runs out and the message
goes later."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from portal import create_app
from portal.auth.passwords import hash_password
from portal.config import PROJECT_DIR
from portal.jobs import wait_idle
from portal.models import OutboxMessage, Role, School, User, utcnow
from portal.notifications import CLAIM_LEASE, claim, deliver, due_digests
from portal.security import limiter
from tests.app.gunicorn_server import Client, gunicorn, migrated_sqlite, portal_env
from tests.app.test_outbox import Inbox, SmtpServer, free_port
from tests.conftest import PASSWORD, PUPIL, followup_code, hidden_fields

CASE_LINK = re.compile(r"/staff/cases/(\d+)")


class SlowInbox(Inbox):
    """A mail server that takes a moment over each message, as real ones do: long enough
    for a second sender to pick the same message if nothing stops it."""

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        await asyncio.sleep(0.2)
        return await super().handle_DATA(server, session, envelope)


def once_each(inbox: Inbox) -> Counter[tuple[str, str]]:
    """How many times each (recipient, case) arrived."""
    return Counter((m["To"], CASE_LINK.search(m.get_payload(decode=True).decode()).group(1))
                   for m in inbox.messages)


# --- in one process: several senders at once ------------------------------------------------

@pytest.fixture
def mail_app(settings):
    port = free_port()
    app = create_app(replace(settings, smtp_url=f"smtp://127.0.0.1:{port}?from=t@school.test"))
    app.config["PORTAL_SEND_INLINE"] = False
    with app.app_context():
        limiter.reset()
    app.config["TEST_SMTP_PORT"] = port
    yield app
    wait_idle()
    app.extensions["portal.engine"].dispose()


def queue_messages(app, school_id: int, count: int) -> None:
    db = app.extensions["portal.sessionmaker"]()
    try:
        db.add_all(OutboxMessage(to_address=f"dsl{n}@school.test", subject="Urgent report",
                                 body=f"Open it: https://t.test/staff/cases/{n}\n",
                                 kind="urgent", school_id=school_id) for n in range(count))
        db.commit()
    finally:
        db.close()


def test_several_senders_at_once_send_each_message_once(mail_app, school):
    """Four senders (threads, each with its own connection) start together on one outbox."""
    queue_messages(mail_app, school.id, 24)
    smtp = mail_app.config["PORTAL_SMTP"]
    start = threading.Barrier(4)

    def sender() -> tuple[int, int]:
        db = mail_app.extensions["portal.sessionmaker"]()
        try:
            start.wait()
            return deliver(db, smtp)
        finally:
            db.close()

    with SmtpServer(mail_app.config["TEST_SMTP_PORT"], SlowInbox()) as server:
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda _: sender(), range(4)))
        arrived = once_each(server.inbox)
    assert [count for count in arrived.values() if count != 1] == [], arrived
    assert len(arrived) == 24
    assert sum(sent for sent, _ in results) == 24
    assert sum(f for _, f in results) == 0
    db = mail_app.extensions["portal.sessionmaker"]()
    try:
        assert db.scalar(select(func.count()).where(OutboxMessage.sent_at.is_(None))) == 0
        assert db.scalar(select(func.max(OutboxMessage.attempts))) == 1
    finally:
        db.close()


def test_a_crashed_senders_claim_runs_out_and_the_mail_goes_later(mail_app, school):
    queue_messages(mail_app, school.id, 1)
    smtp = mail_app.config["PORTAL_SMTP"]
    db = mail_app.extensions["portal.sessionmaker"]()
    try:
        row_id = db.scalar(select(OutboxMessage.id))
        # A sender claims the message and dies before sending it (nothing more happens).
        assert claim(db, row_id, utcnow()) is not None
        db.commit()
        assert claim(db, row_id, utcnow()) is None  # nobody else may take it meanwhile
        db.rollback()
        with SmtpServer(mail_app.config["TEST_SMTP_PORT"]) as server:
            assert deliver(db, smtp) == (0, 0)  # still claimed: not sent twice
            later = utcnow() + CLAIM_LEASE + timedelta(seconds=1)
            assert deliver(db, smtp, now=later) == (1, 0)  # the claim has run out
            assert len(server.inbox.wait_for(1)) == 1
        db.expire_all()
        row = db.get(OutboxMessage, row_id)
        assert row.sent_at is not None
        assert row.claimed_until is None
    finally:
        db.close()


def test_a_failed_try_gives_the_claim_back_for_the_retry(mail_app, school):
    """SMTP down: the message waits for its back-off, not for the claim to run out."""
    queue_messages(mail_app, school.id, 1)
    smtp = mail_app.config["PORTAL_SMTP"]
    db = mail_app.extensions["portal.sessionmaker"]()
    try:
        assert deliver(db, smtp) == (0, 1)  # nothing listening
        db.expire_all()
        row = db.scalars(select(OutboxMessage)).one()
        assert row.claimed_until is None
        assert row.claim_token is None
        assert row.attempts == 1
        assert row.send_after - utcnow() < CLAIM_LEASE  # the 1-minute back-off, not 5
        with SmtpServer(mail_app.config["TEST_SMTP_PORT"]) as server:
            assert deliver(db, smtp, now=row.send_after + timedelta(seconds=1)) == (1, 0)
            assert len(server.inbox.wait_for(1)) == 1
    finally:
        db.close()


# --- as it was found: real gunicorn, two workers, SQLite, the scheduled sender too ----------

def add_team(url: str) -> list[str]:
    engine = create_engine(url)
    emails = ["dsl@oakfield.test", "deputy@oakfield.test"]
    try:
        with Session(engine) as db:
            school = db.scalars(select(School)).one()
            for email, role in zip(emails, (Role.DSL, Role.DEPUTY_DSL), strict=True):
                db.add(User(email=email, display_name=email, role=role, school_id=school.id,
                            password_hash=hash_password(PASSWORD)))
            db.commit()
    finally:
        engine.dispose()
    return emails


def urgent_report(base: str) -> str:
    client = Client(base)
    status, page = client.request("/s/oakfield/pupil")
    assert status == 200
    fields = hidden_fields(page, "/s/oakfield/pupil")
    status, done = client.request("/s/oakfield/pupil", {**fields, **PUPIL, "feels_safe": "no"})
    assert status == 200, done[:500]
    return followup_code(done)


def unsent(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(OutboxMessage.__table__)
                                .where(OutboxMessage.sent_at.is_(None))).scalar_one()
    finally:
        engine.dispose()


def test_ten_urgent_reports_through_two_workers_email_each_dsl_once(tmp_path: Path):
    database = migrated_sqlite(tmp_path / "served.sqlite")
    team = add_team(database)
    smtp_port = free_port()
    env = portal_env(tmp_path, database,
                     PORTAL_SMTP_URL=f"smtp://127.0.0.1:{smtp_port}?from=tellus@oakfield.test",
                     PORTAL_RATELIMIT_ENABLED="0", PORTAL_BASE_URL="https://tellus.test")
    senders_cmd = [sys.executable, "-m", "portal.cli", "outbox", "send", "--watch",
                   "--interval", "1", "--rounds", "10"]
    with SmtpServer(smtp_port, SlowInbox()) as server, \
            gunicorn(tmp_path, env, workers=2, threads=2) as app:
        # The scheduled sender, twice over (cron started a second one before the first ended).
        senders = [subprocess.Popen(senders_cmd, cwd=PROJECT_DIR, env=env,  # noqa: S603
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                   for _ in range(2)]
        try:
            with ThreadPoolExecutor(10) as pool:
                codes = list(pool.map(lambda _: urgent_report(app.base), range(10)))
            assert len(set(codes)) == 10
            deadline = time.monotonic() + 120
            while unsent(database) and time.monotonic() < deadline:
                time.sleep(0.5)
            assert unsent(database) == 0, app.logs()
        finally:
            outputs = []
            for sender in senders:
                out, _ = sender.communicate(timeout=120)
                outputs.append(out.decode(errors="replace"))
        app.stop()  # background sends finished or cut off: nothing more can arrive
        arrived = once_each(server.inbox)
    assert all("Traceback" not in out for out in outputs), outputs
    assert [(key, count) for key, count in arrived.items() if count != 1] == []
    assert len(arrived) == 20  # ten cases, to each of the two
    assert {to for to, _ in arrived} == set(team)


def test_two_senders_at_the_digest_hour_queue_one_digest(mail_app, school, make_user,
                                                         make_report, session):
    """Two `portal outbox send` at once (cron overlapping itself) at a digest time."""
    make_user(Role.DSL, school=school, email="dsl@school.test")
    for _ in range(3):
        make_report(school)
    stored = session.get(School, school.id)
    stored.digest_hours = ",".join(str(hour) for hour in range(0, 24, 2))  # every 2 hours
    session.commit()
    start = threading.Barrier(4)
    next_hour = utcnow() + timedelta(hours=2)  # the next digest time has passed

    def sender() -> int:
        db = mail_app.extensions["portal.sessionmaker"]()
        try:
            start.wait()
            queued = due_digests(db, "https://t.test", now=next_hour)
            db.commit()
            return queued
        finally:
            db.close()

    with ThreadPoolExecutor(4) as pool:
        queued = list(pool.map(lambda _: sender(), range(4)))
    session.expire_all()
    digests = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "digest")).all()
    assert len(digests) == 1, queued
    assert sorted(queued) == [0, 0, 0, 1], queued
