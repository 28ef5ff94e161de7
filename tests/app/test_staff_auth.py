"""Staff sign-in: one answer for unknown and known accounts, revocable sessions, timeouts."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from portal.models import Event, StaffSession, utcnow
from tests.conftest import next_code


def test_sign_in_with_the_right_password_opens_the_queue(browser, school, make_user, session):
    dsl = make_user(school=school)
    response = browser.login(dsl.email)
    assert response.status_code == 302
    assert browser.get("/staff/").status_code == 200
    assert session.scalars(select(Event).where(Event.action == "staff.login")).one().actor_id \
        == dsl.id


def test_unknown_and_known_accounts_get_the_same_answer(browser, school, make_user):
    dsl = make_user(school=school)
    wrong = browser.login(dsl.email, "wrong-password-123")
    unknown = browser.login("nobody@school.test", "wrong-password-123")
    assert wrong.status_code == unknown.status_code == 200

    def message(response):
        html = response.get_data(as_text=True)
        html = re.sub(r'name="csrf_token"[^>]*value="[^"]*"', "", html)
        return html[html.index('<main'):].replace(dsl.email, "").replace(
            "nobody@school.test", "")

    assert message(wrong) == message(unknown)


def test_sign_in_makes_a_new_session_and_sign_out_kills_it_on_the_server(
        browser, school, make_user, session):
    dsl = make_user(school=school)
    browser.get("/staff/login")
    before = browser.client.get_cookie("tellus").value
    browser.login(dsl.email)
    during = browser.client.get_cookie("tellus").value
    assert before != during
    browser.submit("/staff/", {}, action="/staff/logout")
    assert browser.get("/staff/").status_code == 302
    # an old cookie replayed after sign-out is refused
    browser.client.set_cookie("tellus", during)
    response = browser.get("/staff/")
    assert response.status_code == 302
    assert "/staff/login" in response.headers["Location"]


def test_idle_session_must_sign_in_again(browser, school, make_user, session):
    dsl = make_user(school=school)
    browser.login(dsl.email)
    row = session.scalars(select(StaffSession)).one()
    row.last_seen_at = utcnow() - timedelta(minutes=31)
    session.commit()
    assert browser.get("/staff/").status_code == 302


def test_session_ends_after_twelve_hours_however_busy(browser, school, make_user, session):
    dsl = make_user(school=school)
    browser.login(dsl.email)
    row = session.scalars(select(StaffSession)).one()
    row.created_at = utcnow() - timedelta(hours=12, minutes=1)
    session.commit()
    assert browser.get("/staff/").status_code == 302


def test_next_parameter_cannot_send_staff_to_another_site(browser, school, make_user):
    dsl = make_user(school=school)
    browser.get("/staff/login?next=//evil.example/")
    browser.submit("/staff/login?next=//evil.example/",
                   {"email": dsl.email, "password": "correct-horse-battery-9"},
                   action="/staff/login?next=//evil.example/")
    response = browser.submit("/staff/login/code", {"otp": next_code(dsl.email)})
    assert response.headers["Location"] == "/staff/"


def test_six_bad_tries_throttle_that_account_but_not_a_colleague(browser, school, make_user):
    dsl = make_user(school=school)
    colleague = make_user(school=school)
    statuses = [browser.login(dsl.email, "wrong-password-123").status_code for _ in range(6)]
    assert statuses[-1] == 429
    assert browser.login(colleague.email).status_code == 302
