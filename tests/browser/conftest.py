"""Real-browser tests: the portal served on a free local port, driven by Chromium.

Each test module gets its own server on its own SQLite file (even when
PORTAL_TEST_DATABASE_URL points the other tests at PostgreSQL), seeded with the school
"oakfield", its two trusted adults and a DSL. Rate limiting stays on, exactly as it
runs; the limiter's counters are emptied before each test so the tests don't share a
budget. Chromium is Debian's (/usr/bin/chromium): Playwright can't download browsers here.

The people who use the portal are written as small helpers (``PupilOnTablet``,
``ParentOnPhone``, ``DslAtDesk``) so the tests read as journeys.
"""

from __future__ import annotations

import os
import re
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyotp
import pytest
from flask import Flask
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from werkzeug.serving import BaseWSGIServer, make_server

from portal import create_app, evidence, linking
from portal.auth.passwords import hash_password
from portal.config import Settings
from portal.logging import AnonymousRequestHandler
from portal.models import (
    Base,
    LinkRole,
    Pupil,
    Report,
    Role,
    School,
    SenStatus,
    TrustedAdult,
    User,
    utcnow,
)
from portal.reporting import operations
from portal.security import limiter
from portal.triage import operations as triage
from tests.conftest import PARENT, PASSWORD, PUPIL, TOTP_SECRETS, next_code

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HERE = Path(__file__).resolve().parent
SCHOOL = "oakfield"
EXIT_URL = "https://www.bbc.co.uk/bitesize"
DSL_EMAIL = "dsl@oakfield.test"
# Anything that isn't the local server is refused: the tests never reach the internet.
NOT_LOCAL = re.compile(r"^(?!https?://127\.0\.0\.1[:/]|about:|data:|blob:).*")
# Chromium logs every 4xx page (a form with errors is a 400) as a console error.
# A refusal's status, and the network failure a test simulates (route.abort
# "internetdisconnected"): Chromium logs both, and neither is the page's fault.
EXPECTED_STATUS = re.compile(r"^Failed to load resource: (the server responded with a status "
                             r"of 4\d\d |net::ERR_INTERNET_DISCONNECTED)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test in this folder drives a real browser."""
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


# --- The server ------------------------------------------------------------------------


@dataclass
class LiveServer:
    """The portal running on a real port, and ways to arrange and inspect its data."""

    url: str
    app: Flask
    server: BaseWSGIServer
    thread: threading.Thread

    @contextmanager
    def db(self) -> Iterator[Session]:
        session: Session = self.app.extensions["portal.sessionmaker"]()
        try:
            yield session
            session.commit()
        finally:
            session.close()

    def add_school(self, slug: str, name: str, exit_url: str = EXIT_URL) -> int:
        """A school with two trusted adults (as ``make_school`` in tests/conftest.py)."""
        with self.db() as db:
            school = School(slug=slug, name=name, exit_url=exit_url)
            db.add(school)
            db.flush()
            db.add_all([
                TrustedAdult(school_id=school.id, name="Mrs Patel",
                             description="Class 4 teacher", position=1),
                TrustedAdult(school_id=school.id, name="Mr Okafor",
                             description="Learning mentor", position=2),
            ])
            return school.id

    def add_staff(self, slug: str, email: str, role: Role = Role.DSL,
                  name: str = "Ms Reed", two_factor: bool = True) -> None:
        """A staff account signing in with the shared test ``PASSWORD``; without
        ``two_factor`` it has no authenticator yet (its first sign-in enrols one)."""
        with self.db() as db:
            school = db.scalar(select(School).where(School.slug == slug))
            assert school is not None
            secret = pyotp.random_base32(32) if two_factor else None
            if secret:
                TOTP_SECRETS[email.lower()] = secret
            db.add(User(email=email, display_name=name, password_hash=hash_password(PASSWORD),
                        role=role, school_id=school.id, totp_secret=secret,
                        totp_enabled_at=utcnow() if secret else None))

    def add_report(self, slug: str = SCHOOL, source: str = "pupil",
                   files: tuple[tuple[str, bytes], ...] = (), **fields: Any) -> tuple[int, str]:
        """A stored report (as ``make_report`` in tests/conftest.py): its id and code.
        ``files`` are (name, bytes) pairs kept as evidence, as an upload would be."""
        extras = operations.Extras(files=tuple(evidence.clean_all(list(files))),
                                   evidence_dir=self.app.config["PORTAL_EVIDENCE_DIR"])
        with self.db() as db:
            school = db.scalar(select(School).where(School.slug == slug))
            assert school is not None
            token = secrets.token_urlsafe(24)
            if source == "pupil":
                d = {**PUPIL, **fields}
                stored = operations.submit_pupil_report(db, school, operations.PupilSubmission(
                    about=d["about"], kinds=list(d["kinds"]), what_happened=d["what_happened"],
                    places=list(d["places"]), when=d["when"],
                    happened_before=d["happened_before"], who_involved=d["who_involved"],
                    feels_safe=d["feels_safe"], anonymous=d["anonymous"] == "yes",
                    reporter_name=d.get("reporter_name", ""),
                    reporter_class=d.get("reporter_class", ""), adult=d["adult"],
                ), token=token, extras=extras)
            else:
                d = {**PARENT, **fields}
                stored = operations.submit_parent_report(db, school, operations.ParentSubmission(
                    child_name=d["child_name"], child_year=d["child_year"],
                    concern=d["concern"], details=d["details"], parent_name=d["parent_name"],
                    contact_preference=d["contact_preference"], since_when=d["since_when"],
                    told_before=d["told_before"], contact_email=d["contact_email"],
                    contact_phone=d["contact_phone"],
                ), token=token, extras=extras)
            db.flush()
            return stored.report.id, stored.code

    def add_pupil(self, first: str, last: str, year: str = "Year 5", form: str = "5B",
                  slug: str = SCHOOL, sen: SenStatus = SenStatus.NONE) -> int:
        """A child on the school's roster: their id."""
        with self.db() as db:
            school = db.scalar(select(School).where(School.slug == slug))
            assert school is not None
            pupil = Pupil(school_id=school.id, upn=f"T{secrets.token_hex(5).upper()}",
                          first_name=first, last_name=last, year_group=year, form=form,
                          sen_status=sen)
            db.add(pupil)
            db.flush()
            return pupil.id

    def link_pupil(self, report_id: int, pupil_id: int, role: LinkRole = LinkRole.TARGET,
                   by: str = DSL_EMAIL) -> None:
        """The DSL links a roster pupil to a report (every report of theirs is rescored)."""
        with self.db() as db:
            actor = db.scalar(select(User).where(User.email == by))
            report, pupil = db.get(Report, report_id), db.get(Pupil, pupil_id)
            assert actor is not None
            assert report is not None
            assert pupil is not None
            school = db.get(School, report.school_id)
            assert school is not None
            linking.link(db, report, pupil, role, actor=actor, school=school)

    def add_message(self, report_id: int, body: str, from_school: bool = True,
                    by: str = DSL_EMAIL) -> None:
        """A message on a report: from the school (written by ``by``) or the reporter's reply."""
        with self.db() as db:
            report = db.get(Report, report_id)
            assert report is not None
            if from_school:
                actor = db.scalar(select(User).where(User.email == by))
                assert actor is not None
                triage.message_reporter(db, report, actor=actor, body=body,
                                        base_url=self.url)
            else:
                operations.reply_to_school(db, report, body)

    def reports(self) -> list[Report]:
        with self.db() as db:
            return list(db.scalars(select(Report).order_by(Report.id)))


class CloseOnHangUp:
    """Close every response, even when the browser hangs up part-way.

    Werkzeug's development server skips a response's ``close()`` when reading the rest of
    a dropped connection fails (a tab closed while its favicon was still loading), which
    leaves a static file open until garbage collection, and ``filterwarnings = error``
    turns that ResourceWarning into a failure of whichever test is running then.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        response = self.app(environ, start_response)

        def body() -> Iterator[bytes]:
            try:
                yield from response
            finally:
                close = getattr(response, "close", None)
                if close is not None:
                    close()

        return body()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The portal on 127.0.0.1 and a free port, with its own SQLite file, per test module.

    Per module rather than per session: the rate limiter is one object shared by every app
    built in this process, so each module's server sets it up again for itself.
    """
    root = tmp_path_factory.mktemp("live")
    url = f"sqlite:///{root / 'portal.sqlite'}"
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    settings = Settings(
        instance_dir=root / "instance",
        database_url=url,
        secret_key=secrets.token_hex(32),
        ratelimit_storage_uri="memory://",
        ratelimit_enabled=True,
    )
    app = create_app(settings)
    server = make_server("127.0.0.1", 0, CloseOnHangUp(app),  # type: ignore[arg-type]
                         threaded=True, request_handler=AnonymousRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name="live-portal", daemon=True)
    live = LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app, server=server,
                      thread=thread)
    live.add_school(SCHOOL, "Oakfield Primary")
    live.add_staff(SCHOOL, DSL_EMAIL)
    thread.start()
    try:
        yield live
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        app.extensions["portal.engine"].dispose()


