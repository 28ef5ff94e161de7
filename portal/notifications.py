"""Email through an outbox: written with the change that causes it, delivered with retries.

Emails never carry report text or names: they say that something arrived or changed and
where to look. Parents are told only that there is an update and to use their code.
"""

from __future__ import annotations

import logging
import os
import secrets
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any, cast
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, CursorResult, Result, and_, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from .models import DSL_TEAM, OutboxMessage, Report, School, User, utcnow
from .models.user import NO_PASSWORD
from .priority import URGENT

log = logging.getLogger(__name__)


def _changed(result: Result[Any]) -> int:
    """How many rows an UPDATE changed (Session.execute types its result as a plain Result)."""
    return cast(CursorResult[Any], result).rowcount

LOCAL = ZoneInfo("Europe/London")
MAX_ATTEMPTS = 8
SMTP_TIMEOUT = 10
CLAIM_LEASE = timedelta(minutes=5)
"""How long a sender holds a message it is sending. Far longer than one send can take (each
SMTP step gives up after SMTP_TIMEOUT seconds), so a live sender keeps its claim; a sender
that dies holding one lets the message go again when this runs out."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str  # "plain" | "starttls" | "tls"
    username: str | None
    password: str | None
    sender: str

    @classmethod
    def from_url(cls, url: str) -> SmtpSettings:
        """``smtp://host:25``, ``smtp+starttls://user:pass@host:587``, ``smtps://host:465``;
        ``?from=tellus@school.example`` sets the sender."""
        parts = urlsplit(url)
        security = {"smtp": "plain", "smtp+starttls": "starttls", "smtps": "tls"}.get(
            parts.scheme)
        if security is None or not parts.hostname:
            raise ValueError("PORTAL_SMTP_URL must look like smtp://host:25, "
                             "smtp+starttls://user:password@host:587 or smtps://host:465")
        default_port = {"plain": 25, "starttls": 587, "tls": 465}[security]
        sender = parse_qs(parts.query).get("from", ["Tell Us <no-reply@localhost>"])[0]
        return cls(parts.hostname, parts.port or default_port, security,
                   unquote(parts.username) if parts.username else None,
                   unquote(parts.password) if parts.password else None, sender)


def _queue(session: Session, *, to: str, subject: str, body: str, kind: str,
           school_id: int | None) -> OutboxMessage:
    row = OutboxMessage(to_address=to, subject=subject, body=body, kind=kind,
                        school_id=school_id)
    session.add(row)
    return row


def dsl_addresses(session: Session, school_id: int) -> list[str]:
    """Who is told about new reports: the school's active DSL and deputies who have set up
    their account (an invitation not yet taken up is nobody reading: issue 18's trial)."""
    return list(session.scalars(
        select(User.email).where(User.school_id == school_id, User.is_active.is_(True),
                                 User.role.in_(DSL_TEAM), User.password_hash != NO_PASSWORD)
        .order_by(User.email)))


def sign_in_changed(session: Session, schools: list[School], *, actor: User,
                    fields: list[str], enabled: bool) -> list[OutboxMessage]:
    """The school's (or every school of the trust's) DSL team is told when the way staff
    sign in with school accounts changes: whoever runs that provider can sign in as the
    staff in its domains, so the people who answer for the reports should know (the DSL
    team itself always uses the portal's own second step too, portal.auth.sso)."""
    rows = []
    for school in schools:
        body = (f"{actor.name} ({actor.role.label}) changed how staff at {school.name} sign "
                f"in to Tell Us with their school accounts: {', '.join(fields) or 'nothing'}."
                f"\n\nSigning in with school accounts is now "
                f"{'on' if enabled else 'off'}.\n\n"
                "If you did not expect this, check the school's sign-in settings with the "
                "administrator. Your own sign-in still asks for your authenticator code or "
                "passkey after the school account.\n")
        rows += [_queue(session, to=address, subject=f"Sign-in settings changed at "
                        f"{school.name}", body=body, kind="sign_in", school_id=school.id)
                 for address in dsl_addresses(session, school.id)]
    return rows


def report_arrived(session: Session, report: Report, school: School,
                   base_url: str) -> list[OutboxMessage]:
    """An urgent report: the DSL team is emailed at once. Others wait for the digest."""
    if report.urgency < URGENT:
        return []
    report.team_notified_at = utcnow()
    link = f"{base_url.rstrip('/')}/staff/cases/{report.id}"
    body = (f"An urgent report has arrived at {school.name}.\n\n"
            f"Open it here (sign-in needed): {link}\n\n"
            "This email never contains what was reported.\n")
    return [_queue(session, to=address, subject=f"Urgent report at {school.name}", body=body,
                   kind="urgent", school_id=school.id)
            for address in dsl_addresses(session, school.id)]


def parent_update(session: Session, report: Report, school: School,
                  base_url: str) -> OutboxMessage | None:
    """A parent who asked for updates is told that something changed, and nothing more."""
    if not report.notify_updates or not report.contact_email:
        return None
    body = (f"There is an update on the concern you reported to {school.name}.\n\n"
            f"To see it, enter your follow-up code at {base_url.rstrip('/')}/follow-up\n\n"
            "For your child's privacy this email does not say what the update is.\n")
    return _queue(session, to=report.contact_email, subject=f"An update from {school.name}",
                  body=body, kind="parent_update", school_id=school.id)


def digest_hours(school: School) -> list[int]:
    hours = []
    for part in school.digest_hours.split(","):
        if part.strip().isdigit() and 0 <= int(part) <= 23:
            hours.append(int(part))
    return sorted(set(hours))


def last_digest_time(school: School, now: datetime) -> datetime | None:
    """The most recent scheduled digest moment at or before ``now`` (UTC)."""
    local = now.astimezone(LOCAL)
    for days_back in range(0, 8):
        day = (local - timedelta(days=days_back)).date()
        for hour in reversed(digest_hours(school)):
            moment = datetime(day.year, day.month, day.day, hour, tzinfo=LOCAL)
            if moment <= local:
                return moment.astimezone(now.tzinfo)
    return None


def due_digests(session: Session, base_url: str, now: datetime | None = None) -> int:
    """Queue each school's digest of new, non-urgent reports when a digest time has passed."""
    now = now or utcnow()
    queued = 0
    for school in session.scalars(select(School).execution_options(populate_existing=True)):
        moment = last_digest_time(school, now)
        if moment is None or (school.last_digest_at and school.last_digest_at >= moment):
            continue
        # Two senders at once (cron overlapping itself): one conditional UPDATE decides
        # which of them writes this digest; the other sees no row changed and moves on.
        taken = session.execute(
            update(School).where(School.id == school.id,
                                 or_(School.last_digest_at.is_(None),
                                     School.last_digest_at < moment))
            .values(last_digest_at=now).execution_options(synchronize_session=False))
        if _changed(taken) != 1:
            continue
        set_committed_value(school, "last_digest_at", now)
        waiting = list(session.scalars(
            select(Report).where(Report.school_id == school.id,
                                 Report.team_notified_at.is_(None),
                                 Report.created_at <= moment)))
        if not waiting:
            continue
        for report in waiting:
            report.team_notified_at = now
        count = len(waiting)
        body = (f"{count} new report{'s' if count != 1 else ''} arrived at {school.name} since "
                f"the last summary.\n\nOpen the queue (sign-in needed): "
                f"{base_url.rstrip('/')}/staff/\n\n"
                "This email never contains what was reported.\n")
        for address in dsl_addresses(session, school.id):
            _queue(session, to=address, subject=f"{count} new report"
                   f"{'s' if count != 1 else ''} at {school.name}", body=body, kind="digest",
                   school_id=school.id)
            queued += 1
    session.flush()
    return queued


def _send(smtp: SmtpSettings, row: OutboxMessage) -> None:
    message = EmailMessage()
    message["From"] = smtp.sender
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Message-ID"] = make_msgid(domain="tellus.invalid")
    message.set_content(row.body)
    if smtp.security == "tls":
        client: smtplib.SMTP = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=SMTP_TIMEOUT,
                                                context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=SMTP_TIMEOUT)
    with client:
        if smtp.security == "starttls":
            client.starttls(context=ssl.create_default_context())
        if smtp.username:
            client.login(smtp.username, smtp.password or "")
        client.send_message(message)


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, ... minutes between tries, at most an hour."""
    return timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


def describe_failure(error: BaseException) -> str:
    """What went wrong, for ``last_error`` and the log: the error's class and its SMTP code
    (or errno), never its text. Mail servers quote the recipient back ("550 5.1.1
    <alex@example.org>: Recipient address rejected"), and that is a parent's address."""
    name = type(error).__name__
    codes: list[int] = []
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({int(code) for code, _ in error.recipients.values()})
    elif isinstance(error, smtplib.SMTPResponseException):
        codes = [int(error.smtp_code)]
    if codes:
        return f"{name}: SMTP {', '.join(str(code) for code in codes)}"
    if isinstance(error, OSError) and isinstance(error.errno, int):
        return f"{name}: errno {error.errno} ({os.strerror(error.errno)})"
    return name


def _due(now: datetime) -> ColumnElement[bool]:
    """Not sent, its time has come, tries left, and no live sender holds it."""
    return and_(OutboxMessage.sent_at.is_(None), OutboxMessage.send_after <= now,
                OutboxMessage.attempts < MAX_ATTEMPTS,
                or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now))


