"""The case page as the policies describe it: pupils and their chronology, recurring and
SEND flags, checklists and the closing guard, recorded actions, assignment, staff concerns,
and an audit event for every change."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal import checklists, exits
from portal.casework import notices
from portal.models import (
    CaseAction,
    CheckBack,
    ChecklistItem,
    Device,
    Event,
    ItemState,
    PartySupport,
    Pupil,
    Report,
    ReportPupil,
    Role,
    SenStatus,
    Trust,
    User,
)
from portal.vocabulary import Source, Status
from tests.conftest import (
    Browser,
    a_share_to,
    hidden_fields,
    kept_evidence_and_staff_concern,
)


@pytest.fixture
def make_pupil(session):
    """Factory: a pupil on a school's roster."""
    counter = iter(range(1, 10_000))

    def make(school, first="Aisha", last="Khan", sen=SenStatus.NONE, year="Year 5"):
        pupil = Pupil(school_id=school.id, upn=f"U{next(counter):05d}", first_name=first,
                      last_name=last, year_group=year, form="5B", sen_status=sen)
        session.add(pupil)
        session.commit()
        return pupil

    return make


@pytest.fixture
def dsl(browser, school, make_user):
    user = make_user(school=school)
    browser.login(user.email)
    return user


def link(browser, report_id, pupil, role="target"):
    """Find the pupil with the case page's roster search, then link them with a role."""
    page = f"/staff/cases/{report_id}"
    return browser.submit(f"{page}?q={pupil.upn}", {"pupil_id": str(pupil.id), "role": role},
                          action=f"{page}/pupils")


def test_linking_pupils_builds_one_chronology_from_every_source(
        browser, dsl, school, make_report, make_pupil, session):
    aisha = make_pupil(school)
    anonymous, _ = make_report(school, what_happened="They took my bag")
    named, _ = make_report(school, anonymous="no", reporter_name="Aisha Khan",
                           reporter_class="5B")
    parent, _ = make_report(school, source="parent", child_name="Aisha Khan")
    browser.submit("/staff/concerns/new", {"told_by": "Aisha Khan", "told_by_class": "5B",
                                           "what_happened": "Told me at lunch she was pushed"})
    concern = session.scalars(select(Report).where(Report.source == Source.STAFF)).one()
    for report, role in ((anonymous, "target"), (named, "target"), (parent, "target"),
                         (concern, "witness")):
        assert link(browser, report.id, aisha, role).status_code == 302
    html = browser.get(f"/staff/pupils/{aisha.id}").get_data(as_text=True)
    for report in (anonymous, named, parent, concern):
        assert f"/staff/cases/{report.id}" in html
    assert "Pupil" in html
    assert "Parent or carer" in html
    assert "Staff" in html
    assert "Witness" in html
    assert "Target" in html
    links = session.scalars(select(ReportPupil)).all()
    assert {(lk.report_id, lk.role.value) for lk in links} == {
        (anonymous.id, "target"), (named.id, "target"), (parent.id, "target"),
        (concern.id, "witness")}


def test_names_typed_by_the_reporter_are_suggested_never_linked(
        browser, dsl, school, make_report, make_pupil, session):
    make_pupil(school, "Aisha", "Khan")
    make_pupil(school, "Jack", "Smith")
    report, _ = make_report(school, who_involved="aisha kahn and her friend")
    html = browser.get(f"/staff/cases/{report.id}").get_data(as_text=True)
    suggestions = html[html.index("Possible matches"):html.index("Find a pupil")]
    assert "Aisha Khan" in suggestions
    assert "Jack Smith" not in suggestions
    assert session.scalar(select(func.count()).select_from(ReportPupil)) == 0


def test_a_pupil_in_three_reports_within_sixty_days_is_flagged_recurring(
        browser, dsl, school, make_report, make_pupil, session):
    # "Bullying can be defined as 'behaviour ... repeated over time'" (anti-bullying policy)
    kai = make_pupil(school, "Kai", "Jones")
    reports = [make_report(school)[0] for _ in range(3)]
    link(browser, reports[0].id, kai)
    link(browser, reports[1].id, kai)
    queue = browser.get("/staff/").get_data(as_text=True)
    assert "tag--recurring" not in queue
    link(browser, reports[2].id, kai, "alleged_perpetrator")
    queue = browser.get("/staff/").get_data(as_text=True)
    assert queue.count("tag--recurring") == 3
    session.expire_all()
    for report in reports:
        assert "recurring" in session.get(Report, report.id).reason_codes
    assert "Recurring" in browser.get(f"/staff/cases/{reports[0].id}").get_data(as_text=True)


def test_reports_further_apart_than_the_window_are_not_recurring(
        browser, dsl, school, make_report, make_pupil, session):
    kai = make_pupil(school, "Kai", "Jones")
    reports = [make_report(school)[0] for _ in range(3)]
    for offset, report in enumerate(reports):
        session.get(Report, report.id).created_at -= timedelta(days=40 * offset)
    session.commit()
    for report in reports:
        link(browser, report.id, kai)
    assert "tag--recurring" not in browser.get("/staff/?status=all").get_data(as_text=True)


