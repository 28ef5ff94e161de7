"""A new DSL enrols their authenticator in the browser, then enrols a kiosk tablet that a
class uses one child after another (issue: "Safe for children's data", done-when)."""

from __future__ import annotations

import io
import re
from urllib.parse import parse_qs, unquote, urlsplit

import pyotp
import pytest
from PIL import Image

from tests.browser.conftest import PASSWORD, SCHOOL, DslAtDesk, PupilOnTablet

NEW_DSL = "new.dsl@oakfield.test"


def test_a_new_dsl_enrols_two_step_sign_in_then_a_class_tablet(live_server, new_context):
    # Given a new DSL account without an authenticator yet
    live_server.add_staff(SCHOOL, NEW_DSL, two_factor=False)
    tablet = new_context(viewport=PupilOnTablet.VIEWPORT).new_page()
    # When they sign in on the school's tablet, they are asked to set up their app
    tablet.goto("/staff/login")
    tablet.get_by_label("Email").fill(NEW_DSL)
    tablet.get_by_label("Password").fill(PASSWORD)
    tablet.get_by_role("button", name="Sign in").click()
    tablet.wait_for_url(re.compile(r"/staff/login/enrol$"))
    assert tablet.locator(".qr svg").count() == 1  # a QR code drawn by the server
    secret = tablet.locator("[data-totp-secret]").inner_text().replace(" ", "")
    # (their phone app, given the key, shows a code)
    tablet.get_by_label("Code from your authenticator app").fill(pyotp.TOTP(secret).now())
    tablet.get_by_role("button", name="Turn on two-step sign-in").click()
    codes = tablet.locator("[data-recovery-codes] code").all_inner_texts()
    assert len(codes) == 10
    tablet.get_by_role("link", name=re.compile("continue")).click()
    tablet.wait_for_url(re.compile(r"/staff/(\?.*)?$"))
    # And they enrol this tablet as a kiosk and sign out
    tablet.goto("/staff/school/tablets")
    tablet.get_by_label("Name for this tablet").fill("Class 4 iPad")
    tablet.get_by_role("button", name="Enrol this browser as a tablet").click()
    tablet.get_by_role("button", name="Sign out").click()
    # Then the tablet opens straight on the pupil form, with no staff links
    tablet.goto("/")
    tablet.wait_for_url(re.compile(rf"/s/{SCHOOL}/pupil$"))
    assert tablet.locator("a[href*='/staff']").count() == 0
    # When the first child reports and presses "I'm finished"
    pupil = PupilOnTablet(tablet)
    pupil.report(words="FIRST CHILD: they took my lunch")
    pupil.code()
    assert tablet.locator("meta[http-equiv=refresh]").get_attribute("content").startswith("30;")
    tablet.get_by_role("link", name="I'm finished").click()
    tablet.wait_for_url(re.compile(rf"/s/{SCHOOL}/pupil$"))
    # Then the next child sees a clean form
    assert "FIRST CHILD" not in pupil.text()


def test_an_idle_kiosk_goes_back_to_a_clean_start(live_server, new_context):
    # Given an enrolled tablet with a half-written report left behind
    live_server.add_staff(SCHOOL, "idle.dsl@oakfield.test")
    context = new_context(viewport=PupilOnTablet.VIEWPORT)
    tablet = context.new_page()
    DslAtDesk(tablet).sign_in("idle.dsl@oakfield.test")
    tablet.goto("/staff/school/tablets")
    tablet.get_by_label("Name for this tablet").fill("Hall iPad")
    tablet.get_by_role("button", name="Enrol this browser as a tablet").click()
    tablet.get_by_role("button", name="Sign out").click()
    tablet.clock.install()
    tablet.goto(f"/s/{SCHOOL}/pupil")
    tablet.get_by_label("Tell us what happened").fill("HALF WRITTEN by a child who walked off")
    # When two minutes pass untouched
    with tablet.expect_navigation(url=re.compile(rf"/s/{SCHOOL}/pupil$")):
        tablet.clock.fast_forward(121_000)
    tablet.wait_for_load_state()
    # Then the form is empty again
    assert tablet.get_by_label("Tell us what happened").input_value() == ""


@pytest.mark.parametrize(("device", "options"), [
    ("phone", {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3,
               "is_mobile": True, "has_touch": True}),
    ("tablet", {"viewport": {"width": 768, "height": 1024}}),
    ("laptop", {"viewport": {"width": 1366, "height": 768}}),
])
def test_the_qr_code_scans_at_every_screen_size(live_server, new_context, device, options):
    """What an authenticator app's camera sees: the screen, read by a real QR decoder."""
    import zxingcpp

    # Given a new member of staff at their first sign-in, on this screen
    email = f"qr.{device}@oakfield.test"
    live_server.add_staff(SCHOOL, email, two_factor=False)
    page = new_context(**options).new_page()
    DslAtDesk(page).enter_password(email, then="enrol")
    # When they point their phone at the QR code on the screen
    qr = page.locator(".qr svg")
    qr.scroll_into_view_if_needed()
    box = qr.bounding_box()
    assert box is not None
    viewport = options["viewport"]
    assert box["x"] >= 0, box  # all on screen
    assert box["x"] + box["width"] <= viewport["width"], box
    shot = Image.open(io.BytesIO(page.screenshot()))
    found = zxingcpp.read_barcodes(shot, formats=zxingcpp.BarcodeFormat.QRCode)
    # Then it reads as the same key the page shows, for this account, from Tell Us
    assert len(found) == 1, f"no QR code could be read on the {device} screen"
    key = page.locator("[data-totp-secret]").inner_text().replace(" ", "")
    uri = urlsplit(found[0].text)
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    assert parse_qs(uri.query)["secret"] == [key]
    assert parse_qs(uri.query)["issuer"] == ["Tell Us"]
    assert email in unquote(uri.path)
