"""What a DSL reads when the case page's forms are refused (a tester's findings on the
rebuilt case page): an ended session, a CSRF token from an expired page or another browser,
a body over the request cap, a stale second tab, several problems in one checklist save, and
an Acknowledge pressed after a colleague's. Staff pages never show the pupil's error page
("Leave this page quickly", Childline, "Everything you wrote is still here")."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from portal.errors import STAFF_CSRF_MESSAGE
from portal.models import Event, ItemState, StaffSession, utcnow
from tests.app.test_case_page_forms import checklist_post, events, steps
from tests.conftest import PASSWORD, hidden_fields, next_code

PUPIL_WORDS = ("Leave this page quickly", "Childline", "Everything you wrote is still here")


@pytest.fixture
def case(browser, dsl, school, make_report):
    """A report the DSL has acknowledged, so its checklist steps are stored."""
    report, _ = make_report(school)
    page = f"/staff/cases/{report.id}"
    assert browser.submit(page, {}, action=f"{page}/acknowledge").status_code == 302
    return report


def assert_staff_page(html: str) -> None:
    """The staff layout and words: nothing addressed to a pupil."""
    assert "staff-header" in html
    for words in PUPIL_WORDS:
        assert words not in html, words


def notes(session, report_id):
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Event).where(
        Event.report_id == report_id, Event.action == "note.added"))


# --- 1. The session ended while the page was open ------------------------------------------


def test_a_form_sent_after_the_session_ended_signs_in_back_to_the_case_page(
        browser, case, dsl, session):
    page = f"/staff/cases/{case.id}"
    fields = hidden_fields(browser.get(page).get_data(as_text=True), f"{page}/notes")
    # Given the DSL's session ends (idle) while the case page is open
    row = session.scalars(select(StaffSession)).one()
    row.last_seen_at = utcnow() - timedelta(minutes=31)
    session.commit()
    # When they add a note from that page
    sent = browser.client.post(f"{page}/notes", data={**fields, "note": "Spoke to mum."})
    # Then they are asked to sign in, and sign-in leads back to the case page (a page that
    # opens with GET), not to the note's address (which answers a GET with 405)
    assert sent.status_code == 302
    login = sent.headers["Location"]
    assert urlsplit(login).path == "/staff/login"
    assert parse_qs(urlsplit(login).query)["next"] == [page]
    assert notes(session, case.id) == 0
    signed = browser.submit(login, {"email": dsl.email, "password": PASSWORD},
                            action=f"/staff/login?{urlsplit(login).query}")
    assert signed.headers["Location"].endswith("/staff/login/code")
    done = browser.submit("/staff/login/code", {"otp": next_code(dsl.email)})
    assert done.headers["Location"] == page
    assert browser.get(done.headers["Location"]).status_code == 200


def test_a_non_case_form_sent_signed_out_signs_in_to_the_staff_home(client):
    token = hidden_fields(client.get("/staff/login").get_data(as_text=True))["csrf_token"]
    sent = client.post("/staff/concerns/new", data={"csrf_token": token, "told_by": "Sam"})
    assert sent.status_code == 302
    assert parse_qs(urlsplit(sent.headers["Location"]).query)["next"] == ["/staff/"]


# --- 2. A CSRF token refused on a staff form -------------------------------------------------


def foreign_token(app) -> str:
    """A CSRF token another browser was given (valid there, not here)."""
    other: FlaskClient = app.test_client()
    return hidden_fields(other.get("/staff/login").get_data(as_text=True))["csrf_token"]


@pytest.mark.parametrize("token", ["foreign", "missing", "garbled"])
@pytest.mark.parametrize(("path", "data", "typed", "card"), [
    ("notes", {"note": "Spoke to mum after school."}, "Spoke to mum after school.</textarea>",
     'id="note-card"'),
    ("messages", {"message": "Thank you for telling us."},
     "Thank you for telling us.</textarea>", 'id="messages"'),
    ("decision", {"category": "bullying_incident", "reason": "Seen on camera twice."},
     "Seen on camera twice.</textarea>", 'id="decision-card"'),
])
def test_a_refused_csrf_token_shows_the_case_page_again_with_what_was_typed(
        token, path, data, typed, card, app, browser, case, session):
    page = f"/staff/cases/{case.id}"
    fields = hidden_fields(browser.get(page).get_data(as_text=True), f"{page}/{path}")
    if token == "foreign":
        fields["csrf_token"] = foreign_token(app)
    elif token == "garbled":
        fields["csrf_token"] = "x" * 40
    else:
        del fields["csrf_token"]
    before = session.scalar(select(func.count()).select_from(Event))
    refused = browser.client.post(f"{page}/{path}", data={**fields, **data})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert f'data-case-page="{case.id}"' in html
    assert_staff_page(html)
    assert typed in html
    # the message is in the card of the form that was sent
    assert STAFF_CSRF_MESSAGE in html[html.index(card):]
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Event)) == before  # nothing saved


def test_a_refused_csrf_token_on_the_checklist_keeps_every_step_typed(app, browser, case,
                                                                     session):
    page = f"/staff/cases/{case.id}"
    data = checklist_post(session, case, {0: ("done", "Checked at break"),
                                          1: ("not_needed", "")})
    fields = hidden_fields(browser.get(page).get_data(as_text=True), f"{page}/steps")
    refused = browser.client.post(f"{page}/steps", data={**fields, **data,
                                                         "csrf_token": foreign_token(app)})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert_staff_page(html)
    assert STAFF_CSRF_MESSAGE in html[html.index('id="steps-form"'):]
    first, second = steps(session, case.id)[:2]
    assert re.search(rf'id="s{first.id}-done"[^>]* checked', html)
    assert re.search(rf'id="s{second.id}-not_needed"[^>]* checked', html)
    assert "Checked at break</textarea>" in html
    assert events(session, case.id, "step.updated") == 0


def test_a_form_sent_after_signing_out_in_another_tab_asks_for_sign_in(
        browser, case, dsl, session):
    """A trial found "press the button again" for ever: signing out (in another tab) takes
    the token's secret with the session, so the token failed before the sign-in check.
    Signed out, a staff form asks for sign-in, leading back to the case page."""
    page = f"/staff/cases/{case.id}"
    fields = hidden_fields(browser.get(page).get_data(as_text=True), f"{page}/notes")
    assert browser.submit("/staff/", {}, action="/staff/logout").status_code == 302
    sent = browser.client.post(f"{page}/notes", data={**fields, "note": "Spoke to mum."})
    assert sent.status_code == 302
    login = sent.headers["Location"]
    assert urlsplit(login).path == "/staff/login"
    assert parse_qs(urlsplit(login).query)["next"] == [page]
    assert notes(session, case.id) == 0


def test_a_refused_csrf_token_on_the_sign_in_form_gets_the_staff_error_page(app, client):
    """The sign-in form itself needs nobody signed in: a refused token there is the staff
    400 page, never a loop back to the same form or the pupil's page."""
    refused = client.post("/staff/login", data={"csrf_token": foreign_token(app),
                                                "email": "someone@oakfield.test",
                                                "password": "not the password"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    for words in PUPIL_WORDS:
        assert words not in html, words


def test_a_refused_add_checklist_keeps_the_checklist_chosen(app, browser, case):
    page = f"/staff/cases/{case.id}"
    fields = hidden_fields(browser.get(page).get_data(as_text=True), f"{page}/checklists")
    refused = browser.client.post(f"{page}/checklists", data={
        **fields, "csrf_token": foreign_token(app), "checklist": "malicious"})
    assert refused.status_code == 400
    assert '<option value="malicious" selected>' in refused.get_data(as_text=True)


@pytest.mark.parametrize("status", [404, 405])
def test_staff_error_pages_use_the_staff_layout(status, browser, case):
    page = f"/staff/cases/{case.id}"
    response = browser.get("/staff/cases/999999") if status == 404 \
        else browser.get(f"{page}/notes")
    html = response.get_data(as_text=True)
    assert response.status_code == status
    assert_staff_page(html)
    if status == 405:  # a case form's address opened with GET links back to the case
        assert f'href="{page}"' in html


# --- 3. A body over the request cap ----------------------------------------------------------


def test_a_note_over_the_request_cap_gets_a_staff_413_page_saying_it_was_not_saved(
        app, browser, case, session):
    page = f"/staff/cases/{case.id}"
    html = browser.get(page).get_data(as_text=True)
    # the cap the server uses is on the page for case.js
    assert f'data-max-body="{app.config["MAX_CONTENT_LENGTH"]}"' in html
    fields = hidden_fields(html, f"{page}/notes")
    refused = browser.client.post(f"{page}/notes", data={**fields, "note": "x" * 1_200_000})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 413
    assert_staff_page(text)
    assert "Nothing was saved" in text
    assert "the text you typed was not kept" in text
    assert f'href="{page}"' in text  # back to the case
    assert notes(session, case.id) == 0


# --- 4. A stale second tab -------------------------------------------------------------------


def test_a_stale_tab_cannot_overwrite_a_colleagues_answer_to_the_same_step(browser, case,
                                                                          session):
    page = f"/staff/cases/{case.id}"
    # Given tabs A and C opened on the case (every step open)
    tab_c = checklist_post(session, case, {0: ("done", "")})
    tab_a = checklist_post(session, case, {0: ("not_needed", "A says not needed")})
    # When A marks the first step "Not needed" and saves
    assert browser.submit(page, tab_a, action=f"{page}/steps").status_code == 302
    # and C, not reloaded, marks the same step "Done" and saves
    refused = browser.submit(page, tab_c, action=f"{page}/steps")
    html = refused.get_data(as_text=True)
    # Then C's save is refused and says what the step says now
    assert refused.status_code == 400
    assert ("A colleague changed this step since you opened the page (now: Not needed, "
            "‘A says not needed’). Check it, then save again.") in html
    first = steps(session, case.id)[0]
    assert (first.state, first.note) == (ItemState.NOT_NEEDED, "A says not needed")
    assert events(session, case.id, "step.updated") == 1
    # the page shows the stored answer, and what C chose is still chosen
    assert re.search(rf'id="step-{first.id}".*?Not needed</span>', html, re.S)
    assert re.search(rf'id="s{first.id}-done"[^>]* checked', html)
    # Saving again from the page now shown replaces it: C has seen A's answer
    again = checklist_post(session, case, {0: ("done", "")})
    assert browser.submit(page, again, action=f"{page}/steps").status_code == 302
    assert steps(session, case.id)[0].state == ItemState.DONE


# --- 5. Every problem in one round -----------------------------------------------------------


def test_a_refused_checklist_reports_every_problem_in_one_round(browser, case, session):
    page = f"/staff/cases/{case.id}"
    first, second = steps(session, case.id)[:2]
    assert second.required
    data = checklist_post(session, case, {0: ("done", "x" * 2001), 1: ("not_needed", "")})
    refused = browser.submit(page, data, action=f"{page}/steps")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert f'id="step-{first.id}-error"' in html
    assert "Keep the note to 2000 characters or fewer." in html
    assert f'id="step-{second.id}-error"' in html
    assert "Write why this step is not needed." in html
    assert events(session, case.id, "step.updated") == 0


# --- 6. Acknowledge pressed in a stale tab ---------------------------------------------------


def test_acknowledge_from_a_stale_tab_says_who_acknowledged_and_when(browser, case, dsl,
                                                                    session):
    page = f"/staff/cases/{case.id}"
    html = browser.get(page).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    # the case was acknowledged (the fixture); the stale tab still shows the button
    pressed = browser.client.post(f"{page}/acknowledge", data={"csrf_token": token})
    assert pressed.status_code == 302
    shown = browser.get(page).get_data(as_text=True)
    assert re.search(rf"Already acknowledged by {re.escape(dsl.name)} at \d\d \w{{3}} \d{{4}} "
                     r"\d\d:\d\d (GMT|BST)\.", shown)
    assert events(session, case.id, "case.acknowledged") == 1
