"""Records that leave the portal (issue 16), in a real browser: the DSL exports a case and
a child's record as PDFs, builds an evidence bundle whose hashes verify, marks a file as a
suspected nude image and then finds it withheld from the next bundle and behind a written
reason; on a tablet and a phone, with axe on each page."""

from __future__ import annotations

import csv
import hashlib
import io
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import expect

from portal.models import LinkRole
from tests.browser.conftest import LiveServer
from tests.browser.test_accessibility import _assert_no_violations
from tests.pdf_text import pdf_text

VIEWPORTS = {"tablet": {"width": 768, "height": 1024}, "phone": {"width": 390, "height": 844}}


def picture(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, "PNG")
    return out.getvalue()


def download(page: Any, click: Callable[[], None]) -> bytes:
    with page.expect_download() as info:
        click()
    return Path(info.value.path()).read_bytes()


def manifest(archive: zipfile.ZipFile) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode("utf-8-sig"))))


@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_a_dsl_exports_bundles_and_withholds_a_suspected_nude_image(
        device: str, new_context: Callable[..., Any], live_server: LiveServer,
        dsl_signed_in: dict[str, Any]) -> None:
    report_id, _code = live_server.add_report(
        what_happened="They posted pictures of me in the group chat",
        files=(("one.png", picture("red")),))
    aisha = live_server.add_pupil("Aisha", "Khan")
    live_server.link_pupil(report_id, aisha, LinkRole.TARGET)
    page = new_context(storage_state=dsl_signed_in, viewport=VIEWPORTS[device],
                       accept_downloads=True).new_page()
    page.goto(f"/staff/cases/{report_id}")
    # The DSL adds a screenshot and a web address from the case page
    page.locator("#add-evidence > summary").click()
    shot = Path(tempfile.mkdtemp()) / "screenshot.png"
    shot.write_bytes(picture("blue"))
    page.get_by_label("Screenshots or scans of printouts").set_input_files(shot)
    page.get_by_label("Or a web address").fill("https://social.example/post/42")
    page.get_by_role("button", name="Add the evidence").click()
    expect(page.locator(".evidence-list > li")).to_have_count(3)  # two files, one address
    page.reload()
    page.go_back()
    page.go_forward()
    expect(page.locator(".evidence-list > li")).to_have_count(3)  # nothing added twice
    _assert_no_violations(page, f"case with exports ({device})")

    # The case as a PDF
    pdf = download(page, lambda: page.get_by_role("link", name="Export the case as a PDF")
                   .click())
    text = " ".join(pdf_text(pdf).split())
    assert "Confidential — exported by" in text
    assert "They posted pictures of me in the group chat" in text
    assert "Aisha Khan" in text

    # An evidence bundle for CEOP, whose hashes verify
    page.locator("#bundle > summary").click()
    page.get_by_label("Who is it for?").select_option("ceop")
    page.get_by_label("Their reference (optional)").fill("CEOP-77")
    archive = zipfile.ZipFile(io.BytesIO(download(
        page, lambda: page.get_by_role("button", name="Make the evidence bundle").click())))
    rows = manifest(archive)
    assert len(rows) == 2
    for row in rows:
        assert hashlib.sha256(archive.read(row["file"])).hexdigest() == row["sha256_kept"]

    # File 1 marked as a suspected nude image
    page.goto(f"/staff/cases/{report_id}")
    first = page.locator(".evidence-list > li").first
    first.locator("summary", has_text="Mark as a suspected nude image").click()
    first.get_by_role("button", name="Mark it").click()
    expect(page.locator(".evidence-list > li").first).to_contain_text("Suspected nude image")
    expect(page.get_by_role("link", name="Download file 1")).to_have_count(0)
    _assert_no_violations(page, f"case with a marked file ({device})")
    page.reload()  # a GET: nothing is marked or recorded again
    expect(page.locator(".tag", has_text="Suspected nude image")).to_have_count(1)

    # The next bundle leaves it out
    page.locator("#bundle > summary").click()
    page.get_by_label("Who is it for?").select_option("police")
    archive = zipfile.ZipFile(io.BytesIO(download(
        page, lambda: page.get_by_role("button", name="Make the evidence bundle").click())))
    rows = manifest(archive)
    assert rows[0]["file"] == "file 1 withheld: suspected nude or semi-nude image of a " \
                              "child (UKCIS guidance), not copied"
    assert rows[1]["file"] in archive.namelist()
    assert not any(name.endswith("-evidence-1.png") for name in archive.namelist())

    # and it leaves only with a reason naming the referral
    page.goto(f"/staff/cases/{report_id}")
    page.get_by_role("link", name="Download for a referral, with a reason").click()
    _assert_no_violations(page, f"reason before a marked file leaves ({device})")
    page.get_by_role("button", name="Download it for the referral").click()
    expect(page.locator("[data-error-summary]")).to_contain_text("name the referral")
    page.get_by_label("Why it must leave the portal, naming the referral").fill(
        "CEOP referral 12345: the officer asked for it")
    data = download(page, lambda: page.get_by_role(
        "button", name="Download it for the referral").click())
    assert data.startswith(b"\x89PNG")

    # The child's record as a PDF
    page.goto(f"/staff/pupils/{aisha}")
    _assert_no_violations(page, f"pupil page with its export ({device})")
    child = " ".join(pdf_text(download(page, lambda: page.get_by_role(
        "link", name="Export Aisha’s record as a PDF").click())).split())
    assert "Aisha Khan" in child
    assert f"#{report_id}" in child


def test_printing_the_case_prints_the_record_not_the_forms(
        new_context: Callable[..., Any], live_server: LiveServer,
        dsl_signed_in: dict[str, Any]) -> None:
    report_id, _ = live_server.add_report(what_happened="Printed for the file")
    page = new_context(storage_state=dsl_signed_in, viewport=VIEWPORTS["tablet"]).new_page()
    page.goto(f"/staff/cases/{report_id}")
    page.emulate_media(media="print")
    expect(page.get_by_text("Printed for the file")).to_be_visible()
    assert page.locator("textarea:visible, select:visible").count() == 0
    assert page.locator("button:visible").count() == 0