def test_unlinking_a_mistaken_link_takes_the_recurring_flag_off_again(
        browser, dsl, school, make_report, make_pupil, session):
    kai = make_pupil(school, "Kai", "Jones")
    reports = [make_report(school)[0] for _ in range(3)]
    for report in reports:
        link(browser, report.id, kai)
    assert "tag--recurring" in browser.get(f"/staff/pupils/{kai.id}").get_data(as_text=True)
    row = session.scalars(select(ReportPupil).where(ReportPupil.report_id == reports[2].id)).one()
    page = f"/staff/cases/{reports[2].id}"
    browser.submit(page, {"unlink_reason": "Wrong Kai: it was Kai Brown"},
                   action=f"{page}/pupils/{row.id}/unlink")
    assert "tag--recurring" not in browser.get("/staff/").get_data(as_text=True)
    assert "tag--recurring" not in browser.get(f"/staff/pupils/{kai.id}").get_data(as_text=True)
    session.expire_all()
    assert session.get(Pupil, kai.id).recurring is False
    assert "recurring" not in session.get(Report, reports[0].id).reason_codes


def test_a_send_pupil_makes_the_report_rank_higher_and_says_why(
        browser, dsl, school, make_report, make_pupil, session):
    # "children with SEND ... disproportionately impacted by bullying" (anti-bullying policy)
    sam = make_pupil(school, "Sam", "Lee", sen=SenStatus.EHC_PLAN)
    report, _ = make_report(school)
    before = report.urgency
    link(browser, report.id, sam)
    session.expire_all()
    stored = session.get(Report, report.id)
    assert stored.urgency > before
    assert "send_involved" in stored.reason_codes
    assert "tag--send" in browser.get("/staff/").get_data(as_text=True)


def test_unlinking_needs_a_reason_and_keeps_the_record(
        browser, dsl, school, make_report, make_pupil, session):
    kai = make_pupil(school, "Kai", "Jones")
    report, _ = make_report(school)
    link(browser, report.id, kai)
    row = session.scalars(select(ReportPupil)).one()
    page = f"/staff/cases/{report.id}"
    refused = browser.submit(page, {"unlink_reason": ""}, action=f"{page}/pupils/{row.id}/unlink")
    assert refused.status_code == 400
    done = browser.submit(page, {"unlink_reason": "Wrong Kai: it was Kai Brown"},
                          action=f"{page}/pupils/{row.id}/unlink")
    assert done.status_code == 302
    session.expire_all()
    assert session.get(ReportPupil, row.id).unlinked_at is not None
    assert f"/staff/cases/{report.id}" not in browser.get(f"/staff/pupils/{kai.id}").get_data(
        as_text=True)


def test_another_schools_pupil_cannot_be_linked_or_seen(
        browser, dsl, school, make_school, make_report, make_pupil):
    elmwood = make_school("elmwood", "Elmwood")
    stranger = make_pupil(elmwood, "Zed", "Other")
    report, _ = make_report(school)
    page = f"/staff/cases/{report.id}"
    forged = browser.submit(page, {"pupil_id": str(stranger.id), "role": "target"},
                            action=f"{page}/notes")  # a valid token, posted to the link route
    assert forged.status_code == 400  # the notes form itself refuses: no note text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                      browser.get(page).get_data(as_text=True)).group(1)
    response = browser.client.post(f"{page}/pupils", data={
        "pupil_id": str(stranger.id), "role": "target", "csrf_token": token})
    assert response.status_code == 404
    assert browser.get(f"/staff/pupils/{stranger.id}").status_code == 404


def test_case_cannot_close_while_a_required_step_is_open_unless_the_dsl_says_why(
        browser, dsl, school, make_report, session):
    report, _ = make_report(school)
    page = f"/staff/cases/{report.id}"
    # the responding checklist is attached when the DSL acknowledges the case (opening it
    # writes nothing but the view)
    browser.submit(page, {}, action=f"{page}/acknowledge")
    refused = browser.submit(page, {"status": "closed", "status_reason": "All sorted"},
                             action=f"{page}/status")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "required step(s) are still open" in html
    assert "Interview all parties involved" in html
    session.expire_all()
    assert session.get(Report, report.id).status == Status.NEW
    # every required step ticked on the checklist form, one submit
    required = session.scalars(select(ChecklistItem).where(ChecklistItem.required.is_(True)))
    response = browser.submit(page, {f"{field}-{item.id}": value for item in required
                                     for field, value in (("state", "done"),
                                                          ("note", "Done today"))},
                              action=f"{page}/steps")
    assert response.status_code == 302
    closed = browser.submit(page, {"status": "closed", "status_reason": "All steps done"},
                            action=f"{page}/status")
    assert closed.status_code == 302
    session.expire_all()
    assert session.get(Report, report.id).status == Status.CLOSED
    item = session.scalars(select(ChecklistItem).where(ChecklistItem.required.is_(True))
                           .order_by(ChecklistItem.position)).first()
    assert (item.state, item.done_by_id, item.done_at is not None) == (ItemState.DONE, dsl.id,
                                                                        True)


