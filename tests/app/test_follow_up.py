"""The follow-up code page: status in plain words and the report as sent."""

from __future__ import annotations

from portal.models import Report
from portal.vocabulary import Status


def test_code_shows_status_and_report(browser, school, make_report):
    _report, code = make_report(school, what_happened="Someone took my lunch money")
    response = browser.submit("/follow-up", {"code": code})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Received" in html
    assert "Someone took my lunch money" in html


def test_code_works_without_dashes_or_with_spaces(browser, school, make_report):
    _report, code = make_report(school)
    digits = code.replace("-", "")
    spaced = " ".join(digits[i:i + 4] for i in range(0, 20, 4))
    for typed in (digits, spaced):
        assert "Received" in browser.submit("/follow-up", {"code": typed}).get_data(as_text=True)


def test_status_is_shown_in_plain_words(browser, school, make_report, session):
    report, code = make_report(school)
    session.get(Report, report.id).status = Status.IN_REVIEW
    session.commit()
    html = browser.submit("/follow-up", {"code": code}).get_data(as_text=True)
    assert "Being looked at" in html


def test_staff_notes_and_names_of_others_are_never_shown_to_the_reporter(
        browser, school, make_report, make_user, session):
    from portal.models import Event
    report, code = make_report(school, who_involved="Kai from 6C")
    dsl = make_user(school=school)
    session.add(Event(school_id=school.id, report_id=report.id, actor_id=dsl.id,
                      action="note.added",
                      payload={"note": "Spoke to Kai's mum; STAFF-ONLY-MARKER"}))
    session.commit()
    html = browser.submit("/follow-up", {"code": code}).get_data(as_text=True)
    assert "STAFF-ONLY-MARKER" not in html
    assert "Kai from 6C" not in html
    assert dsl.display_name not in html
