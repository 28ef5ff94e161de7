"""A shared tablet under Back, Forward, Reload and Send (DESIGN.md, "Nothing of one child
reaches the next"; SECURITY.md P4).

Written the way a trial found it: one child sends a named report, then the next child on the
same tablet presses Back, Reload (which makes Chromium send the first child's form again),
Forward and Send. Whatever they press, they never see the first child's words, name, class or
follow-up code, and never reach the first child's conversation; and the child who is typing
still gets their own words back within their own visit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from portal import kiosk
from portal.models import School, User
from tests.browser.conftest import DSL_EMAIL, SCHOOL, LiveServer, PupilOnTablet

NAME, KLASS = "Imogen Featherstonehaugh", "Class Quillfeather"
WORDS = "Barnaby keeps taking my lunchbox behind the sports hall"
REPLY = "Thank you Imogen, Mrs Okafor will come and find you in the morning."


def _nothing_of_the_first_child(pupil: PupilOnTablet, code: str) -> None:
    seen = pupil.text() + pupil.page.content()
    for secret in (NAME, "Featherstonehaugh", WORDS, "lunchbox", KLASS, code, REPLY,
                   "Mrs Okafor"):
        assert secret not in seen, f"the next child can see {secret!r} at {pupil.page.url}"
    assert pupil.page.locator("[data-followup-code]").count() == 0


def _press(pupil: PupilOnTablet, action: Callable[[], Any]) -> None:
    """Press a browser button; an error page ("Confirm form resubmission") is fine."""
    try:
        action()
    except Exception as error:  # noqa: BLE001 - Chromium refuses some history moves
        if "ERR_CACHE_MISS" not in str(error) and "net::" not in str(error):
            raise
    pupil.page.wait_for_load_state()


def _every_button(pupil: PupilOnTablet, code: str) -> None:
    """The next child presses Back, Reload, Forward and Reload again, several times, and
    Send on whatever form is showing; after every press nothing of the first child shows."""
    page = pupil.page
    for _ in range(3):
        _press(pupil, lambda: page.go_back(wait_until="load"))
        _nothing_of_the_first_child(pupil, code)
        _press(pupil, lambda: page.reload(wait_until="load"))
        _nothing_of_the_first_child(pupil, code)
    for _ in range(3):
        _press(pupil, lambda: page.go_forward(wait_until="load"))
        _nothing_of_the_first_child(pupil, code)
        _press(pupil, lambda: page.reload(wait_until="load"))
        _nothing_of_the_first_child(pupil, code)
    send = page.get_by_role("button", name="Send to the school")
    if send.count():
        send.click()
        page.wait_for_load_state()
        _nothing_of_the_first_child(pupil, code)


def _first_child_reports(pupil: PupilOnTablet) -> str:
    """A named report, sent after one mistake (the form comes back with an error once)."""
    pupil.open_form()
    pupil.choose("Who is it happening to?", "It's happening to me")
    pupil.page.get_by_label("Tell us what happened").fill(WORDS)
    pupil.choose("Do you want to tell us your name?", "Yes, I will tell you my name")
    pupil.page.get_by_label("Your name", exact=True).fill(NAME)
    pupil.page.get_by_label("Your class", exact=True).fill(KLASS)
    pupil.page.get_by_role("button", name="Send to the school").click()
    # Forgot "Do you feel safe?": the form comes back with the child's own words kept
    pupil.page.locator("[data-error-summary]").wait_for()
    assert pupil.page.get_by_label("Tell us what happened").input_value() == WORDS
    assert pupil.page.get_by_label("Your name", exact=True).input_value() == NAME
    pupil.choose("Do you feel safe right now?", "Yes")
    return pupil.send()


@pytest.fixture
def tablet(new_context: Callable[..., Any]) -> Any:
    return new_context(viewport=PupilOnTablet.VIEWPORT, has_touch=True)


def test_back_reload_and_send_after_a_named_report_show_the_next_child_nothing(
        tablet: Any, live_server: LiveServer) -> None:
    # Given a child who sent a named report on the shared tablet and walked away
    first = PupilOnTablet(tablet.new_page())
    code = _first_child_reports(first)
    stored = len(live_server.reports())

    # When the next child presses Back, Reload, Forward and Send in the same tab
    # Then they never see the first child's words, name, class or code
    _every_button(first, code)
    # and no second copy of the first child's report was stored
    assert len(live_server.reports()) == stored


def test_after_i_am_finished_back_and_reload_show_nothing(
        tablet: Any, live_server: LiveServer) -> None:
    first = PupilOnTablet(tablet.new_page())
    code = _first_child_reports(first)
    # When the child presses "I'm finished" (the quick exit) and the next child takes over
    _press(first, lambda: first.page.get_by_role("link", name="I'm finished").click())
    _every_button(first, code)


def test_an_enrolled_kiosk_after_its_reset_shows_the_next_child_nothing(
        tablet: Any, live_server: LiveServer) -> None:
    # Given an enrolled kiosk tablet
    with live_server.db() as db:
        school = db.scalars(select(School).where(School.slug == SCHOOL)).one()
        dsl = db.scalars(select(User).where(User.email == DSL_EMAIL)).one()
        _device, cookie = kiosk.enrol(db, school, actor=dsl, label="Corridor iPad",
                                      secret_key=live_server.app.config["SECRET_KEY"])
        db.commit()
    tablet.add_cookies([{"name": kiosk.COOKIE, "value": cookie, "url": live_server.url,
                         "httpOnly": True, "sameSite": "Strict"}])
    first = PupilOnTablet(tablet.new_page())
    code = _first_child_reports(first)
    # When the child presses "I'm finished" and the tablet resets itself
    first.page.get_by_role("link", name="I'm finished").click()
    first.page.get_by_role("heading", name="Tell us what happened").wait_for()
    # Then whatever the next child presses shows nothing of the first child
    _every_button(first, code)
    # and the tablet is still enrolled
    assert any(c["name"] == kiosk.COOKIE for c in tablet.cookies())


def test_the_follow_up_page_after_back_and_reload_shows_nothing(
        tablet: Any, live_server: LiveServer) -> None:
    # Given a child who sent a report, got an answer from the school, and read it
    first = PupilOnTablet(tablet.new_page())
    code = _first_child_reports(first)
    report_id = live_server.reports()[-1].id
    live_server.add_message(report_id, REPLY)
    first.check_code(code)
    assert REPLY in first.text()
    # and then pressed "I'm finished"
    _press(first, lambda: first.page.get_by_role("link", name="I'm finished").click())
    # When the next child presses Back, Reload and Forward
    # Then they see neither the status nor the messages nor the code
    _every_button(first, code)


def test_the_follow_up_page_left_open_cannot_be_reloaded_by_the_next_child(
        tablet: Any, live_server: LiveServer) -> None:
    first = PupilOnTablet(tablet.new_page())
    code = _first_child_reports(first)
    live_server.add_message(live_server.reports()[-1].id, REPLY)
    first.check_code(code)
    # When the child walks away from the status page and the next child presses Reload
    _press(first, lambda: first.page.reload(wait_until="load"))
    # Then the status and messages are gone: the code has to be typed again
    _nothing_of_the_first_child(first, code)
    assert first.page.get_by_role("button", name="Show my report").count() == 1
    _every_button(first, code)


def test_the_child_who_is_typing_keeps_their_words_when_the_page_is_refused(
        tablet: Any, live_server: LiveServer) -> None:
    # Given a child whose form came back once with an error
    pupil = PupilOnTablet(tablet.new_page())
    pupil.open_form()
    pupil.page.get_by_label("Tell us what happened").fill(WORDS)
    pupil.page.get_by_role("button", name="Send to the school").click()
    pupil.page.locator("[data-error-summary]").wait_for()
    # When they press Reload themselves (Chromium sends their form again)
    _press(pupil, lambda: pupil.page.reload(wait_until="load"))
    # Then their own words are still there: it is still their visit
    assert pupil.page.get_by_label("Tell us what happened").input_value() == WORDS
    pupil.choose("Who is it happening to?", "It's happening to me")
    pupil.choose("Do you feel safe right now?", "Yes")
    pupil.choose("Do you want to tell us your name?", "No, keep my name secret")
    assert pupil.send()