def test_a_step_marked_not_needed_needs_a_note(browser, dsl, school, make_report, session):
    report, _ = make_report(school)
    page = f"/staff/cases/{report.id}"
    browser.submit(page, {}, action=f"{page}/acknowledge")
    item = session.scalars(select(ChecklistItem).order_by(ChecklistItem.position)).first()
    refused = browser.submit(page, {f"state-{item.id}": "not_needed", f"note-{item.id}": ""},
                             action=f"{page}/steps")
    assert refused.status_code == 400
    assert "Write why this step is not needed" in refused.get_data(as_text=True)
    # a page loaded before the checklist became one form still sends one step on its own
    refused = browser.client.post(f"{page}/steps/{item.id}", data={
        **hidden_fields(browser.get(page).get_data(as_text=True), f"{page}/steps"),
        "state": "not_needed", "step_note": ""})
    assert refused.status_code == 400
    assert "Write why this step is not needed" in refused.get_data(as_text=True)


def test_online_bullying_gets_cyber_steps_and_online_threats_get_malicious_posts_steps(
        browser, dsl, school, make_report, session):
    online, _ = make_report(school, kinds=["online"])
    threat, _ = make_report(school, kinds=["online"],
                            what_happened="they posted that they are gonna kill me")
    html = browser.get(f"/staff/cases/{online.id}").get_data(as_text=True)
    assert "Secure and preserve any evidence" in html  # cyber policy 4.3
    assert "Send all the evidence to CEOP" not in html  # 5.6 only for malicious posts
    html = browser.get(f"/staff/cases/{threat.id}").get_data(as_text=True)
    assert "Send all the evidence to CEOP" in html
    assert "Ensure pupils are shielded from further exposure" in html  # 5.1


def test_the_report_level_form_records_only_an_agency_and_old_rows_still_read(
        browser, dsl, school, make_report, session):
    """Support, sanctions and parents told are per party now (issue 14): the report's own
    form offers "Other agency involved" only, and the rows recorded before still show."""
    report, _ = make_report(school)
    session.add(CaseAction(report_id=report.id, kind="parents_informed",
                           who="Mrs Khan (mother)", how="phone", happened_on=date.today(),
                           note="Explained the plan", recorded_by_id=dsl.id))
    session.commit()
    page = f"/staff/cases/{report.id}"
    today = date.today().isoformat()
    refused = browser.submit(page, {"action_kind": "parents_informed", "happened_on": today,
                                    "who": "Mr Khan", "how": "phone"},
                             action=f"{page}/actions")
    assert refused.status_code == 400
    assert session.scalars(select(CaseAction)).one().who == "Mrs Khan (mother)"
    html = browser.get(page).get_data(as_text=True)
    assert "Mrs Khan (mother)" in html
    assert "Parents or carers informed" in html  # the old row, in its words
    form = html[html.index('id="record-action"'):]
    form = form[:form.index("</details>")]
    assert 'value="agency"' in form
    assert 'value="parents_informed"' not in form
    assert 'value="sanction"' not in form


def test_agency_involvement_is_recorded(browser, dsl, school, make_report, session):
    report, _ = make_report(school)
    page = f"/staff/cases/{report.id}"
    browser.submit(page, {"action_kind": "agency", "happened_on": date.today().isoformat(),
                          "agency": "early_help", "action_note": "Referral made"},
                   action=f"{page}/actions")
    assert session.scalars(select(CaseAction)).one().agency == "early_help"


def test_assignment_and_my_cases(browser, dsl, school, make_report, make_user, session):
    deputy = make_user(Role.DEPUTY_DSL, school=school)
    mine, _ = make_report(school)
    theirs, _ = make_report(school)
    page = f"/staff/cases/{mine.id}"
    assert browser.submit(page, {"assignee": str(dsl.id)}, action=f"{page}/assign") \
        .status_code == 302
    page = f"/staff/cases/{theirs.id}"
    browser.submit(page, {"assignee": str(deputy.id)}, action=f"{page}/assign")
    html = browser.get("/staff/?mine=1").get_data(as_text=True)
    assert re.search(r'data-total="1"', html)
    assert f"/staff/cases/{mine.id}" in html
    assert f"/staff/cases/{theirs.id}" not in html


def test_cases_are_only_assigned_to_the_dsl_team(browser, dsl, school, make_report, make_user):
    teacher = make_user(Role.STAFF, school=school)
    report, _ = make_report(school)
    page = f"/staff/cases/{report.id}"
    assert browser.submit(page, {"assignee": str(teacher.id)}, action=f"{page}/assign") \
        .status_code == 400


def test_prejudice_based_kinds_are_recorded_with_a_reason(browser, dsl, school, make_report,
                                                          session):
    report, _ = make_report(school)
    page = f"/staff/cases/{report.id}"
    done = browser.submit(page, {"kinds": ["verbal", "prejudice:race"],
                                 "kinds_reason": "Racist names used"}, action=f"{page}/kinds")
    assert done.status_code == 302
    session.expire_all()
    assert sorted(session.get(Report, report.id).kind_values) == ["prejudice:race", "verbal"]
    assert "Prejudice-based: race or ethnicity" in browser.get(page).get_data(as_text=True)


