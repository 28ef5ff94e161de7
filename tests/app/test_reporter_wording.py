"""What reporters stumbled on in the trial (issue 12): the words and times they read."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from PIL import Image
from sqlalchemy import select

from portal.models import Message, Report, Sender
from portal.vocabulary import Status
from tests.conftest import PARENT, PUPIL, hidden_fields

CHILD_PHRASES = ("keep your name secret", "tell an adult", "If other people use this tablet",
                 "I'm finished", "I&#39;m finished")


def status_page(browser, code: str) -> str:
    return browser.submit("/follow-up", {"code": code}).get_data(as_text=True)


def photo(colour: tuple[int, int, int]) -> bytes:
    """A phone-sized picture (2016x1512 JPEG), as a child's photo of a screen would be."""
    out = io.BytesIO()
    shade = Image.linear_gradient("L").resize((2016, 1512))
    Image.merge("RGB", [shade.point(lambda v, c=c: (v + c) % 256) for c in colour]).save(
        out, "JPEG", quality=85)
    return out.getvalue()


def send_with_files(browser, form: str, files: list[tuple[str, bytes]], **fields):
    url = f"/s/oakfield/{form}"
    data = {**hidden_fields(browser.get(url).get_data(as_text=True), url),
            **(PUPIL if form == "pupil" else PARENT), **fields}
    data["evidence"] = [(io.BytesIO(content), name) for name, content in files]
    return browser.client.post(url, data=data, content_type="multipart/form-data")


# 1. One true sentence about whether the report has been read.

def test_an_acknowledged_parent_report_no_longer_says_nobody_has_read_it(
        browser, school, make_report, session):
    report, code = make_report(school, source="parent")
    stored = session.get(Report, report.id)
    stored.acknowledged_at = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    session.commit()
    html = status_page(browser, code)
    assert "Nobody has read it yet" not in html
    assert "read your concern on 24 November 2026" in html


def test_an_unread_report_says_so_once(browser, school, make_report):
    _report, code = make_report(school, source="parent")
    html = status_page(browser, code)
    assert html.count("Nobody has read it yet.") == 1
    assert " read your " not in html


def test_a_report_being_looked_at_before_it_is_acknowledged_says_only_that(
        browser, school, make_report, session):
    report, code = make_report(school)
    session.get(Report, report.id).status = Status.IN_REVIEW
    session.commit()
    html = status_page(browser, code)
    assert "An adult at school is looking at your report." in html
    assert "No adult has read it yet" not in html
    assert " read your report on" not in html


# 3. A closed report, as a child reads it, ends without contradicting the last message.

def test_a_closed_report_points_the_child_to_the_last_message(
        browser, school, make_report, session):
    report, code = make_report(school)
    stored = session.get(Report, report.id)
    session.add(Message(report_id=report.id, sender=Sender.STAFF,
                        body="Thank you. Mrs Patel will come and find you in the morning."))
    stored.status = Status.CLOSED
    stored.acknowledged_at = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    session.commit()
    html = status_page(browser, code)
    assert "will come and find you in the morning" in html
    assert "Closed" not in html
    assert "finished looking" not in html
    assert "Read the last message from the school to see what happens next." in html


# 4. The confirmation says the pictures arrived.

def test_the_pupil_confirmation_says_how_many_pictures_arrived(browser, school, session):
    response = send_with_files(browser, "pupil", [("IMG_0001.jpg", photo((200, 30, 30))),
                                                  ("IMG_0002.jpg", photo((30, 30, 200)))])
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert len(session.scalars(select(Report)).one().evidence) == 2
    assert "We got your 2 pictures." in html


def test_the_parent_confirmation_says_how_many_files_arrived(browser, school):
    response = send_with_files(browser, "parent", [("screenshot.jpg", photo((0, 90, 0)))])
    assert "We received your 1 file." in response.get_data(as_text=True)


def test_no_files_no_sentence_about_them(browser, school):
    html = browser.submit("/s/oakfield/pupil", PUPIL).get_data(as_text=True)
    assert "We got your" not in html


# 10. A parent ticks every concern that applies.

