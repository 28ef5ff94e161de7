"""Generated hostile text in every text field of the reporter forms (Hypothesis).

Whatever is typed (control characters, very long text, script tags, SQL, any Unicode), the
answer is never a 5xx or a traceback, and it is one of two truthful outcomes:

* 200: the report (or reply) is stored, and what is stored is exactly what was typed with
  control characters (other than tab and newlines) removed and surrounding space stripped;
* 400: nothing is stored.

This backs SECURITY.md P10 ("stored whole or not at all, and the reporter is told the truth")
for hostile input, and P5 in passing (every POST carries the page's CSRF token). Rate limits
are off for these tests only, so that hundreds of examples are not refused as a flood.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from portal import create_app
from portal.config import Settings
from portal.models import Message, Report, School, TrustedAdult
from tests.conftest import PARENT, PUPIL, Browser, followup_code, hidden_fields

PUPIL_URL = "/s/oakfield/pupil"
PARENT_URL = "/s/oakfield/parent"
EXAMPLES = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow, HealthCheck.data_too_large])

# The documented cleaning (portal/forms.py): C0 controls and DEL go, except tab, LF and CR;
# then surrounding whitespace is stripped. Written out here rather than imported.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def cleaned(value: str) -> str:
    return CONTROL.sub("", value).strip()


HOSTILE = [
    "<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "javascript:alert(1)",
    "' OR '1'='1' --", "'; DROP TABLE reports; --", "1; SELECT pg_sleep(5)", "%00", "\x00",
    "\x00\x01\x02\x7f", "\r\n\r\n", "\t \n", "{{ 7*7 }}", "${7*7}", "{% raw %}", "../../etc/passwd",
    "\u202egnp.exe", "\ufeff", "\u200b", "\U0001f600" * 3, "Zalgo: Z\u0351\u0346a\u0302l\u0307",
    "\ud7ff\ue000\uffff", "\\x00", "%s%s%s%n", "NULL", "null", "None", "true", "😀👩‍👩‍👧", "ﷺ",
    "\u0000\u0085\u2028\u2029", "a" * 121, "b" * 2001, "c" * 5001,
]


@st.composite
def long_text(draw: st.DrawFn) -> str:
    """Long text (up to ~6000 characters) built from a short generated piece."""
    piece = draw(st.text(min_size=1, max_size=12))
    size = draw(st.integers(min_value=1, max_value=6000))
    return (piece * (size // len(piece) + 1))[:size]


hostile_text = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(max_codepoint=0x9F), max_size=300),  # controls included
    st.sampled_from(HOSTILE),
    st.builds(lambda a, b, c: a + b + c, st.text(max_size=20), st.sampled_from(HOSTILE),
              st.text(max_size=20)),
    long_text(),
)


@pytest.fixture
def fuzz_app(settings: Settings) -> Iterator[Flask]:
    """The portal with rate limiting off, and the school "oakfield"."""
    app = create_app(replace(settings, ratelimit_enabled=False))
    db = app.extensions["portal.sessionmaker"]()
    school = School(slug="oakfield", name="Oakfield Primary",
                    exit_url="https://www.bbc.co.uk/bitesize")
    db.add(school)
    db.flush()
    db.add(TrustedAdult(school_id=school.id, name="Mrs Patel", description="Class 4 teacher",
                        position=1))
    db.commit()
    db.close()
    yield app
    app.extensions["portal.engine"].dispose()


def rows(app: Flask, model: Any) -> list[Any]:
    db = app.extensions["portal.sessionmaker"]()
    try:
        return list(db.scalars(select(model).order_by(model.id)))
    finally:
        db.close()


def count(app: Flask, model: Any) -> int:
    db = app.extensions["portal.sessionmaker"]()
    try:
        return int(db.scalar(select(func.count()).select_from(model)) or 0)
    finally:
        db.close()


def assert_no_crash(response: Any) -> str:
    body = response.get_data(as_text=True)
    assert response.status_code < 500, response.status_code
    assert "Traceback" not in body
    assert 'File "' not in body  # no stack frames of any kind
    return body


# Each text field: (extra form values it needs, stored column, predicate on the cleaned value
# saying whether it must be accepted; None: the field has rules beyond length, no prediction).
Accept = Callable[[str], bool] | None


def up_to(limit: int, required: bool = False) -> Callable[[str], bool]:
    return lambda text: (not required or len(text) > 0) and len(text) <= limit


PUPIL_FIELDS: dict[str, tuple[dict[str, str], str, Accept]] = {
    "what_happened": ({}, "body", up_to(5000)),  # "verbal" is ticked, so words are optional
    "who_involved": ({}, "people_involved", up_to(2000)),
    "reporter_name": ({"anonymous": "no", "reporter_class": "5B"}, "reporter_name",
                      up_to(120, required=True)),
    "reporter_class": ({"anonymous": "no", "reporter_name": "Jo"}, "reporter_class",
                       up_to(60, required=True)),
}

# Required parent fields check the cleaned text (DataRequired): whitespace or control
# characters alone are refused (see the test at the end); other empty values are not
# predicted here.
PARENT_FIELDS: dict[str, tuple[dict[str, str], str, Accept]] = {
    "child_name": ({}, "child_name", up_to(120)),
    "details": ({}, "body", up_to(5000)),
    "since_when": ({}, "since_when", up_to(200)),
    "parent_name": ({}, "parent_name", up_to(120)),
    "contact_email": ({}, "contact_email", None),
    "contact_phone": ({"contact_preference": "email"}, "contact_phone", None),
}
REQUIRED_PARENT = {"child_name", "details", "parent_name"}


def check_report(app: Flask, browser: Browser, url: str, base: dict[str, Any], field: str,
                 extra: dict[str, str], column: str, accept: Accept, value: str,
                 required: bool = False) -> None:
    before = count(app, Report)
    response = browser.submit(url, {**base, **extra, field: value})
    assert_no_crash(response)
    assert response.status_code in (200, 400), response.status_code
    text = cleaned(value)
    if response.status_code == 200:
        followup_code(response.get_data(as_text=True))
        assert count(app, Report) == before + 1
        stored = getattr(rows(app, Report)[-1], column)
        assert stored == text, (stored[:80], text[:80])
    else:
        assert count(app, Report) == before, "a refused report left a row"
    if accept is not None and not (required and text == ""):
        assert (response.status_code == 200) == accept(text), \
            f"{response.status_code} for {len(text)} characters in {field}"


@pytest.mark.parametrize("field", PUPIL_FIELDS)
def test_pupil_form_fields_take_any_text(field, fuzz_app):
    browser = Browser(fuzz_app.test_client())
    extra, column, accept = PUPIL_FIELDS[field]

    @EXAMPLES
    @given(value=hostile_text)
    def run(value: str) -> None:
        check_report(fuzz_app, browser, PUPIL_URL, PUPIL, field, extra, column, accept, value)

    run()


@pytest.mark.parametrize("field", PARENT_FIELDS)
def test_parent_form_fields_take_any_text(field, fuzz_app):
    browser = Browser(fuzz_app.test_client())
    extra, column, accept = PARENT_FIELDS[field]

    @EXAMPLES
    @given(value=hostile_text)
    def run(value: str) -> None:
        check_report(fuzz_app, browser, PARENT_URL, PARENT, field, extra, column, accept,
                     value, required=field in REQUIRED_PARENT)

    run()


@pytest.fixture
def reported(fuzz_app: Flask) -> tuple[Browser, str]:
    """A browser and the follow-up code of a report it sent."""
    browser = Browser(fuzz_app.test_client())
    done = browser.submit(PUPIL_URL, PUPIL)
    assert done.status_code == 200
    return browser, followup_code(done.get_data(as_text=True))


def test_follow_up_code_field_takes_any_text(fuzz_app, reported):
    browser, _code = reported

    @EXAMPLES
    @given(value=hostile_text)
    def run(value: str) -> None:
        reports, messages = count(fuzz_app, Report), count(fuzz_app, Message)
        response = browser.submit("/follow-up", {"code": value})
        assert_no_crash(response)
        assert response.status_code == 200  # the one neutral answer, never an error
        assert (count(fuzz_app, Report), count(fuzz_app, Message)) == (reports, messages)

    run()


def test_follow_up_reply_takes_any_text(fuzz_app, reported):
    browser, code = reported

    @EXAMPLES
    @given(value=hostile_text)
    def run(value: str) -> None:
        before = count(fuzz_app, Message)
        page = browser.client.get("/follow-up").get_data(as_text=True)
        fields = hidden_fields(page, "/follow-up")
        response = browser.client.post("/follow-up",
                                       data={**fields, "code": code, "message": value})
        assert_no_crash(response)
        assert response.status_code in (200, 400), response.status_code
        text = cleaned(value)
        if response.status_code == 200:
            assert count(fuzz_app, Message) == before + 1
            assert rows(fuzz_app, Message)[-1].body == text
        else:
            assert count(fuzz_app, Message) == before
        assert (response.status_code == 200) == (0 < len(text) <= 5000), len(text)

    run()


@pytest.mark.parametrize("field", sorted(REQUIRED_PARENT))
@pytest.mark.parametrize("value", ["   ", "\x00", "\x01\x02"], ids=["spaces", "nul", "controls"])
def test_required_parent_fields_refuse_text_that_cleans_to_nothing(field, value, fuzz_app):
    """Spaces or control characters alone are not a child's name, a name or details."""
    browser = Browser(fuzz_app.test_client())
    response = browser.submit(PARENT_URL, {**PARENT, field: value})
    assert response.status_code == 400
    assert count(fuzz_app, Report) == 0
