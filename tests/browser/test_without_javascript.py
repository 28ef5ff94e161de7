"""Every page works with JavaScript switched off (enhance.js only adds to a page).

Each page is reached the same way as in the axe checks: by filling in and sending the forms
that lead to it, which only works if those forms work without script. Staff pages are opened
by a DSL already signed in; signing in itself is walked through too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.conftest import DslAtDesk, PupilOnTablet
from tests.browser.pages import REPORTER_PAGES, SIGNED_IN_PAGES, STAFF_PAGES

NO_SCRIPT = {"java_script_enabled": False}


def _shows_its_content(page: Any, name: str) -> None:
    page.wait_for_load_state("load")
    assert page.locator("main h1").count() == 1, f"{name}: no heading without JavaScript"
    assert page.locator("main").inner_text().strip(), f"{name}: empty without JavaScript"


@pytest.mark.parametrize("name", list(REPORTER_PAGES))
def test_reporter_page_works_without_javascript(
        name: str, new_context: Callable[..., Any], seeded: dict[str, Any]) -> None:
    page = new_context(viewport=PupilOnTablet.VIEWPORT, **NO_SCRIPT).new_page()
    REPORTER_PAGES[name](page, seeded)
    _shows_its_content(page, name)


@pytest.mark.parametrize("name", list(STAFF_PAGES))
def test_sign_in_page_works_without_javascript(
        name: str, new_context: Callable[..., Any], seeded: dict[str, Any]) -> None:
    page = new_context(**NO_SCRIPT).new_page()
    STAFF_PAGES[name](page, seeded)
    _shows_its_content(page, name)


@pytest.mark.parametrize("name", list(SIGNED_IN_PAGES))
def test_staff_page_works_without_javascript(
        name: str, new_context: Callable[..., Any], seeded: dict[str, Any],
        dsl_signed_in: dict[str, Any]) -> None:
    page = new_context(storage_state=dsl_signed_in, **NO_SCRIPT).new_page()
    SIGNED_IN_PAGES[name](page, seeded)
    _shows_its_content(page, name)


def test_dsl_decides_and_messages_without_javascript(
        new_context: Callable[..., Any], seeded: dict[str, Any],
        dsl_signed_in: dict[str, Any]) -> None:
    # Given a DSL with JavaScript off, on a case
    dsl = DslAtDesk(new_context(storage_state=dsl_signed_in, **NO_SCRIPT).new_page())
    dsl.page.goto("/staff/")
    dsl.open_case(seeded["named_id"])
    # When they record a decision and write to the reporter
    dsl.decide("Bullying Incident", "Messages every evening for two weeks.")
    dsl.page.get_by_label("Message to the reporter").fill("We are helping. Come and see "
                                                          "Mrs Patel at break.")
    dsl.page.get_by_role("button", name="Send to the reporter").click()
    # Then both are in the record
    chronology = dsl.page.locator(".chronology").inner_text()
    assert "Decision: Allegation of Bullying → Bullying Incident" in chronology
    assert re.search(r"Message sent to the reporter", chronology)
