"""Fixtures: an app on SQLite (or PostgreSQL + Redis when PORTAL_TEST_* are set), a client
that fills forms as a browser would (CSRF stays on), and factories for schools, staff and
reports."""

from __future__ import annotations

import functools
import hashlib
import os
import re
import secrets
import time
import urllib.parse
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from portal import create_app, evidence
from portal.auth.passwords import hash_password
from portal.config import Settings
from portal.jobs import wait_idle
from portal.models import Base, Evidence, Pupil, Report, Role, School, TrustedAdult, User, utcnow
from portal.reporting import operations
from portal.security import limiter
from portal.triage import operations as triage_ops


def _own_services_per_worker() -> None:
    """Under pytest-xdist (``make test PYTEST_ARGS="-n 2"``, as .ci/run does) each worker
    gets its own PostgreSQL database (``<name>_gw0``, made when missing) and Redis database
    (the next numbers after the one given): the workers empty their tables and reset the
    rate limits between tests, which must never reach another worker's test. This runs
    when this conftest is imported, before any test module reads the two variables."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return
    number = int(re.sub(r"\D", "", worker) or "0")
    database = os.environ.get("PORTAL_TEST_DATABASE_URL")
    if database and database.startswith("postgresql"):
        url = make_url(database)
        name = f"{url.database}_{worker}"
        admin = create_engine(database, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                if not connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                         {"n": name}):
                    connection.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            admin.dispose()
        os.environ["PORTAL_TEST_DATABASE_URL"] = url.set(database=name).render_as_string(
            hide_password=False)
    redis = os.environ.get("PORTAL_TEST_REDIS_URL")
    if redis:
        parts = urllib.parse.urlsplit(redis)
        base = int(parts.path.strip("/") or "0")
        os.environ["PORTAL_TEST_REDIS_URL"] = urllib.parse.urlunsplit(
            parts._replace(path=f"/{(base + 1 + number) % 16}"))


_own_services_per_worker()
PG_URL = os.environ.get("PORTAL_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("PORTAL_TEST_REDIS_URL")
PASSWORD = "correct-horse-battery-9"


@functools.cache
def password_hash() -> str:
    """The Argon2id hash of PASSWORD, made once per run: each hash costs a tenth of a second
    or more, on purpose, and the factories make thousands of accounts. Signing in still
    verifies it in full."""
    return hash_password(PASSWORD)


@pytest.fixture(scope="session")
def _pg_schema() -> Iterator[str | None]:
    """On PostgreSQL, the schema is made once per run and emptied after each test."""
    if not PG_URL:
        yield None
        return
    engine = create_engine(PG_URL)
    Base.metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    Base.metadata.create_all(engine)
    engine.dispose()
    yield PG_URL


@pytest.fixture
def database_url(tmp_path: Path, _pg_schema: str | None) -> Iterator[str]:
    if _pg_schema:
        yield _pg_schema
        engine = create_engine(_pg_schema)
        names = ", ".join(t.name for t in Base.metadata.sorted_tables)
        with engine.begin() as conn:
            # The trail refuses TRUNCATE (portal.models.event); between tests, as the
            # superuser, the triggers are set aside for this transaction only.
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        engine.dispose()
        return
    url = f"sqlite:///{tmp_path / 'portal.sqlite'}"
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    yield url


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        instance_dir=tmp_path / "instance",
        database_url=database_url,
        secret_key=secrets.token_hex(32),
        ratelimit_storage_uri=REDIS_URL or "memory://",
        ratelimit_enabled=True,
    )


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    """The portal as it runs, CSRF and rate limits on."""
    application = create_app(settings)
    with application.app_context():
        limiter.reset()
    yield application
    wait_idle()
    with application.app_context():
        limiter.reset()
    application.extensions["portal.engine"].dispose()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """A database session outside any request, for arranging and checking data."""
    db: Session = app.extensions["portal.sessionmaker"]()
    yield db
    db.close()


class _Forms(HTMLParser):
    """Collects each form's action and its hidden inputs, as a browser would send them."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action") or "", "hidden": {}})
        elif tag == "input" and a.get("type") == "hidden" and self.forms and a.get("name"):
            self.forms[-1]["hidden"][a["name"]] = a.get("value") or ""


def hidden_fields(html: str, action: str | None = None) -> dict[str, str]:
    """The hidden fields (CSRF token, submission token) of the form posting to ``action``."""
    parser = _Forms()
    parser.feed(html)
    for form in parser.forms:
        if action is None or form["action"].split("?")[0] == action:
            return dict(form["hidden"])
    raise AssertionError(f"no form posting to {action!r} on the page")


# Each test user's authenticator: email -> base32 secret, and the last time step used
# (a code works once, so a second sign-in in the same 30 s uses the next step's code).
TOTP_SECRETS: dict[str, str] = {}
_LAST_STEP: dict[str, int] = {}


