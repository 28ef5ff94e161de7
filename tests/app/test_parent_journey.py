"""Journey 2: a parent or carer reports a concern from home."""

from __future__ import annotations

from sqlalchemy import select

from portal.models import Report
from portal.vocabulary import Source
from tests.conftest import PARENT, followup_code


def test_parent_report_is_stored_with_contact_details_and_a_code(browser, school, session):
    response = browser.submit("/s/oakfield/parent", PARENT)
    assert response.status_code == 200
    code = followup_code(response.get_data(as_text=True))
    report = session.scalars(select(Report)).one()
    assert report.source == Source.PARENT
    assert (report.child_name, report.child_year, report.concern) == (
        "Sam Taylor", "Year 5", "behaviour_change")
    assert report.body == PARENT["details"]
    assert (report.parent_name, report.contact_email, report.contact_preference) == (
        "Alex Taylor", "alex@example.org", "email")
    assert report.anonymous is False
    assert len(code.replace("-", "")) == 20


def test_online_concern_is_filed_under_the_online_kind(browser, school, session):
    browser.submit("/s/oakfield/parent", {**PARENT, "concern": "online"})
    assert session.scalars(select(Report)).one().kind_values == ["online"]


def test_parent_must_leave_a_way_to_be_contacted(browser, school, session):
    response = browser.submit("/s/oakfield/parent",
                              {**PARENT, "contact_email": "", "contact_phone": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Enter an email address or a phone number" in html
    assert PARENT["details"] in html  # what they typed is still there
    assert session.scalars(select(Report)).first() is None


def test_phone_preference_needs_a_phone_number(browser, school):
    response = browser.submit("/s/oakfield/parent", {**PARENT, "contact_preference": "phone"})
    assert response.status_code == 400
    assert "Enter a phone number if you would like us to phone you" in response.get_data(
        as_text=True)


def test_phone_only_contact_is_accepted(browser, school, session):
    response = browser.submit("/s/oakfield/parent", {
        **PARENT, "contact_email": "", "contact_phone": "01632 960 123",
        "contact_preference": "phone"})
    assert response.status_code == 200
    assert session.scalars(select(Report)).one().contact_phone == "01632 960 123"


# --- Issue 12 item 16: a school offers only its own year groups -------------------------

SENIOR_YEARS = [f"Year {n}" for n in range(7, 14)]
PRIMARY_YEARS = ["Reception"] + [f"Year {n}" for n in range(1, 7)]


def _offered_years(html: str) -> list[str]:
    import re

    select = re.search(r'<select[^>]*name="child_year".*?</select>', html, re.S)
    assert select, "no year group list on the parent form"
    return [v for v in re.findall(r'<option[^>]*value="([^"]*)"', select.group(0)) if v]


def test_a_secondary_schools_parent_form_offers_years_7_to_13_only(client, school, session):
    school.phase = "secondary"
    session.commit()
    years = _offered_years(client.get("/s/oakfield/parent").get_data(as_text=True))
    assert years == SENIOR_YEARS


def test_a_primary_schools_parent_form_offers_no_senior_year(client, school, session):
    school.phase = "primary"
    session.commit()
    years = _offered_years(client.get("/s/oakfield/parent").get_data(as_text=True))
    assert set(PRIMARY_YEARS) <= set(years)
    assert not set(years) & set(SENIOR_YEARS)


def test_a_school_made_before_phases_still_offers_every_year(client, school):
    years = _offered_years(client.get("/s/oakfield/parent").get_data(as_text=True))
    assert set(PRIMARY_YEARS + SENIOR_YEARS) <= set(years)


def test_a_hand_made_post_with_a_year_the_school_does_not_have_is_refused(
        browser, school, session):
    school.phase = "primary"
    session.commit()
    response = browser.submit("/s/oakfield/parent", {**PARENT, "child_year": "Year 9"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Choose a year group this school has (Nursery to Year 6)." in html
    assert "Not a valid choice" not in html
    assert PARENT["details"] in html
    assert PARENT["child_name"] in html
    assert session.scalars(select(Report)).first() is None
