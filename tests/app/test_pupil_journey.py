"""Journey 1: a pupil on a shared tablet reports, gets a code and advice."""

from __future__ import annotations

from sqlalchemy import select

from portal.models import Event, Report
from portal.vocabulary import Category, Source, Status
from tests.conftest import PUPIL, followup_code


def test_anonymous_pupil_report_is_stored_and_shows_code_and_advice(browser, school, session):
    # Given a pupil on the school's tablet
    # When they report name-calling anonymously
    response = browser.submit("/s/oakfield/pupil", PUPIL)
    # Then the report is stored as an Allegation of Bullying with no name
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    code = followup_code(html)
    assert len(code.replace("-", "")) == 20
    report = session.scalars(select(Report)).one()
    assert report.source == Source.PUPIL
    assert report.status == Status.NEW
    assert report.category == Category.ALLEGATION
    assert report.anonymous is True
    assert report.reporter_name == ""
    assert report.kind_values == ["verbal"]
    assert report.places == ["lunch_hall"]
    assert report.people_involved == "Two children from Year 5"
    # and the page says they were right to tell (cyber policy 8.1)
    assert "You were right to tell us" in html
    assert "Please go to an adult now" not in html
    # and the code is not stored, only its hash
    assert code.replace("-", "") not in (report.followup_code_hash or "")
    # and the record holds its arrival and the checklists the policy attached, nothing else
    assert [e.action for e in session.scalars(select(Event).where(
        Event.report_id == report.id).order_by(Event.id))] == [
        "report.received", "checklist.added"]


def test_named_report_keeps_name_and_class(browser, school, session):
    response = browser.submit("/s/oakfield/pupil", {
        **PUPIL, "anonymous": "no", "reporter_name": "Jo Bloggs", "reporter_class": "5B",
    })
    assert response.status_code == 200
    report = session.scalars(select(Report)).one()
    assert (report.anonymous, report.reporter_name, report.reporter_class) == (
        False, "Jo Bloggs", "5B")


def test_name_typed_but_anonymous_chosen_is_not_kept(browser, school, session):
    browser.submit("/s/oakfield/pupil", {**PUPIL, "reporter_name": "Jo Bloggs"})
    assert session.scalars(select(Report)).one().reporter_name == ""


def test_not_feeling_safe_is_urgent_and_tells_the_child_to_go_to_an_adult(
        browser, school, session):
    adult_id = str(school.trusted_adults[0].id)
    response = browser.submit("/s/oakfield/pupil",
                              {**PUPIL, "feels_safe": "no", "adult": adult_id})
    html = response.get_data(as_text=True)
    assert "Please go to an adult now" in html
    assert "Mrs Patel" in html
    report = session.scalars(select(Report)).one()
    assert report.urgency >= 100
    assert "not_safe" in report.reason_codes
    assert report.preferred_adult == "Mrs Patel"


def test_online_bullying_gets_the_cyber_policy_advice(browser, school):
    response = browser.submit("/s/oakfield/pupil", {**PUPIL, "kinds": ["online"]})
    html = response.get_data(as_text=True)
    assert "Do not reply to the messages" in html  # cyber policy 4.1
    assert "Keep the messages" in html  # cyber policy 8.1: keep the evidence
    assert "block" in html


def test_a_young_child_may_tick_a_picture_without_writing(browser, school, session):
    response = browser.submit("/s/oakfield/pupil",
                              {**PUPIL, "what_happened": "", "kinds": ["physical"]})
    assert response.status_code == 200
    assert session.scalars(select(Report)).one().body == ""


def test_the_form_asks_every_question_of_journey_one(browser, school):
    html = browser.get("/s/oakfield/pupil").get_data(as_text=True)
    for name in ("about", "kinds", "what_happened", "places", "when", "happened_before",
                 "who_involved", "feels_safe", "anonymous", "reporter_name",
                 "reporter_class", "adult", "csrf_token"):
        assert f'name="{name}"' in html, name
    assert "Do you feel safe right now?" in html
    assert "Mrs Patel" in html
    assert "Any adult at school" in html
    assert 'autocomplete="off"' in html


def test_pupil_and_parent_shortcuts_redirect_when_there_is_one_school(client, school):
    assert client.get("/pupil").headers["Location"].endswith("/s/oakfield/pupil")
    assert client.get("/parent").headers["Location"].endswith("/s/oakfield/parent")


def test_with_several_schools_the_shortcut_asks_which(client, make_school, school):
    make_school("elmwood", "Elmwood Academy")
    html = client.get("/pupil").get_data(as_text=True)
    assert "/s/elmwood/pupil" in html
    assert "/s/oakfield/pupil" in html


def test_the_same_form_sent_twice_stores_one_report_and_shows_the_same_code(
        client, school, session):
    from tests.conftest import hidden_fields
    page = client.get("/s/oakfield/pupil").get_data(as_text=True)
    fields = {**hidden_fields(page, "/s/oakfield/pupil"), **PUPIL}
    cookie = client.get_cookie("tellus").value
    first = client.post("/s/oakfield/pupil", data=fields)
    # A double click sends the second POST with the same cookie as the first.
    client.set_cookie("tellus", cookie)
    second = client.post("/s/oakfield/pupil", data=fields)
    assert followup_code(first.get_data(as_text=True)) == followup_code(
        second.get_data(as_text=True))
    assert len(session.scalars(select(Report)).all()) == 1


def test_no_report_data_in_urls_or_cookie(browser, school, app):
    response = browser.submit("/s/oakfield/pupil", PUPIL)
    assert response.status_code == 200
    assert "Location" not in response.headers
    cookie = browser.client.get_cookie("tellus")
    if cookie is not None:
        serializer = app.session_interface.get_signing_serializer(app)
        assert set(serializer.loads(cookie.value)) <= {"csrf_token"}


def test_words_of_harm_make_a_report_urgent_and_say_why(browser, school, session):
    browser.submit("/s/oakfield/pupil", {**PUPIL, "what_happened": "he said hes gonna kill me"})
    report = session.scalars(select(Report)).one()
    assert report.urgency >= 100
    assert "threat_to_hurt" in report.reason_codes
    # which entries of the threats list matched are kept with it (encrypted)
    assert {"code": "threat_to_hurt", "matched": ["kill me", "gonna kill"]} \
        in report.urgency_reasons
