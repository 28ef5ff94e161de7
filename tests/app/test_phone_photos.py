"""Photos and screenshots as phones make them (several megabytes each, several at once) go
with the report, through the real forms with CSRF on; a file that is too big is refused on
its own with the words kept; only a body over the hard cap is refused whole, unread, with a
page a child understands (README: "up to 5 files, 20 MB in all")."""

from __future__ import annotations

import hashlib
import io

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from portal import evidence
from portal.models import Evidence, Report
from tests.conftest import PARENT, PUPIL, hidden_fields
from tests.evidence_files import MB, padded, phone_photo, screenshot


@pytest.fixture(scope="module")
def photos() -> list[bytes]:
    """Three different 12-megapixel camera photos of 4-5 MB each."""
    made = [phone_photo(noise=0.2), phone_photo(noise=0.22), phone_photo(noise=0.25)]
    assert all(3 * MB < len(p) < 6 * MB for p in made), [len(p) for p in made]
    return made


def post(browser, form, files, **fields):
    """Load the form and send it as a browser does: its hidden tokens (CSRF on), the answers
    and ``files`` as (filename, bytes) pairs under ``evidence``, in one multipart body."""
    url = f"/s/oakfield/{form}"
    answers = {**hidden_fields(browser.get(url).get_data(as_text=True), url),
               **(PUPIL if form == "pupil" else PARENT), **fields}
    items = [(k, v) for k, vs in answers.items() for v in (vs if isinstance(vs, list) else [vs])]
    items += [("evidence", FileStorage(io.BytesIO(data), name)) for name, data in files]
    boundary, body = encode_multipart(MultiDict(items))
    return browser.client.post(url, data=body,
                               content_type=f"multipart/form-data; boundary={boundary}")


def reports(session) -> int:
    return session.scalar(select(func.count()).select_from(Report))


def test_three_phone_photos_go_with_a_pupils_report(browser, school, session, photos):
    words = "They took pictures of me in the changing room and shared them"
    response = post(browser, "pupil", [(f"IMG_{n}.jpg", p) for n, p in enumerate(photos)],
                    what_happened=words)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert "data-followup-code" in response.get_data(as_text=True)
    kept = session.scalars(select(Evidence).order_by(Evidence.id)).all()
    assert [k.sha256_received for k in kept] == [hashlib.sha256(p).hexdigest() for p in photos]
    assert all(k.content_type == "image/jpeg" for k in kept)
    assert reports(session) == 1


def test_a_screenshot_and_a_photo_go_with_a_parents_report(browser, school, session, photos):
    shot = screenshot()
    assert 1.3 * MB < len(shot) < 2 * MB
    response = post(browser, "parent", [("Screenshot.png", shot), ("IMG_1.jpg", photos[0])])
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    kept = session.scalars(select(Evidence).order_by(Evidence.id)).all()
    assert [k.content_type for k in kept] == ["image/png", "image/jpeg"]
    assert [k.sha256_received for k in kept] == [hashlib.sha256(shot).hexdigest(),
                                                 hashlib.sha256(photos[0]).hexdigest()]


def test_a_single_photo_of_one_and_a_half_megabytes_is_kept(browser, school, session):
    photo = phone_photo((2000, 1500), noise=0.35)
    assert 1 * MB < len(photo) < 3 * MB
    assert post(browser, "pupil", [("IMG.jpg", photo)]).status_code == 200
    assert session.scalar(select(func.count()).select_from(Evidence)) == 1


@pytest.mark.parametrize("form", ["pupil", "parent"])
def test_a_file_over_the_limit_is_refused_on_its_own_and_the_words_are_kept(
        app, browser, school, session, photos, form):
    big = padded(photos[0], evidence.MAX_FILE_BYTES + MB)  # a 11 MB "photo"
    words = {"what_happened": "A girl in Year 6 keeps posting about me"} if form == "pupil" \
        else {"details": "Sam is being messaged at night by older pupils"}
    response = post(browser, form, [("small.jpg", photos[1]), ("VIDEO_STILL.jpg", big)],
                    **words)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "VIDEO_STILL.jpg" in html
    assert "bigger than 10 MB" in html
    assert next(iter(words.values())) in html  # the words are still on the form
    if form == "pupil":
        assert 'value="lunch_hall" checked' in html  # and the other answers too
    else:
        assert 'value="alex@example.org"' in html
    assert reports(session) == 0


def test_files_adding_up_to_more_than_the_total_are_refused_with_the_words_kept(
        browser, school, session, photos):
    files = [(f"IMG_{n}.jpg", padded(photos[n % 3], 9 * MB)) for n in range(3)]  # 27 MB
    response = post(browser, "pupil", files, what_happened="Words that must not be lost")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "add up to more than 20 MB" in html
    assert "Words that must not be lost" in html
    assert reports(session) == 0


class Huge(io.RawIOBase):
    """A request body of ``length`` bytes that is never held anywhere: it counts what the
    server reads of it."""

    def __init__(self, length: int) -> None:
        self.length, self.position, self.read_bytes = length, 0, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self.position = {io.SEEK_SET: 0, io.SEEK_CUR: self.position,
                         io.SEEK_END: self.length}[whence] + offset
        return self.position

    def tell(self) -> int:
        return self.position

    def readinto(self, buffer) -> int:
        n = max(0, min(len(buffer), 64 * 1024, self.length - self.position))
        buffer[:n] = b"\0" * n
        self.position += n
        self.read_bytes += n
        return n


@pytest.mark.parametrize("form", ["pupil", "parent"])
def test_a_body_over_the_hard_cap_is_refused_unread_in_a_childs_words(
        browser, school, session, form):
    url = f"/s/oakfield/{form}"
    browser.get(url)
    body = Huge(evidence.MAX_REQUEST_BYTES + 1)
    response = browser.client.post(url, input_stream=body,
                                   content_type="multipart/form-data; boundary=xyz")
    html = response.get_data(as_text=True)
    assert response.status_code == 413
    assert body.read_bytes == 0  # refused before any of it was read
    assert "pictures were too big to send" in html
    assert "Nothing was sent yet" in html
    assert reports(session) == 0


def test_other_pages_keep_the_small_limit(browser, school):
    body = Huge(2 * MB)
    response = browser.client.post("/follow-up", input_stream=body,
                                   content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert body.read_bytes == 0


def test_a_report_form_without_files_keeps_the_small_limit(browser, school):
    """Only a multipart body gets the room for files: a urlencoded one is read into memory
    whole, so it keeps the app-wide 1 MiB."""
    body = Huge(2 * MB)
    response = browser.client.post("/s/oakfield/pupil", input_stream=body,
                                   content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert body.read_bytes == 0
