"""Parents and carers kept informed, the rules without HTTP (portal.casework.parents).

Anti-bullying policy: "The school will ensure parents/carers are kept informed about the
concern and action taken"; "Keep them informed at all stages"; "Inviting parents/carers
into school to form part of the discussions around reoccurring incidents"."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal import linking
from portal.casework import parents
from portal.events import Action
from portal.models import (
    Event,
    LinkRole,
    MeetingState,
    ParentContact,
    ParentMeeting,
    ParentsTold,
    Pupil,
    Report,
    ReportPupil,
    Role,
)


@pytest.fixture
def make_pupil(session):
    """Factory: a pupil on a school's roster."""
    counter = iter(range(1, 10_000))

    def make(school, first="Aisha", last="Khan"):
        pupil = Pupil(school_id=school.id, upn=f"P{next(counter):05d}", first_name=first,
                      last_name=last, year_group="Year 5", form="5B")
        session.add(pupil)
        session.commit()
        return pupil

    return make


@pytest.fixture
def case(session, school, make_report, make_user, make_pupil):
    """A report with two roster children linked (target, alleged perpetrator), a DSL, and a
    contact for the first child."""
    dsl = make_user(school=school)
    stored, _ = make_report(school)
    report = session.get(Report, stored.id)
    aisha, jack = make_pupil(school), make_pupil(school, "Jack", "Lee")
    # linked as the roster link stores it (linking.link would acknowledge the case)
    target = ReportPupil(report_id=report.id, pupil_id=aisha.id, role=LinkRole.TARGET,
                         linked_by_id=dsl.id)
    other = ReportPupil(report_id=report.id, pupil_id=jack.id,
                        role=LinkRole.ALLEGED_PERPETRATOR, linked_by_id=dsl.id)
    session.add_all([target, other])
    mum = ParentContact(pupil_id=aisha.id, position=1, priority=1, name="Sara Khan",
                        relationship="Mother", email="sara@example.org", phone="07700 900123")
    session.add(mum)
    session.commit()
    return {"report": report, "dsl": dsl, "target": target, "other": other, "mum": mum,
            "aisha": aisha, "jack": jack}


def events(session, action):
    return [e for e in session.scalars(select(Event).order_by(Event.id))
            if e.action == action.value]


def test_told_mum_by_phone_is_a_record_with_its_event_and_acknowledges_the_case(session, case):
    report, dsl = case["report"], case["dsl"]
    assert report.acknowledged_at is None
    record = parents.record_parents_told(
        session, report, case["target"].id, actor=dsl, told_on=date.today(), how="phone",
        what="What happened at lunch and that we are talking to both children.",
        contact_id=case["mum"].id)
    session.commit()
    assert (record.told, record.how, record.by) == ("Sara Khan (Mother)", "phone", dsl.name)
    (event,) = events(session, Action.PARENTS_TOLD)
    assert event.payload == {
        "record_id": record.id, "party_id": case["target"].id, "pupil_id": case["aisha"].id,
        "told_on": date.today().isoformat(), "told": "Sara Khan (Mother)", "how": "phone",
        "by": dsl.name, "by_user_id": dsl.id,
        "what": "What happened at lunch and that we are talking to both children.",
        "corrects": None}
    assert (event.report_id, event.actor_id) == (report.id, dsl.id)
    assert report.acknowledged_at is not None  # the first action acknowledges


def test_a_typed_name_and_another_member_of_staff_named(session, case, make_user, school):
    colleague = make_user(Role.STAFF, school)
    record = parents.record_parents_told(
        session, case["report"], case["other"].id, actor=case["dsl"], told_on=date.today(),
        how="in_person", what="Informing parents/carers to help change the attitude and "
        "behaviour of the child.", told_name="Mr Lee (father)", by_user_id=colleague.id)
    assert (record.told, record.by, record.by_user_id) == ("Mr Lee (father)", colleague.name,
                                                           colleague.id)
    named = parents.record_parents_told(
        session, case["report"], case["other"].id, actor=case["dsl"], told_on=date.today(),
        how="letter", what="Letter home.", told_name="Mr Lee", by_name="Mrs Patel (TA)")
    assert (named.by, named.by_user_id) == ("Mrs Patel (TA)", None)


def test_a_correction_is_a_new_record_and_the_first_stays(session, case):
    first = parents.record_parents_told(
        session, case["report"], case["target"].id, actor=case["dsl"], told_on=date.today(),
        how="email", what="Wrong day written.", contact_id=case["mum"].id)
    fixed = parents.record_parents_told(
        session, case["report"], case["target"].id, actor=case["dsl"],
        told_on=date.today() - timedelta(days=1), how="phone", what="Rang yesterday.",
        contact_id=case["mum"].id, corrects_id=first.id)
    session.commit()
    assert session.scalars(select(ParentsTold).order_by(ParentsTold.id)).all() == [first, fixed]
    assert first.what == "Wrong day written."
    assert [e.payload["corrects"] for e in events(session, Action.PARENTS_TOLD)] == [None,
                                                                                     first.id]
    with pytest.raises(parents.ParentsError, match="not one of this child"):
        parents.record_parents_told(
            session, case["report"], case["other"].id, actor=case["dsl"],
            told_on=date.today(), how="phone", what="x", told_name="Mr Lee",
            corrects_id=first.id)


