"""Records that leave the portal (issue 16): a case, and a child's whole record, as a PDF.

The anti-bullying policy asks for "a clear and precise account of bullying incidents ...
including ... decisions and actions taken"; the contract is ``GET
/staff/cases/<id>/export.pdf`` and ``GET /staff/pupils/<id>/export.pdf``, each an audit
event. The PDFs are read back with pypdf (tests/pdf_text.py).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal import linking
from portal.casework import parents, parties
from portal.models import (
    Event,
    LinkRole,
    ParentContact,
    Pupil,
    Report,
    Role,
    SupportType,
)
from portal.triage import operations as ops
from portal.vocabulary import Category
from tests.conftest import Browser, kept_evidence_and_staff_concern
from tests.pdf_text import pdf_text

BASE = "http://localhost"


def flat(text: str) -> str:
    """The PDF's text with its line breaks as spaces (a long sentence wraps)."""
    return re.sub(r"\s+", " ", text)


@pytest.fixture
def dsl(browser, school, make_user, session):
    user = make_user(school=school)
    user.display_name = "Mrs Dee Lane"
    session.commit()
    browser.login(user.email)
    return user


@pytest.fixture
def case(app, session, school, make_report, make_user, dsl):
    """A decided case: Aisha (target, support, her Mum told), Jack (alleged perpetrator, a
    detention), Ben linked by mistake and unlinked, a message, a kept file."""
    stored, _ = make_report(school, what_happened="They took my phone at lunch and laughed.")
    report = session.get(Report, stored.id)
    kids = {}
    for first, last in (("Aisha", "Khan"), ("Jack", "Lee"), ("Ben", "Wrong")):
        kids[first] = Pupil(school_id=school.id, upn=f"U{first}", first_name=first,
                            last_name=last, year_group="Year 5", form="5B")
    session.add_all(kids.values())
    session.flush()
    mum = ParentContact(pupil_id=kids["Aisha"].id, position=1, priority=1, name="Sara Khan",
                        relationship="Mum", phone="07700 900123")
    session.add(mum)
    aisha = linking.link(session, report, kids["Aisha"], LinkRole.TARGET, actor=dsl,
                         school=school)
    jack = linking.link(session, report, kids["Jack"], LinkRole.ALLEGED_PERPETRATOR,
                        actor=dsl, school=school)
    ben = linking.link(session, report, kids["Ben"], LinkRole.WITNESS, actor=dsl,
                       school=school)
    linking.unlink(session, ben, actor=dsl, school=school, reason="Linked by mistake")
    ops.record_decision(session, report, actor=dsl, category=Category.BULLYING_INCIDENT,
                        reason="Repeated, deliberate, and she felt unable to stop it.")
    today = date.today()
    parties.add_support(session, report, aisha, actor=dsl, type_=SupportType.SUPPORT,
                        code="reassurance_pastoral", given_by="Mr Patel", starts_on=today,
                        review_on=today + timedelta(days=14), note="Weekly check-in")
    parties.add_support(session, report, jack, actor=dsl, type_=SupportType.SANCTION,
                        code="detention", given_by="Mrs Green", starts_on=today,
                        review_on=None, note="")
    parents.record_parents_told(session, report, aisha.id, actor=dsl, told_on=today,
                                how="phone", what="Told Mum what happened at lunch.",
                                contact_id=mum.id)
    ops.message_reporter(session, report, actor=dsl, body="Thank you for telling us.",
                         base_url=BASE)
    session.commit()
    item, _pupil, _concern = kept_evidence_and_staff_concern(
        app, session, school, report, make_user(Role.STAFF, school))
    return {"id": report.id, "aisha": kids["Aisha"], "jack": kids["Jack"],
            "ben": kids["Ben"], "item": item}


def exported(session, action: str) -> list[Event]:
    return list(session.scalars(select(Event).where(Event.action == action)))


