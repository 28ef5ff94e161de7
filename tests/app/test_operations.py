"""An operation owns every side effect of the change it makes (its audit event, the
re-scoring, the outbox mail), so calling it from a test, the CLI or a future API does what
the web page does. No HTTP here: the operations are called directly."""

from __future__ import annotations

import pyotp
import pytest
from sqlalchemy import select

from portal import accounts, checklists, chronology, priority
from portal.auth import sessions, twofactor
from portal.events import Action
from portal.models import Event, Evidence, OutboxMessage, Pupil, Role, StaffSession, User
from portal.triage import operations as ops
from portal.vocabulary import Category, Reason, Status
from tests.conftest import PASSWORD

BASE_URL = "https://tellus.example"
WEAK = "short"


def _events(session, action: Action) -> list[Event]:
    return list(session.scalars(select(Event).where(Event.action == action.value)
                                .order_by(Event.id)))


def _parent_updates(session) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage)
                                .where(OutboxMessage.kind == "parent_update")))


@pytest.fixture
def parent_report(session, school, make_report):
    """A parent's report whose parent asked to be emailed about updates."""
    report, _code = make_report(school, source="parent")
    report.notify_updates = True
    session.commit()
    return report


def test_changing_status_records_it_and_queues_the_parents_update_email(
        session, school, make_user, parent_report):
    dsl = make_user(school=school)
    ops.change_status(session, parent_report, actor=dsl, status=Status.IN_REVIEW,
                      reason="Looking into it today.", base_url=BASE_URL)
    session.commit()
    (event,) = _events(session, Action.STATUS_CHANGED)
    assert (event.actor_id, event.payload) == (dsl.id, {
        "from": "new", "to": "in_review", "reason": "Looking into it today."})
    (mail,) = _parent_updates(session)
    assert mail.to_address == "alex@example.org"
    assert f"{BASE_URL}/follow-up" in mail.body
    assert "Looking into it" not in mail.body  # never what the update is


def test_messaging_the_reporter_queues_the_parents_update_email(
        session, school, make_user, parent_report):
    dsl = make_user(school=school)
    ops.message_reporter(session, parent_report, actor=dsl, body="We are on it.",
                         base_url=BASE_URL)
    session.commit()
    assert [e.actor_id for e in _events(session, Action.MESSAGE_TO_REPORTER)] == [dsl.id]
    assert len(_parent_updates(session)) == 1


def test_a_decision_on_a_new_report_records_its_move_to_in_review(
        session, school, make_user, make_report):
    """A trial found the chronology going from "Decision" straight to "In review → Closed":
    the move a decision makes is an event like any other status change."""
    report, _ = make_report(school)
    dsl = make_user(school=school)
    ops.record_decision(session, report, actor=dsl, category=Category.BULLYING_INCIDENT,
                        reason="Repeated over three weeks, by the same two pupils.")
    session.commit()
    (event,) = _events(session, Action.STATUS_CHANGED)
    assert (event.actor_id, event.report_id, event.payload) == (dsl.id, report.id, {
        "from": "new", "to": "in_review",
        "reason": "Repeated over three weeks, by the same two pupils."})


def test_a_checklist_the_policy_attaches_is_in_the_chronology_as_the_portals_doing(
        session, school, make_report):
    """Checklists attached by a rule (on arrival, kinds online) have their own event, with
    no actor: the chronology names the portal, not the reporter."""
    report, _ = make_report(school, kinds=["online"])
    added = _events(session, Action.CHECKLIST_ADDED)
    assert sorted(e.payload["checklist"] for e in added) == sorted(
        checklists.checklists_for(report))
    assert {(e.report_id, e.actor_id) for e in added} == {(report.id, None)}
    assert {chronology.who(e) for e in added} == {"Tell Us (automatic)"}
    (received,) = _events(session, Action.REPORT_RECEIVED)
    assert chronology.who(received) == "Reporter"


def test_a_parent_who_did_not_ask_gets_no_update_email(session, school, make_user,
                                                       make_report):
    report, _ = make_report(school, source="parent")
    dsl = make_user(school=school)
    ops.change_status(session, report, actor=dsl, status=Status.IN_REVIEW,
                      reason="Looking into it today.", base_url=BASE_URL)
    session.commit()
    assert _parent_updates(session) == []


def test_setting_kinds_rescores_the_report_and_keeps_the_whole_lists(
        session, school, make_user, make_report):
    report, _ = make_report(school, kinds=["verbal"], happened_before="no",
                            places=["classroom"])
    dsl = make_user(school=school)
    before = report.urgency
    many = ["verbal", "physical", "emotional", "property", "online", "sexual",
            "prejudice_race", "prejudice_religion"]
    ops.set_kinds(session, report, actor=dsl, kinds=many, reason="After talking to them.",
                  school=school)
    session.commit()
    # sexual harassment is always urgent (priority.assess): the score moved with the kinds
    assert report.urgency > before
    assert Reason.SEXUAL_HARASSMENT in priority.reason_codes(report.urgency_reasons)
    (event,) = _events(session, Action.KINDS_CHANGED)
    assert event.payload == {"from": ["verbal"], "to": many,
                             "reason": "After talking to them.", "complete": True}


