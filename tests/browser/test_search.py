"""Search across the school's reports in real Chromium (issue 14, "Finding things": "has
anyone mentioned Harry before?"): from the queue's search box to a result and back, on a
tablet (768x1024) and a phone (390x844), with and without JavaScript, axe clean."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.events import Action
from portal.models import Event
from tests.browser.conftest import LiveServer
from tests.browser.test_accessibility import _assert_no_violations

SHOTS = Path("/tmp/shots_search")  # noqa: S108 - screenshots to look at, as the brief asks
SIZES = {"tablet": {"width": 768, "height": 1024}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def reports(live_server: LiveServer) -> dict[str, int]:
    """Three reports naming "Quennell": in what happened, in who was involved, and in the
    reporter's follow-up message; one that doesn't."""
    body, _ = live_server.add_report(
        what_happened="At lunch Harry Quennell's friends took my bag and threw it <b>away</b>.")
    people, _ = live_server.add_report(who_involved="Quennell and two others from Year 6")
    message, _ = live_server.add_report(what_happened="Someone pushed me on the stairs.")
    live_server.add_message(message, "It was Quennell again today.", from_school=False)
    other, _ = live_server.add_report(what_happened="Nothing to do with that name.")
    return {"body": body, "people": people, "message": message, "other": other}


def searches(live_server: LiveServer, query: str) -> list[dict[str, Any]]:
    with live_server.db() as db:
        return [e.payload for e in db.scalars(select(Event).where(
            Event.action == Action.SEARCH_RUN.value)) if e.payload["query"] == query]


@pytest.mark.parametrize("size", list(SIZES))
def test_a_dsl_searches_for_a_name_opens_a_result_and_comes_back(
        size: str, new_context: Callable[..., Any], dsl_signed_in: dict[str, Any],
        live_server: LiveServer, reports: dict[str, int]) -> None:
    SHOTS.mkdir(exist_ok=True)
    page = new_context(viewport=SIZES[size], storage_state=dsl_signed_in,
                       is_mobile=size == "phone", has_touch=size == "phone").new_page()
    # Given the DSL on the queue
    page.goto("/staff/")
    page.screenshot(path=str(SHOTS / f"queue-{size}.png"))
    before = len(searches(live_server, "quennell"))
    # When they search for a name from the queue's search box
    box = page.get_by_role("search", name="Search reports")
    box.get_by_label("Search the school's reports for a name or a word").fill("quennell")
    box.get_by_role("button", name="Search").click()
    page.wait_for_url("**/staff/search?q=quennell")
    # Then the three reports that mention it are listed, newest first, the word marked
    results = page.locator("[data-result]")
    expect(results).to_have_count(3)
    ids = [int(results.nth(i).get_attribute("data-result") or 0) for i in range(3)]
    assert ids == [reports["message"], reports["people"], reports["body"]]
    expect(page.get_by_role("heading", name="3 reports mention “quennell”")).to_be_visible()
    expect(page.locator(f"[data-result='{reports['body']}'] mark")).to_have_text("Quennell's")
    # the reporter's words are shown as text, never as markup
    expect(page.locator(f"[data-result='{reports['body']}']")).to_contain_text("<b>away</b>")
    expect(page.locator(f"[data-result='{reports['message']}']")).to_contain_text(
        "Reporter's message")
    _assert_no_violations(page, f"search results ({size})")
    assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size]["width"]
    page.screenshot(path=str(SHOTS / f"results-{size}.png"), full_page=True)
    # And the search is in the audit trail with what was searched for and how many
    assert searches(live_server, "quennell")[before:] == [{"query": "quennell", "results": 3}]
    # When they open a result, go Back and reload
    page.get_by_role("link", name=f"Report #{reports['people']}").click()
    page.wait_for_url(f"**/staff/cases/{reports['people']}")
    page.go_back()
    page.wait_for_url("**/staff/search?q=quennell")
    expect(page.locator("[data-result]")).to_have_count(3)
    page.reload()
    # Then the results are still there, and each showing of them was recorded once
    expect(page.locator("[data-result]")).to_have_count(3)
    shown = searches(live_server, "quennell")[before:]
    assert 2 <= len(shown) <= 3  # the search, Back (no-store: asked again), the reload
    assert all(s == {"query": "quennell", "results": 3} for s in shown)


@pytest.mark.parametrize("size", list(SIZES))
def test_an_empty_or_hostile_query_gets_a_clear_message(
        size: str, new_context: Callable[..., Any], dsl_signed_in: dict[str, Any],
        live_server: LiveServer, reports: dict[str, int]) -> None:
    page = new_context(viewport=SIZES[size], storage_state=dsl_signed_in).new_page()
    # Given the DSL on the search page from the navigation
    page.goto("/staff/")
    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Search").click()
    page.wait_for_url("**/staff/search")
    # When they search for nothing
    page.get_by_role("button", name="Search").click()
    # Then they are told what to do, and the page is still accessible
    expect(page.locator("[data-error-summary]")).to_contain_text(
        "Type a name or a word to search for.")
    _assert_no_violations(page, f"search with an error ({size})")
    page.screenshot(path=str(SHOTS / f"empty-{size}.png"), full_page=True)
    # When they search for a script
    box = page.get_by_label("Search the school's reports for a name or a word")
    box.fill("<script>alert(1)</script> quennell")
    page.get_by_role("button", name="Search").click()
    # Then it is shown as text (the page's own script would have failed the console check)
    expect(page.get_by_role("heading", level=2)).to_contain_text("“script”")
    expect(page.get_by_label("Search the school's reports for a name or a word")).to_have_value(
        "<script>alert(1)</script> quennell")


def test_search_works_without_javascript(new_context: Callable[..., Any],
                                         dsl_signed_in: dict[str, Any],
                                         reports: dict[str, int]) -> None:
    page = new_context(java_script_enabled=False, storage_state=dsl_signed_in).new_page()
    page.goto("/staff/")
    page.get_by_label("Search the school's reports for a name or a word").fill("Harry Quennell")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/staff/search?q=Harry+Quennell")
    expect(page.locator("[data-result]")).to_have_count(1)
    expect(page.locator("mark")).to_have_count(2)
