"""The roster upload in the browser (issue 18): the MIS export is uploaded, the page shows
what would be added, changed and left off the roll, or each row to fix in plain words;
nothing is written until the administrator confirms; then all rows or none, as the CLI
does; what is confirmed is exactly what was previewed; another school's roster is never
touched; every import is an audit event naming who made it."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from portal.models import Event, Pupil, Role
from tests.conftest import Browser

FILE = """UPN,Legal Surname,Legal Forename,DOB,Year,Reg Group,SEN Status
A123456789012,Khan,Aisha,14/03/2015,Year 5,5B,N
B123456789012,O'Neill,Jack,02/11/2014,Year 6,6R,K
"""


@pytest.fixture
def make_pupil(session):
    """Factory: a pupil on the roll, with the UPN and year given."""

    def make(school, first, last, *, upn, year_group="Year 5"):
        pupil = Pupil(school_id=school.id, upn=upn, first_name=first, last_name=last,
                      year_group=year_group, form="5B")
        session.add(pupil)
        session.commit()
        return pupil

    return make


@pytest.fixture
def office(app, school, make_user) -> Browser:
    browser = Browser(app.test_client())
    assert browser.login(make_user(Role.ADMIN, school).email).status_code == 302
    return browser


def upload(browser: Browser, content: str | bytes, name: str = "roster.csv"):
    data = content.encode() if isinstance(content, str) else content
    return browser.submit("/staff/roster/import",
                          {"roster_file": (io.BytesIO(data), name)},
                          content_type="multipart/form-data")


def confirm_fields(page: str) -> dict[str, str]:
    fields = dict(re.findall(
        r'name="(csrf_token|roster_data|roster_seal|roster_issued|roster_roll)" value="([^"]*)"',
        page))
    assert {"csrf_token", "roster_data", "roster_seal", "roster_issued",
            "roster_roll"} <= fields.keys(), \
        "no confirmation"
    return fields


def pupils(session, school) -> dict[str, Pupil]:
    session.expire_all()
    return {p.upn: p for p in session.scalars(select(Pupil).where(Pupil.school_id == school.id))}


def test_the_preview_shows_what_changes_and_nothing_is_written_before_confirming(
        office, session, school, make_pupil):
    jack = make_pupil(school, "Jack", "O'Neill", upn="B123456789012", year_group="Year 5")
    make_pupil(school, "Leah", "Gone", upn="C123456789012")
    preview = upload(office, FILE)
    assert preview.status_code == 200
    page = preview.get_data(as_text=True)
    assert "Khan, Aisha" in page  # new
    assert "O&#39;Neill, Jack: date of birth none to 02/11/2014, year Year 5 to Year 6, " \
        "form 5B to 6R, SEN status No SEN to SEN support" in page  # old and new, in words
    assert "Gone, Leah" in page  # on the roll, not in the file
    assert set(pupils(session, school)) == {"B123456789012", "C123456789012"}
    assert pupils(session, school)["B123456789012"].year_group == "Year 5"
    done = office.client.post("/staff/roster/import/confirm",
                              data={**confirm_fields(page), "leavers": "off"})
    assert done.status_code == 302
    now = pupils(session, school)
    assert set(now) == {"A123456789012", "B123456789012", "C123456789012"}
    assert now["B123456789012"].year_group == "Year 6"
    assert now["C123456789012"].on_roll is False  # left: kept, off the roll
    assert now[jack.upn].id == jack.id
    events = {e.action: e for e in session.scalars(select(Event).where(
        Event.action.in_(["roster.imported", "roster.left"])))}
    assert events["roster.imported"].payload == {"added": 1, "updated": 1, "unchanged": 0}
    assert events["roster.left"].payload == {"pupils": 1}
    assert events["roster.imported"].actor_id is not None


def test_leavers_stay_on_the_roll_unless_asked(office, session, school, make_pupil):
    make_pupil(school, "Leah", "Stays", upn="C123456789012")
    page = upload(office, FILE).get_data(as_text=True)
    assert office.client.post("/staff/roster/import/confirm", data={
        **confirm_fields(page), "leavers": "keep"}).status_code == 302
    assert pupils(session, school)["C123456789012"].on_roll is True


def test_rows_to_fix_are_listed_in_words_and_nothing_is_imported(office, session, school):
    bad = FILE + "not a upn!,Lee,Sam,31/02/2015,Year 4,4A,Q\n,NoUpn,Ben,,,,\n"
    response = upload(office, bad)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "2 rows need fixing: nothing was imported" in page
    assert "<td>4</td>" in page
    assert "<td>5</td>" in page
    assert "should be N, K (SEN support) or E (EHC plan)" in page
    assert 'name="roster_seal"' not in page  # nothing to confirm
    assert pupils(session, school) == {}


@pytest.mark.parametrize(("content", "words"), [
    ("", "Choose the CSV file"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "Nothing was imported"),
    ("Name,Age\nSam,9\n", "Nothing was imported"),
])
def test_a_file_that_is_not_a_roster_is_refused_in_words(office, session, school, content,
                                                         words):
    response = upload(office, content)
    assert response.status_code == 400
    assert words in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    assert pupils(session, school) == {}


def test_what_is_confirmed_is_exactly_what_was_previewed(office, session, school):
    page = upload(office, FILE).get_data(as_text=True)
    fields = confirm_fields(page)
    import base64

    forged = base64.b64encode((FILE + "Z123456789012,Planted,Pupil,,,,\n").encode()).decode()
    refused = office.client.post("/staff/roster/import/confirm",
                                 data={**fields, "roster_data": forged, "leavers": "keep"})
    assert refused.status_code == 400
    assert "not the file you previewed" in refused.get_data(as_text=True)
    assert pupils(session, school) == {}


def test_confirming_twice_imports_once(office, session, school):
    page = upload(office, FILE).get_data(as_text=True)
    fields = {**confirm_fields(page), "leavers": "keep"}
    assert office.client.post("/staff/roster/import/confirm", data=fields).status_code == 302
    again = office.client.post("/staff/roster/import/confirm", data=fields)
    assert again.status_code == 400
    assert "The roll has changed since this preview" in again.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Pupil)
                          .where(Pupil.school_id == school.id)) == 2
    assert len(session.scalars(select(Event).where(
        Event.action == "roster.imported")).all()) == 1


def test_an_older_preview_cannot_undo_a_newer_import(office, session, school, make_pupil):
    """Preview A, preview B, import B, then import A put A's values back (second trial)."""
    make_pupil(school, "Jack", "O'Neill", upn="B123456789012")
    older = upload(office, "UPN,Surname,Forename,Reg Group\nB123456789012,O'Neill,Jack,AA1\n")
    newer = upload(office, "UPN,Surname,Forename,Reg Group\nB123456789012,O'Neill,Jack,BB2\n")
    assert office.client.post("/staff/roster/import/confirm", data={
        **confirm_fields(newer.get_data(as_text=True)), "leavers": "keep"}).status_code == 302
    refused = office.client.post("/staff/roster/import/confirm", data={
        **confirm_fields(older.get_data(as_text=True)), "leavers": "keep"})
    assert refused.status_code == 400
    assert "The roll has changed since this preview" in refused.get_data(as_text=True)
    assert pupils(session, school)["B123456789012"].form == "BB2"