def test_the_case_pdf_holds_the_whole_record_with_who_and_when(browser, case, session, dsl):
    response = browser.get(f"/staff/cases/{case['id']}/export.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    assert f'filename="case-{case["id"]}.pdf"' in response.headers["Content-Disposition"]
    text = flat(pdf_text(response.data))
    # every page: confidential, who exported it, and the page number
    assert "Confidential — exported by Mrs Dee Lane at" in text
    assert "Page 1 of" in text
    # what was reported, the decision with its reason
    assert "They took my phone at lunch and laughed." in text
    assert "Bullying Incident" in text
    assert "Repeated, deliberate, and she felt unable to stop it." in text
    # each child: support and sanctions with who gave them, and the parents told
    assert "Aisha Khan" in text
    assert "Jack Lee" in text
    assert "Reassurance and continuous pastoral support" in text
    assert "Mr Patel" in text
    assert "Detention" in text
    assert "Mrs Green" in text
    assert "Told Mum what happened at lunch." in text
    assert "Sara Khan (Mum)" in text
    # messages with the reporter, the evidence with its hashes
    assert "Thank you for telling us." in text
    assert case["item"].sha256_kept in text.replace(" ", "")
    # the chronology, in order, with who did each thing
    trail = text[text.index("Chronology"):]
    assert trail.index("Report received") < trail.index("Linked Aisha Khan as target") \
        < trail.index("Decision: ") < trail.index("Support for Aisha Khan")
    assert "Mrs Dee Lane Linked Aisha Khan as target" in trail


def test_the_case_pdf_names_no_child_who_is_not_a_party_now(browser, case):
    text = flat(pdf_text(browser.get(f"/staff/cases/{case['id']}/export.pdf").data))
    assert "Ben" not in text
    assert "Wrong" not in text
    assert "Linked a pupil since unlinked as witness" in text


def test_exporting_a_case_is_an_audit_event(browser, case, session, dsl):
    assert exported(session, "case.exported") == []
    browser.get(f"/staff/cases/{case['id']}/export.pdf")
    (event,) = exported(session, "case.exported")
    assert (event.actor_id, event.report_id, event.payload) == (dsl.id, case["id"],
                                                                {"format": "pdf"})
    # and the case's chronology shows it
    assert "Case exported as a PDF" in browser.get(f"/staff/cases/{case['id']}").get_data(
        as_text=True)


def test_the_childs_pdf_has_what_was_done_for_them_and_no_other_child(browser, case,
                                                                       session, dsl):
    response = browser.get(f"/staff/pupils/{case['aisha'].id}/export.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    text = flat(pdf_text(response.data))
    assert "Confidential — exported by Mrs Dee Lane at" in text
    assert "Aisha Khan" in text
    assert f"#{case['id']}" in text
    assert "Reassurance and continuous pastoral support" in text
    assert "Told Mum what happened at lunch." in text
    assert "Jack" not in text
    assert "Detention" not in text
    (event,) = exported(session, "pupil.exported")
    assert (event.actor_id, event.payload) == (dsl.id, {"pupil_id": case["aisha"].id,
                                                        "format": "pdf"})


@pytest.mark.parametrize("role", [Role.STAFF, Role.HEAD, Role.ADMIN])
def test_only_the_dsl_team_may_export(app, case, make_user, school, role, session):
    other = Browser(app.test_client())
    other.login(make_user(role, school).email)
    for url in (f"/staff/cases/{case['id']}/export.pdf",
                f"/staff/pupils/{case['aisha'].id}/export.pdf",
                f"/staff/cases/{case['id']}/bundle.zip?reason=police"):
        response = other.client.get(url)
        assert response.status_code in (302, 403, 404), (role, url)
        assert response.mimetype not in ("application/pdf", "application/zip")
    assert exported(session, "case.exported") == exported(session, "pupil.exported") == []
    assert exported(session, "evidence.bundled") == []


def test_another_schools_dsl_gets_not_found(app, case, make_school, make_user, session):
    elm = make_school("elm", "Elm Park")
    other = Browser(app.test_client())
    other.login(make_user(Role.DSL, elm).email)
    assert other.client.get(f"/staff/cases/{case['id']}/export.pdf").status_code == 404
    assert other.client.get(f"/staff/pupils/{case['aisha'].id}/export.pdf").status_code == 404
    assert other.client.get(
        f"/staff/cases/{case['id']}/bundle.zip?reason=ceop").status_code == 404
    assert exported(session, "evidence.bundled") == []
    assert exported(session, "case.exported") == exported(session, "pupil.exported") == []


def test_script_in_the_report_is_text_in_the_pdf(browser, school, make_report, dsl):
    stored, _ = make_report(school, what_happened='<script>alert("x")</script><b>bold</b>')
    text = flat(pdf_text(browser.get(f"/staff/cases/{stored.id}/export.pdf").data))
    assert '<script>alert("x")</script><b>bold</b>' in text



# --- the evidence bundle ---------------------------------------------------------------


def bundle_url(case, **args) -> str:
    query = "&".join(f"{k}={v}" for k, v in args.items())
    return f"/staff/cases/{case['id']}/bundle.zip" + (f"?{query}" if query else "")


def read_csv(archive: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8-sig"))))


def test_the_bundle_holds_the_files_whose_hashes_match_the_manifest(browser, case, session,
                                                                    dsl):
    browser.get(f"/staff/cases/{case['id']}/evidence/{case['item'].id}")  # a download first
    response = browser.get(bundle_url(case, reason="ceop", reference="CEOP-1234"))
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert f'filename="case-{case["id"]}-evidence-bundle.zip"' in \
        response.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    name = f"report-{case['id']}-evidence-1.pdf"
    assert sorted(archive.namelist()) == sorted(
        [name, f"case-{case['id']}.pdf", "manifest.csv", "custody.csv"])
    (row,) = read_csv(archive, "manifest.csv")
    assert row["file"] == name
    # recomputing each file's SHA-256 gives the manifest's
    assert hashlib.sha256(archive.read(name)).hexdigest() == row["sha256_kept"] \
        == case["item"].sha256_kept
    assert row["sha256_received"] == case["item"].sha256_received
    assert row["added_by"] == "the reporter, with the report"
    custody = read_csv(archive, "custody.csv")
    assert [(c["file"], c["who"], c["what"]) for c in custody] == [
        (name, "Mrs Dee Lane", "downloaded"),
        (name, "Mrs Dee Lane", "put in this bundle for CEOP (Child Exploitation and Online "
                               "Protection)")]
    assert "Confidential — exported by Mrs Dee Lane" in pdf_text(
        archive.read(f"case-{case['id']}.pdf"))
    (event,) = exported(session, "evidence.bundled")
    assert (event.actor_id, event.report_id, event.payload) == (
        dsl.id, case["id"], {"reason": "ceop", "reference": "CEOP-1234",
                             "evidence_ids": [case["item"].id]})
    page = browser.get(f"/staff/cases/{case['id']}").get_data(as_text=True)
    assert "Evidence bundle made for CEOP" in page
    assert "Reference: CEOP-1234" in page


def test_a_second_bundle_shows_the_first_in_its_custody_log(browser, case):
    browser.get(bundle_url(case, reason="police"))
    archive = zipfile.ZipFile(io.BytesIO(browser.get(bundle_url(case, reason="ceop")).data))
    whats = [c["what"] for c in read_csv(archive, "custody.csv")]
    assert whats == ["put in a bundle for The police",
                     "put in this bundle for CEOP (Child Exploitation and Online Protection)"]


def test_without_a_reason_the_page_asks_and_nothing_is_recorded(browser, case, session):
    first = browser.get(bundle_url(case))
    assert first.status_code == 200
    assert "Who is it for?" in first.get_data(as_text=True)
    refused = browser.get(bundle_url(case, asked=1, reason="", reference="Crime%2042"))
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert "Choose who the bundle is for." in html
    assert 'value="Crime 42"' in html  # what was typed is kept
    forged = browser.get(bundle_url(case, reason="the-press"))
    assert forged.status_code == 400
    assert exported(session, "evidence.bundled") == []


def test_a_file_changed_on_disk_is_refused_not_bundled(app, browser, case, session, school):
    from portal import evidence as store

    path = app.config["PORTAL_EVIDENCE_DIR"] / str(school.id) / case["item"].stored_name
    path.unlink()
    store.write(path.parent, path.name, b"%PDF-1.4\n% something else\n")
    response = browser.get(bundle_url(case, reason="police"))
    assert response.status_code == 400
    assert "no longer matches the hash" in response.get_data(as_text=True)
    # and a file whose encrypted bytes were changed cannot be read: refused the same way
    damaged = bytearray(path.read_bytes())
    damaged[-1] ^= 1
    path.write_bytes(bytes(damaged))
    response = browser.get(bundle_url(case, reason="police"))
    assert response.status_code == 400
    assert "no longer matches the hash" in response.get_data(as_text=True)
    assert exported(session, "evidence.bundled") == []


def test_the_case_page_offers_the_exports_and_the_bundle(browser, case):
    html = browser.get(f"/staff/cases/{case['id']}").get_data(as_text=True)
    assert f'href="/staff/cases/{case["id"]}/export.pdf"' in html
    form = html[html.rindex("<form", 0, html.index('id="bundle-form"')):]
    form = form[:form.index("</form>")]
    assert f'action="/staff/cases/{case["id"]}/bundle.zip"' in form
    assert 'method="get"' in form
    for value in ("police", "ceop", "social_care", "local_authority"):
        assert f'value="{value}"' in form
    pupil = browser.get(f"/staff/pupils/{case['aisha'].id}").get_data(as_text=True)
    assert f'href="/staff/pupils/{case["aisha"].id}/export.pdf"' in pupil


def test_the_reason_a_pupil_was_unlinked_is_left_out_of_the_pdf(app, browser, session,
                                                                 school, make_report, dsl):
    """A trial's finding: the unlink reason, the DSL's own words, named the unlinked child."""
    stored, _ = make_report(school)
    report = session.get(Report, stored.id)
    zain = Pupil(school_id=school.id, upn="Z1", first_name="Zain", last_name="Bailey")
    session.add(zain)
    session.flush()
    wrong = linking.link(session, report, zain, LinkRole.WITNESS, actor=dsl, school=school)
    linking.unlink(session, wrong, actor=dsl, school=school,
                   reason="Linked by mistake, wrong Zain Bailey child")
    session.commit()
    text = flat(pdf_text(browser.get(f"/staff/cases/{stored.id}/export.pdf").data))
    assert "Zain" not in text
    assert "The reason is kept in the portal." in text


@pytest.mark.parametrize("url", [
    "/staff/cases/99999999999999999999999/export.pdf",
    "/staff/cases/99999999999999999999999/bundle.zip?reason=police",
    "/staff/pupils/99999999999999999999999/export.pdf",
    "/staff/transfers/99999999999999999999999",
    "/staff/cases/99999999999999999999999",
])
def test_an_id_too_big_for_the_database_is_not_found_not_a_crash(browser, dsl, url):
    assert browser.get(url).status_code == 404


@pytest.mark.parametrize("query", ["who=9999999999999999999999999", "case=99999999999999999999",
                                   "pupil=²", "case=١٢"])
def test_an_audit_filter_too_big_or_not_ascii_is_refused_in_words(browser, dsl, query):
    response = browser.get(f"/staff/audit?{query}")
    assert response.status_code == 400
    assert "as a number" in response.get_data(as_text=True)
    assert browser.get("/staff/audit?page=²").status_code == 200  # the first page


def test_an_id_beyond_32_bits_is_not_found_on_postgresql_too(browser, dsl):
    """PostgreSQL's INTEGER ids hold 32 bits: 2**31 is not found, never a driver error."""
    assert browser.get(f"/staff/cases/{2**31}/export.pdf").status_code == 404
    assert browser.get(f"/staff/audit?case={2**31}").status_code == 400