def kept_evidence_and_staff_concern(app: Flask, session: Session, school: School,
                                    report: Report, staff: User) -> tuple[Evidence, Pupil,
                                                                          Report]:
    """A kept evidence file (on disk, as the upload leaves it) on ``report``, a roster
    pupil, and a concern ``staff`` recorded: what the route walks need real ids for."""
    data = b"%PDF-1.4\n% kept evidence\n"
    name = evidence.new_name("application/pdf")
    evidence.write(app.config["PORTAL_EVIDENCE_DIR"] / str(school.id), name, data)
    item = Evidence(report_id=report.id, stored_name=name, content_type="application/pdf",
                    size_received=len(data), size_kept=len(data),
                    sha256_received=hashlib.sha256(data).hexdigest(),
                    sha256_kept=hashlib.sha256(data).hexdigest(), treatment="kept as sent")
    pupil = Pupil(school_id=school.id, upn="A123456789012", first_name="Robin", last_name="Oak")
    session.add_all([item, pupil])
    session.commit()
    concern = triage_ops.record_concern(
        session, actor=staff, told_by="A pupil", told_by_class="5B",
        what_happened="Told me at break that they were pushed.", kinds=["physical"],
        places=[], when=None, feels_safe=None, people_involved="")
    session.commit()
    return item, pupil, concern