@pytest.fixture(scope="module")
def seeded(live_server: LiveServer) -> dict[str, Any]:
    """The stored reports, roster pupils and messages the page checks open
    (``tests.browser.pages.seed``), once per module."""
    from tests.browser.pages import seed

    return seed(live_server)


@pytest.fixture(autouse=True)
def _fresh_rate_limits(live_server: LiveServer) -> None:
    """Limits stay on; each test starts with an empty budget, as a new minute would."""
    with live_server.app.app_context():
        limiter.reset()


# --- The browser -----------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        message = (f"{CHROMIUM} is missing: the browser tests need Debian's chromium package "
                   "(apt-get install chromium); Playwright cannot download browsers here.")
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    manager = sync_playwright()
    playwright = manager.start()
    try:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    except Exception:
        playwright.stop()
        raise
    try:
        yield browser
    finally:
        browser.close()
        playwright.stop()


@pytest.fixture
def new_context(chromium: Any, live_server: LiveServer) -> Iterator[Callable[..., Any]]:
    """Factory: a fresh browser profile (a tablet, a phone, a desk), closed after the test.

    Requests to anywhere but the local server are refused, and any script error on a page
    fails the test.
    """
    contexts: list[Any] = []
    errors: list[str] = []

    def make(**options: Any) -> Any:
        options = {"base_url": live_server.url, "locale": "en-GB",
                   "viewport": {"width": 1280, "height": 900}, **options}
        context = chromium.new_context(**options)
        context.set_default_timeout(10_000)
        context.route(NOT_LOCAL, lambda route: route.abort())

        def watch(page: Any) -> None:
            page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
            page.on("console", lambda msg: errors.append(f"{page.url}: {msg.text}")
                    if msg.type == "error" and not EXPECTED_STATUS.match(msg.text) else None)

        context.on("page", watch)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
    assert not errors, "script or console errors in the browser:\n" + "\n".join(errors)


