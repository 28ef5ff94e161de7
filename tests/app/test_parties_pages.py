"""People involved, through the pages: the real CSRF token read from the case page, refused
input back with what was typed, hostile input escaped, other reports' and schools' ids
answered 404, and each child's chronology showing what was done for them and when ("show a
parent, a governor or an inspector what was done for each child and when")."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from portal.models import (
    Event,
    PartyInterview,
    PartySupport,
    PartyVoice,
    Pupil,
    Report,
    ReportPupil,
    Role,
)
from tests.conftest import Browser, hidden_fields

TODAY = date.today().isoformat()
SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def case(session, school, make_report):
    report, _ = make_report(school)
    return session.get(Report, report.id)


def add_party(browser, case, **data):
    page = f"/staff/cases/{case.id}"
    values = {"party_kind": "unknown", "party_role": "alleged_perpetrator",
              "description": "an Instagram account called x", **data}
    return browser.submit(page, values, action=f"{page}/parties")


def newest_party(session) -> ReportPupil:
    session.expire_all()
    return session.scalars(select(ReportPupil).order_by(ReportPupil.id.desc())).first()


def count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def test_a_dsl_adds_someone_not_on_the_roster_with_the_pages_token(browser, dsl, case,
                                                                    session):
    sent = add_party(browser, case, party_kind="other_school_pupil", party_role="witness",
                     description="Year 8 at Hillside Academy")
    assert sent.status_code == 302
    assert sent.headers["Location"].endswith("#pupils")
    html = browser.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "People involved" in html
    assert "Year 8 at Hillside Academy" in html
    assert "Pupil of another school" in html
    assert "Added Year 8 at Hillside Academy (pupil of another school) as witness" in html
    assert "{# party panel: parents (issue 14) #}" not in html  # a Jinja comment, not text


@pytest.mark.parametrize("token", ["missing", "foreign"])
def test_without_the_pages_token_nothing_is_added_and_the_typed_words_come_back(
        app, browser, dsl, case, session, token):
    page = f"/staff/cases/{case.id}"
    fields = hidden_fields(browser.get(page).get_data(as_text=True), f"{page}/parties")
    if token == "missing":
        del fields["csrf_token"]
    else:
        other: FlaskClient = app.test_client()
        fields["csrf_token"] = hidden_fields(
            other.get("/staff/login").get_data(as_text=True))["csrf_token"]
    before = count(session, ReportPupil)
    refused = browser.client.post(f"{page}/parties", data={
        **fields, "party_kind": "adult", "party_role": "witness",
        "description": "Mrs Dean at the gate"})
    assert refused.status_code == 400
    assert 'value="Mrs Dean at the gate"' in refused.get_data(as_text=True)
    assert count(session, ReportPupil) == before


def test_a_refused_support_keeps_what_was_typed_in_that_partys_open_form(
        browser, dsl, case, session):
    add_party(browser, case)
    party = newest_party(session)
    page = f"/staff/cases/{case.id}"
    refused = browser.submit(page, {
        "support_code": "discuss_change", "given_by": "Mr Typedname",
        "starts_on": TODAY, "review_on": (date.today() - timedelta(days=3)).isoformat(),
        "support_note": "Typed note kept"}, action=f"{page}/parties/{party.id}/support")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "The review date can&#39;t be before the start date." in html \
        or "The review date can't be before the start date." in html
    panel = html[html.index(f'id="support-details-{party.id}"'):]
    assert panel.startswith(f'id="support-details-{party.id}" open')
    assert 'value="Mr Typedname"' in panel
    assert "Typed note kept</textarea>" in panel
    assert count(session, PartySupport) == 0


def test_a_sanction_for_a_target_is_refused_on_the_page(browser, dsl, case, session):
    add_party(browser, case, party_kind="adult", party_role="target",
              description="Mrs Green, teaching assistant")
    party = newest_party(session)
    page = f"/staff/cases/{case.id}"
    html = browser.get(page).get_data(as_text=True)
    form = html[html.index(f'id="support-form-{party.id}"'):]
    form = form[:form.index("</form>")]
    assert 'value="detention"' not in form  # not offered
    refused = browser.submit(page, {"support_code": "detention", "given_by": "Head",
                                    "starts_on": TODAY},
                             action=f"{page}/parties/{party.id}/support")
    assert refused.status_code == 400
    assert "Sanctions are only for a perpetrator." in refused.get_data(as_text=True)
    assert count(session, PartySupport) == 0


def test_finding_responsible_waits_for_the_bullying_incident_decision(browser, dsl, case,
                                                                       session):
    add_party(browser, case)
    party = newest_party(session)
    page = f"/staff/cases/{case.id}"
    html = browser.get(page).get_data(as_text=True)
    assert "Alleged perpetrator" in html
    finding = {"finding": "responsible", "finding_reason": "Admitted it"}
    refused = browser.submit(page, finding, action=f"{page}/parties/{party.id}/finding")
    assert refused.status_code == 400
    assert "considered innocent" in refused.get_data(as_text=True)
    assert browser.submit(page, {"category": "bullying_incident", "reason": "Repeated"},
                          action=f"{page}/decision").status_code == 302
    assert browser.submit(page, finding, action=f"{page}/parties/{party.id}/finding") \
        .status_code == 302
    html = browser.get(page).get_data(as_text=True)
    assert "Perpetrator (found responsible)" in html
    assert "Finding for an Instagram account called x: found responsible" in html


FIELDS = {
    "parties": {"party_kind": "adult", "party_role": "witness", "description": SCRIPT},
    "support": {"support_code": "witness_support", "given_by": SCRIPT, "starts_on": TODAY,
                "support_note": SCRIPT},
    "voice": {"said_on": TODAY, "wants": SCRIPT},
    "interviews": {"held_on": TODAY, "interviewer": SCRIPT, "present": SCRIPT,
                   "account": SCRIPT},
}


def test_script_in_every_text_field_is_shown_as_text(browser, dsl, case, session, school):
    page = f"/staff/cases/{case.id}"
    assert browser.submit(page, FIELDS["parties"], action=f"{page}/parties").status_code == 302
    party = newest_party(session)
    for path in ("support", "voice", "interviews"):
        sent = browser.submit(page, FIELDS[path], action=f"{page}/parties/{party.id}/{path}")
        assert sent.status_code == 302, path
    record = session.scalars(select(PartySupport)).one()
    sent = browser.submit(page, {"outcome": "reviewed", "review_note": SCRIPT},
                          action=f"{page}/parties/{party.id}/support/{record.id}/review")
    assert sent.status_code == 302
    html = browser.get(page).get_data(as_text=True)
    assert SCRIPT not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 7


@pytest.mark.parametrize(("path", "data", "message"), [
    ("parties", {"party_kind": "root", "party_role": "witness", "description": "x"},
     "Not a valid choice"),
    ("parties", {"party_kind": "adult", "party_role": "witness", "description": "x" * 301},
     "Keep this to 300 characters"),
    ("support", {"support_code": "x", "given_by": "y", "starts_on": TODAY},
     "Not a valid choice"),
    ("support", {"support_code": "discuss_change", "given_by": "y", "starts_on": "soon"},
     "Enter the date, like 2026-11-23."),
    ("voice", {"said_on": TODAY, "wants": "x" * 4001}, "Keep this to 4000 characters"),
    ("interviews", {"held_on": "", "interviewer": "x", "account": "y"}, "Enter the date"),
])
def test_wrong_types_and_over_long_text_are_refused_with_nothing_saved(
        browser, dsl, case, session, path, data, message):
    add_party(browser, case)
    party = newest_party(session)
    page = f"/staff/cases/{case.id}"
    action = f"{page}/parties" if path == "parties" else f"{page}/parties/{party.id}/{path}"
    before = session.scalar(select(func.max(Event.id)))
    refused = browser.submit(page, data, action=action)
    assert refused.status_code == 400
    assert message in refused.get_data(as_text=True)
    # nothing is new but (perhaps) the view of the page
    session.expire_all()
    new = session.scalars(select(Event.action).where(Event.id > before)).all()
    assert set(new) <= {"case.viewed"}


def test_another_reports_or_schools_party_id_is_404(app, browser, dsl, case, session,
                                                    school, make_school, make_report,
                                                    make_user):
    other, _ = make_report(school)
    add_party(browser, session.get(Report, other.id))
    theirs = newest_party(session)
    page = f"/staff/cases/{case.id}"
    token = hidden_fields(browser.get(page).get_data(as_text=True), f"{page}/parties")
    for path in ("support", "voice", "interviews", "finding"):
        sent = browser.client.post(f"{page}/parties/{theirs.id}/{path}",
                                   data={**token, **FIELDS.get(path, {})})
        assert sent.status_code == 404, path

    elm = make_school("elm", "Elm Primary")
    elm_report, _ = make_report(elm)
    elm_party = ReportPupil(report_id=elm_report.id, pupil_id=None, party_kind="adult",
                            role="witness", description="x")
    session.add(elm_party)
    session.commit()
    elm_page = f"/staff/cases/{elm_report.id}/parties/{elm_party.id}/voice"
    assert browser.client.post(elm_page, data={**token, "said_on": TODAY, "wants": "x"}) \
        .status_code == 404
    assert count(session, PartyVoice) == 0


def test_the_childs_chronology_shows_what_was_done_for_them(browser, dsl, case, session,
                                                            school):
    child = Pupil(school_id=school.id, upn="C00001", first_name="Aisha", last_name="Khan",
                  year_group="Year 7", form="7B")
    session.add(child)
    session.commit()
    page = f"/staff/cases/{case.id}"
    assert browser.submit(f"{page}?q=C00001", {"pupil_id": str(child.id), "role": "target"},
                          action=f"{page}/pupils").status_code == 302
    party = newest_party(session)
    review = (date.today() + timedelta(days=14))
    base = f"{page}/parties/{party.id}"
    for path, data in (
            ("support", {"support_code": "counselling", "given_by": "Ms Counsellor",
                         "starts_on": TODAY, "review_on": review.isoformat()}),
            ("voice", {"said_on": TODAY, "wants": "To sit away from them in maths"}),
            ("interviews", {"held_on": TODAY, "interviewer": "Mrs Patel",
                            "present": "Mum", "account": "Told us about the group chat"})):
        assert browser.submit(page, data, action=f"{base}/{path}").status_code == 302, path
    assert count(session, PartyInterview) == 1
    html = browser.get(f"/staff/pupils/{child.id}").get_data(as_text=True)
    done = html[html.index('id="done-for-child"'):]
    assert "Formal counselling" in done
    assert "Ms Counsellor" in done
    assert review.strftime("%d %b %Y") in done
    assert "To sit away from them in maths" in done
    assert "Told us about the group chat" in done


def test_staff_cannot_use_the_party_forms(app, case, session, school, make_user):
    teacher = make_user(role=Role.STAFF, school=school)
    browser = Browser(app.test_client())
    browser.login(teacher.email)
    token = hidden_fields(browser.get("/staff/concerns/new").get_data(as_text=True),
                          "/staff/concerns/new")
    sent = browser.client.post(f"/staff/cases/{case.id}/parties",
                               data={**token, "party_kind": "adult", "party_role": "witness",
                                     "description": "x"})
    assert sent.status_code in (403, 404)
    assert count(session, ReportPupil) == 0


def test_someone_not_on_the_roster_is_removed_with_a_reason_kept(browser, dsl, case,
                                                                 session):
    add_party(browser, case)
    party = newest_party(session)
    page = f"/staff/cases/{case.id}"
    sent = browser.submit(page, {"unlink_reason": "Added to the wrong report"},
                          action=f"{page}/pupils/{party.id}/unlink")
    assert sent.status_code == 302
    html = browser.get(page).get_data(as_text=True)
    assert "Removed from the people involved." in html
    assert "Removed an Instagram account called x (alleged perpetrator)" in html
    assert "Added to the wrong report" in html
    assert f'id="party-{party.id}"' not in html
    assert newest_party(session).unlinked_at is not None  # the row stays


def test_a_refused_csrf_token_brings_the_form_back_in_that_partys_panel(
        app, browser, dsl, case, session):
    add_party(browser, case, description="first account")
    first = newest_party(session)
    add_party(browser, case, description="second account")
    second = newest_party(session)
    page = f"/staff/cases/{case.id}"
    action = f"{page}/parties/{second.id}/interviews"
    fields = hidden_fields(browser.get(page).get_data(as_text=True), action)
    other: FlaskClient = app.test_client()
    fields["csrf_token"] = hidden_fields(
        other.get("/staff/login").get_data(as_text=True))["csrf_token"]
    refused = browser.client.post(action, data={
        **fields, "held_on": TODAY, "interviewer": "Mrs Typed", "account": "Typed account"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    theirs = html[html.index(f'id="party-{second.id}"'):]
    assert 'value="Mrs Typed"' in theirs
    assert "Typed account</textarea>" in theirs
    assert f'id="interview-details-{second.id}" open' in theirs
    mine = html[html.index(f'id="party-{first.id}"'):html.index(f'id="party-{second.id}"')]
    assert "Mrs Typed" not in mine
    assert count(session, PartyInterview) == 0


def test_the_targets_support_form_can_ask_the_reporter_on_the_review_date(
        browser, dsl, case, session):
    """Issue 14's check-back on a review date, from the support form: the box is offered
    for a target only; ticked, the case's check-back list shows the day; without a review
    date the form is refused and keeps the tick."""
    add_party(browser, case, party_kind="adult", party_role="target",
              description="Mrs Green, teaching assistant")
    target = newest_party(session)
    add_party(browser, case)
    other = newest_party(session)
    page = f"/staff/cases/{case.id}"
    html = browser.get(page).get_data(as_text=True)

    def form_of(party):
        form = html[html.index(f'id="support-form-{party.id}"'):]
        return form[:form.index("</form>")]

    assert 'name="ask_reporter"' in form_of(target)
    assert 'name="ask_reporter"' not in form_of(other)
    refused = browser.submit(page, {"support_code": "reassurance_pastoral",
                                    "given_by": "Mrs Patel", "starts_on": TODAY,
                                    "ask_reporter": "y"},
                             action=f"{page}/parties/{target.id}/support")
    assert refused.status_code == 400
    kept = refused.get_data(as_text=True)
    assert "Choose a review date to ask the reporter on." in kept
    assert re.search(r'name="ask_reporter" type="checkbox" value="y" checked', kept)
    review = date.today() + timedelta(days=10)
    done = browser.submit(page, {"support_code": "reassurance_pastoral",
                                 "given_by": "Mrs Patel", "starts_on": TODAY,
                                 "review_on": review.isoformat(), "ask_reporter": "y"},
                          action=f"{page}/parties/{target.id}/support")
    assert done.status_code == 302
    shown = browser.get(page).get_data(as_text=True)
    checks = shown[shown.index('id="check-back"'):]
    assert review.strftime("%-d %B %Y") in checks
    assert "Asked on the review date of the support" in checks
    assert count(session, PartySupport) == 1
