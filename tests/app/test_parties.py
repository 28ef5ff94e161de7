"""People involved, per child, as rules without HTTP (portal.casework.parties).

Anti-bullying policy: bullying "can be perpetrated or experienced by any member of the
community, including adults"; the DSL "will interview all parties involved"; the school
"will involve them in any decision making"; "Offer ... counselling and support to the
target, the bully or the observer"; sanctions "in line with school behaviour policy".
Cyber policy 2 ("target pupils, staff and others"), 7.5 ("the person being bullied might
not know who their bully is"), 10.1 ("Until such time that the perpetrator is found guilty,
they will be considered innocent").
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select, text

from portal import chronology, linking, retention
from portal.casework import parties
from portal.models import (
    Event,
    Finding,
    LinkRole,
    PartyKind,
    PartySupport,
    Pupil,
    Report,
    ReportPupil,
    SupportState,
    SupportType,
)
from portal.triage import operations as ops
from portal.vocabulary import Category, Status

TODAY = date.today()


@pytest.fixture
def dsl(school, make_user):
    return make_user(school=school)


@pytest.fixture
def case(session, school, make_report):
    report, _ = make_report(school, who_involved="Aisha Khan and someone online")
    return session.get(Report, report.id)


@pytest.fixture
def pupil(session, school):
    child = Pupil(school_id=school.id, upn="P00001", first_name="Aisha", last_name="Khan",
                  year_group="Year 7", form="7B")
    session.add(child)
    session.commit()
    return child


def last_event(session, action: str) -> Event:
    return session.scalars(select(Event).where(Event.action == action)
                           .order_by(Event.id.desc())).first()


def add(session, case, dsl, kind=PartyKind.UNKNOWN, role=LinkRole.ALLEGED_PERPETRATOR,
        description="an Instagram account called x"):
    party = parties.add_party(session, case, actor=dsl, kind=kind, role=role,
                              description=description)
    session.commit()
    return party


def test_someone_not_on_the_roster_is_a_party_with_an_event_cyber_7_5(session, case, dsl):
    party = add(session, case, dsl)

    assert party.pupil_id is None
    assert party.label == "an Instagram account called x"
    event = last_event(session, "party.added")
    assert event.payload == {"party_id": party.id, "kind": "unknown",
                             "role": "alleged_perpetrator"}
    assert event.actor_id == dsl.id
    assert session.get(Report, case.id).acknowledged_at is not None  # first action
    assert [p.id for p in parties.parties(session, case)] == [party.id]


def test_an_unknown_person_needs_no_description_but_others_do(session, case, dsl):
    unknown = add(session, case, dsl, description="")
    assert unknown.label == "Not known (yet)"
    with pytest.raises(parties.PartyError, match="who they are"):
        parties.add_party(session, case, actor=dsl, kind=PartyKind.ADULT,
                          role=LinkRole.TARGET, description="  ")
    with pytest.raises(parties.PartyError, match="roster"):
        parties.add_party(session, case, actor=dsl, kind=PartyKind.ROSTER_PUPIL,
                          role=LinkRole.TARGET, description="Aisha")


def test_the_description_is_encrypted_at_rest(session, case, dsl):
    add(session, case, dsl, kind=PartyKind.STAFF_MEMBER, role=LinkRole.ALLEGED_PERPETRATOR,
        description="Mr Quillbrown, lunchtime supervisor")
    raw = session.execute(text("SELECT description FROM report_pupils")).scalars().all()
    assert raw
    assert all("Quillbrown" not in value for value in raw)


def test_a_perpetrator_is_alleged_until_a_finding_cyber_10_1(session, case, dsl):
    party = add(session, case, dsl)
    assert party.role_words == "Alleged perpetrator"

    with pytest.raises(parties.PartyError, match="Bullying Incident"):
        parties.record_finding(session, case, party, actor=dsl, finding=Finding.RESPONSIBLE,
                               reason="Admitted it in interview")
    session.rollback()
    ops.record_decision(session, case, actor=dsl, category=Category.BULLYING_INCIDENT,
                        reason="Repeated over weeks")
    parties.record_finding(session, case, party, actor=dsl, finding=Finding.RESPONSIBLE,
                           reason="Admitted it in interview")
    session.commit()

    assert party.role_words == "Perpetrator (found responsible)"
    assert party.finding_by_id == dsl.id
    assert last_event(session, "finding.recorded").payload == {
        "party_id": party.id, "finding": "responsible", "reason": "Admitted it in interview"}


def test_not_upheld_needs_no_decision_but_a_reason(session, case, dsl):
    party = add(session, case, dsl)
    with pytest.raises(parties.PartyError, match="reason"):
        parties.record_finding(session, case, party, actor=dsl, finding=Finding.NOT_UPHELD,
                               reason="no")
    parties.record_finding(session, case, party, actor=dsl, finding=Finding.NOT_UPHELD,
                           reason="Nothing links them to it")
    assert party.role_words == "Alleged perpetrator"
    assert party.finding == Finding.NOT_UPHELD


def test_a_finding_is_only_for_an_alleged_perpetrator(session, case, dsl):
    witness = add(session, case, dsl, kind=PartyKind.ADULT, role=LinkRole.WITNESS,
                  description="Mrs Dean, a parent at the gate")
    with pytest.raises(parties.PartyError, match="only for an alleged perpetrator"):
        parties.record_finding(session, case, witness, actor=dsl,
                               finding=Finding.NOT_UPHELD, reason="Not relevant here")


def support(session, case, party, dsl, **changes):
    values = {"type_": SupportType.SUPPORT, "code": "reassurance_pastoral",
              "given_by": "Mrs Patel", "starts_on": TODAY,
              "review_on": TODAY + timedelta(days=14), "note": "Daily check-in"}
    values.update(changes)
    return parties.add_support(session, case, party, actor=dsl, **values)


def test_support_for_the_target_with_a_review_date_writes_its_event(session, case, dsl,
                                                                     pupil, school):
    link = linking.link(session, case, pupil, LinkRole.TARGET, actor=dsl, school=school)
    record = support(session, case, link, dsl)
    session.commit()

    assert (record.given_by, record.state) == ("Mrs Patel", SupportState.ACTIVE)
    assert last_event(session, "support.recorded").payload == {
        "party_id": link.id, "support_id": record.id, "type": "support",
        "code": "reassurance_pastoral", "starts_on": TODAY.isoformat(),
        "review_on": (TODAY + timedelta(days=14)).isoformat()}


def test_support_for_the_target_can_ask_the_reporter_on_its_review_date(
        session, case, dsl, pupil, school):
    """Issue 14: "On a review date, the reporter (through their follow-up code) can be asked
    a simple question — 'Is it better now?'". Recording the target's support with its
    review date can set that check-back in the same step."""
    from portal.casework import checkback
    from portal.models.party import SUPPORT_LABELS

    link = linking.link(session, case, pupil, LinkRole.TARGET, actor=dsl, school=school)
    review = TODAY + timedelta(days=14)
    support(session, case, link, dsl, ask_reporter=True, today=TODAY)
    session.commit()
    check = checkback.open_check(session, case)
    assert check is not None
    assert check.due_on == review
    assert check.note == ("Asked on the review date of the support: "
                          f"{SUPPORT_LABELS['reassurance_pastoral']}.")
    assert last_event(session, "checkback.scheduled").payload["due_on"] == review.isoformat()


def test_asking_the_reporter_is_refused_before_anything_is_recorded(
        session, case, dsl, pupil, school):
    from portal.casework import checkback

    link = linking.link(session, case, pupil, LinkRole.TARGET, actor=dsl, school=school)
    witness = add(session, case, dsl, kind=PartyKind.ADULT, role=LinkRole.WITNESS,
                  description="Mrs Dean")
    with pytest.raises(parties.PartyError, match="Choose a review date"):
        support(session, case, link, dsl, review_on=None, ask_reporter=True, today=TODAY)
    with pytest.raises(parties.PartyError, match="only about support for a target"):
        support(session, case, witness, dsl, code="witness_counselling", ask_reporter=True,
                today=TODAY)
    checkback.schedule(session, case, actor=dsl, due_on=TODAY + timedelta(days=3), on=TODAY)
    with pytest.raises(parties.PartyError, match="already to be asked on"):
        support(session, case, link, dsl, ask_reporter=True, today=TODAY)
    assert session.scalars(select(PartySupport)).all() == []


def test_a_sanction_only_for_a_perpetrator(session, case, dsl, pupil, school):
    """Anti-bullying policy: "Sanctioning, in line with school behaviour policy" is listed
    under pupils who have perpetrated bullying, never for the target."""
    target = linking.link(session, case, pupil, LinkRole.TARGET, actor=dsl, school=school)
    with pytest.raises(parties.PartyError, match="only for a perpetrator"):
        support(session, case, target, dsl, type_=SupportType.SANCTION, code="detention")
    perpetrator = add(session, case, dsl, kind=PartyKind.OTHER_SCHOOL_PUPIL,
                      description="Year 8 at Hillside Academy")
    sanction = support(session, case, perpetrator, dsl, type_=SupportType.SANCTION,
                       code="removal_of_online_access", review_on=None)
    assert last_event(session, "support.recorded").payload["type"] == "sanction"
    assert sanction.review_on is None


def test_support_codes_follow_the_role(session, case, dsl):
    witness = add(session, case, dsl, kind=PartyKind.ADULT, role=LinkRole.WITNESS,
                  description="Mrs Dean")
    with pytest.raises(parties.PartyError, match="from the list"):
        support(session, case, witness, dsl, code="discuss_change")  # a perpetrator's
    support(session, case, witness, dsl, code="witness_counselling")


def test_a_review_date_is_never_before_the_start(session, case, dsl):
    party = add(session, case, dsl)
    with pytest.raises(parties.PartyError, match="before the start"):
        support(session, case, party, dsl, code="discuss_change",
                review_on=TODAY - timedelta(days=1))
    assert session.scalars(select(PartySupport)).all() == []


def test_support_is_reviewed_then_ended_never_deleted(session, case, dsl):
    party = add(session, case, dsl)
    record = support(session, case, party, dsl, code="discuss_change")
    later = TODAY + timedelta(days=28)
    parties.review_support(session, case, record, actor=dsl, outcome="reviewed",
                           note="Better, keep going", review_on=later)
    assert (record.state, record.review_on) == (SupportState.ACTIVE, later)
    assert last_event(session, "support.reviewed").payload == {
        "party_id": party.id, "support_id": record.id, "code": "discuss_change",
        "outcome": "reviewed", "note": "Better, keep going", "review_on": later.isoformat()}
    parties.review_support(session, case, record, actor=dsl, outcome="ended",
                           note="No more concerns", review_on=None)
    session.commit()
    assert record.state == SupportState.ENDED
    assert session.get(PartySupport, record.id) is not None
    with pytest.raises(parties.PartyError, match="ended already"):
        parties.review_support(session, case, record, actor=dsl, outcome="reviewed",
                               note="Again please", review_on=None)


def test_the_childs_voice_and_an_interview_write_their_events(session, case, dsl, pupil,
                                                               school):
    link = linking.link(session, case, pupil, LinkRole.TARGET, actor=dsl, school=school)
    voice = parties.record_voice(session, case, link, actor=dsl, said_on=TODAY,
                                 wants="I want them to stop messaging me")
    interview = parties.record_interview(session, case, link, actor=dsl, held_on=TODAY,
                                         interviewer="Mrs Patel (DSL)",
                                         present="Mr Khan (father)",
                                         account="Showed the messages on her phone")
    session.commit()
    assert last_event(session, "voice.recorded").payload == {
        "party_id": link.id, "voice_id": voice.id, "said_on": TODAY.isoformat()}
    assert last_event(session, "interview.recorded").payload == {
        "party_id": link.id, "interview_id": interview.id, "held_on": TODAY.isoformat()}
    with pytest.raises(parties.PartyError, match="future"):
        parties.record_voice(session, case, link, actor=dsl,
                             said_on=TODAY + timedelta(days=1), wants="later")
    with pytest.raises(parties.PartyError, match="account"):
        parties.record_interview(session, case, link, actor=dsl, held_on=TODAY,
                                 interviewer="Mrs Patel", present="", account=" ")


def test_another_reports_party_is_refused(session, school, make_report, case, dsl):
    other, _ = make_report(school)
    other = session.get(Report, other.id)
    theirs = add(session, other, dsl)
    with pytest.raises(parties.PartyNotFound):
        parties.party_of(session, case, theirs.id, actor=dsl)
    with pytest.raises(parties.PartyNotFound):
        support(session, case, theirs, dsl, code="discuss_change")
    with pytest.raises(parties.PartyNotFound):
        parties.record_voice(session, case, theirs, actor=dsl, said_on=TODAY, wants="x")


def test_another_schools_party_is_refused(session, make_school, make_user, make_report,
                                          case, dsl):
    elsewhere = make_school("elm", "Elm Primary")
    their_dsl = make_user(school=elsewhere)
    party = add(session, case, dsl)
    with pytest.raises(parties.PartyNotFound):
        parties.party_of(session, case, party.id, actor=their_dsl)
    with pytest.raises(parties.PartyNotFound):
        parties.add_party(session, case, actor=their_dsl, kind=PartyKind.ADULT,
                          role=LinkRole.WITNESS, description="x")
    with pytest.raises(parties.PartyNotFound):
        parties.record_interview(session, case, party, actor=their_dsl, held_on=TODAY,
                                 interviewer="x", present="", account="y")


def test_a_removed_party_keeps_its_row_and_says_why(session, case, dsl, school):
    party = add(session, case, dsl)
    linking.unlink(session, party, actor=dsl, school=school, reason="Added by mistake")
    session.commit()
    assert session.get(ReportPupil, party.id).unlinked_at is not None
    assert last_event(session, "party.removed").payload == {
        "party_id": party.id, "kind": "unknown", "role": "alleged_perpetrator",
        "reason": "Added by mistake"}
    with pytest.raises(parties.PartyNotFound):
        parties.party_of(session, case, party.id, actor=dsl)


def test_roster_rules_cope_with_parties_not_on_the_roster(session, case, dsl, pupil, school):
    """Suggestions, flags, recurring, rescoring and the retention purge read only roster
    pupils, and a party without a pupil breaks none of them."""
    add(session, case, dsl)
    linking.link(session, case, pupil, LinkRole.TARGET, actor=dsl, school=school)
    session.commit()
    assert [s.pupil.id for s in linking.suggest(session, case)] == []  # Aisha is linked
    flags = linking.flags_for(session, [case.id])
    assert [p.id for p, _role, _rec in flags.pupils[case.id]] == [pupil.id]
    linking.store_recurring(session, school)
    linking.rescore(session, case, school)
    assert [e.report.id for e in linking.chronology(session, pupil)] == [case.id]
    case.status = Status.CLOSED
    case.closed_at = case.created_at
    session.commit()
    due = retention.review(session, TODAY + timedelta(days=365 * 30))
    assert [d.report_id for d in due] == [case.id]


def test_every_party_event_renders_with_the_partys_name(session, case, dsl):
    party = add(session, case, dsl)
    record = support(session, case, party, dsl, code="discuss_change")
    parties.review_support(session, case, record, actor=dsl, outcome="ended",
                           note="Account closed", review_on=None)
    parties.record_voice(session, case, party, actor=dsl, said_on=TODAY, wants="x")
    parties.record_interview(session, case, party, actor=dsl, held_on=TODAY,
                             interviewer="Mrs Patel", present="", account="y")
    parties.record_finding(session, case, party, actor=dsl, finding=Finding.NOT_UPHELD,
                           reason="Could not be traced")
    session.commit()
    names = chronology.Names(parties={party.id: party.label})
    lines = [chronology.render(e, names).what for e in ops.chronology(session, case)
             if e.action.split(".")[0] in {"party", "support", "voice", "interview",
                                           "finding"}]
    assert len(lines) == 6
    assert all("an Instagram account called x" in line for line in lines)
    assert "Finding for an Instagram account called x: allegation not upheld" in lines