def next_code(email: str) -> str:
    """The code an authenticator app shows now, or the next one if that was just used."""
    secret = TOTP_SECRETS[email.lower()]
    while True:
        now = int(time.time() // 30)
        step = max(now, _LAST_STEP.get(email.lower(), -1) + 1)
        if step <= now + 1:  # the server accepts one step of drift
            break
        time.sleep(30 - time.time() % 30 + 0.1)  # both usable codes taken: wait for a new one
    _LAST_STEP[email.lower()] = step
    return pyotp.TOTP(secret).at(step * 30)


class Browser:
    """A test client that loads a page first and sends its form with the page's tokens."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def get(self, url: str, **kw: Any) -> TestResponse:
        return self.client.get(url, **kw)

    def submit(self, page_url: str, data: dict[str, Any], action: str | None = None,
               **kw: Any) -> TestResponse:
        page = self.client.get(page_url)
        assert page.status_code == 200, page.status_code
        target = action or page_url.split("?")[0]
        fields = hidden_fields(page.get_data(as_text=True), target.split("?")[0])
        fields.update(data)
        return self.client.post(target, data=fields, **kw)

    def login(self, email: str, password: str = PASSWORD, **kw: Any) -> TestResponse:
        """Sign in with the password and then the TOTP code from the user's authenticator
        (enrolling it on first sign-in), as a member of staff would."""
        response = self.submit("/staff/login", {"email": email, "password": password}, **kw)
        where = response.headers.get("Location", "")
        if where.endswith("/staff/login/code"):
            return self.submit("/staff/login/code", {"otp": next_code(email)})
        if where.endswith("/staff/login/enrol"):
            page = self.client.get("/staff/login/enrol").get_data(as_text=True)
            secret = re.search(r"data-totp-secret>([A-Z2-7 ]+)<", page).group(1)
            TOTP_SECRETS[email.lower()] = secret.replace(" ", "")
            done = self.submit("/staff/login/enrol", {"otp": next_code(email)})
            next_url = re.search(r'class="button" href="([^"]+)"', done.get_data(as_text=True))
            assert next_url, "no recovery codes page after enrolment"
            return self.client.get(next_url.group(1))  # on to the page asked for
        return response


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def browser(client: FlaskClient) -> Browser:
    return Browser(client)


@pytest.fixture
def make_school(session: Session) -> Any:
    """Factory: a school with two trusted adults."""

    def make(slug: str = "oakfield", name: str = "Oakfield Primary") -> School:
        school = School(slug=slug, name=name, exit_url="https://www.bbc.co.uk/bitesize")
        session.add(school)
        session.flush()
        session.add_all([
            TrustedAdult(school_id=school.id, name="Mrs Patel", description="Class 4 teacher",
                         position=1),
            TrustedAdult(school_id=school.id, name="Mr Okafor", description="Learning mentor",
                         position=2),
        ])
        session.commit()
        return school

    return make


@pytest.fixture
def school(make_school: Any) -> School:
    return make_school()


@pytest.fixture
def make_user(session: Session) -> Any:
    """Factory: a staff account with the shared test password."""

    def make(role: Role = Role.DSL, school: School | None = None,
             email: str | None = None, trust_id: int | None = None,
             two_factor: bool = True) -> User:
        email = email or f"{role.value}-{secrets.token_hex(3)}@school.test"
        secret = pyotp.random_base32(32)
        if two_factor:
            TOTP_SECRETS[email.lower()] = secret
        user = User(
            email=email,
            totp_secret=secret if two_factor else None,
            totp_enabled_at=utcnow() if two_factor else None,
            display_name=f"Test {role.value}",
            password_hash=password_hash(),
            role=role,
            school_id=school.id if school else None,
            trust_id=trust_id,
        )
        session.add(user)
        session.commit()
        return user

    return make


PUPIL = {
    "about": "me",
    "kinds": ["verbal"],
    "what_happened": "They keep calling me names at lunch.",
    "places": ["lunch_hall"],
    "when": "today",
    "happened_before": "yes",
    "who_involved": "Two children from Year 5",
    "feels_safe": "yes",
    "anonymous": "yes",
    "adult": "anyone",
}

PARENT = {
    "child_name": "Sam Taylor",
    "child_year": "Year 5",
    "concern": "behaviour_change",
    "details": "Sam has stopped eating lunch and cries before school.",
    "since_when": "about two weeks",
    "told_before": "no",
    "parent_name": "Alex Taylor",
    "contact_email": "alex@example.org",
    "contact_phone": "",
    "contact_preference": "email",
}


@pytest.fixture
def make_report(session: Session) -> Any:
    """Factory: a stored pupil or parent report; returns (report, follow-up code)."""

    def make(school: School, source: str = "pupil", **fields: Any) -> tuple[Any, str]:
        token = secrets.token_urlsafe(24)
        if source == "pupil":
            data = {**PUPIL, **fields}
            stored = operations.submit_pupil_report(
                session, school,
                operations.PupilSubmission(
                    about=data["about"], kinds=list(data["kinds"]),
                    what_happened=data["what_happened"], places=list(data["places"]),
                    when=data["when"], happened_before=data["happened_before"],
                    who_involved=data["who_involved"], feels_safe=data["feels_safe"],
                    anonymous=data["anonymous"] == "yes",
                    reporter_name=data.get("reporter_name", ""),
                    reporter_class=data.get("reporter_class", ""), adult=data["adult"],
                ),
                token=token,
            )
        else:
            data = {**PARENT, **fields}
            stored = operations.submit_parent_report(
                session, school,
                operations.ParentSubmission(
                    child_name=data["child_name"], child_year=data["child_year"],
                    concern=data["concern"], details=data["details"],
                    parent_name=data["parent_name"],
                    contact_preference=data["contact_preference"],
                    since_when=data["since_when"], told_before=data["told_before"],
                    contact_email=data["contact_email"], contact_phone=data["contact_phone"],
                ),
                token=token,
            )
        session.commit()
        return stored.report, stored.code

    return make


CODE_RE = re.compile(r'data-followup-code="([0-9-]+)"')


def followup_code(html: str) -> str:
    """The follow-up code shown on a confirmation page."""
    match = CODE_RE.search(html)
    assert match, "no follow-up code on the page"
    return match.group(1)


def a_share_to(session: Session, report_id: int, owner: School, partner: School,
               sharer: User) -> int:
    """Report ``report_id`` of ``owner`` shared with ``partner`` (a CaseShare row, as
    portal.casework.sharing.share leaves it, the reporter's words too), for the route
    walks' ids."""
    from portal.models import CaseShare

    row = CaseShare(report_id=report_id, from_school_id=owner.id, to_school_id=partner.id,
                    with_words=True, with_people=True, note="The bus home",
                    shared_by_id=sharer.id)
    session.add(row)
    session.commit()
    return row.id


def an_invitation(session: Session, school: School, actor: User,
                  email: str = "invited@school.test") -> str:
    """An invitation's one-time token (portal.admin.staff.invite, as the staff page sends
    it), read from the email it queued, for the route walks' values."""
    from portal.admin import staff
    from portal.models import OutboxMessage

    staff.invite(session, school, actor=actor, email=email, name="Ms Invited",
                 role="staff", base_url="http://127.0.0.1:5000")
    session.commit()
    body = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "staff_invite")
                           .order_by(OutboxMessage.id.desc())).first().body
    found = re.search(r"/staff/invite/([A-Za-z0-9_-]+)", body)
    assert found, body
    return found.group(1)


def a_transfer_from(session: Session, school: School, other: School, sender: User) -> int:
    """A child's record sent from ``school`` to ``other`` (a PupilTransfer row, as
    portal.casework.transfer.send leaves it), for the route walks' ids."""
    from portal.models import PupilTransfer

    row = PupilTransfer(from_school_id=school.id, to_school_id=other.id,
                        pupil_name="Robin Oak", note="",
                        record={"name": "Robin Oak", "year_group": "Year 5", "form": "5B",
                                "upn": "A123456789012", "sen": "", "concerns": [],
                                "records": [], "told": [], "meetings": [],
                                "school": school.name},
                        sent_by_id=sender.id)
    session.add(row)
    session.commit()
    return row.id