def test_staff_record_a_concern_that_enters_the_dsls_queue(
        browser, school, make_user, session):
    teacher = make_user(Role.STAFF, school=school)
    browser.login(teacher.email)
    response = browser.submit("/staff/concerns/new", {
        "told_by": "Jo Bloggs", "told_by_class": "4B",
        "what_happened": "Jo says older pupils take her snack every day",
        "kinds": ["property"], "feels_safe": "no"})
    assert response.status_code == 302
    report = session.scalars(select(Report)).one()
    assert (report.source, report.created_by_id, report.urgency >= 100) == (
        Source.STAFF, teacher.id, True)
    assert "Jo says older pupils" in browser.get(response.headers["Location"]).get_data(
        as_text=True)
    dsl = make_user(school=school)
    browser.client.delete_cookie("tellus")
    browser.login(dsl.email)
    assert f"/staff/cases/{report.id}" in browser.get("/staff/").get_data(as_text=True)


def test_an_untouched_report_past_its_time_is_marked_overdue(
        browser, dsl, school, make_report, session):
    old, _ = make_report(school)
    session.get(Report, old.id).created_at -= timedelta(days=7)
    session.commit()
    make_report(school)
    html = browser.get("/staff/").get_data(as_text=True)
    assert html.count("tag--overdue") == 1


def test_the_dsl_can_see_the_audit_trail_of_a_case(browser, dsl, school, make_report):
    report, _ = make_report(school)
    page = f"/staff/cases/{report.id}"
    browser.submit(page, {"note": "Checked CCTV"}, action=f"{page}/notes")
    html = browser.get(page).get_data(as_text=True)
    # one visit: the look before the note and the page after it
    assert "Who has viewed this report (1)" in html
    assert "Checked CCTV" in html


def sealed_roster(app, school, user_id: int) -> dict[str, str]:
    """A one-pupil MIS export as the roster preview seals it for its confirmation by
    ``user_id``, now."""
    import base64
    import time

    from portal.admin import views_roster_import

    data = b"UPN,Forename,Surname\nR123456789012,Rae,Kim\n"
    issued = int(time.time())
    with app.test_request_context():
        roll = views_roster_import._roll(school.id)
        return {"roster_data": base64.b64encode(data).decode(), "roster_issued": str(issued),
                "roster_roll": str(roll),
                "roster_seal": views_roster_import._seal(data, school.id, user_id, issued,
                                                         roll)}


def staff_post_routes(app) -> set[str]:
    return {rule.rule for rule in app.url_map.iter_rules()
            if rule.rule.startswith("/staff") and "POST" in (rule.methods or set())
            and rule.rule not in {"/staff/login", "/staff/login/code", "/staff/login/enrol",
                                  # the roster upload's first step only shows a preview: it
                                  # writes nothing (tests/app/test_roster_upload.py)
                                  "/staff/roster/import",
                                  # signing in's first step for an invited account: the
                                  # new member of staff's own event (test_staff_accounts)
                                  "/staff/invite/<token>",
                                  # signing in with the school account's first step: it
                                  # writes nothing, it sends on to the provider (test_sso)
                                  "/staff/login/sso",
                                  # passkeys take real WebAuthn answers: their events (added,
                                  # removed, the sign-in's) are test_passkeys.py's
                                  "/staff/login/passkey", "/staff/account/passkeys",
                                  "/staff/account/passkeys/<int:passkey_id>/remove"}}