def test_a_double_click_on_import_imports_once_and_shows_no_error_page(
        app, office, session, school):
    import threading

    page = upload(office, FILE).get_data(as_text=True)
    fields = {**confirm_fields(page), "leavers": "keep"}
    start = threading.Barrier(3)
    codes: list[int] = []

    def confirm() -> None:
        start.wait()
        codes.append(office.client.post("/staff/roster/import/confirm",
                                        data=fields).status_code)

    threads = [threading.Thread(target=confirm) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(codes) == [302, 400, 400]
    assert len(pupils(session, school)) == 2


def test_a_forged_leavers_choice_is_refused_in_words(office, session, school):
    page = upload(office, FILE).get_data(as_text=True)
    refused = office.client.post("/staff/roster/import/confirm", data={
        **confirm_fields(page), "leavers": "bogus"})
    assert refused.status_code == 400
    assert "Choose whether the pupils not in the file stay" in refused.get_data(as_text=True)
    assert pupils(session, school) == {}


def test_a_preview_from_one_school_cannot_be_confirmed_at_another(
        app, office, session, school, make_school, make_user):
    page = upload(office, FILE).get_data(as_text=True)
    fields = confirm_fields(page)
    elm = make_school("elm", "Elm Academy")
    theirs = Browser(app.test_client())
    theirs.login(make_user(Role.ADMIN, elm).email)
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      theirs.get("/staff/roster/import").get_data(as_text=True)).group(1)
    refused = theirs.client.post("/staff/roster/import/confirm", data={
        **fields, "csrf_token": token, "leavers": "off"})
    assert refused.status_code == 400
    assert pupils(session, elm) == {}


def test_a_whole_secondary_school_fits(office, session, school):
    rows = "".join(f"X{i:012d},Surname{i},Forename{i},01/09/2010,Year {7 + i % 5},"
                   f"{7 + i % 5}A,N\n" for i in range(1500))
    page = upload(office, FILE.splitlines()[0] + "\n" + rows).get_data(as_text=True)
    assert "and 1300 more" in page
    assert office.client.post("/staff/roster/import/confirm", data={
        **confirm_fields(page), "leavers": "keep"}).status_code == 302
    assert len(pupils(session, school)) == 1500


