"""Anti-automation that never loses a report (SECURITY.md P9)."""

from __future__ import annotations

import ipaddress
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from portal import create_app
from portal.models import Report
from portal.security import DEVICE_COOKIE, client_key, device_id, limiter
from tests.conftest import PUPIL, Browser


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
    # Trial finding 6: the device was keyed on the session's CSRF secret, which the fresh
    # start after every report replaces, so one device could use the whole network's cap.
    tablet = Browser(school_app.test_client())
    statuses = [tablet.submit("/s/oakfield/pupil", PUPIL).status_code for _ in range(21)]
    assert statuses[:20] == [200] * 20
    assert statuses[20] == 429
    assert count(session) == 20
    # and the tablet next to it, on the same network, is not refused
    assert Browser(school_app.test_client()).submit("/s/oakfield/pupil", PUPIL).status_code == 200


def test_the_device_identity_outlives_a_report_but_not_the_quick_exit(school_app, school):
    tablet = Browser(school_app.test_client())
    tablet.get("/s/oakfield/pupil")
    device = tablet.client.get_cookie(DEVICE_COOKIE)
    assert device is not None
    assert device.http_only
    tablet.submit("/s/oakfield/pupil", PUPIL)
    assert tablet.client.get_cookie("tellus") is None  # the form session is gone (P4)
    after = tablet.client.get_cookie(DEVICE_COOKIE)
    assert after is not None
    assert after.value == device.value
    exit_ = tablet.get("/exit?s=oakfield")
    assert '"cookies"' in exit_.headers["Clear-Site-Data"]  # the quick exit forgets it too


def test_a_forged_device_cookie_is_no_device(school_app):
    with school_app.test_request_context("/", environ_base={"REMOTE_ADDR": "127.0.0.1"},
                                         headers={"Cookie": f"{DEVICE_COOKIE}=made-up"}):
        assert device_id() is None
        assert client_key().startswith("net-nodevice:")


def test_a_device_away_from_a_school_network_gets_no_device_cookie(client, school):
    client.get("/s/oakfield/pupil")
    assert client.get_cookie(DEVICE_COOKIE) is None


def _fresh_browsers(app, count, page, fields):
    """``count`` browsers that each start afresh (a new device identity), one POST each."""
    return [Browser(app.test_client()).submit(page, fields(n)).status_code
            for n in range(count)]


def _capped_at(statuses, limit):
    """The cap held: none refused before it, and at most two of its windows let through
    (a fixed-window count starts again at the minute, which a run can straddle)."""
    assert statuses[:limit] == [200] * limit
    assert 429 in statuses
    assert statuses.count(200) <= 2 * limit


def test_follow_up_guesses_are_capped_for_the_whole_school_network(school_app, school):
    # Devices that start afresh each time still share the network's budget for guesses
    statuses = _fresh_browsers(school_app, 2 * 120 + 5, "/follow-up",
                               lambda _n: {"code": "1234-5678-9012-3456-7890"})
    _capped_at(statuses, 120)


def test_failed_sign_ins_are_capped_for_the_whole_school_network(school_app, school):
    # Each guess names another address, so no account's own limit bites: only the
    # network's budget of failed sign-ins can stop a script that keeps starting afresh
    statuses = _fresh_browsers(school_app, 2 * 60 + 5, "/staff/login", lambda n: {
        "email": f"guess{n}@oakfield.test", "password": "wrong-password-123"})
    _capped_at(statuses, 60)

