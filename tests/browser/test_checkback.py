"""Check back with the reporter, in real Chromium (issue 14): "On a review date, the reporter
(through their follow-up code) can be asked a simple question — 'Is it better now?' with
pictures". At the kiosk tablet's size (768x1024) and a phone's (390x844): a child types
their code, taps the "not better" face, and sends; the next child on the same tablet
presses Back, Forward and Reload and sees nothing of it, and nothing is answered twice.
With axe, and with JavaScript off.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from portal.casework import checkback
from portal.models import CheckBack, OutboxMessage, Report, User
from portal.vocabulary import Status
from tests.browser.conftest import DSL_EMAIL, LiveServer, PupilOnTablet
from tests.browser.test_accessibility import _assert_no_violations

SHOTS = Path("/tmp/shots_checkback")  # noqa: S108 - where the brief asks for screenshots
TABLET = PupilOnTablet.VIEWPORT
PHONE = {"width": 390, "height": 844}
MORE = "Jasper still pushes me at the coat pegs every morning"
TOUCH = 44


def _due(live_server: LiveServer, report_id: int, *, closed: bool = False) -> None:
    """The DSL set a check-back for today on this report (and, if asked, closed the case)."""
    with live_server.db() as db:
        dsl = db.scalar(select(User).where(User.email == DSL_EMAIL))
        report = db.get(Report, report_id)
        assert dsl is not None
        assert report is not None
        checkback.schedule(db, report, actor=dsl, due_on=checkback.today())
        if closed:
            report.status = Status.CLOSED


def _answers(live_server: LiveServer, report_id: int) -> list[CheckBack]:
    with live_server.db() as db:
        rows = list(db.scalars(select(CheckBack).where(CheckBack.report_id == report_id,
                                                       CheckBack.answered_at.is_not(None))))
        db.expunge_all()
        return rows


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _press(page: Any, action: Callable[[], Any]) -> None:
    """Press a browser button; Chromium's "Confirm form resubmission" error page is fine."""
    try:
        action()
    except Exception as error:  # noqa: BLE001 - Chromium refuses some history moves
        if "net::" not in str(error):
            raise
    page.wait_for_load_state()


def _nothing_left(page: Any, code: str) -> None:
    seen = page.inner_text("body") if page.locator("body").count() else ""
    seen += page.content()
    for secret in (code, code.replace("-", ""), MORE, "Jasper", "Thank you for telling us",
                   "Is it better now?"):
        assert secret not in seen, f"the next child can see {secret!r} at {page.url}"
    assert page.locator("input[name=feeling]:checked").count() == 0


def _ask(page: Any, code: str) -> None:
    page.goto("/follow-up")
    page.get_by_label("Your follow-up code").fill(code)
    page.get_by_role("button", name="Show my report").click()
    page.get_by_role("heading", name="Is it better now?").wait_for()


@pytest.mark.parametrize(("size", "viewport"), [("tablet", TABLET), ("phone", PHONE)])
def test_a_child_says_not_better_and_the_next_child_sees_nothing(
        new_context: Callable[..., Any], live_server: LiveServer, size: str,
        viewport: dict[str, int]) -> None:
    # Given a child's report whose case the DSL closed, with a check-back due today
    report_id, code = live_server.add_report()
    _due(live_server, report_id, closed=True)
    tablet = new_context(viewport=viewport, has_touch=True)
    page = tablet.new_page()

    # When the child types their code, they are asked first
    _ask(page, code)
    assert page.get_by_role("heading", name="Is it better now?").is_visible()
    assert page.locator("[data-status]").count() == 0  # nothing else comes before it
    _assert_no_violations(page, f"check-back question ({size})")
    for words in ("Better", "A little better", "Not better"):
        label = page.locator(f"label.feeling__label:has-text('{words}')").first
        box = label.bounding_box()
        assert box is not None
        assert box["height"] >= TOUCH * 1.5, (words, box)  # big targets for a seven-year-old
        assert box["width"] >= TOUCH * 3, (words, box)
        assert label.locator("svg").count() == 1  # a picture and the words
    _shot(page, f"{size}-1-question")

    # and taps the "not better" face, writes a little, and sends
    page.locator("label[data-feeling=not_better]").tap()
    assert page.get_by_role("radio", name="Not better").is_checked()
    page.get_by_label("Do you want to tell us more?").fill(MORE)
    _shot(page, f"{size}-2-chosen")
    page.get_by_role("button", name="Send my answer").tap()
    page.get_by_text("Thank you for telling us. You were right to say so.").wait_for()
    _shot(page, f"{size}-3-thanks")
    _assert_no_violations(page, f"after the answer ({size})")

    # Then the answer is kept once, the case is open again and the team is emailed once
    (answer,) = _answers(live_server, report_id)
    assert answer.answer == "not_better"
    assert answer.more == MORE
    with live_server.db() as db:
        assert db.get(Report, report_id).status == Status.IN_REVIEW
        mails = db.scalars(select(OutboxMessage).where(OutboxMessage.kind == "urgent")).all()
        assert sum(f"/staff/cases/{report_id}" in m.body for m in mails) == 1

    # When the child walks away and the next child presses Back, Reload and Forward
    for _ in range(2):
        _press(page, lambda: page.go_back(wait_until="load"))
        _nothing_left(page, code)
        _press(page, lambda: page.reload(wait_until="load"))
        _nothing_left(page, code)
    for _ in range(2):
        _press(page, lambda: page.go_forward(wait_until="load"))
        _nothing_left(page, code)
        _press(page, lambda: page.reload(wait_until="load"))
        _nothing_left(page, code)
    _shot(page, f"{size}-4-next-child")

    # Then nothing was answered twice, and no second email went
    assert len(_answers(live_server, report_id)) == 1
    with live_server.db() as db:
        mails = db.scalars(select(OutboxMessage).where(OutboxMessage.kind == "urgent")).all()
        assert sum(f"/staff/cases/{report_id}" in m.body for m in mails) == 1