def test_no_staff_route_writes_without_an_audit_event(
        app, browser, dsl, school, make_report, make_pupil, make_user, make_school, session):
    """Every staff POST route, sent a valid change, adds an event that names the actor and
    the staff address; a new POST route without an entry here fails this test."""
    report, _ = make_report(school)
    kai = make_pupil(school, "Kai", "Jones")
    checklists.sync(session, session.get(Report, report.id))  # without acknowledging
    session.commit()
    item, second = session.scalars(select(ChecklistItem).order_by(ChecklistItem.position)).all()[:2]
    adult = school.trusted_adults[0]
    session.add(ReportPupil(report_id=report.id, pupil_id=kai.id, role="witness"))
    session.commit()
    unlink_id = session.scalars(select(ReportPupil)).one().id
    # someone not on the roster, with support to review (issue 14: parties)
    perp = ReportPupil(report_id=report.id, pupil_id=None, party_kind="unknown",
                       role="alleged_perpetrator", description="an Instagram account")
    session.add(perp)
    session.flush()
    held = PartySupport(report_id=report.id, party_id=perp.id, type="support",
                        code="discuss_change", given_by="Mr Brown", starts_on=date.today())
    session.add(held)
    session.commit()
    party = f"/staff/cases/{report.id}/parties/{perp.id}"
    device = Device(school_id=school.id, token_hash="0" * 64, label="Old tablet")
    session.add(device)
    session.commit()
    r = report.id
    today = date.today().isoformat()
    # the people around the case: an online report (cyber step 4.4 on it), its pupil asked
    # for Mrs Patel, who has a staff account; the school's Principal as a contact
    online, _ = make_report(school, kinds=["online"], adult=str(adult.id))
    head = notices.add_contact(session, school, actor=dsl, name="Dr Head", role="principal",
                               email="head@oakfield.test")
    adult.user_id = make_user(Role.STAFF, school).id
    session.commit()
    o = online.id
    waiting = CheckBack(report_id=r, due_on=date.today(), scheduled_by_id=dsl.id,
                        latest=False)  # set without acknowledging, so cancel has one
    session.add(waiting)
    session.commit()
    # records that travel (issue 16): a kept file to mark and let out, and a school of the
    # same trust for Kai's record
    kept, _pupil, _concern = kept_evidence_and_staff_concern(
        app, session, school, session.get(Report, r), make_user(Role.STAFF, school))
    trust = Trust(name="Northern Trust")
    session.add(trust)
    session.flush()
    elm = make_school("elm", "Elm Academy")
    school.trust_id = elm.trust_id = trust.id
    session.commit()
    # a case worked together: the online case shared with Elm already, and one of Elm's
    # shared with this school (its DSL acts as the partner)
    ours = a_share_to(session, o, school, elm, dsl)
    elm_case, _ = make_report(elm)
    theirs = a_share_to(session, elm_case.id, elm, school, make_user(Role.DSL, elm))
    cases = {
        "/staff/cases/<int:report_id>/notices": (f"/staff/cases/{o}/notices",
            {"step": "cyber-4.4", "contacts": [str(head.id)], "seen": "", "mark_done": "y"}),
        "/staff/cases/<int:report_id>/adult-notice": (f"/staff/cases/{o}/adult-notice",
            {"seen": "0"}),
        "/staff/cases/<int:report_id>/acknowledge": (f"/staff/cases/{r}/acknowledge", {}),
        "/staff/cases/<int:report_id>/decision": (f"/staff/cases/{r}/decision",
            {"category": "not_bullying", "reason": "A one-off falling out"}),
        "/staff/cases/<int:report_id>/decision-and-close": (
            f"/staff/cases/{r}/decision-and-close",
            {"category": "bullying_incident", "reason": "Repeated over weeks",
             "close_override": "Handed on to the trust officer"}),
        "/staff/cases/<int:report_id>/status": (f"/staff/cases/{r}/status",
            {"status": "in_review", "status_reason": "Reopened: it happened again"}),
        "/staff/cases/<int:report_id>/notes": (f"/staff/cases/{r}/notes", {"note": "A note"}),
        "/staff/cases/<int:report_id>/kinds": (f"/staff/cases/{r}/kinds",
            {"kinds": ["physical"], "kinds_reason": "Pushing described"}),
        "/staff/cases/<int:report_id>/checklists": (f"/staff/cases/{r}/checklists",
            {"checklist": "malicious"}),
        "/staff/cases/<int:report_id>/steps": (f"/staff/cases/{r}/steps",
            {f"state-{second.id}": "done", f"note-{second.id}": "Seen at break"}),
        "/staff/cases/<int:report_id>/steps/<int:item_id>": (
            f"/staff/cases/{r}/steps/{item.id}", {"state": "done", "step_note": ""}),
        "/staff/cases/<int:report_id>/actions": (f"/staff/cases/{r}/actions",
            {"action_kind": "agency", "agency": "early_help", "happened_on": today,
             "action_note": "Referral to early help"}),
        "/staff/cases/<int:report_id>/messages": (f"/staff/cases/{r}/messages",
            {"message": "Thank you for telling us. Mrs Patel will come and see you."}),
        "/staff/cases/<int:report_id>/assign": (f"/staff/cases/{r}/assign",
            {"assignee": str(dsl.id)}),
        "/staff/cases/<int:report_id>/pupils": (f"/staff/cases/{r}/pupils",
            {"pupil_id": str(kai.id), "role": "target"}),
        # parents and carers (issue 14), on the witness link before it is unlinked below
        "/staff/cases/<int:report_id>/parties/<int:party_id>/parents-told": (
            f"/staff/cases/{r}/parties/{unlink_id}/parents-told",
            {"told_on": today, "told_name": "Mr Jones", "how": "phone", "by_user": "me",
             "what": "What Kai saw at lunch"}),
        "/staff/cases/<int:report_id>/parents/meetings": (
            f"/staff/cases/{r}/parents/meetings",
            {"party_ids": [str(unlink_id)], "invited_on": today, "invited_how": "letter"}),
        "/staff/cases/<int:report_id>/parents/meetings/<int:meeting_id>": (
            f"/staff/cases/{r}/parents/meetings/1",  # the meeting the invitation made
            {"outcome": "did_not_attend", "meeting_on": today}),
        "/staff/cases/<int:report_id>/pupils/<int:link_id>/unlink": (
            f"/staff/cases/{r}/pupils/{unlink_id}/unlink", {"unlink_reason": "Linked twice"}),
        "/staff/concerns/new": ("/staff/concerns/new",
            {"told_by": "Jo", "what_happened": "Pushed in the line"}),
        "/staff/school/adults": ("/staff/school/adults", {"name": "Ms Green"}),
        "/staff/school/adults/<int:adult_id>/toggle": (
            f"/staff/school/adults/{adult.id}/toggle", {}),
        "/staff/roster/new": ("/staff/roster/new",
            {"upn": "N0001", "first_name": "New", "last_name": "Pupil", "sen_status": "N",
             "on_roll": "yes"}),
        "/staff/roster/<int:pupil_id>": (f"/staff/roster/{kai.id}",
            {"upn": kai.upn, "first_name": "Kai", "last_name": "Jones-Brown",
             "sen_status": "K", "on_roll": "yes"}),
        "/staff/school/settings": ("/staff/school/settings",
            {"recurring_count": "2", "recurring_days": "30", "urgent_due_days": "0",
             "normal_due_days": "2", "day_ends_hour": "16", "phase": "primary",
             "exit_url": "https://www.bbc.co.uk/bitesize"}),
        "/staff/cases/<int:report_id>/hold": (f"/staff/cases/{r}/hold",
            {"hold": "yes", "hold_reason": "Police asked us to keep it"}),
        "/staff/school/tablets": ("/staff/school/tablets", {"label": "Hall iPad"}),
        "/staff/school/tablets/<int:device_id>/revoke": (
            f"/staff/school/tablets/{device.id}/revoke", {}),
        # parties (issue 14)
        "/staff/cases/<int:report_id>/parties": (f"/staff/cases/{r}/parties",
            {"party_kind": "other_school_pupil", "party_role": "witness",
             "description": "Year 8 at Hillside Academy"}),
        "/staff/cases/<int:report_id>/parties/<int:party_id>/finding": (f"{party}/finding",
            {"finding": "not_upheld", "finding_reason": "Nothing links them to it"}),
        "/staff/cases/<int:report_id>/parties/<int:party_id>/support": (f"{party}/support",
            {"support_code": "behaviour_education", "given_by": "Mrs Patel",
             "starts_on": today}),
        "/staff/cases/<int:report_id>/parties/<int:party_id>/support/<int:support_id>/review": (
            f"{party}/support/{held.id}/review",
            {"outcome": "reviewed", "review_note": "Going well, carry on"}),
        "/staff/cases/<int:report_id>/parties/<int:party_id>/voice": (f"{party}/voice",
            {"said_on": today, "wants": "To be left alone"}),
        "/staff/cases/<int:report_id>/parties/<int:party_id>/interviews": (
            f"{party}/interviews", {"held_on": today, "interviewer": "Mrs Patel",
                                    "account": "Said it was not them"}),
        # check back with the reporter: cancel the waiting one, then set the next
        "/staff/cases/<int:report_id>/check-backs/<int:check_id>/cancel": (
            f"/staff/cases/{r}/check-backs/{waiting.id}/cancel", {"checkback_reason": ""}),
        "/staff/cases/<int:report_id>/check-backs": (f"/staff/cases/{r}/check-backs",
            {"checkback_due": today, "checkback_note": "A week after the meeting"}),
        # records that travel (issue 16)
        "/staff/cases/<int:report_id>/evidence": (f"/staff/cases/{r}/evidence",
            {"link_url": "https://social.example/post/1", "link_seen_on": today}),
        "/staff/cases/<int:report_id>/evidence/<int:evidence_id>/suspected-nude": (
            f"/staff/cases/{r}/evidence/{kept.id}/suspected-nude", {"nude_note": ""}),
        "/staff/cases/<int:report_id>/evidence/<int:evidence_id>/release": (
            f"/staff/cases/{r}/evidence/{kept.id}/release",
            {"release_reason": "CEOP referral 12345 asked for it"}),
        "/staff/pupils/<int:pupil_id>/transfer": (f"/staff/pupils/{kai.id}/transfer",
            {"to_school": str(elm.id), "transfer_note": ""}),
        "/staff/cases/<int:report_id>/shares": (f"/staff/cases/{r}/shares",
            {"share_school": str(elm.id), "share_note": "His cousin at Elm joins in"}),
        "/staff/cases/<int:report_id>/shares/<int:share_id>/actions": (
            f"/staff/cases/{o}/shares/{ours}/actions",
            {f"share{ours}-done_on": today, f"share{ours}-what": "Bus seats changed"}),
        "/staff/cases/<int:report_id>/shares/<int:share_id>/end": (
            f"/staff/cases/{o}/shares/{ours}/end", {f"share{ours}-end_reason": "Resolved"}),
        "/staff/shares/<int:share_id>/actions": (f"/staff/shares/{theirs}/actions",
            {f"share{theirs}-done_on": today, f"share{theirs}-what": "Spoke to Sam"}),
        "/staff/shares/<int:share_id>/end": (f"/staff/shares/{theirs}/end",
            {f"share{theirs}-end_reason": "Sam left"}),
        "/staff/logout": ("/staff/logout", {}),
    }
    # Routes for the school's administrator only, sent by one.
    teacher = make_user(Role.STAFF, school)  # whose role changes, who is switched off
    admin = make_user(Role.ADMIN, school)
    admin_cases = {
        "/staff/school/contacts": ("/staff/school/contacts",
            {"name": "Ms Council", "role": "la_esafety", "email": "e@la.test"}),
        "/staff/school/contacts/<int:contact_id>": (f"/staff/school/contacts/{head.id}",
            {"name": "Dr Head", "role": "slt", "email": "head@oakfield.test"}),
        "/staff/school/contacts/<int:contact_id>/active": (
            f"/staff/school/contacts/{head.id}/active", {}),
        "/staff/school/adults/<int:adult_id>/account": (
            f"/staff/school/adults/{adult.id}/account", {"account": "none"}),
        # staff accounts in the browser (issue 18)
        "/staff/school/staff": ("/staff/school/staff", {
            "invite_email": "new@oakfield.test", "invite_name": "Mr New",
            "invite_role": "staff"}),
        "/staff/school/staff/<int:user_id>/send-link": (
            "/staff/school/staff/{new}/send-link", {}),
        "/staff/school/staff/<int:user_id>/role": (
            f"/staff/school/staff/{teacher.id}/role", {f"u{teacher.id}-role": "head"}),
        "/staff/school/staff/<int:user_id>/reset-second-step": (
            f"/staff/school/staff/{teacher.id}/reset-second-step", {}),
        "/staff/school/staff/<int:user_id>/reset-password": (
            f"/staff/school/staff/{teacher.id}/reset-password", {}),
        "/staff/school/staff/<int:user_id>/disable": (
            f"/staff/school/staff/{teacher.id}/disable", {}),
        "/staff/school/staff/<int:user_id>/enable": (
            f"/staff/school/staff/{teacher.id}/enable", {}),
        # signing in with the school's accounts (issue 18), saved switched off (switching it
        # on asks the issuer, tests/app/test_sso_settings.py)
        "/staff/school/sign-in": ("/staff/school/sign-in", {
            "label": "Oakfield account", "issuer": "https://login.example.com/tenant",
            "client_id": "portal", "client_secret": "secret", "domains": "oakfield.test"}),
        # the roster upload (issue 18): the preview writes nothing, so only the confirmation
        # is here; the upload itself is the roster.preview test's
        "/staff/roster/import/confirm": ("/staff/roster/import/confirm", {
            **sealed_roster(app, school, admin.id), "leavers": "keep"}),
    }
    missing = staff_post_routes(app) - set(cases) - set(admin_cases)
    assert not missing, f"add the new staff routes to this table: {sorted(missing)}"
    assert staff_post_routes(app) == set(cases) | set(admin_cases)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                      browser.get("/staff/concerns/new").get_data(as_text=True)).group(1)
    for rule, (url, data) in cases.items():
        before = session.scalar(select(func.max(Event.id))) or 0
        response = browser.client.post(url, data={**data, "csrf_token": token})
        # a marked file let out for a referral is the file itself, sent with the answer
        done = (200,) if rule.endswith("/release") else (302, 303)
        assert response.status_code in done, f"{rule}: {response.status_code}"
        session.expire_all()
        new = list(session.scalars(select(Event).where(Event.id > before)))
        # the member of staff's own event, from their address; anything else the change
        # set off (a checklist the policy attaches) is the portal's, with no actor
        mine = [e for e in new if e.actor_id is not None]
        assert mine, rule
        assert {(e.actor_id, e.staff_address) for e in mine} == {(dsl.id, "127.0.0.1")}, rule
        assert all(e.action == "checklist.added" for e in new if e.actor_id is None), rule
    as_admin = Browser(app.test_client())
    as_admin.login(admin.email)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                      as_admin.get("/staff/school/contacts").get_data(as_text=True)).group(1)
    for rule, (url, data) in admin_cases.items():
        if "{new}" in url:  # the account the invitation above made
            url = url.format(new=session.scalar(select(User.id).where(
                User.email == "new@oakfield.test")))
        before = session.scalar(select(func.max(Event.id))) or 0
        response = as_admin.client.post(url, data={**data, "csrf_token": token})
        assert response.status_code in (302, 303), f"{rule}: {response.status_code}"
        session.expire_all()
        new = list(session.scalars(select(Event).where(Event.id > before)))
        assert new, rule
        assert {(e.actor_id, e.staff_address) for e in new} == {(admin.id, "127.0.0.1")}, rule