@pytest.mark.parametrize(("change", "message"), [
    ({"how": "pigeon"}, "how they were told"),
    ({"what": "  "}, "what they were told"),
    ({"what": "x" * 4001}, "4000 characters"),
    ({"contact_id": None}, "type their name"),
    ({"told_on": date.today() + timedelta(days=1)}, "future"),
    ({"by_user_id": 999_999}, "member of staff of this school"),
    ({"told_name": "x" * 161}, "160 characters"),
])
def test_refusals_in_plain_words(session, case, change, message):
    values = {"told_on": date.today(), "how": "phone", "what": "Told.",
              "contact_id": case["mum"].id, **change}
    with pytest.raises(parents.ParentsError, match=message):
        parents.record_parents_told(session, case["report"], case["target"].id,
                                    actor=case["dsl"], **values)
    assert events(session, Action.PARENTS_TOLD) == []


def test_another_childs_contact_is_refused(session, case):
    with pytest.raises(parents.ParentsError, match="this child's contacts"):
        parents.record_parents_told(session, case["report"], case["other"].id,
                                    actor=case["dsl"], told_on=date.today(), how="phone",
                                    what="Told.", contact_id=case["mum"].id)


def test_another_reports_party_and_an_unlinked_one_are_refused(session, case, school,
                                                                make_report):
    stored, _ = make_report(school)
    other_report = session.get(Report, stored.id)
    with pytest.raises(parents.PartyNotFound):
        parents.record_parents_told(session, other_report, case["target"].id,
                                    actor=case["dsl"], told_on=date.today(), how="phone",
                                    what="Told.", told_name="Sara")
    with pytest.raises(parents.PartyNotFound):
        parents.invite_to_meeting(session, other_report, [case["target"].id],
                                  actor=case["dsl"], invited_on=date.today(),
                                  invited_how="letter")
    linking.unlink(session, case["other"], actor=case["dsl"], school=school,
                   reason="Linked in error, wrong Jack.")
    with pytest.raises(parents.PartyNotFound):
        parents.record_parents_told(session, case["report"], case["other"].id,
                                    actor=case["dsl"], told_on=date.today(), how="phone",
                                    what="Told.", told_name="Mr Lee")


def test_another_schools_staff_cannot_be_named_as_the_teller(session, case, make_school,
                                                             make_user):
    elsewhere = make_user(school=make_school("elm", "Elm Academy"))
    with pytest.raises(parents.ParentsError, match="this school"):
        parents.record_parents_told(session, case["report"], case["target"].id,
                                    actor=case["dsl"], told_on=date.today(), how="phone",
                                    what="Told.", told_name="Sara", by_user_id=elsewhere.id)


def test_a_meeting_for_two_parties_invited_then_completed_writes_events_per_party(
        session, case):
    report, dsl = case["report"], case["dsl"]
    soon = date.today() + timedelta(days=3)
    meeting = parents.invite_to_meeting(session, report,
                                        [case["target"].id, case["other"].id], actor=dsl,
                                        invited_on=date.today(), invited_how="letter",
                                        meeting_on=soon)
    session.commit()
    assert meeting.state == MeetingState.INVITED
    assert meeting.party_ids == [case["target"].id, case["other"].id]
    invited = events(session, Action.MEETING_INVITED)
    assert [e.payload["pupil_id"] for e in invited] == [case["aisha"].id, case["jack"].id]
    assert invited[0].payload == {"meeting_id": meeting.id, "party_id": case["target"].id,
                                  "pupil_id": case["aisha"].id,
                                  "invited_on": date.today().isoformat(),
                                  "invited_how": "letter", "meeting_on": soon.isoformat()}
    with pytest.raises(parents.ParentsError, match="who attended"):
        parents.complete_meeting(session, report, meeting.id, actor=dsl, outcome="attended",
                                 meeting_on=date.today(), agreed="A plan.")
    parents.complete_meeting(session, report, meeting.id, actor=dsl, outcome="attended",
                             meeting_on=date.today(), attended="Sara Khan, Mr Lee, the DSL",
                             agreed="Both children sit apart at lunch.",
                             next_steps="Review in two weeks.")
    session.commit()
    done = events(session, Action.MEETING_COMPLETED)
    assert [e.payload["to"] for e in done] == ["attended", "attended"]
    assert done[0].payload["from"] == "invited"
    assert done[0].payload["agreed"] == "Both children sit apart at lunch."
    # recorded again: a correction, the first version kept in the chronology
    parents.complete_meeting(session, report, meeting.id, actor=dsl,
                             outcome="did_not_attend", meeting_on=date.today())
    session.commit()
    again = events(session, Action.MEETING_COMPLETED)
    assert [e.payload["from"] for e in again] == ["invited", "invited", "attended", "attended"]
    assert session.get(ParentMeeting, meeting.id).state == "did_not_attend"