def test_a_parent_at_home_answers_on_a_phone(new_context: Callable[..., Any],
                                             live_server: LiveServer) -> None:
    report_id, code = live_server.add_report(source="parent")
    _due(live_server, report_id)
    page = new_context(viewport=PHONE, has_touch=True).new_page()
    _ask(page, code)
    assert "how things are for your child" in page.inner_text("main")
    _assert_no_violations(page, "check-back question (parent, phone)")
    page.locator("label[data-feeling=a_little_better]").tap()
    page.get_by_role("button", name="Send my answer").tap()
    page.get_by_text("The school will keep helping.").wait_for()
    assert [a.answer for a in _answers(live_server, report_id)] == ["a_little_better"]


def test_without_javascript_the_question_is_answered_and_refused_in_plain_words(
        new_context: Callable[..., Any], live_server: LiveServer) -> None:
    report_id, code = live_server.add_report()
    _due(live_server, report_id)
    page = new_context(viewport=TABLET, java_script_enabled=False).new_page()
    _ask(page, code)
    # Sent with no face chosen: asked again, with the words kept and the reason said
    page.get_by_label("Do you want to tell us more?").fill("Some of it")
    page.get_by_role("button", name="Send my answer").click()
    page.get_by_text("Please choose one of the three pictures.").first.wait_for()
    assert page.get_by_label("Do you want to tell us more?").input_value() == "Some of it"
    _shot(page, "nojs-refused")  # (axe needs script in the page: it runs in the tests above)
    page.locator("label[data-feeling=better]").click()
    page.get_by_role("button", name="Send my answer").click()
    page.get_by_text("We are glad it is better.").wait_for()
    assert [a.answer for a in _answers(live_server, report_id)] == ["better"]


def test_the_dsl_sees_the_answer_first_in_the_queue_and_sets_the_next_check_back(
        new_context: Callable[..., Any], live_server: LiveServer,
        dsl_signed_in: dict[str, Any]) -> None:
    # Given a child who answered "not better", and an urgent report that came in after
    report_id, code = live_server.add_report()
    _due(live_server, report_id)
    child = new_context(viewport=TABLET, has_touch=True).new_page()
    _ask(child, code)
    child.locator("label[data-feeling=not_better]").tap()
    child.get_by_label("Do you want to tell us more?").fill(MORE)
    child.get_by_role("button", name="Send my answer").tap()
    child.get_by_text("Thank you for telling us.").first.wait_for()
    live_server.add_report(feels_safe="no")
    desk = new_context(storage_state=dsl_signed_in, viewport={"width": 1280, "height": 900})
    page = desk.new_page()

    # When the DSL opens the queue, filtered to "a child said not better"
    page.goto("/staff/")
    first = page.locator("tbody tr").first
    assert first.locator("[data-not-better]").is_visible()
    assert f"#{report_id}" in first.inner_text()
    _assert_no_violations(page, "queue with a not-better case")
    page.get_by_label("A child said “not better”").check()
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**not_better=1**")
    assert page.get_by_label("A child said “not better”").is_checked()
    _shot(page, "desk-1-queue-not-better")

    # and opens the case: the answer with its date and words, then sets the next day
    page.goto(f"/staff/cases/{report_id}")
    section = page.locator("#check-back")
    assert "Not better" in section.inner_text()
    assert MORE in section.inner_text()
    page.get_by_text("Set a day to check back").click()
    page.get_by_label("Day to ask").fill(
        (checkback.today() + timedelta(days=7)).isoformat())
    page.get_by_role("button", name="Set check-back").click()
    page.get_by_text("waiting for the day").wait_for()
    _assert_no_violations(page, "case page with check-backs")
    section.scroll_into_view_if_needed()
    _shot(page, "desk-2-case-check-back")