def claim(session: Session, message_id: int, now: datetime) -> str | None:
    """Take one due message for sending; the caller commits. Returns the claim's token, or
    None when another sender holds it or it has gone.

    One conditional UPDATE: SQLite lets one writer at a time change the table and
    PostgreSQL locks the row and checks the condition again on the row as the other left
    it, so of two senders only one changes the row; the other sees no row changed."""
    token = secrets.token_hex(16)
    result = session.execute(
        update(OutboxMessage).where(OutboxMessage.id == message_id, _due(now))
        .values(claimed_until=now + CLAIM_LEASE, claim_token=token)
        .execution_options(synchronize_session=False))
    return token if _changed(result) == 1 else None


def deliver(session: Session, smtp: SmtpSettings | None, *, now: datetime | None = None,
            ids: list[int] | None = None, limit: int = 100) -> tuple[int, int]:
    """Send what is due (or just ``ids``); returns (sent, failed) by this sender.

    Each message is claimed (and the claim committed) before it is sent, so however many
    workers and ``portal outbox send`` run at once, one sends it; the outcome is committed
    straight after. A sender that dies between the two leaves a claim that runs out after
    CLAIM_LEASE, and the message is sent then (at least once, never lost)."""
    if smtp is None:
        return 0, 0
    now = now or utcnow()
    query = (select(OutboxMessage.id).where(_due(now))
             .order_by(OutboxMessage.send_after, OutboxMessage.id).limit(limit))
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(ids))
    candidates = list(session.scalars(query))
    session.commit()  # end the read: each claim below is a short write of its own
    sent = failed = 0
    for message_id in candidates:
        token = claim(session, message_id, now)
        session.commit()
        if token is None:
            continue  # another sender has it (or has sent it)
        row = session.get(OutboxMessage, message_id, populate_existing=True)
        if row is None:
            continue
        outcome: dict[str, object] = {"attempts": OutboxMessage.attempts + 1,
                                      "claimed_until": None, "claim_token": None}
        try:
            _send(smtp, row)
        except Exception as error:  # any failure: keep the mail, try it later
            outcome.update(last_error=describe_failure(error)[:300],
                           send_after=utcnow() + backoff(row.attempts + 1))
            log.warning("outbox message %s not sent (%s); it will be tried again",
                        message_id, describe_failure(error))
            failed += 1
        else:
            outcome["sent_at"] = utcnow()
            sent += 1
        done = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.claim_token == token)
            .values(**outcome).execution_options(synchronize_session=False))
        session.commit()
        if _changed(done) != 1:
            log.warning("outbox message %s: its claim ran out while it was being sent",
                        message_id)
    return sent, failed


def check_back_not_better(session: Session, report: Report, school: School,
                          base_url: str) -> list[OutboxMessage]:
    """A reporter answered a check-back "not better": the DSL team is emailed at once, as
    for an urgent report, and the email says no more than that one does."""
    link = f"{base_url.rstrip('/')}/staff/cases/{report.id}"
    body = (f"A reporter at {school.name} was asked \"Is it better now?\" and answered "
            "that it is not better.\n\n"
            f"Open the case here (sign-in needed): {link}\n\n"
            "This email never contains what was reported.\n")
    return [_queue(session, to=address, subject=f"Urgent: a check-back at {school.name}",
                   body=body, kind="urgent", school_id=school.id)
            for address in dsl_addresses(session, school.id)]