@pytest.fixture(scope="module")
def dsl_signed_in(chromium: Any, live_server: LiveServer) -> dict[str, Any]:
    """The DSL's signed-in browser state (its session cookie), signed in once per module.

    A code from the authenticator works once and the server takes two steps at most, so
    signing in for every page would wait 30 s every third time; staff sessions are held on
    the server and a member of staff may have several, so one sign-in serves the module.
    Pass it as ``new_context(storage_state=dsl_signed_in)``.
    """
    context = chromium.new_context(base_url=live_server.url, locale="en-GB")
    context.route(NOT_LOCAL, lambda route: route.abort())
    try:
        DslAtDesk(context.new_page()).sign_in()
        state: dict[str, Any] = context.storage_state()
    finally:
        context.close()
    return state


@pytest.fixture
def page(new_context: Callable[..., Any]) -> Any:
    """A page in a desktop-sized browser."""
    return new_context().new_page()


# --- The people ------------------------------------------------------------------------


class Person:
    """Someone using the portal in one browser tab."""

    def __init__(self, page: Any, slug: str = SCHOOL) -> None:
        self.page = page
        self.slug = slug

    def group(self, name: str) -> Any:
        """A fieldset of choices, found by its legend."""
        return self.page.get_by_role("group", name=name, exact=True)

    def choose(self, group: str, label: str) -> None:
        self.group(group).get_by_label(label, exact=True).check()

    def code(self) -> str:
        box = self.page.locator("[data-followup-code]")
        box.wait_for()
        code = box.get_attribute("data-followup-code")
        assert code is not None
        assert re.fullmatch(r"[0-9]{4}(-[0-9]{4}){4}", code), code
        assert code in box.inner_text()
        return code

    def text(self) -> str:
        """Everything a person could read on the page, typed values included."""
        body = self.page.locator("body").inner_text()
        values = self.page.eval_on_selector_all(
            "input:not([type=hidden]), textarea, select", "els => els.map(e => e.value)")
        return body + "\n" + "\n".join(values)

    def check_code(self, code: str) -> str:
        """Enter a follow-up code and read the status shown."""
        self.page.goto("/follow-up")
        self.page.get_by_label("Your follow-up code").fill(code)
        self.page.get_by_role("button", name="Show my report").click()
        status = self.page.locator("[data-status]")
        status.wait_for()
        return status.inner_text().strip()


