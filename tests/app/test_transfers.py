"""A file that follows the child (issue 16; KCSIE): the DSL sends a pupil's record to their
new school in the same trust; the new school's DSL reads a read-only copy marked as
transferred with the date; the sending school keeps its record and the transfer in its
audit; any other school, and other roles, reach none of it."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from portal.casework import parties
from portal.models import (
    Event,
    LinkRole,
    Pupil,
    PupilTransfer,
    Report,
    ReportPupil,
    Role,
    SupportType,
    Trust,
)
from tests.conftest import Browser


@pytest.fixture
def world(app, session, school, make_school, make_report, make_user, dsl):
    """Oakfield and Elm in one trust, Far in another; Aisha at Oakfield with a case and
    support, and on Elm's roster too (same UPN) since she is moving there."""
    elm, far = make_school("elm", "Elm Academy"), make_school("far", "Far Away School")
    trust, other = Trust(name="Northern Trust"), Trust(name="Other Trust")
    session.add_all([trust, other])
    session.flush()
    school.trust_id = elm.trust_id = trust.id
    far.trust_id = other.id
    aisha = Pupil(school_id=school.id, upn="K123456789012", first_name="Aisha",
                  last_name="Khan", year_group="Year 6", form="6B")
    jack = Pupil(school_id=school.id, upn="J123456789012", first_name="Jack", last_name="Lee")
    at_elm = Pupil(school_id=elm.id, upn="K123456789012", first_name="Aisha",
                   last_name="Khan", year_group="Year 7", form="7R")
    session.add_all([aisha, jack, at_elm])
    session.flush()
    stored, _ = make_report(school, what_happened="Secret words of the report")
    report = session.get(Report, stored.id)
    target = ReportPupil(report_id=report.id, pupil_id=aisha.id, role=LinkRole.TARGET,
                         linked_by_id=dsl.id)
    session.add_all([target, ReportPupil(report_id=report.id, pupil_id=jack.id,
                                         role=LinkRole.ALLEGED_PERPETRATOR,
                                         linked_by_id=dsl.id)])
    session.flush()
    parties.add_support(session, report, target, actor=dsl, type_=SupportType.SUPPORT,
                        code="reassurance_pastoral", given_by="Mr Patel",
                        starts_on=date.today(), review_on=None, note="")
    session.commit()
    elm_dsl, far_dsl = make_user(Role.DSL, elm), make_user(Role.DSL, far)
    return {"elm": elm, "far": far, "aisha": aisha, "at_elm": at_elm, "report": report.id,
            "elm_dsl": elm_dsl, "far_dsl": far_dsl}


def as_user(app, user) -> Browser:
    other = Browser(app.test_client())
    other.login(user.email)
    return other


def send(browser, world, school=None, note="Moving in January; see Mr Patel's notes"):
    page = f"/staff/pupils/{world['aisha'].id}"
    return browser.submit(page, {"to_school": str((school or world["elm"]).id),
                                 "transfer_note": note},
                          action=f"{page}/transfer")