def test_downloading_evidence_and_opening_a_pupil_page_are_audited(
        session, school, make_user, make_report):
    report, _ = make_report(school)
    dsl = make_user(school=school)
    item = Evidence(report_id=report.id, stored_name="x", content_type="image/png",
                    size_received=1, size_kept=1, sha256_received="0" * 64,
                    sha256_kept="0" * 64, treatment="kept")
    pupil = Pupil(school_id=school.id, upn="A123456789012", first_name="Kai",
                  last_name="Moss")
    session.add_all([item, pupil])
    session.flush()
    ops.record_download(session, report, item, actor=dsl)
    ops.record_pupil_view(session, pupil, actor=dsl)
    session.commit()
    assert [e.payload for e in _events(session, Action.EVIDENCE_DOWNLOADED)] == [
        {"evidence_id": item.id}]
    assert [(e.payload, e.report_id) for e in _events(session, Action.PUPIL_VIEWED)] == [
        ({"pupil_id": pupil.id}, None)]


def test_signing_in_and_out_and_enrolling_are_audited_by_the_operations(
        session, school, make_user):
    user = make_user(school=school, two_factor=False)
    user.address = "192.0.2.7"
    secret = twofactor.new_secret()
    assert twofactor.confirm_enrolment(session, user, secret, pyotp.TOTP(secret).now())
    user.session_token = sessions.start(session, user, method="totp_enrolment")
    sessions.end(session, user)
    session.commit()
    assert [(e.action, e.payload, e.staff_address) for e in session.scalars(
        select(Event).where(Event.actor_id == user.id).order_by(Event.id))] == [
        ("staff.2fa_enrolled", {}, "192.0.2.7"),
        ("staff.login", {"method": "totp_enrolment"}, "192.0.2.7"),
        ("staff.logout", {}, "192.0.2.7")]
    assert session.scalar(select(StaffSession.ended_at)) is not None


# --- what the command line does, without click -------------------------------------------

def test_accounts_raise_named_errors_not_click_ones(session, school):
    with pytest.raises(accounts.NoSuchSchool, match="no school with slug 'elm'"):
        accounts.find_school(session, "elm")
    with pytest.raises(accounts.SchoolExists):
        accounts.add_school(session, school.slug, "Again")
    with pytest.raises(accounts.PasswordRefused, match="Password refused"):
        accounts.add_user(session, email="a@oak.test", school=school, role=Role.DSL,
                          password=WEAK)
    with pytest.raises(accounts.NoSuchAccount):
        accounts.find_user(session, "nobody@oak.test")


def test_adding_a_user_and_resetting_them_are_audited(session, school):
    user = accounts.add_user(session, email="New@Oak.test", school=school, role=Role.DSL,
                             password=PASSWORD)
    with pytest.raises(accounts.AccountExists):
        accounts.check_new_email(session, "new@oak.test")
    accounts.reset_two_factor(session, user)
    accounts.unlock(session, user)
    session.commit()
    assert [(e.action, e.payload) for e in session.scalars(
        select(Event).where(Event.school_id == school.id).order_by(Event.id))] == [
        ("user.created", {"user_id": user.id, "role": "dsl"}),
        ("user.2fa_reset", {"user_id": user.id}),
        ("user.unlocked", {"user_id": user.id})]
    assert session.get(User, user.id).email == "new@oak.test"


def test_a_roster_with_bad_rows_is_refused_whole(session, school):
    bad = b"UPN,Legal Forename,Legal Surname\nNOT-A-UPN,,\n"
    with pytest.raises(accounts.RosterRefused) as refused:
        accounts.import_pupils(session, school, bad)
    assert refused.value.result is not None
    assert refused.value.result.errors
    assert session.scalars(select(Pupil)).all() == []
    assert _events(session, Action.ROSTER_IMPORTED) == []


def test_the_first_action_of_any_kind_acknowledges_the_case(session, school, make_user,
                                                            make_report):
    """Looking is not acting, but a note, a decision or a hold is: the operation itself
    stops the Overdue clock, whoever calls it."""
    from portal import retention

    noted, _ = make_report(school)
    held, _ = make_report(school)
    dsl = make_user(school=school)
    ops.add_note(session, noted, actor=dsl, note="Spoke to the class teacher.")
    retention.set_hold(session, held, actor=dsl, hold=True, reason="Police asked us to.")
    session.commit()
    assert noted.acknowledged_at is not None
    assert held.acknowledged_at is not None
    assert len(_events(session, Action.CASE_ACKNOWLEDGED)) == 2
    # in the chronology the action comes first, then the acknowledgement it caused
    assert [e.action for e in ops.chronology(session, noted)] == [
        "report.received", "checklist.added", "note.added", "case.acknowledged"]