class PupilOnTablet(Person):
    """A child at the school's shared tablet (768x1024)."""

    VIEWPORT = {"width": 768, "height": 1024}

    def open_form(self) -> None:
        self.page.goto(f"/s/{self.slug}/pupil")

    def report(self, *, about: str = "It's happening to me",
               pictures: tuple[str, ...] = ("Someone called me names or said mean things",),
               words: str = "", feels_safe: str = "Yes", name: str | None = None,
               klass: str | None = None, adult: str | None = None) -> str:
        """Fill the form as a child would, send it, and return the follow-up code."""
        self.open_form()
        self.choose("Who is it happening to?", about)
        for picture in pictures:
            # Tapping the picture card (the label), not the small box beside it.
            card = self.group("What happened?").locator("label", has_text=picture)
            card.click()
            assert self.group("What happened?").get_by_label(picture, exact=True).is_checked()
        if words:
            self.page.get_by_label("Tell us what happened").fill(words)
        self.choose("Do you feel safe right now?", feels_safe)
        if name is None:
            self.choose("Do you want to tell us your name?", "No, keep my name secret")
        else:
            self.choose("Do you want to tell us your name?", "Yes, I will tell you my name")
            self.page.get_by_label("Your name", exact=True).fill(name)
            self.page.get_by_label("Your class", exact=True).fill(klass or "")
        if adult:
            self.choose("Who would you like to talk to?", adult)
        return self.send()

    def send(self) -> str:
        self.page.get_by_role("button", name="Send to the school").click()
        return self.code()


class ParentOnPhone(Person):
    """A parent or carer at home on a phone (390x844)."""

    VIEWPORT = {"width": 390, "height": 844}
    DEVICE = {"viewport": VIEWPORT, "device_scale_factor": 3, "is_mobile": True,
              "has_touch": True}

    def report(self, *, child: str = "Sam Taylor", year: str = "Year 5",
               concern: str = "A change in my child's behaviour",
               details: str = "Sam has stopped eating lunch and cries before school.",
               name: str = "Alex Taylor", email: str = "alex@example.org",
               prefer: str = "Email") -> str:
        self.page.goto(f"/s/{self.slug}/parent")
        self.page.get_by_label("Your child's name").fill(child)
        self.page.get_by_label("Year group").select_option(year)
        self.choose("What is your concern about?", concern)
        self.page.get_by_label("What has happened?").fill(details)
        self.page.get_by_label("Your name", exact=True).fill(name)
        self.page.get_by_label("Email address").fill(email)
        self.choose("How would you like us to contact you?", prefer)
        self.page.get_by_role("button", name="Send to the school").click()
        return self.code()


class DslAtDesk(Person):
    """The Designated Safeguarding Lead at a desktop computer."""

    def enter_password(self, email: str = DSL_EMAIL, password: str = PASSWORD,
                       then: str = "code") -> None:
        """The first step of signing in; ``then`` is the step it leads to: "code" (the
        authenticator's code) or "enrol" (setting an authenticator up, the first time)."""
        self.page.goto("/staff/login")
        self.page.get_by_label("Email").fill(email)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_url(re.compile(rf"/staff/login/{then}$"))

    def sign_in(self, email: str = DSL_EMAIL, password: str = PASSWORD) -> None:
        self.enter_password(email, password)
        # The second step: the code from the member of staff's authenticator app.
        self.page.get_by_label("Code from your authenticator app").fill(next_code(email))
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_url(re.compile(r"/staff/(\?.*)?$"))

    def queue(self) -> list[dict[str, Any]]:
        """The queue's rows, top first: report id and whether it is marked urgent."""
        rows = self.page.locator("table.queue tbody tr")
        return [
            {"id": int(row.get_by_role("link").first.inner_text().lstrip("#")),
             "urgent": row.locator(".tag--urgent").count() == 1}
            for row in rows.all()
        ]

    def open_case(self, report_id: int) -> None:
        self.page.get_by_role("link", name=f"#{report_id}", exact=True).click()
        self.page.wait_for_url(f"**/staff/cases/{report_id}")
        self.page.get_by_role("heading", name=f"Report #{report_id}", level=1).wait_for()

    def decide(self, decision: str, reason: str) -> None:
        form = self.page.locator("form.action-card", has_text="Record decision")
        form.get_by_label(decision, exact=True).check()
        form.get_by_label("Reason for the decision").fill(reason)
        form.get_by_role("button", name="Record decision", exact=True).click()
        self._told("Decision recorded")

    def move_to(self, status: str, reason: str, override: str = "") -> None:
        """Change the status with a reason; ``override`` says why, if the case closes with
        steps the policy requires still open (only asked when there are some)."""
        form = self.page.locator("form.action-card", has_text="Change status")
        form.get_by_label("Move to").select_option(label=status)
        form.get_by_label("Reason", exact=True).fill(reason)
        why = form.get_by_label("Closing with required steps open? Say why")
        if override and why.count():
            why.fill(override)
        form.get_by_role("button", name="Change status").click()
        self._told("Status changed")

    def _told(self, message: str) -> None:
        """Wait for the page's confirmation, or fail with the errors it shows instead."""
        from playwright.sync_api import expect

        try:
            expect(self.page.locator(".flash")).to_contain_text(message)
        except AssertionError:
            shown = self.page.locator("[data-error-summary], .field-error").all_inner_texts()
            raise AssertionError(f"expected {message!r}; the page says {shown}") from None