def test_the_new_schools_dsl_reads_the_record_marked_as_transferred(app, browser, world,
                                                                    session, dsl):
    response = send(browser, world)
    assert response.status_code == 302
    (sent,) = session.scalars(select(PupilTransfer))
    assert (sent.to_school_id, sent.to_pupil_id) == (world["elm"].id, world["at_elm"].id)
    elm = as_user(app, world["elm_dsl"])
    listing = elm.get("/staff/transfers").get_data(as_text=True)
    assert "Aisha Khan" in listing
    page = elm.get(f"/staff/transfers/{sent.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Read-only copy, transferred" in html
    assert "Reassurance and continuous pastoral support" in html
    assert "Moving in January" in html
    assert "Jack" not in html  # no other child travels
    assert "Secret words of the report" not in html  # nor the report's own words
    assert "<form" not in html[html.index("<main"):]  # read-only
    # Elm's own Aisha shows where her record came from
    mine = elm.get(f"/staff/pupils/{world['at_elm'].id}").get_data(as_text=True)
    assert f"/staff/transfers/{sent.id}" in mine


def test_the_sending_school_keeps_its_record_and_the_transfer_in_its_audit(
        browser, world, session, dsl):
    send(browser, world)
    (sent,) = session.scalars(select(PupilTransfer))
    events = {e.action: e for e in session.scalars(select(Event).where(
        Event.action.in_(["pupil.transferred", "transfer.received"])))}
    assert events["pupil.transferred"].school_id == world["aisha"].school_id
    assert events["pupil.transferred"].payload == {
        "pupil_id": world["aisha"].id, "transfer_id": sent.id, "to_school": "elm"}
    assert events["transfer.received"].school_id == world["elm"].id
    assert session.get(Pupil, world["aisha"].id) is not None
    assert browser.get(f"/staff/cases/{world['report']}").status_code == 200
    trail = browser.get("/staff/audit.csv?kind=exported").data.decode("utf-8-sig")
    assert "Record of Aisha Khan sent to elm" in trail


def test_a_later_change_at_the_sending_school_is_not_sent_on(app, browser, world, session,
                                                            dsl):
    send(browser, world)
    aisha = session.get(Pupil, world["aisha"].id)
    aisha.year_group = "Year 9 (changed later)"
    session.commit()
    (sent,) = session.scalars(select(PupilTransfer))
    html = as_user(app, world["elm_dsl"]).get(f"/staff/transfers/{sent.id}").get_data(
        as_text=True)
    assert "Year 6" in html
    assert "changed later" not in html


def test_a_school_outside_the_trust_is_refused_and_cannot_read_it(app, browser, world,
                                                                  session, dsl):
    refused = send(browser, world, school=world["far"], note="Typed note kept")
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert "Choose another school of your trust" in html
    assert "Typed note kept" in html
    assert session.scalars(select(PupilTransfer)).all() == []
    send(browser, world)
    (sent,) = session.scalars(select(PupilTransfer))
    far = as_user(app, world["far_dsl"])
    assert far.get(f"/staff/transfers/{sent.id}").status_code == 404
    assert "Aisha" not in far.get("/staff/transfers").get_data(as_text=True)
    # Elm's DSL cannot send Oakfield's child's record
    elm = as_user(app, world["elm_dsl"])
    assert elm.client.post(f"/staff/pupils/{world['aisha'].id}/transfer",
                           data={"to_school": str(world["elm"].id)}).status_code in (400, 404)


@pytest.mark.parametrize("role", [Role.STAFF, Role.HEAD, Role.TRUST_LEAD, Role.ADMIN])
def test_other_roles_reach_none_of_it(app, browser, world, session, dsl, make_user, school,
                                      role):
    send(browser, world)
    (sent,) = session.scalars(select(PupilTransfer))
    user = make_user(role, None if role == Role.TRUST_LEAD else school,
                     trust_id=school.trust_id if role == Role.TRUST_LEAD else None)
    other = as_user(app, user)
    for url in ("/staff/transfers", f"/staff/transfers/{sent.id}"):
        assert other.client.get(url).status_code in (302, 403), (role, url)


def test_the_same_transfer_sent_twice_is_one_transfer(browser, world, session, dsl):
    """A trial's finding: a resent form made a second identical copy at the new school."""
    assert send(browser, world).status_code == 302
    again = send(browser, world)
    assert again.status_code == 400
    assert "already, and nothing in it has changed since" in again.get_data(as_text=True)
    assert len(session.scalars(select(PupilTransfer)).all()) == 1
    # once something changed, it can be sent again
    aisha = session.get(Pupil, world["aisha"].id)
    aisha.form = "6C"
    session.commit()
    assert send(browser, world).status_code == 302
    assert len(session.scalars(select(PupilTransfer)).all()) == 2


def test_an_expired_page_keeps_the_note_typed_for_the_new_school(app, browser, world, dsl):
    """A trial's finding: a transfer sent from an expired page (or without its token) lost
    the note; now the child's page comes back with the note and says to send it again."""
    response = browser.client.post(f"/staff/pupils/{world['aisha'].id}/transfer", data={
        "to_school": str(world["elm"].id), "transfer_note": "Moving in January, ask Mr Patel"})
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Moving in January, ask Mr Patel" in text
    assert 'id="send-record" open' in text
