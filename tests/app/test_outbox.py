"""Email through the outbox, against a real SMTP server on loopback (aiosmtpd): urgent
reports reach the DSL team within seconds, the rest come in a digest, parents who ask are
told only that there is an update, and SMTP being down never loses a report."""

from __future__ import annotations

import socket
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message as EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, text

from portal import create_app
from portal.jobs import send_now, wait_idle
from portal.models import OutboxMessage, Report, Role, School
from portal.notifications import backoff, deliver, due_digests
from portal.security import limiter
from tests.conftest import PARENT, PUPIL, Browser


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    def wait_for(self, count: int, seconds: float = 5.0) -> list[EmailMessage]:
        deadline = time.monotonic() + seconds
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages


class SmtpServer:
    def __init__(self, port: int, inbox: Inbox | None = None) -> None:
        self.port = port
        self.inbox = inbox or Inbox()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=port)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def mail_app(settings, smtp_port):
    app = create_app(replace(settings, smtp_url=f"smtp://127.0.0.1:{smtp_port}"
                                                 "?from=tellus@school.test",
                             base_url="https://tellus.school.test"))
    with app.app_context():
        limiter.reset()
    yield app
    wait_idle()
    app.extensions["portal.engine"].dispose()


@pytest.fixture
def team(mail_app, school, make_user):
    """The school's DSL and deputy, who get the emails; a teacher, who does not."""
    return [make_user(Role.DSL, school=school, email="dsl@school.test"),
            make_user(Role.DEPUTY_DSL, school=school, email="deputy@school.test"),
            make_user(Role.STAFF, school=school, email="teacher@school.test")]


def body_of(message: EmailMessage) -> str:
    return message.get_payload(decode=True).decode()


def test_an_urgent_report_reaches_the_dsl_team_within_seconds(mail_app, team, smtp_port):
    with SmtpServer(smtp_port) as server:
        browser = Browser(mail_app.test_client())
        words = "He said he is gonna kill me at the park. Kai Jones did it."
        assert browser.submit("/s/oakfield/pupil", {**PUPIL, "what_happened": words,
                                                    "feels_safe": "no"}).status_code == 200
        received = server.inbox.wait_for(2)
    assert sorted(m["To"] for m in received) == ["deputy@school.test", "dsl@school.test"]
    for message in received:
        text = body_of(message)
        assert "Urgent report" in message["Subject"]
        assert "https://tellus.school.test/staff/cases/" in text
        assert "kill" not in text
        assert "Kai" not in text
        assert "park" not in text


def test_smtp_down_never_loses_a_report_and_the_mail_goes_when_it_is_back(
        mail_app, team, smtp_port, session):
    # Given no mail server is listening
    browser = Browser(mail_app.test_client())
    response = browser.submit("/s/oakfield/pupil", {**PUPIL, "feels_safe": "no"})
    # Then the report is stored and the child told so
    assert response.status_code == 200
    assert session.scalars(select(Report)).one()
    wait_idle()  # the background try after the request fails against a closed port
    assert send_now(mail_app) == (0, 0)  # nothing is due again until its back-off passes
    session.expire_all()
    rows = session.scalars(select(OutboxMessage)).all()
    assert len(rows) == 2
    assert all(r.sent_at is None and r.attempts == 1 for r in rows)
    assert all("Connection" in r.last_error or "refused" in r.last_error.lower() for r in rows)
    # When the server comes back, the scheduled sender delivers after the back-off
    with SmtpServer(smtp_port) as server:
        later = datetime.now(UTC) + backoff(1) + timedelta(seconds=1)
        db = mail_app.extensions["portal.sessionmaker"]()
        try:
            assert deliver(db, mail_app.config["PORTAL_SMTP"], now=later) == (2, 0)
        finally:
            db.close()
        assert len(server.inbox.wait_for(2)) == 2
    session.expire_all()
    assert all(r.sent_at is not None for r in session.scalars(select(OutboxMessage)))


def test_other_reports_wait_for_the_digest(mail_app, team, smtp_port, session, make_report,
                                           school):
    make_report(school)
    make_report(school, source="parent")
    assert session.scalars(select(OutboxMessage)).all() == []
    stored = session.get(School, school.id)
    stored.digest_hours = "8"
    session.commit()
    nine_am = datetime.now(UTC).replace(hour=9, minute=30) + timedelta(days=1)
    assert due_digests(session, "https://tellus.school.test", now=nine_am) == 2
    session.commit()
    assert due_digests(session, "https://tellus.school.test", now=nine_am) == 0  # once only
    with SmtpServer(smtp_port) as server:
        assert send_now(mail_app) == (2, 0)
        received = server.inbox.wait_for(2)
    assert {m["Subject"] for m in received} == {"2 new reports at Oakfield Primary"}
    assert "Sam" not in body_of(received[0])