@pytest.mark.parametrize("encode", [
    lambda text: text.encode("utf-16"),  # Excel's "Unicode text", with its byte order mark
    lambda text: text.replace("\n", "\r").encode(),  # old Mac line endings
    lambda text: text.replace("\n", "\r\n").encode("cp1252"),  # Windows, older SIMS
    # Excel's "Unicode text" is UTF-16 with tabs between the columns (second trial)
    lambda text: text.replace(",", "\t").replace("\n", "\r\n").encode("utf-16"),
    lambda text: text.replace(",", "\t").encode(),  # tab-separated UTF-8
], ids=["utf-16", "cr-only", "windows-1252", "excel-unicode-text", "tabs"])
def test_exports_saved_the_ways_spreadsheets_save_them_are_read(office, session, school,
                                                                encode):
    """These made the upload fail with a server error (trial H3)."""
    response = upload(office, encode(FILE.replace("Khan", "Khän")))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Khän, Aisha" in page
    assert "O&#39;Neill, Jack" in page


@pytest.mark.parametrize("content", [
    FILE + "C123456789012,Long," + "x" * 140_000 + ",,,,\n",  # over the CSV reader's cell limit
    "UPN,Surname,Forename\n\"A1,Khan,Aisha\n" + "x" * 140_000,  # a quote never closed
    b"\xff\xfeU\x00P\x00N\x00\x00\xd8",  # a UTF-16 mark, then a broken pair
    "UPN,Surname,Forename\nA1,Kh\x00an,Aisha\n",  # a NUL byte: not text
])
def test_a_file_the_csv_reader_chokes_on_is_refused_in_words(office, session, school, content):
    response = upload(office, content)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Nothing was imported" in text
    assert "Traceback" not in text
    assert pupils(session, school) == {}


def test_a_detail_the_file_has_no_column_for_is_left_as_it_is(office, session, school,
                                                               make_pupil):
    """A file without a date of birth, year or SEN column cleared them for every pupil in it
    (trial M5)."""
    jack = make_pupil(school, "Jack", "O'Neill", upn="B123456789012", year_group="Year 6")
    session.get(Pupil, jack.id).date_of_birth = __import__("datetime").date(2014, 11, 2)
    session.commit()
    page = upload(office, "UPN,Surname,Forename,Reg Group\nB123456789012,O'Neill,Jack,6R\n"
                  ).get_data(as_text=True)
    assert "date of birth, year, SEN status" in page  # left as they are
    assert "form 5B to 6R" in page
    assert office.client.post("/staff/roster/import/confirm", data={
        **confirm_fields(page), "leavers": "keep"}).status_code == 302
    now = pupils(session, school)["B123456789012"]
    assert (now.form, now.year_group, str(now.date_of_birth)) == ("6R", "Year 6", "2014-11-02")


def test_the_preview_names_the_columns_read_and_who_would_lose_every_contact(
        office, session, school, make_pupil):
    """A file whose contact columns are empty (or named so that only one is recognised)
    would wipe every pupil's contacts without the preview saying so (trial H4)."""
    from portal.models import ParentContact

    jack = make_pupil(school, "Jack", "O'Neill", upn="B123456789012")
    aisha = make_pupil(school, "Aisha", "Khan", upn="A123456789012")
    session.add_all([ParentContact(pupil_id=jack.id, position=1, name="Mary O'Neill",
                                   relationship="Mother", email="mary@example.test"),
                     ParentContact(pupil_id=aisha.id, position=1, name="Sara Khan",
                                   relationship="Mother", email="sara@example.test")])
    session.commit()
    content = ("UPN,Surname,Forename,Contact 1 Name,Contact 1 Mobile Phone,Notes\n"
               "B123456789012,O'Neill,Jack,,07700 900123,\n"
               "A123456789012,Khan,Aisha,Sara Khan,,\n")
    page = upload(office, content).get_data(as_text=True)
    assert "Columns read</dt><dd>UPN, Surname, Forename, Contact 1 Name</dd>" in page
    assert "Columns ignored</dt><dd>Contact 1 Mobile Phone, Notes</dd>" in page
    assert "would be left with no parent or carer contact (1)" in page
    warning = page[page.index("no parent or carer contact"):]
    assert "O&#39;Neill, Jack" in warning[:warning.index("</div>")]
    # Aisha's contact loses its relationship and email, in words
    assert "Khan, Aisha: contact 1&#39;s relationship Mother removed; contact 1&#39;s email " \
        "sara@example.test removed" in page
    assert "The file has no contact relationship, email, phone column" in page


