"""Anti-automation that never loses a report (SECURITY.md P9)."""

from __future__ import annotations

import ipaddress
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from portal import create_app
from portal.models import Report
from portal.security import limiter
from tests.conftest import PUPIL, Browser, hidden_fields


def count(session) -> int:
    return session.scalar(select(func.count()).select_from(Report))


def test_home_address_is_limited_and_the_refused_report_keeps_the_childs_words(
        client, school, session):
    browser = Browser(client)
    for _ in range(10):
        assert browser.submit("/s/oakfield/pupil", PUPIL).status_code == 200
    words = {**PUPIL, "what_happened": "Eleventh report, words to keep"}
    refused = browser.submit("/s/oakfield/pupil", words)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 429
    assert refused.headers.get("Retry-After")
    assert "Eleventh report, words to keep" in html
    assert 'name="csrf_token"' in html  # they can send it again later from this page
    assert count(session) == 10


@pytest.fixture
def school_app(settings):
    """The portal with the test client's address (127.0.0.1) inside a school network."""
    app = create_app(replace(settings, school_networks=(ipaddress.ip_network("127.0.0.0/8"),)))
    with app.app_context():
        limiter.reset()
    yield app
    with app.app_context():
        limiter.reset()
    app.extensions["portal.engine"].dispose()


def test_a_whole_school_behind_one_address_is_never_refused(school_app, school, session):
    # Given 60 tablets on the school network, each used by several pupils in a minute
    tablets = [Browser(school_app.test_client()) for _ in range(60)]
    statuses = [tablet.submit("/s/oakfield/pupil", PUPIL).status_code
                for _round in range(3) for tablet in tablets]
    # Then every report is stored
    assert statuses == [200] * 180
    assert count(session) == 180


def test_one_device_on_the_school_network_still_has_its_own_limit(school_app, school, session):
    client = school_app.test_client()
    page = client.get("/s/oakfield/pupil").get_data(as_text=True)
    fields = hidden_fields(page, "/s/oakfield/pupil")
    cookie = client.get_cookie("tellus").value
    statuses = []
    for i in range(21):
        # A script replaying the same cookie: it stays one device (a person's browser gets
        # a fresh start after each report, so that alone can't count against them).
        client.set_cookie("tellus", cookie)
        fields["submission"] = f"token-number-{i:04d}-abcdefgh"
        statuses.append(client.post("/s/oakfield/pupil", data={**fields, **PUPIL}).status_code)
    assert statuses[:20] == [200] * 20
    assert statuses[20] == 429
    assert count(session) == 20
