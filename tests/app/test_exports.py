"""Records that leave the portal (issue 16): a case, and a child's whole record, as a PDF.

The anti-bullying policy asks for "a clear and precise account of bullying incidents ...
including ... decisions and actions taken"; the contract is ``GET
/staff/cases/<id>/export.pdf`` and ``GET /staff/pupils/<id>/export.pdf``, each an audit
event. The PDFs are read back with pypdf (tests/pdf_text.py).
"""

from __future__ import annotations

import re
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
    ReportPupil,
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
    assert "Aisha Khan" in text and "Jack Lee" in text
    assert "Reassurance and continuous pastoral support" in text and "Mr Patel" in text
    assert "Detention" in text and "Mrs Green" in text
    assert "Told Mum what happened at lunch." in text and "Sara Khan (Mum)" in text
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
    assert "Ben" not in text and "Wrong" not in text
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
    assert "Jack" not in text and "Detention" not in text
    (event,) = exported(session, "pupil.exported")
    assert (event.actor_id, event.payload) == (dsl.id, {"pupil_id": case["aisha"].id,
                                                        "format": "pdf"})


@pytest.mark.parametrize("role", [Role.STAFF, Role.HEAD, Role.ADMIN])
def test_only_the_dsl_team_may_export(app, case, make_user, school, role, session):
    other = Browser(app.test_client())
    other.login(make_user(role, school).email)
    for url in (f"/staff/cases/{case['id']}/export.pdf",
                f"/staff/pupils/{case['aisha'].id}/export.pdf"):
        response = other.client.get(url)
        assert response.status_code in (302, 403, 404), (role, url)
        assert response.mimetype != "application/pdf"
    assert exported(session, "case.exported") == exported(session, "pupil.exported") == []


def test_another_schools_dsl_gets_not_found(app, case, make_school, make_user, session):
    elm = make_school("elm", "Elm Park")
    other = Browser(app.test_client())
    other.login(make_user(Role.DSL, elm).email)
    assert other.client.get(f"/staff/cases/{case['id']}/export.pdf").status_code == 404
    assert other.client.get(f"/staff/pupils/{case['aisha'].id}/export.pdf").status_code == 404
    assert exported(session, "case.exported") == exported(session, "pupil.exported") == []


def test_script_in_the_report_is_text_in_the_pdf(browser, school, make_report, dsl):
    stored, _ = make_report(school, what_happened='<script>alert("x")</script><b>bold</b>')
    text = flat(pdf_text(browser.get(f"/staff/cases/{stored.id}/export.pdf").data))
    assert '<script>alert("x")</script><b>bold</b>' in text