def test_each_contact_change_is_listed_old_to_new(office, session, school, make_pupil):
    """A file with only a contact name column removed the emails, phones and second
    contacts it did not mention, and the preview said only "contacts change" (second
    trial)."""
    from portal.models import ParentContact

    jack = make_pupil(school, "Jack", "O'Neill", upn="B123456789012")
    session.add_all([
        ParentContact(pupil_id=jack.id, position=1, name="Mary O'Neill", relationship="Mother",
                      email="mary@example.test", phone="07700 900001"),
        ParentContact(pupil_id=jack.id, position=2, name="Tom O'Neill", relationship="Father")])
    session.commit()
    page = upload(office, "UPN,Surname,Forename,Contact 1 Name,Contact 1 Relationship,"
                  "Contact 1 Email\nB123456789012,O'Neill,Jack,Mary O'Neill,Mother,"
                  "mary.new@example.test\n").get_data(as_text=True)
    line = page[page.index("Contacts that change (1 pupil)"):]
    line = line[:line.index("</ul>")]
    assert "contact 1&#39;s email mary@example.test to mary.new@example.test" in line
    assert "contact 1&#39;s phone 07700 900001 removed" in line
    assert "contact 2 (Tom O&#39;Neill) removed" in line
    assert "The file has no contact phone column" in page


def test_a_preview_is_confirmed_by_whoever_made_it_within_the_hour(
        app, office, session, school, make_user):
    page = upload(office, FILE).get_data(as_text=True)
    fields = {**confirm_fields(page), "leavers": "keep"}
    late = {**fields, "roster_issued": str(int(fields["roster_issued"]) - 3601)}
    refused = office.client.post("/staff/roster/import/confirm", data=late)
    assert refused.status_code == 400  # the seal covers the time: a changed time is refused
    colleague = Browser(app.test_client())
    colleague.login(make_user(Role.DSL, school).email)
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      colleague.get("/staff/roster/import").get_data(as_text=True)).group(1)
    assert colleague.client.post("/staff/roster/import/confirm", data={
        **fields, "csrf_token": token}).status_code == 400
    assert pupils(session, school) == {}


def test_an_hour_old_preview_is_refused_in_words(office, session, school, monkeypatch):
    import time as clock

    page = upload(office, FILE).get_data(as_text=True)
    later = clock.time() + 3601
    monkeypatch.setattr("portal.admin.views_roster_import.time.time", lambda: later)
    refused = office.client.post("/staff/roster/import/confirm", data={
        **confirm_fields(page), "leavers": "keep"})
    assert refused.status_code == 400
    assert "more than 60 minutes old" in refused.get_data(as_text=True)
    assert pupils(session, school) == {}


@pytest.mark.parametrize("role", [Role.STAFF, Role.HEAD, Role.DEPUTY_DSL, Role.TRUST_LEAD])
def test_other_roles_cannot_upload(app, school, make_user, role):
    browser = Browser(app.test_client())
    browser.login(make_user(role, None if role == Role.TRUST_LEAD else school).email)
    assert browser.get("/staff/roster/import").status_code == 403


def test_an_upload_too_big_to_read_says_nothing_was_imported(office, session, school):
    """A 9 MB file got the report form's "too big" page, about "the case" (second trial)."""
    # the body as bytes: the test client would spool a multipart one to an unclosed file
    response = office.client.post("/staff/roster/import", data=b"x" * (9 * 1024 * 1024),
                                  content_type="multipart/form-data; boundary=nothing")
    assert response.status_code == 413
    text = response.get_data(as_text=True)
    assert "bigger than 4 MB" in text
    assert "Nothing was imported" in text
    assert pupils(session, school) == {}


@pytest.mark.parametrize(("row", "words"), [
    ("A1,Khan,Aisha,01/01/9999,Year 5,5B", "is not a pupil&#39;s"),
    ("A1,Khan,Aisha,01/01/1901,Year 5,5B", "is not a pupil&#39;s"),
    ("A1,Khan,Aisha,01/01/2015," + "Y" * 31 + ",5B", "the year is longer than 30 characters"),
    ("A1,Khan,Aisha,01/01/2015,Year 5," + "F" * 31, "the form is longer than 30 characters"),
])
def test_impossible_birthdays_and_overlong_years_are_rows_to_fix(office, session, school,
                                                                  row, words):
    response = upload(office, f"UPN,Surname,Forename,DOB,Year,Form\n{row}\n")
    assert response.status_code == 400
    assert words in response.get_data(as_text=True)
    assert pupils(session, school) == {}
