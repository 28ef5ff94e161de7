"""Kiosk tablets (SECURITY.md P4, P9): enrolled by the DSL, straight to the pupil form, no
staff links, a clean start between children, and limits of their own."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.kiosk import COOKIE
from portal.models import Device, Event
from tests.conftest import PUPIL, Browser, followup_code


def enrol_tablet(app, school, make_user, label="Library iPad") -> Browser:
    """A DSL signs in on the tablet, enrols it, and signs out: the tablet keeps its cookie."""
    tablet = Browser(app.test_client())
    dsl = make_user(school=school)
    tablet.login(dsl.email)
    response = tablet.submit("/staff/school/tablets", {"label": label})
    assert response.status_code == 302
    tablet.submit("/staff/", {}, action="/staff/logout")
    return tablet


def test_an_enrolled_tablet_opens_on_its_schools_pupil_form(app, school, make_user, session):
    tablet = enrol_tablet(app, school, make_user)
    cookie = tablet.client.get_cookie(COOKIE)
    assert cookie is not None
    assert cookie.http_only
    assert cookie.same_site == "Strict"
    device = session.scalars(select(Device)).one()
    assert device.label == "Library iPad"
    assert device.token_hash not in cookie.value
    assert session.scalars(select(Event).where(Event.action == "device.enrolled")).one()
    start = tablet.get("/")
    assert start.status_code == 302
    assert start.headers["Location"].endswith("/s/oakfield/pupil")
    form = tablet.get("/s/oakfield/pupil").get_data(as_text=True)
    assert 'data-kiosk-idle="120"' in form
    assert "/staff" not in form  # no staff links anywhere on the tablet


def test_after_a_report_the_tablet_goes_back_to_a_clean_start(app, school, make_user):
    tablet = enrol_tablet(app, school, make_user)
    done = tablet.submit("/s/oakfield/pupil", {**PUPIL, "what_happened": "FIRST CHILD'S WORDS"})
    html = done.get_data(as_text=True)
    assert followup_code(html)
    assert re.search(r'http-equiv="refresh" content="30;url=/kiosk/reset"', html)
    assert tablet.client.get_cookie("tellus") is None  # the form session is gone
    reset = tablet.get("/kiosk/reset")
    assert reset.status_code == 303
    assert reset.headers["Location"].endswith("/s/oakfield/pupil")
    assert "cookies" not in reset.headers["Clear-Site-Data"]  # the enrolment stays
    assert tablet.client.get_cookie(COOKIE) is not None
    assert "FIRST CHILD" not in tablet.get("/s/oakfield/pupil").get_data(as_text=True)


def test_a_forged_or_revoked_tablet_cookie_is_just_a_browser(app, school, make_user, session):
    stranger = Browser(app.test_client())
    stranger.client.set_cookie(COOKIE, "forged.value")
    assert stranger.get("/").status_code == 200  # the ordinary start page
    tablet = enrol_tablet(app, school, make_user)
    admin = Browser(app.test_client())
    admin.login(make_user(school=school).email)
    device = session.scalars(select(Device)).one()
    page = "/staff/school/tablets"
    assert admin.submit(page, {}, action=f"{page}/{device.id}/revoke").status_code == 302
    assert tablet.get("/").status_code == 200


def test_each_tablet_has_its_own_limit_and_a_class_is_never_refused(app, school, make_user,
                                                                    session):
    first = enrol_tablet(app, school, make_user, "Tablet 1")
    second = enrol_tablet(app, school, make_user, "Tablet 2")
    statuses = [first.submit("/s/oakfield/pupil", PUPIL).status_code for _ in range(21)]
    assert statuses[:20] == [200] * 20  # twenty children in a minute at one tablet
    assert statuses[20] == 429
    assert second.submit("/s/oakfield/pupil", PUPIL).status_code == 200


def test_the_quick_exit_on_a_kiosk_clears_the_visit_but_keeps_the_enrolment(
        app, school, make_user):
    # Trial finding 5: Clear-Site-Data "cookies" removed the kiosk cookie, so one tap of the
    # quick exit (on purpose or not) ended the reset between children.
    tablet = enrol_tablet(app, school, make_user)
    tablet.get("/s/oakfield/pupil")
    assert tablet.client.get_cookie("tellus") is not None
    gone = tablet.get("/exit?s=oakfield")
    assert gone.status_code == 303
    cleared = gone.headers["Clear-Site-Data"]
    assert '"cookies"' not in cleared
    assert '"storage"' in cleared
    assert '"cache"' in cleared
    assert any(h.startswith("tellus=;") for h in gone.headers.getlist("Set-Cookie"))
    assert tablet.client.get_cookie("tellus") is None  # the visit is gone
    assert tablet.client.get_cookie(COOKIE) is not None  # the enrolment stays
    start = tablet.get("/")
    assert start.headers["Location"].endswith("/s/oakfield/pupil")  # still a kiosk