def test_a_parent_who_asked_is_told_only_that_there_is_an_update(
        mail_app, team, smtp_port, session):
    with SmtpServer(smtp_port) as server:
        parent = Browser(mail_app.test_client())
        parent.submit("/s/oakfield/parent", {**PARENT, "email_updates": "yes"})
        report = session.scalars(select(Report)).one()
        assert report.notify_updates is True
        staff = Browser(mail_app.test_client())
        staff.login("dsl@school.test")
        page = f"/staff/cases/{report.id}"
        staff.submit(page, {"message": "We have spoken to Sam's teacher about lunchtimes."},
                     action=f"{page}/messages")
        received = server.inbox.wait_for(1)
    assert [m["To"] for m in received] == [PARENT["contact_email"]]
    text = body_of(received[0])
    assert "update" in received[0]["Subject"].lower()
    assert "/follow-up" in text
    assert "Sam" not in text
    assert "lunchtime" not in text
    assert "teacher" not in text


def test_a_parent_who_did_not_ask_gets_no_email(mail_app, team, smtp_port, session):
    parent = Browser(mail_app.test_client())
    parent.submit("/s/oakfield/parent", PARENT)
    report = session.scalars(select(Report)).one()
    staff = Browser(mail_app.test_client())
    staff.login("dsl@school.test")
    page = f"/staff/cases/{report.id}"
    staff.submit(page, {"message": "Hello"}, action=f"{page}/messages")
    assert [r.kind for r in session.scalars(select(OutboxMessage))] == []


def test_portal_outbox_send_delivers_from_the_command_line(mail_app, team, smtp_port, session):
    from portal.cli import cli

    Browser(mail_app.test_client()).submit("/s/oakfield/pupil", {**PUPIL, "feels_safe": "no"})
    wait_idle()
    session.execute(OutboxMessage.__table__.update().values(send_after=datetime.now(UTC)))
    session.commit()
    with SmtpServer(smtp_port) as server:
        result = mail_app.test_cli_runner().invoke(cli, ["outbox", "send"])
        assert result.exit_code == 0, result.output
        assert "2 sent" in result.output
        assert len(server.inbox.wait_for(2)) == 2


class RefusingInbox(Inbox):
    """A mail server that refuses the recipient, quoting the address back (as Postfix does:
    "550 5.1.1 <alex@example.org>: Recipient address rejected: User unknown")."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown in {address}"


def test_a_refused_recipient_leaves_no_address_in_the_outbox_error(
        mail_app, team, smtp_port, session, caplog, settings):
    address = PARENT["contact_email"]
    with SmtpServer(smtp_port, RefusingInbox()), caplog.at_level("DEBUG"):
        parent = Browser(mail_app.test_client())
        parent.submit("/s/oakfield/parent", {**PARENT, "email_updates": "yes"})
        report = session.scalars(select(Report)).one()
        staff = Browser(mail_app.test_client())
        staff.login("dsl@school.test")
        page = f"/staff/cases/{report.id}"
        staff.submit(page, {"message": "We have spoken to the class teacher."},
                     action=f"{page}/messages")
        wait_idle()  # the background try after the request meets the refusal
    session.expire_all()
    row = session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == "parent_update")).one()
    # The failure is recorded, with what kind it was and the SMTP code ...
    assert row.sent_at is None
    assert row.attempts == 1
    assert "SMTPRecipientsRefused" in row.last_error
    assert "550" in row.last_error
    # ... and nothing of the parent's address: not in the column, nor anywhere in the log.
    stored = session.execute(text("SELECT last_error FROM outbox")).scalars().all()
    for error in [row.last_error, *stored]:
        assert "alex" not in error.lower()
        assert "example.org" not in error
    # (the test mail server's own log, "mail.log", is not the portal's)
    logged = [record.getMessage() for record in caplog.records if record.name != "mail.log"]
    assert [m for m in logged if "alex" in m.lower() or "example.org" in m] == []
    # The address itself is stored encrypted (SECURITY P13): a copy of the database file
    # shows it nowhere, neither in the report's contact details nor in the outbox.
    url = settings.database_url
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        assert address.encode() not in raw
