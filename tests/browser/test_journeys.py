"""The three journeys of the design, walked through in a real browser."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import (
    EXIT_URL,
    SCHOOL,
    DslAtDesk,
    LiveServer,
    ParentOnPhone,
    PupilOnTablet,
)

FIRST_CHILD_WORDS = "Jayden pushed me off the climbing frame by the big oak tree"


def test_pupil_on_a_shared_tablet_reports_and_the_next_child_sees_nothing(
        new_context: Callable[..., Any], live_server: LiveServer) -> None:
    # Given the school's shared tablet
    tablet = new_context(viewport=PupilOnTablet.VIEWPORT, has_touch=True)
    first_child = PupilOnTablet(tablet.new_page())

    # When a child ticks a picture, writes what happened and says they don't feel safe
    code = first_child.report(pictures=("Someone hurt my body",), words=FIRST_CHILD_WORDS,
                              feels_safe="No")

    # Then they see a follow-up code and are told to go to an adult now
    assert code
    urgent = first_child.page.get_by_role("alert").filter(has_text="Please go to an adult now")
    assert urgent.is_visible()
    assert "You were right to tell us" in first_child.text()
    # and the report was stored without a name
    stored = live_server.reports()[-1]
    assert stored.body == FIRST_CHILD_WORDS
    assert stored.anonymous is True
    assert stored.feels_safe == "no"

    # When someone presses Back after the confirmation
    first_child.page.go_back()
    first_child.page.get_by_role("heading", name="Tell us what happened").wait_for()
    # Then the form is empty: none of the child's words, nothing ticked
    assert "Jayden" not in first_child.text()
    assert first_child.page.locator("input[name=kinds]:checked").count() == 0
    assert first_child.page.locator("input[name=feels_safe]:checked").count() == 0

    # When the next child on the same tablet opens the form
    next_child = PupilOnTablet(tablet.new_page())
    next_child.open_form()
    # Then they see none of the first child's words, answers or code
    seen = next_child.text()
    assert "Jayden" not in seen
    assert "climbing frame" not in seen
    assert code not in seen
    assert next_child.page.locator("input[name=kinds]:checked").count() == 0
    assert next_child.page.locator("input[name=feels_safe]:checked").count() == 0
    assert next_child.page.locator("input[name=anonymous]:checked").count() == 0


def test_pupil_who_gives_their_name_sees_the_name_fields_only_after_choosing_to(
        new_context: Callable[..., Any], live_server: LiveServer) -> None:
    # Given a pupil at the tablet with the form open
    pupil = PupilOnTablet(new_context(viewport=PupilOnTablet.VIEWPORT).new_page())
    pupil.open_form()
    name_field = pupil.page.get_by_label("Your name", exact=True)
    class_field = pupil.page.get_by_label("Your class", exact=True)
    # Then the name and class fields are hidden until asked for
    expect(name_field).to_be_hidden()
    expect(class_field).to_be_hidden()

    # When they choose to tell the school their name
    pupil.choose("Do you want to tell us your name?", "Yes, I will tell you my name")
    # Then the name and class fields appear
    expect(name_field).to_be_visible()
    expect(class_field).to_be_visible()
    # and they go away again if the pupil changes their mind
    pupil.choose("Do you want to tell us your name?", "No, keep my name secret")
    expect(name_field).to_be_hidden()

    # When they send a report with their name and class
    code = pupil.report(words="Someone took my pencil case.", name="Priya Shah", klass="4B",
                        adult="Mrs Patel (Class 4 teacher)")
    # Then it is stored with the name
    assert code
    stored = live_server.reports()[-1]
    assert (stored.anonymous, stored.reporter_name, stored.reporter_class) == (
        False, "Priya Shah", "4B")
    assert stored.preferred_adult.startswith("Mrs Patel")


def test_pupil_form_works_without_javascript(
        new_context: Callable[..., Any], live_server: LiveServer) -> None:
    # Given a tablet with JavaScript switched off
    pupil = PupilOnTablet(new_context(viewport=PupilOnTablet.VIEWPORT,
                                      java_script_enabled=False).new_page())
    pupil.open_form()
    # Then the name fields are there to fill in (nothing hides them)
    assert pupil.page.get_by_label("Your name", exact=True).is_visible()

    # When the pupil fills the form in and sends it
    code = pupil.report(words="They laugh at my drawings.", name="Tom Reid", klass="6C")

    # Then the report is stored and they get a code
    assert code
    assert live_server.reports()[-1].reporter_name == "Tom Reid"


def test_parent_on_a_phone_reports_and_checks_the_code(
        new_context: Callable[..., Any], live_server: LiveServer) -> None:
    # Given a parent at home on their phone
    parent = ParentOnPhone(new_context(**ParentOnPhone.DEVICE).new_page())

    # When they report a change in their child's behaviour
    code = parent.report()

    # Then they get a follow-up code
    assert code
    stored = live_server.reports()[-1]
    assert (stored.child_name, stored.contact_email) == ("Sam Taylor", "alex@example.org")

    # When they enter the code on the follow-up page
    status = parent.check_code(code)
    # Then they see that it was received, and what they sent
    assert status == "Received"
    assert "Sam has stopped eating lunch" in parent.text()


def test_dsl_triages_the_urgent_report_first_and_the_reporter_sees_it_closed(
        new_context: Callable[..., Any], live_server: LiveServer) -> None:
    # Given a school of its own (so this queue holds only this test's reports)
    live_server.add_school("willow", "Willow Academy")
    live_server.add_staff("willow", "dsl@willow.test", name="Mr Hale")
    # and three reports: a parent's worry, then a pupil who does not feel safe, then
    # another pupil's report that is not urgent
    parent = ParentOnPhone(new_context(**ParentOnPhone.DEVICE).new_page(), slug="willow")
    parent.report(details="Sam seems quieter than usual after school.")
    tablet = new_context(viewport=PupilOnTablet.VIEWPORT)
    pupil = PupilOnTablet(tablet.new_page(), slug="willow")
    code = pupil.report(words="Some big kids wait for me by the gate after school.",
                        feels_safe="No")
    PupilOnTablet(tablet.new_page(), slug="willow").report(words="Someone hid my coat.")

    # When the DSL signs in with their email and password
    dsl = DslAtDesk(new_context().new_page())
    dsl.sign_in("dsl@willow.test")
    # Then the urgent report is at the top of the queue, though it is neither the oldest
    # nor the newest
    rows = dsl.queue()
    assert [r["urgent"] for r in rows] == [True, False, False]
    assert dsl.page.locator("[data-total]").get_attribute("data-total") == "3"

    # When they open it
    dsl.open_case(rows[0]["id"])
    # Then they read the pupil's words and why it was ranked urgent
    assert "Some big kids wait for me by the gate" in dsl.page.locator("main").inner_text()
    assert dsl.page.get_by_text("Why it is ranked here").is_visible()

    # When they record a decision with a reason, then close it with a reason
    dsl.decide("Bullying Incident", "Repeated waiting at the gate; spoke to both classes.")
    dsl.move_to("Closed", "Parents met; pupils supervised at home time.",
                override="Steps done at the parents' meeting; notes in the paper file.")
    # Then the chronology shows both, with the reasons
    chronology = dsl.page.locator(".chronology").inner_text()
    assert "Decision: Allegation of Bullying → Bullying Incident" in chronology
    assert "Repeated waiting at the gate" in chronology
    assert re.search(r"Status: .+ → Closed", chronology)
    assert "Parents met" in chronology

    # When the pupil checks their code afterwards
    later = PupilOnTablet(new_context(viewport=PupilOnTablet.VIEWPORT).new_page(),
                          slug="willow")
    # Then the follow-up page says, in a child's words, that it has finished (issue 12 #3)
    assert later.check_code(code) == "Finished"
    # and never shows the DSL's reasons to the reporter
    assert "Parents met" not in later.text()


def test_quick_exit_leaves_for_a_neutral_page_and_forgets_the_site(
        new_context: Callable[..., Any], live_server: LiveServer) -> None:
    # Given a pupil part-way through the form (the site has set its session cookie)
    context = new_context(viewport=PupilOnTablet.VIEWPORT)
    pupil = PupilOnTablet(context.new_page())
    pupil.page.route(re.compile(re.escape(EXIT_URL) + ".*"), lambda route: route.fulfill(
        status=200, content_type="text/html",
        body="<!doctype html><title>Weather</title><h1>Weather today</h1>"))
    pupil.page.goto("/")
    pupil.open_form()
    pupil.page.get_by_label("Tell us what happened").fill("They hit me in the toilets")
    assert any(c["name"] == "tellus" for c in context.cookies(live_server.url))

    # When they press "Leave this page quickly"
    pupil.page.get_by_role("link", name="Leave this page quickly").click()

    # Then they are on the school's neutral page
    pupil.page.wait_for_url(EXIT_URL)
    assert pupil.page.get_by_role("heading", name="Weather today").is_visible()
    # and the portal's cookies for this browser are gone
    assert context.cookies(live_server.url) == []
    # and Back skips the form (it was replaced in the history), so nobody sees the words
    pupil.page.go_back()
    pupil.page.wait_for_load_state()
    assert "/pupil" not in pupil.page.url
    assert "They hit me" not in pupil.text()


def test_error_summary_links_move_focus_to_the_fields(
        new_context: Callable[..., Any], live_server: LiveServer) -> None:
    # Given a pupil at the tablet
    pupil = PupilOnTablet(new_context(viewport=PupilOnTablet.VIEWPORT).new_page())
    pupil.open_form()
    before = len(live_server.reports())

    # When they press Send without filling anything in
    pupil.page.get_by_role("button", name="Send to the school").click()

    # Then an error summary is shown first, focused, listing each problem
    summary = pupil.page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    links = summary.get_by_role("link")
    assert links.count() >= 3
    assert len(live_server.reports()) == before
    # and each link moves focus to the field it is about
    for index in range(links.count()):
        link = links.nth(index)
        target = link.get_attribute("href")
        assert target
        assert target.startswith("#")
        link.click()
        focused = pupil.page.evaluate("document.activeElement && document.activeElement.id")
        assert focused == target[1:], (link.inner_text(), focused)
        # and that field is on screen
        assert pupil.page.locator(target).is_visible()
    assert SCHOOL in pupil.page.url
