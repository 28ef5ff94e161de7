"""A real phone photo through the real form in Chromium: a pupil on the tablet attaches a
5 MB camera photo to their words and the report is stored with it; a file too big to send
is named before anything is sent, and the words stay on the page."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal import evidence
from portal.models import Evidence, Report
from tests.browser.conftest import LiveServer, PupilOnTablet
from tests.evidence_files import MB, padded, phone_photo


@pytest.fixture(scope="module")
def photo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("camera") / "IMG_2041.jpg"
    path.write_bytes(phone_photo(noise=0.25))
    assert 4 * MB < path.stat().st_size < 6 * MB
    return path


def fill_in(pupil: PupilOnTablet, words: str) -> None:
    pupil.open_form()
    pupil.choose("Who is it happening to?", "It's happening to me")
    pupil.group("What happened?").locator(
        "label", has_text="Someone called me names or said mean things").click()
    pupil.page.get_by_label("Tell us what happened").fill(words)
    pupil.choose("Do you feel safe right now?", "Yes")
    pupil.choose("Do you want to tell us your name?", "No, keep my name secret")


def test_a_pupil_sends_a_phone_photo_with_their_words(
        new_context: Any, live_server: LiveServer, photo_file: Path) -> None:
    pupil = PupilOnTablet(new_context(viewport=PupilOnTablet.VIEWPORT).new_page())
    words = "This is the photo they put in the group chat of me crying"
    fill_in(pupil, words)
    pupil.page.get_by_label("Pictures or screenshots").set_input_files(photo_file)
    expect(pupil.page.locator("[data-evidence-size-error]")).to_be_hidden()
    code = pupil.send()
    assert code
    with live_server.db() as db:
        kept = db.scalars(select(Evidence).order_by(Evidence.id.desc())).first()
        assert kept is not None
        assert kept.sha256_received == hashlib.sha256(photo_file.read_bytes()).hexdigest()
        report = db.get(Report, kept.report_id)
        assert report is not None
        assert report.body == words


def test_a_file_too_big_is_named_before_anything_is_sent(
        new_context: Any, live_server: LiveServer, photo_file: Path, tmp_path: Path) -> None:
    big = tmp_path / "VID_0007.jpg"
    big.write_bytes(padded(photo_file.read_bytes(), evidence.MAX_FILE_BYTES + MB))
    before = len(live_server.reports())
    pupil = PupilOnTablet(new_context(viewport=PupilOnTablet.VIEWPORT).new_page())
    words = "Please look at the video they made"
    fill_in(pupil, words)
    files = pupil.page.get_by_label("Pictures or screenshots")
    files.set_input_files([photo_file, big])
    note = pupil.page.locator("[data-evidence-size-error]")
    expect(note).to_contain_text("VID_0007.jpg")
    expect(note).to_contain_text("smaller than 10 MB")
    pupil.page.get_by_role("button", name="Send to the school").click()
    expect(files).to_be_focused()  # still on the form: nothing was sent
    assert len(live_server.reports()) == before
    assert pupil.page.get_by_label("Tell us what happened").input_value() == words
    files.set_input_files(photo_file)  # chosen again without the big one
    expect(note).to_be_hidden()
    assert pupil.send()
    assert len(live_server.reports()) == before + 1
