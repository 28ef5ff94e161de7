"""Two schools of one trust work one case together (issue 16; anti-bullying policy: "the
DSL will collaborate with other schools"). The owning DSL shares a case with the other
school's DSL, who reads what was shared and adds their own actions; each school's queue,
figures and retention stay its own; ending the share is recorded; any other school, and
the other roles, reach none of it."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal import audit_view, retention
from portal.models import (
    CaseShare,
    Event,
    LinkRole,
    Pupil,
    Report,
    ReportPupil,
    Role,
    SharedAction,
    Trust,
)
from tests.conftest import Browser

WORDS = "Secret words: they push me on the bus and film it"


@pytest.fixture
def world(app, session, school, make_school, make_report, make_user, dsl):
    """Oakfield (the case's school) and Elm in one trust, Far in another; a named pupil's
    report at Oakfield naming Jack (Oakfield) as the one doing it."""
    elm, far = make_school("elm", "Elm Academy"), make_school("far", "Far Away School")
    trust, other = Trust(name="Northern Trust"), Trust(name="Other Trust")
    session.add_all([trust, other])
    session.flush()
    school.trust_id = elm.trust_id = trust.id
    far.trust_id = other.id
    jack = Pupil(school_id=school.id, upn="J123456789012", first_name="Jack", last_name="Lee",
                 year_group="Year 8")
    session.add(jack)
    session.flush()
    stored, _ = make_report(school, what_happened=WORDS, anonymous="no",
                            reporter_name="Priya Shah", reporter_class="8C")
    report = session.get(Report, stored.id)
    session.add(ReportPupil(report_id=report.id, pupil_id=jack.id,
                            role=LinkRole.ALLEGED_PERPETRATOR, linked_by_id=dsl.id))
    session.commit()
    return {"elm": elm, "far": far, "report": report.id, "trust": trust,
            "elm_dsl": make_user(Role.DSL, elm), "far_dsl": make_user(Role.DSL, far),
            "elm_staff": make_user(Role.STAFF, elm), "elm_head": make_user(Role.HEAD, elm),
            "lead": make_user(Role.TRUST_LEAD, None, trust_id=trust.id)}


def as_user(app, user) -> Browser:
    other = Browser(app.test_client())
    assert other.login(user.email).status_code == 302
    return other


def share(browser, world, school=None, note="His cousin at Elm joins in on the bus",
          extras=("words", "people")):
    page = f"/staff/cases/{world['report']}"
    return browser.submit(page, {"share_school": str((school or world["elm"]).id),
                                 "share_note": note, "share_extras": list(extras)},
                          action=f"{page}/shares")


def token_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "no CSRF token on the page"
    return found.group(1)


def the_share(session) -> CaseShare:
    (row,) = session.scalars(select(CaseShare))
    return row


def test_the_other_schools_dsl_reads_what_was_shared_and_never_who_reported(
        app, browser, world, session):
    response = share(browser, world)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("#sharing")
    row = the_share(session)
    assert (row.to_school_id, row.with_words, row.with_people) == (world["elm"].id, True, True)
    elm = as_user(app, world["elm_dsl"])
    page = elm.get(f"/staff/shares/{row.id}").get_data(as_text=True)
    assert "Case shared by Oakfield" in page
    assert WORDS in page
    assert "Jack Lee" in page
    assert "Alleged perpetrator" in page
    assert "His cousin at Elm joins in on the bus" in page
    # The reporter's name and class are never shared, whatever was chosen.
    assert "Priya Shah" not in page
    assert "8C" not in page
    listing = elm.get("/staff/shares").get_data(as_text=True)
    assert f"/staff/shares/{row.id}" in listing


def test_what_is_not_chosen_is_not_shared(app, browser, world, session):
    assert share(browser, world, extras=()).status_code == 302
    elm = as_user(app, world["elm_dsl"])
    page = elm.get(f"/staff/shares/{the_share(session).id}").get_data(as_text=True)
    assert WORDS not in page
    assert "Jack Lee" not in page
    assert "The reporter's own words were not shared." in page
    assert "Verbal" in page or "verbal" in page  # the summary always travels


def test_both_schools_record_actions_and_read_each_others(app, browser, world, session):
    share(browser, world)
    row = the_share(session)
    elm = as_user(app, world["elm_dsl"])
    today = date.today().isoformat()
    sent = elm.submit(f"/staff/shares/{row.id}",
                      {f"share{row.id}-done_on": today,
                       f"share{row.id}-what": "Spoke to Sam (Year 8) and his parents"},
                      action=f"/staff/shares/{row.id}/actions")
    assert sent.status_code == 302
    case_page = f"/staff/cases/{world['report']}"
    ours = browser.submit(case_page, {f"share{row.id}-done_on": today,
                                      f"share{row.id}-what": "Bus seating plan changed"},
                          action=f"{case_page}/shares/{row.id}/actions")
    assert ours.status_code == 302
    mine = browser.get(case_page).get_data(as_text=True)
    assert "Spoke to Sam (Year 8) and his parents" in mine
    assert "Elm Academy" in mine
    theirs = elm.get(f"/staff/shares/{row.id}").get_data(as_text=True)
    assert "Bus seating plan changed" in theirs
    assert {(a.school_id, a.what) for a in session.scalars(select(SharedAction))} == {
        (world["elm"].id, "Spoke to Sam (Year 8) and his parents"),
        (row.from_school_id, "Bus seating plan changed")}


def test_an_action_sent_twice_is_recorded_once(app, browser, world, session):
    share(browser, world)
    row = the_share(session)
    elm = as_user(app, world["elm_dsl"])
    data = {f"share{row.id}-done_on": date.today().isoformat(),
            f"share{row.id}-what": "Spoke to Sam"}
    assert elm.submit(f"/staff/shares/{row.id}", data,
                      action=f"/staff/shares/{row.id}/actions").status_code == 302
    again = elm.submit(f"/staff/shares/{row.id}", data, action=f"/staff/shares/{row.id}/actions")
    assert again.status_code == 400
    assert "recorded already" in again.get_data(as_text=True)
    assert len(list(session.scalars(select(SharedAction)))) == 1


@pytest.mark.parametrize(("day", "words"), [
    ((date.today() + timedelta(days=2)).isoformat(), "be in the future"),
    ("0206-01-01", "Check the year"),
    ("next tuesday", "Enter the date"),
])
def test_a_day_that_cannot_be_right_is_refused_in_words_keeping_the_text(
        app, browser, world, session, day, words):
    share(browser, world)
    row = the_share(session)
    elm = as_user(app, world["elm_dsl"])
    response = elm.submit(f"/staff/shares/{row.id}",
                          {f"share{row.id}-done_on": day, f"share{row.id}-what": "Spoke to Sam"},
                          action=f"/staff/shares/{row.id}/actions")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert words.lower() in page.lower()
    assert "Spoke to Sam" in page
    assert list(session.scalars(select(SharedAction))) == []


def test_sharing_is_refused_in_words_without_a_reason_or_with_a_school_outside_the_trust(
        browser, world, session):
    empty = share(browser, world, note="  ")
    assert empty.status_code == 400
    assert "Write why you are sharing it" in empty.get_data(as_text=True)
    outside = share(browser, world, school=world["far"], note="They asked")
    assert outside.status_code == 400
    assert "Choose another school of your trust" in outside.get_data(as_text=True)
    assert list(session.scalars(select(CaseShare))) == []


def test_the_same_school_is_not_given_two_shares_at_once(browser, world, session):
    assert share(browser, world).status_code == 302
    # The form sent again (Back and resend, a double press): the school is not offered
    # again, and the request is refused in words.
    page = browser.get(f"/staff/cases/{world['report']}").get_data(as_text=True)
    assert "Share this case with another school" not in page
    again = browser.client.post(f"/staff/cases/{world['report']}/shares", data={
        "csrf_token": token_of(page), "share_school": str(world["elm"].id),
        "share_note": "Again", "share_extras": ["words"]})
    assert again.status_code == 400
    assert "shared with Elm Academy already" in again.get_data(as_text=True)
    assert len(list(session.scalars(select(CaseShare)))) == 1


def test_ending_the_share_is_recorded_at_both_schools_and_stops_the_reading(
        app, browser, world, session):
    share(browser, world)
    row = the_share(session)
    elm = as_user(app, world["elm_dsl"])
    today = date.today().isoformat()
    elm.submit(f"/staff/shares/{row.id}", {f"share{row.id}-done_on": today,
                                           f"share{row.id}-what": "Spoke to Sam"},
               action=f"/staff/shares/{row.id}/actions")
    case_page = f"/staff/cases/{world['report']}"
    ended = browser.submit(case_page, {f"share{row.id}-end_reason": "Resolved at both schools"},
                           action=f"{case_page}/shares/{row.id}/end")
    assert ended.status_code == 302
    session.expire_all()
    assert the_share(session).ended_at is not None
    after = elm.get(f"/staff/shares/{row.id}").get_data(as_text=True)
    assert WORDS not in after
    assert "Jack Lee" not in after
    assert "This share ended" in after
    assert "Resolved at both schools" in after
    assert "Spoke to Sam" in after  # their own actions stay for their records
    late = elm.client.post(f"/staff/shares/{row.id}/actions", data={
        "csrf_token": token_of(after), f"share{row.id}-done_on": today,
        f"share{row.id}-what": "Spoke to Sam again"})
    assert late.status_code == 400
    assert "This share has ended" in late.get_data(as_text=True)
    assert len(list(session.scalars(select(SharedAction)))) == 1
    ends = session.scalars(select(Event).where(Event.action == "share.ended")).all()
    assert {(e.school_id, e.report_id) for e in ends} == {
        (row.from_school_id, world["report"]), (world["elm"].id, None)}


def test_the_other_school_may_end_the_share(app, browser, world, session):
    share(browser, world)
    row = the_share(session)
    elm = as_user(app, world["elm_dsl"])
    response = elm.submit(f"/staff/shares/{row.id}",
                          {f"share{row.id}-end_reason": "Sam has left Elm"},
                          action=f"/staff/shares/{row.id}/end")
    assert response.status_code == 302
    mine = browser.get(f"/staff/cases/{world['report']}").get_data(as_text=True)
    assert "Sam has left Elm" in mine


def test_every_step_leaves_an_audit_event_in_each_schools_trail(app, browser, world,
                                                                  session, school):
    share(browser, world)
    row = the_share(session)
    elm = as_user(app, world["elm_dsl"])
    elm.get(f"/staff/shares/{row.id}")
    elm.submit(f"/staff/shares/{row.id}", {f"share{row.id}-done_on": date.today().isoformat(),
                                           f"share{row.id}-what": "Spoke to Sam"},
               action=f"/staff/shares/{row.id}/actions")
    at_elm = {r.what for r in audit_view.page(session, world["elm"].id,
                                              audit_view.Asked(), 1).rows}
    assert {f"A case shared by oakfield to work on together (shared case {row.id})",
            f"Shared case {row.id} from oakfield read"} <= at_elm
    assert any(w.startswith(f"An action recorded on shared case {row.id}") for w in at_elm)
    at_oakfield = {r.what for r in audit_view.page(session, school.id, audit_view.Asked(
        report_id=world["report"]), 1).rows}
    assert any(w.startswith("Case shared with elm") for w in at_oakfield)
    assert any(w.startswith(f"An action recorded on shared case {row.id}") for w in at_oakfield)


def test_the_shared_case_stays_out_of_the_other_schools_queue_and_search(app, browser,
                                                                        world, session):
    share(browser, world)
    elm = as_user(app, world["elm_dsl"])
    queue = elm.get("/staff").get_data(as_text=True)
    assert f"/staff/cases/{world['report']}" not in queue
    assert elm.get(f"/staff/cases/{world['report']}").status_code == 404
    found = elm.get("/staff/search?q=bus").get_data(as_text=True)
    assert f"/staff/cases/{world['report']}" not in found


def test_the_share_goes_with_the_case_at_the_owning_schools_retention(
        app, browser, world, session, school, tmp_path):
    share(browser, world)
    row = the_share(session)
    elm = as_user(app, world["elm_dsl"])
    elm.get(f"/staff/shares/{row.id}")
    report = session.get(Report, world["report"])
    due = [retention.Retention(report_id=report.id, school_id=school.id,
                               retention_class="test", keep_until=date.today(), held=False)]
    retention.purge(session, due, tmp_path)
    session.commit()
    assert list(session.scalars(select(CaseShare))) == []
    # Elm's own trail keeps its reading of it (no words of the case in it).
    assert session.scalars(select(Event).where(Event.action == "share.viewed",
                                               Event.school_id == world["elm"].id)).all()
    assert elm.get(f"/staff/shares/{row.id}").status_code == 404


def test_another_school_and_other_roles_reach_none_of_it(app, browser, world, session):
    share(browser, world)
    row = the_share(session)
    far = as_user(app, world["far_dsl"])
    assert far.get(f"/staff/shares/{row.id}").status_code == 404
    assert WORDS not in far.get("/staff/shares").get_data(as_text=True)
    for user in (world["elm_staff"], world["elm_head"], world["lead"]):
        other = as_user(app, user)
        assert other.get(f"/staff/shares/{row.id}").status_code == 403
        assert other.get("/staff/shares").status_code == 403
    # Far's DSL with a valid token from their own page: refused, nothing written.
    token = token_of(far.get("/staff/logout").get_data(as_text=True))
    for url, data in ((f"/staff/shares/{row.id}/actions",
                       {f"share{row.id}-done_on": date.today().isoformat(),
                        f"share{row.id}-what": "x"}),
                      (f"/staff/shares/{row.id}/end", {f"share{row.id}-end_reason": "x"}),
                      (f"/staff/cases/{world['report']}/shares/{row.id}/end",
                       {f"share{row.id}-end_reason": "x"})):
        assert far.client.post(url, data={"csrf_token": token, **data}
                               ).status_code == 404
    session.expire_all()
    assert the_share(session).ended_at is None
    assert list(session.scalars(select(SharedAction))) == []


def test_the_owning_school_reading_the_share_address_goes_to_its_case(browser, world,
                                                                       session):
    share(browser, world)
    row = the_share(session)
    response = browser.get(f"/staff/shares/{row.id}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/staff/cases/{world['report']}#sharing")


def test_script_in_every_field_is_shown_as_text(app, browser, world, session):
    script = "<script>alert(1)</script>"
    share(browser, world, note=script)
    row = the_share(session)
    elm = as_user(app, world["elm_dsl"])
    elm.submit(f"/staff/shares/{row.id}", {f"share{row.id}-done_on": date.today().isoformat(),
                                           f"share{row.id}-what": script},
               action=f"/staff/shares/{row.id}/actions")
    for page in (elm.get(f"/staff/shares/{row.id}"),
                 browser.get(f"/staff/cases/{world['report']}")):
        text = page.get_data(as_text=True)
        assert script not in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