def test_children_in_more_than_one_report_this_term_are_listed(
        browser, dsl, school, make_report, make_pupil):
    kai = make_pupil(school, "Kai", "Jones")
    once = make_pupil(school, "Ben", "Once")
    first, _ = make_report(school)
    second, _ = make_report(school)
    link(browser, first.id, kai)
    link(browser, second.id, kai)
    link(browser, first.id, once, "witness")
    html = browser.get("/staff/pupils").get_data(as_text=True)
    assert "Kai Jones" in html
    assert "Ben Once" not in html


def test_the_school_sets_when_a_child_counts_as_recurring(
        browser, dsl, school, make_report, make_pupil, session):
    kai = make_pupil(school, "Kai", "Jones")
    first, _ = make_report(school)
    second, _ = make_report(school)
    link(browser, first.id, kai)
    link(browser, second.id, kai)
    assert "tag--recurring" not in browser.get("/staff/").get_data(as_text=True)
    saved = browser.submit("/staff/school", {
        "recurring_count": "2", "recurring_days": "60", "urgent_due_days": "0",
        "normal_due_days": "2", "day_ends_hour": "16", "phase": "all_through",
        "exit_url": "https://www.bbc.co.uk/bitesize"}, action="/staff/school/settings")
    assert saved.status_code == 302
    assert browser.get("/staff/").get_data(as_text=True).count("tag--recurring") == 2
    refused = browser.submit("/staff/school", {
        "recurring_count": "1", "recurring_days": "60", "urgent_due_days": "0",
        "normal_due_days": "2", "day_ends_hour": "16", "phase": "all_through",
        "exit_url": "javascript:alert(1)"}, action="/staff/school/settings")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "Use a number from 2 to 20." in html
    assert "Not a valid choice" in html


