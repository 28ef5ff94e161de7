"""Nude and semi-nude images of children (issue 16; UKCIS, "Sharing nudes and semi-nudes":
staff must not "view, copy, print, share or forward" them). A DSL marks a kept file; from
then on it is never bundled, leaves only with a written reason naming the referral, and
the case is a safeguarding concern with the CEOP step (cyber-bullying policy 5.6)."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from sqlalchemy import select

from portal.models import ChecklistItem, Event, Evidence, Report, Role
from portal.vocabulary import Category
from tests.conftest import Browser, kept_evidence_and_staff_concern


@pytest.fixture
def case(app, session, school, make_report, make_user):
    stored, _ = make_report(school)
    report = session.get(Report, stored.id)
    item, _pupil, _concern = kept_evidence_and_staff_concern(
        app, session, school, report, make_user(Role.STAFF, school))
    page = f"/staff/cases/{report.id}"
    return {"id": report.id, "item": item.id, "page": page,
            "mark": f"{page}/evidence/{item.id}/suspected-nude",
            "release": f"{page}/evidence/{item.id}/release",
            "download": f"{page}/evidence/{item.id}"}


def events(session, action: str) -> list[Event]:
    return list(session.scalars(select(Event).where(Event.action == action)))


def mark(browser, case, note="A pupil said it is a photo of her"):
    return browser.submit(case["page"], {"nude_note": note}, action=case["mark"])


def test_marking_a_file_withholds_it_and_makes_the_case_a_safeguarding_concern(
        browser, case, session, dsl):
    response = mark(browser, case)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("#evidence")
    session.expire_all()
    item = session.get(Evidence, case["item"])
    assert item.suspected_nude
    assert item.suspected_nude_by_id == dsl.id
    (event,) = events(session, "evidence.marked_nude")
    assert event.payload == {"evidence_id": case["item"],
                             "note": "A pupil said it is a photo of her"}
    report = session.get(Report, case["id"])
    assert report.category == Category.SAFEGUARDING
    steps = {i.key for i in session.scalars(
        select(ChecklistItem).where(ChecklistItem.report_id == case["id"]))}
    assert "cyber-5.6" in steps  # "Send all the evidence to CEOP"
    html = browser.get(case["page"]).get_data(as_text=True)
    assert "Suspected nude image" in html
    assert f'href="{case["download"]}"' not in html  # no plain download link for it
    assert f'href="{case["release"]}"' in html
    assert f'action="{case["mark"]}"' not in html  # not marked twice


def test_a_marked_file_is_not_downloaded_without_a_reason(browser, case, session, dsl):
    mark(browser, case)
    response = browser.get(case["download"])
    assert response.status_code == 302
    assert response.headers["Location"].endswith(case["release"])
    page = browser.get(case["release"])
    assert page.status_code == 200
    assert "must not view, copy, print, share or forward" in page.get_data(as_text=True)
    refused = browser.submit(case["release"], {"release_reason": "for CEOP"})
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert "name the referral" in html
    assert "for CEOP</textarea>" in html  # what was typed is kept
    assert events(session, "evidence.released") == []
    assert events(session, "evidence.downloaded") == []


def test_with_a_reason_naming_the_referral_the_file_leaves_and_it_is_recorded(
        browser, case, session, dsl):
    mark(browser, case)
    response = browser.submit(case["release"],
                              {"release_reason": "CEOP referral 12345: the officer asked"})
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.data.startswith(b"%PDF-1.4")
    (event,) = events(session, "evidence.released")
    assert (event.actor_id, event.payload) == (
        dsl.id, {"evidence_id": case["item"], "reason": "CEOP referral 12345: the officer asked"})


def test_a_marked_file_is_never_put_in_a_bundle(browser, case, session, dsl):
    mark(browser, case)
    archive = zipfile.ZipFile(io.BytesIO(browser.get(
        f"{case['page']}/bundle.zip?reason=ceop").data))
    assert not any(n.startswith(f"report-{case['id']}-evidence-") for n in archive.namelist())
    (row,) = csv.DictReader(io.StringIO(archive.read("manifest.csv").decode("utf-8-sig")))
    assert row["file"].startswith("file 1 withheld: suspected nude or semi-nude image")
    assert row["sha256_kept"] == session.get(Evidence, case["item"]).sha256_kept
    (bundled,) = events(session, "evidence.bundled")
    assert bundled.payload["evidence_ids"] == []


def test_marking_twice_is_refused_in_words(browser, case, session, dsl):
    mark(browser, case)
    again = browser.client.post(case["mark"], data={
        "nude_note": "", "csrf_token": _token(browser, case)})
    assert again.status_code == 400
    assert "already marked" in again.get_data(as_text=True)
    assert len(events(session, "evidence.marked_nude")) == 1


def _token(browser, case) -> str:
    from tests.conftest import hidden_fields

    return hidden_fields(browser.get(case["page"]).get_data(as_text=True),
                         f"/staff/cases/{case['id']}/notes")["csrf_token"]


def test_another_school_and_other_roles_cannot_mark(app, case, make_school, make_user,
                                                    school, session):
    elm = Browser(app.test_client())
    elm.login(make_user(Role.DSL, make_school("elm", "Elm Park")).email)
    assert elm.client.post(case["mark"], data={"nude_note": ""}).status_code in (400, 404)
    staff = Browser(app.test_client())
    staff.login(make_user(Role.STAFF, school).email)
    assert staff.client.post(case["mark"], data={"nude_note": ""}).status_code in (400, 403)
    assert events(session, "evidence.marked_nude") == []
    assert not session.get(Evidence, case["item"]).suspected_nude


def test_reporters_are_told_not_to_send_such_an_image_to_anyone(client, school):
    pupil = client.get(f"/s/{school.slug}/pupil").get_data(as_text=True)
    assert "do not add it here and do not send it to anyone else" in pupil
    parent = client.get(f"/s/{school.slug}/parent").get_data(as_text=True)
    assert "do not upload it, copy it or send it to anyone else" in parent