def test_a_parent_can_choose_several_concerns(browser, school, session):
    response = browser.submit("/s/oakfield/parent", {
        **PARENT, "concern": ["school_refusal", "behaviour_change", "online"]})
    assert response.status_code == 200
    report = session.scalars(select(Report)).one()
    # Every code kept, in the form's order, in the same column.
    assert report.concern == "behaviour_change,school_refusal,online"
    assert report.kind_values == ["online"]  # the urgency rules still see "online"


def test_every_concern_at_once_is_stored(browser, school, session):
    everything = ["bullying", "behaviour_change", "school_refusal", "online", "other"]
    response = browser.submit("/s/oakfield/parent", {**PARENT, "concern": everything})
    assert response.status_code == 200
    assert session.scalars(select(Report)).one().concern == ",".join(everything)


def test_the_parent_form_offers_concerns_as_checkboxes(browser, school):
    html = browser.get("/s/oakfield/parent").get_data(as_text=True)
    assert 'name="concern" type="checkbox" value="school_refusal"' in html
    assert 'name="concern" type="radio"' not in html


def test_no_concern_ticked_is_a_clear_message_and_keeps_the_words(browser, school, session):
    response = browser.submit("/s/oakfield/parent", {**PARENT, "concern": []})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Choose what your concern is about." in html
    assert PARENT["details"] in html
    assert session.scalars(select(Report)).first() is None


def test_the_dsl_and_the_parent_read_every_concern(browser, school, make_report, make_user,
                                                   session):
    report, code = make_report(school, source="parent",
                               concern=["behaviour_change", "school_refusal"])
    html = status_page(browser, code)
    assert "A change in my child&#39;s behaviour, My child doesn&#39;t want to come to school" \
        in html
    dsl = make_user(school=school)
    browser.login(dsl.email)
    case = browser.get(f"/staff/cases/{report.id}").get_data(as_text=True)
    assert "My child doesn&#39;t want to come to school" in case
    queue = browser.get("/staff/").get_data(as_text=True)
    assert "A change in my child&#39;s behaviour" in queue


# 12. UK local time on the follow-up page.

def test_follow_up_times_are_uk_local_time(browser, school, make_report, session):
    report, code = make_report(school)
    stored = session.get(Report, report.id)
    # 23:30 UTC on 1 July is 00:30 on 2 July in the UK (British Summer Time).
    stored.created_at = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)
    session.add(Message(report_id=report.id, sender=Sender.STAFF, body="Hello",
                        created_at=datetime(2026, 7, 1, 23, 30, tzinfo=UTC)))
    session.commit()
    html = status_page(browser, code)
    assert "2 July 2026, 00:30" in html
    assert "<dd><time datetime=\"2026-07-01T23:30:00+00:00\">2 July 2026</time></dd>" in html
    assert "23:30" not in html.replace("T23:30:00", "")


def test_winter_times_are_gmt(browser, school, make_report, session):
    report, code = make_report(school)
    session.add(Message(report_id=report.id, sender=Sender.STAFF, body="Hello",
                        created_at=datetime(2026, 12, 1, 16, 5, tzinfo=UTC)))
    session.commit()
    assert "1 December 2026, 16:05" in status_page(browser, code)


# 17. Parents read adult words.

def assert_adult_words(html: str) -> None:
    for phrase in CHILD_PHRASES:
        assert phrase not in html, phrase
    assert "If this is a shared device" in html
    assert "If a child is in danger now, call 999" in html


def test_the_parent_form_uses_adult_words(browser, school):
    assert_adult_words(browser.get("/s/oakfield/parent").get_data(as_text=True))


def test_the_parent_confirmation_uses_adult_words(browser, school):
    assert_adult_words(browser.submit("/s/oakfield/parent", PARENT).get_data(as_text=True))


def test_the_follow_up_page_of_a_parent_report_uses_adult_words(browser, school, make_report):
    _report, code = make_report(school, source="parent")
    assert_adult_words(status_page(browser, code))


def test_pupil_pages_keep_the_childrens_words(browser, school, make_report):
    _report, code = make_report(school)
    html = status_page(browser, code)
    assert "If other people use this tablet" in html
    assert "tell an adult straight away" in html
    assert "If this is a shared device" not in html