@pytest.mark.parametrize("address", ["https://dsl-home.example/log", "javascript:alert(1)",
                                     "/staff/", "https://www.bbc.co.uk/weather?id=1"])
def test_the_quick_exit_can_only_go_where_nobody_can_log_a_reporter(
        browser, dsl, school, session, address):
    # Trial finding 8: any https address let a DSL send reporters to their own server and
    # read each reporter's IP address there seconds after a report.
    settings = {"recurring_count": "3", "recurring_days": "60", "urgent_due_days": "0",
                "normal_due_days": "2", "day_ends_hour": "16", "phase": "all_through"}
    refused = browser.submit("/staff/school", {**settings, "exit_url": address},
                             action="/staff/school/settings")
    assert refused.status_code == 400
    session.refresh(school)
    assert school.exit_url != address
    # and the fixed choices, with the portal's own page, are what the page offers
    page = browser.get("/staff/school").get_data(as_text=True)
    for destination in exits.DESTINATIONS:
        assert f'value="{destination.url}"' in page
    assert "None of them lets anyone at school see who pressed the button" in page
    saved = browser.submit("/staff/school", {**settings, "exit_url": exits.TABLES},
                           action="/staff/school/settings")
    assert saved.status_code == 302
    gone = browser.client.get(f"/exit?s={school.slug}")
    assert gone.headers["Location"] == exits.TABLES
    tables = browser.client.get(exits.TABLES).get_data(as_text=True)
    assert "144" in tables
    assert "Tell Us" not in tables
    assert "report" not in tables.lower()


