"""One child's visit never reaches the next (DESIGN.md "Nothing of one child reaches the
next"; trial findings 1 and 2), checked with the raw requests a browser's history would send.

The browser tests in tests/browser/test_shared_tablet.py press the real Back and Reload
buttons; these send the same bytes by hand, including values the client chose.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from portal.models import Report
from portal.reporting.operations import REPEAT_SECONDS
from tests.conftest import PARENT, PUPIL, Browser, followup_code, hidden_fields

NAMED = {**PUPIL, "anonymous": "no", "reporter_name": "Imogen Featherstonehaugh",
         "reporter_class": "5Q", "what_happened": "Barnaby took my lunchbox again"}
URL = "/s/oakfield/pupil"


def _count(session) -> int:
    return session.scalar(select(func.count()).select_from(Report))


def _secrets_absent(html: str, code: str) -> None:
    for secret in ("Imogen", "Featherstonehaugh", "Barnaby", "lunchbox", code):
        assert secret not in html, secret


def test_the_first_childs_form_sent_again_from_history_shows_the_next_child_nothing(
        client, school, session):
    # Given a child who sent a named report; the browser keeps the form's bytes in history
    page = client.get(URL).get_data(as_text=True)
    sent = {**hidden_fields(page, URL), **NAMED}
    done = client.post(URL, data=sent)
    code = followup_code(done.get_data(as_text=True))
    assert _count(session) == 1
    # When the next child presses Back and Reload: the same form is sent again
    again = client.post(URL, data=sent)
    html = again.get_data(as_text=True)
    # Then the form comes back empty, says why, shows no code, and stores nothing
    _secrets_absent(html, code)
    assert "This page was cleared" in html
    assert "data-followup-code" not in html
    assert _count(session) == 1
    # and pressing Send on that empty page shows nothing of the first child either
    refilled = hidden_fields(html, URL)
    assert refilled["submission"] != sent["submission"]
    _secrets_absent(client.post(URL, data=refilled).get_data(as_text=True), code)


def test_a_planted_submission_value_never_returns_the_victims_code(app, client, school,
                                                                  session):
    # Given an attacker who makes the victim's browser carry a value the attacker chose
    planted = "attacker-chosen-value-0123456789"
    attacker = Browser(app.test_client())
    fields = hidden_fields(attacker.get(URL).get_data(as_text=True), URL)
    shown = attacker.client.post(URL, data={**fields, "submission": planted,
                                            "what_happened": "x"}).get_data(as_text=True)
    # Then the server never echoes a value it did not issue to that browser
    assert planted not in shown
    victim_page = client.get(URL).get_data(as_text=True)
    victim_fields = hidden_fields(victim_page, URL)
    assert victim_fields["submission"] != planted
    # When the victim sends their report (carrying the planted value, as a hostile page
    # could make it), and the attacker later sends the same value from their own browser
    code = followup_code(client.post(URL, data={**victim_fields, **NAMED})
                         .get_data(as_text=True))
    fields = hidden_fields(attacker.get(URL).get_data(as_text=True), URL)
    later = attacker.client.post(URL, data={**fields, **PUPIL,
                                            "submission": victim_fields["submission"]})
    # Then no answer reveals the victim's code or words, and nothing more is stored
    _secrets_absent(later.get_data(as_text=True), code)
    assert _count(session) == 1


def test_a_double_click_stores_one_report_and_shows_its_code_to_that_browser(client, school,
                                                                           session):
    fields = {**hidden_fields(client.get(URL).get_data(as_text=True), URL), **PUPIL}
    cookie = client.get_cookie("tellus").value
    first = followup_code(client.post(URL, data=fields).get_data(as_text=True))
    # The second click left with the same cookie, before the first answer arrived
    client.set_cookie("tellus", cookie)
    second = client.post(URL, data=fields).get_data(as_text=True)
    assert followup_code(second) == first
    assert _count(session) == 1


def test_the_parent_form_sent_again_after_the_visit_ended_shows_nothing(client, school,
                                                                       session):
    url = "/s/oakfield/parent"
    sent = {**hidden_fields(client.get(url).get_data(as_text=True), url), **PARENT,
            "details": "Kasimir has stopped eating"}
    code = followup_code(client.post(url, data=sent).get_data(as_text=True))
    html = client.post(url, data=sent).get_data(as_text=True)
    assert "Kasimir" not in html
    assert code not in html
    assert PARENT["child_name"] not in html
    assert PARENT["contact_email"] not in html
    assert _count(session) == 1


def test_the_status_page_opens_once_per_pass(browser, school, make_report):
    _report, code = make_report(school)
    first = browser.submit("/follow-up", {"code": code})
    assert "Your report" in first.get_data(as_text=True)
    # Reload on the status page sends the same pass and code again
    fields = hidden_fields(browser.get("/follow-up").get_data(as_text=True), "/follow-up")
    assert browser.client.post("/follow-up", data={**fields, "code": code}).status_code == 200
    again = browser.client.post("/follow-up", data={**fields, "code": code})
    html = again.get_data(as_text=True)
    assert "Please type your code again" in html
    assert code not in html
    assert "Your report" not in html


def test_the_code_is_not_shown_again_after_the_visit_ended(app, browser, school, make_report):
    _report, code = make_report(school)
    fields = hidden_fields(browser.get("/follow-up").get_data(as_text=True), "/follow-up")
    browser.get("/exit")  # "I'm finished"
    browser.client.delete_cookie("tellus")
    refused = browser.client.post("/follow-up", data={**fields, "code": code})
    html = refused.get_data(as_text=True)
    assert code not in html
    assert code.replace("-", "") not in html
    assert "Your report" not in html


def test_a_copied_cookie_replayed_later_never_shows_the_code_again(app, client, school,
                                                                   session):
    # Trial: Flask's session lives in the cookie, so a copy taken before Send (a proxy, a
    # synced browser profile) still names the visit after the report emptied it.
    fields = {**hidden_fields(client.get(URL).get_data(as_text=True), URL), **NAMED}
    copied = client.get_cookie("tellus").value
    code = followup_code(client.post(URL, data=fields).get_data(as_text=True))
    report = session.scalars(select(Report)).one()
    # When the copy is replayed, with the same form, once a double click is long over
    report.created_at = report.created_at - timedelta(seconds=REPEAT_SECONDS + 1)
    session.commit()
    other = app.test_client()
    other.set_cookie("tellus", copied)
    html = other.post(URL, data=fields).get_data(as_text=True)
    # Then neither the code nor anything the child chose comes back
    _secrets_absent(html, code)
    assert "data-followup-code" not in html
    assert _count(session) == 1