def test_meeting_refusals(session, case, school, make_report):
    report, dsl = case["report"], case["dsl"]
    with pytest.raises(parents.ParentsError, match="Choose whose"):
        parents.invite_to_meeting(session, report, [], actor=dsl, invited_on=date.today(),
                                  invited_how="letter")
    with pytest.raises(parents.ParentsError, match="how they were invited"):
        parents.invite_to_meeting(session, report, [case["target"].id], actor=dsl,
                                  invited_on=date.today(), invited_how="meeting")
    with pytest.raises(parents.ParentsError, match="before the invitation"):
        parents.invite_to_meeting(session, report, [case["target"].id], actor=dsl,
                                  invited_on=date.today(), invited_how="phone",
                                  meeting_on=date.today() - timedelta(days=1))
    meeting = parents.invite_to_meeting(session, report, [case["target"].id], actor=dsl,
                                        invited_on=date.today(), invited_how="phone")
    stored, _ = make_report(school)
    with pytest.raises(parents.ParentsError, match="not one of this case"):
        parents.complete_meeting(session, session.get(Report, stored.id), meeting.id,
                                 actor=dsl, outcome="did_not_attend", meeting_on=date.today())
    with pytest.raises(parents.ParentsError, match="held or they did not attend"):
        parents.complete_meeting(session, report, meeting.id, actor=dsl, outcome="invited",
                                 meeting_on=date.today())


def test_the_recurring_prompt_shows_until_an_invitation_is_recorded(session, case):
    """"Inviting parents/carers into school to form part of the discussions around
    reoccurring incidents": a recurring child without an invitation in this case."""
    report, dsl = case["report"], case["dsl"]
    case["aisha"].recurring = True
    session.commit()
    prompts = {row.party.id: row.prompt for row in parents.for_case(session, report)}
    assert prompts == {case["target"].id: True, case["other"].id: False}
    parents.invite_to_meeting(session, report, [case["target"].id], actor=dsl,
                              invited_on=date.today(), invited_how="phone")
    session.commit()
    assert not any(row.prompt for row in parents.for_case(session, report))


def test_every_new_action_has_a_renderer_that_names_the_child(session, case):
    from portal import chronology

    parents.record_parents_told(session, case["report"], case["target"].id,
                                actor=case["dsl"], told_on=date(2026, 11, 30), how="text",
                                what="Sent a text.", contact_id=case["mum"].id)
    meeting = parents.invite_to_meeting(session, case["report"], [case["target"].id],
                                        actor=case["dsl"], invited_on=date(2026, 11, 30),
                                        invited_how="email")
    parents.complete_meeting(session, case["report"], meeting.id, actor=case["dsl"],
                             outcome="attended", meeting_on=date(2026, 12, 1),
                             attended="Sara Khan", agreed="A plan.")
    names = chronology.Names(pupils={case["aisha"].id: "Aisha Khan"})
    lines = [chronology.render(e, names) for e in session.scalars(select(Event)
             .where(Event.action.in_(["parents.told", "meeting.invited",
                                      "meeting.completed"])).order_by(Event.id))]
    assert [line.what for line in lines] == [
        "Parents of Aisha Khan told: Sara Khan (Mother), by text message, on 30 Nov 2026, "
        "by Test dsl",
        "Parents of Aisha Khan invited to a meeting (invited by email on 30 Nov 2026)",
        "Meeting with the parents of Aisha Khan on 1 Dec 2026: meeting held"]
    assert lines[0].detail == "Sent a text."
    assert lines[2].detail == "Attended: Sara Khan\nAgreed: A plan."


def test_the_retention_purge_takes_the_parents_records_with_the_report(session, case, app):
    """Deletion only by the retention rule (SECURITY P12): what parents were told and the
    meetings go with the report; the child's contacts stay with the roster."""
    from portal import retention
    from portal.models import MeetingParty
    from portal.vocabulary import Status

    report = case["report"]
    first = parents.record_parents_told(session, report, case["target"].id, actor=case["dsl"],
                                        told_on=date.today(), how="phone", what="Told.",
                                        contact_id=case["mum"].id)
    parents.record_parents_told(session, report, case["target"].id, actor=case["dsl"],
                                told_on=date.today(), how="email", what="Corrected.",
                                contact_id=case["mum"].id, corrects_id=first.id)
    parents.invite_to_meeting(session, report, [case["target"].id, case["other"].id],
                              actor=case["dsl"], invited_on=date.today(), invited_how="letter")
    report.status = Status.CLOSED
    report.closed_at = report.created_at
    session.commit()
    due = [r for r in retention.review(session, date.today() + timedelta(days=365 * 30))
           if r.report_id == report.id]
    assert retention.purge(session, due, app.config["PORTAL_EVIDENCE_DIR"]) == 1
    session.commit()
    for model in (ParentsTold, ParentMeeting, MeetingParty):
        assert session.scalars(select(model)).all() == []
    assert session.scalars(select(ParentContact)).all() == [case["mum"]]
