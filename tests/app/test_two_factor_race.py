"""One authenticator code (or one recovery code) sent from two browsers at the same moment
signs in once (SECURITY.md P7: "a code works once"), on SQLite and on PostgreSQL.

Two real requests run in two threads, each with its own database connection. To make the
race happen every time rather than now and then, both requests are held just before they
write the code's use to the database, until both have got that far (or a few seconds have
passed): the worst interleaving, the one a read-check-write without a lock loses.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress

from sqlalchemy import event, func, select

from portal.auth import twofactor
from portal.models import Event, StaffSession, User
from tests.conftest import PASSWORD, Browser, next_code


@contextmanager
def held_before(engine, table: str, column: str) -> Iterator[None]:
    """Hold each statement that writes ``column`` of ``table`` until two have arrived."""
    barrier = threading.Barrier(2, timeout=5)

    def hold(_conn, _cursor, statement: str, *_args) -> None:
        if statement.lstrip().upper().startswith(f"UPDATE {table.upper()}") \
                and column in statement:
            # Only one got here (the other was refused earlier): carry on.
            with suppress(threading.BrokenBarrierError):
                barrier.wait()

    event.listen(engine, "before_cursor_execute", hold)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", hold)


def race(app, email: str, code_for: Callable[[], str], table: str, column: str) -> list[int]:
    """Two browsers pass the password step, then send the same code at once; each one's
    answer on the queue afterwards (200 signed in, 302 sent to sign in)."""
    browsers = [Browser(app.test_client()) for _ in range(2)]
    for browser in browsers:
        assert browser.submit("/staff/login", {"email": email, "password": PASSWORD}) \
            .headers["Location"].endswith("/staff/login/code")
    code = code_for()

    def send(browser: Browser) -> int:
        browser.submit("/staff/login/code", {"otp": code})
        return browser.get("/staff/").status_code

    with held_before(app.extensions["portal.engine"], table, column), \
            ThreadPoolExecutor(max_workers=2) as pool:
        return sorted(pool.map(send, browsers))


def sign_ins(session, user_id: int) -> tuple[int, int]:
    session.expire_all()
    return (session.scalar(select(func.count()).select_from(StaffSession)
                           .where(StaffSession.user_id == user_id)),
            session.scalar(select(func.count()).select_from(Event)
                           .where(Event.action == "staff.login", Event.actor_id == user_id)))


def test_one_totp_code_sent_from_two_browsers_at_once_signs_in_once(app, school, make_user,
                                                                     session):
    dsl = make_user(school=school)
    answers = race(app, dsl.email, lambda: next_code(dsl.email), "users", "totp_last_step")
    assert answers == [200, 302]
    assert sign_ins(session, dsl.id) == (1, 1)


def test_one_recovery_code_sent_from_two_browsers_at_once_signs_in_once(app, school,
                                                                         make_user, session):
    dsl = make_user(school=school)
    codes = twofactor.new_recovery_codes(session, session.get(User, dsl.id))
    session.commit()
    answers = race(app, dsl.email, lambda: codes[0], "recovery_codes", "used_at")
    assert answers == [200, 302]
    assert sign_ins(session, dsl.id) == (1, 1)
