"""Breaks a fresh-context trial of the case work found (issue 14), each a test that failed
before its fix: the same form sent twice was recorded twice (someone not on the roster, a
review, a meeting's outcome); "found responsible" outlived a change of decision; years 0001
and 9999 were taken as dates; unreadable dates got WTForms' words; the meeting said
"invited by in person"; the pupil page's role column said "alleged" after a finding."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.casework import checkback, parents, parties
from portal.models import (
    Event,
    Finding,
    LinkRole,
    PartyKind,
    Pupil,
    Report,
    ReportPupil,
    SupportType,
)
from portal.triage import operations as ops
from portal.vocabulary import Category

TODAY = date.today()


@pytest.fixture
def case(session, school, make_report):
    report, _ = make_report(school)
    return session.get(Report, report.id)


@pytest.fixture
def child(session, school, case, dsl):
    pupil = Pupil(school_id=school.id, upn="T00001", first_name="Alfie", last_name="Adams",
                  year_group="Year 6", form="6A")
    session.add(pupil)
    session.flush()
    party = ReportPupil(report_id=case.id, pupil_id=pupil.id,
                        role=LinkRole.ALLEGED_PERPETRATOR, linked_by_id=dsl.id)
    session.add(party)
    session.commit()
    return party


def events(session, action: str) -> int:
    return session.scalar(select(func.count()).select_from(Event).where(
        Event.action == action)) or 0


def test_the_same_person_not_on_the_roster_sent_twice_is_one_person(session, case, dsl):
    def add():
        parties.add_party(session, case, actor=dsl, kind=PartyKind.ADULT,
                          role=LinkRole.WITNESS, description="Pupil at St Mary's, red coat")

    add()
    session.commit()
    with pytest.raises(parties.AlreadyRecorded):
        add()
    session.rollback()
    assert events(session, "party.added") == 1
    # someone else of the same kind and role is still a second person
    parties.add_party(session, case, actor=dsl, kind=PartyKind.ADULT, role=LinkRole.WITNESS,
                      description="Lunchtime supervisor")
    assert events(session, "party.added") == 2


def test_found_responsible_cannot_outlive_the_bullying_incident_decision(session, case, dsl,
                                                                         child):
    ops.record_decision(session, case, actor=dsl, category=Category.BULLYING_INCIDENT,
                        reason="Repeated and deliberate")
    parties.record_finding(session, case, child, actor=dsl, finding=Finding.RESPONSIBLE,
                           reason="Admitted it in interview")
    session.commit()
    session.expire(case, ["pupil_links"])
    with pytest.raises(ops.InvalidTransition, match="Alfie Adams is recorded as found"):
        ops.record_decision(session, case, actor=dsl, category=Category.NOT_BULLYING,
                            reason="Changed my mind")
    assert case.category == Category.BULLYING_INCIDENT
    # with another finding first, the decision can change
    parties.record_finding(session, case, child, actor=dsl, finding=Finding.NOT_UPHELD,
                           reason="New evidence shows it was not him")
    session.expire(case, ["pupil_links"])
    ops.record_decision(session, case, actor=dsl, category=Category.NOT_BULLYING,
                        reason="Changed after the new evidence")
    assert case.category == Category.NOT_BULLYING


def test_a_review_sent_twice_is_one_review(session, case, dsl, child):
    record = parties.add_support(session, case, child, actor=dsl, type_=SupportType.SANCTION,
                                 code="detention", given_by="Mrs Green", starts_on=TODAY,
                                 review_on=TODAY + timedelta(days=7), note="")
    session.commit()

    def review():
        parties.review_support(session, case, record, actor=dsl, outcome="reviewed",
                               note="Going OK so far, carry on.", review_on=None)

    review()
    session.commit()
    with pytest.raises(parties.AlreadyRecorded):
        review()
    assert events(session, "support.reviewed") == 1


def test_a_meeting_outcome_sent_twice_is_not_a_correction(session, case, dsl, child):
    meeting = parents.invite_to_meeting(session, case, [child.id], actor=dsl,
                                        invited_on=TODAY, invited_how="in_person")
    session.commit()

    def complete():
        parents.complete_meeting(session, case, meeting.id, actor=dsl, outcome="attended",
                                 meeting_on=TODAY, attended="Mum", agreed="Daily check-in")

    complete()
    session.commit()
    with pytest.raises(parents.AlreadyRecorded):
        complete()
    assert events(session, "meeting.completed") == 1
    # a real correction is still recorded
    parents.complete_meeting(session, case, meeting.id, actor=dsl, outcome="attended",
                             meeting_on=TODAY, attended="Mum and Dad", agreed="Daily check-in")
    assert events(session, "meeting.completed") == 2


@pytest.mark.parametrize("call", [
    lambda s, c, d, p: parties.record_interview(s, c, p, actor=d, held_on=date(1, 1, 1),
                                                interviewer="Mrs Patel", present="",
                                                account="Said sorry"),
    lambda s, c, d, p: parties.record_voice(s, c, p, actor=d, said_on=date(1900, 1, 1),
                                            wants="To be left alone"),
    lambda s, c, d, p: parties.add_support(s, c, p, actor=d, type_=SupportType.SUPPORT,
                                           code="discuss_change", given_by="Mr Brown",
                                           starts_on=TODAY, review_on=date(9999, 12, 31),
                                           note=""),
    lambda s, c, d, p: parents.invite_to_meeting(s, c, [p.id], actor=d,
                                                 invited_on=date(1, 1, 1),
                                                 invited_how="letter"),
    lambda s, c, d, p: parents.invite_to_meeting(s, c, [p.id], actor=d, invited_on=TODAY,
                                                 invited_how="letter",
                                                 meeting_on=date(9999, 12, 31)),
    lambda s, c, d, p: checkback.schedule(s, c, actor=d, due_on=date(9999, 12, 31)),
])
def test_years_far_in_the_past_or_future_are_refused(session, case, dsl, child, call):
    with pytest.raises(ops.InvalidTransition, match="year|within a year"):
        call(session, case, dsl, child)


def test_an_unreadable_date_on_the_peoples_forms_is_refused_in_plain_words(
        browser, case, dsl, child):
    page = f"/staff/cases/{case.id}"
    refused = browser.submit(page, {"said_on": "2026-13-01", "wants": "To stop"},
                             action=f"{page}/parties/{child.id}/voice")
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert "Enter the date, like 2026-11-23." in html
    assert "Not a valid date value" not in html
    assert 'value="2026-13-01"' in html  # what was typed is kept


def test_words_of_a_meeting_and_of_a_found_responsible_role(session, browser, case, dsl,
                                                           child):
    meeting = parents.invite_to_meeting(session, case, [child.id], actor=dsl,
                                        invited_on=TODAY, invited_how="in_person")
    ops.record_decision(session, case, actor=dsl, category=Category.BULLYING_INCIDENT,
                        reason="Repeated and deliberate")
    parties.record_finding(session, case, child, actor=dsl, finding=Finding.RESPONSIBLE,
                           reason="Admitted it in interview")
    session.commit()
    html = browser.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "by in person" not in html
    assert "in person" in html
    assert meeting.invited_how_phrase == "in person"
    pupil = browser.get(f"/staff/pupils/{child.pupil_id}").get_data(as_text=True)
    table = pupil[pupil.index("<table"):pupil.index("</table>")]
    assert "Perpetrator (found responsible)" in table