def test_a_stored_exit_address_from_before_the_list_is_never_used(client, school, session):
    school.exit_url = "https://dsl-home.example/log"
    session.commit()
    assert client.get(f"/exit?s={school.slug}").headers["Location"] == exits.DEFAULT


# --- Issue 12 item 16: the school's phase decides the year groups offered ----------------

SETTINGS = {"recurring_count": "3", "recurring_days": "60", "urgent_due_days": "0",
            "normal_due_days": "2", "day_ends_hour": "16",
            "exit_url": "https://www.bbc.co.uk/bitesize"}


def _roster_years(html: str) -> list[str]:
    select = re.search(r'<select[^>]*name="year_group".*?</select>', html, re.S)
    assert select, "no year group list on the pupil form"
    return [v for v in re.findall(r'<option[^>]*value="([^"]*)"', select.group(0)) if v]


def test_the_school_settings_choose_the_phase_and_the_roster_form_follows(
        browser, dsl, school, session, make_pupil):
    page = browser.get("/staff/school").get_data(as_text=True)
    assert 'name="phase"' in page
    assert "Primary" in page
    assert "Secondary" in page
    saved = browser.submit("/staff/school", {**SETTINGS, "phase": "primary"},
                           action="/staff/school/settings")
    assert saved.status_code == 302
    session.refresh(school)
    assert school.phase == "primary"
    years = _roster_years(browser.get("/staff/roster/new").get_data(as_text=True))
    assert "Year 6" in years
    assert "Reception" in years
    assert not {f"Year {n}" for n in range(7, 14)} & set(years)

    refused = browser.submit("/staff/roster/new", {
        "upn": "A123", "first_name": "Kai", "last_name": "Jones", "year_group": "Year 8",
        "sen_status": "N", "on_roll": "yes"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "Choose a year group this school has (Nursery to Year 6)." in html
    assert 'value="Kai"' in html
    assert session.scalar(select(func.count()).select_from(Pupil)) == 0

    # a pupil already on the roster with another year (an import) can still be corrected
    kai = make_pupil(school, "Kai", "Jones", year="Year 7")
    edit = f"/staff/roster/{kai.id}"
    assert "Year 7" in _roster_years(browser.get(edit).get_data(as_text=True))
    kept = browser.submit(edit, {"upn": kai.upn, "first_name": "Kai", "last_name": "Jones",
                                 "year_group": "Year 7", "form": "7A", "sen_status": "N",
                                 "on_roll": "yes"})
    assert kept.status_code == 302

    saved = browser.submit("/staff/school", {**SETTINGS, "phase": "secondary"},
                           action="/staff/school/settings")
    assert saved.status_code == 302
    years = _roster_years(browser.get("/staff/roster/new").get_data(as_text=True))
    assert years == [f"Year {n}" for n in range(7, 14)]
    refused = browser.submit("/staff/school", {**SETTINGS, "phase": "infant"},
                             action="/staff/school/settings")
    assert refused.status_code == 400
    session.refresh(school)
    assert school.phase == "secondary"
