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
from portal.casework import sharing
from portal.models import (
    CaseShare,
    Event,
    LinkRole,
    OutboxMessage,
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
    assert {f"A case shared by Oakfield Primary to work on together (shared case {row.id})",
            f"Shared case {row.id} from Oakfield Primary read"} <= at_elm
    assert any(w.startswith(f"An action recorded on shared case {row.id}") for w in at_elm)
    at_oakfield = {r.what for r in audit_view.page(session, school.id, audit_view.Asked(
        report_id=world["report"]), 1).rows}
    assert any(w.startswith("Case shared with Elm Academy") for w in at_oakfield)
    assert any(w.startswith(f"An action recorded on shared case {row.id}") for w in at_oakfield)
    # The owning school sees the other school read its case (trial finding 4)
    reads = [r for r in audit_view.page(session, school.id, audit_view.Asked(
        report_id=world["report"]), 1).rows if r.what.endswith("read")]
    assert {r.who for r in reads} == {world["elm_dsl"].name}


def test_the_shared_case_stays_out_of_the_other_schools_queue_and_search(app, browser,
                                                                        world, session):
    share(browser, world)
    elm = as_user(app, world["elm_dsl"])
    queue = elm.get("/staff").get_data(as_text=True)
    assert f"/staff/cases/{world['report']}" not in queue
    assert elm.get(f"/staff/cases/{world['report']}").status_code == 404
    found = elm.get("/staff/search?q=bus").get_data(as_text=True)
    assert f"/staff/cases/{world['report']}" not in found


def test_the_owning_schools_retention_ends_the_share_and_the_other_keeps_its_actions(
        app, browser, world, session, school, tmp_path):
    """Trial finding 3: the owner's purge deleted the partner's own actions."""
    share(browser, world)
    row = the_share(session)
    elm = as_user(app, world["elm_dsl"])
    today = date.today().isoformat()
    elm.submit(f"/staff/shares/{row.id}", {f"share{row.id}-done_on": today,
                                           f"share{row.id}-what": "Spoke to Sam at Elm"},
               action=f"/staff/shares/{row.id}/actions")
    case_page = f"/staff/cases/{world['report']}"
    browser.submit(case_page, {f"share{row.id}-done_on": today,
                               f"share{row.id}-what": "Bus seats changed at Oakfield"},
                   action=f"{case_page}/shares/{row.id}/actions")
    report = session.get(Report, world["report"])
    due = [retention.Retention(report_id=report.id, school_id=school.id,
                               retention_class="test", keep_until=date.today(), held=False)]
    retention.purge(session, due, tmp_path)
    session.commit()
    session.expire_all()
    kept = the_share(session)
    assert (kept.report_id, kept.ended_at is not None) == (None, True)
    assert [a.what for a in session.scalars(select(SharedAction))] == ["Spoke to Sam at Elm"]
    page = elm.get(f"/staff/shares/{row.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Spoke to Sam at Elm" in text
    assert "retention period" in text
    assert WORDS not in text
    assert "Bus seats changed" not in text
    ended = session.scalars(select(Event).where(Event.action == "share.ended",
                                                Event.school_id == world["elm"].id)).all()
    assert len(ended) == 1
    sent = browser.get("/staff/shares").get_data(as_text=True)
    assert "deleted at the end of its retention period" in sent


def test_names_of_anyone_who_may_be_the_reporter_are_never_shared(
        app, browser, world, session, school, make_report, dsl):
    """Trial finding 1: in a report "about me" the child it happened to is the reporter;
    the people option named them."""
    stored, _ = make_report(school, about="me", anonymous="yes")
    toby = Pupil(school_id=school.id, upn="T123456789012", first_name="Toby",
                 last_name="Nelson", year_group="Year 4")
    session.add(toby)
    session.flush()
    session.add(ReportPupil(report_id=stored.id, pupil_id=toby.id, role=LinkRole.TARGET,
                            linked_by_id=dsl.id))
    session.commit()
    page = f"/staff/cases/{stored.id}"
    assert browser.submit(page, {"share_school": str(world["elm"].id), "share_note": "Bus",
                                 "share_extras": ["people"]},
                          action=f"{page}/shares").status_code == 302
    row = session.scalars(select(CaseShare).where(CaseShare.report_id == stored.id)).one()
    text = as_user(app, world["elm_dsl"]).get(f"/staff/shares/{row.id}").get_data(as_text=True)
    assert "Toby" not in text
    assert "Nelson" not in text
    assert "may be who reported it" in text
    assert "Target" in text
    # and in the world's named report, the one doing it is named, the target unnamed
    assert sharing.may_be_the_reporter(session.get(Report, world["report"])) == \
        frozenset({LinkRole.TARGET})


def test_the_other_schools_dsl_team_is_emailed_without_any_of_the_case(
        app, browser, world, session):
    """Trial finding 6: the partner school was never told."""
    elm_deputy = world["elm_dsl"]
    share(browser, world)
    session.expire_all()
    mails = [m for m in session.scalars(select(OutboxMessage))
             if m.kind == "case_shared"]
    assert {m.to_address for m in mails} == {elm_deputy.email}
    assert "Oakfield Primary has shared a case with you" in mails[0].subject
    assert f"/staff/shares/{the_share(session).id}" in mails[0].body
    assert WORDS not in mails[0].body
    assert "Jack" not in mails[0].body


def test_after_the_end_the_other_school_no_longer_reads_the_reason_and_typed_words_stay(
        app, browser, world, session):
    """Trial findings 7 and 2: the owner's note stayed visible after the end, and an
    action typed into an ended share was lost."""
    share(browser, world, note="Please talk to Tom about the bus")
    row = the_share(session)
    elm = as_user(app, world["elm_dsl"])
    before = elm.get(f"/staff/shares/{row.id}").get_data(as_text=True)
    case_page = f"/staff/cases/{world['report']}"
    browser.submit(case_page, {f"share{row.id}-end_reason": "Resolved"},
                   action=f"{case_page}/shares/{row.id}/end")
    late = elm.client.post(f"/staff/shares/{row.id}/actions", data={
        "csrf_token": token_of(before), f"share{row.id}-done_on": date.today().isoformat(),
        f"share{row.id}-what": "Met Tom and his mum on Tuesday"})
    assert late.status_code == 400
    text = late.get_data(as_text=True)
    assert "Met Tom and his mum on Tuesday" in text
    assert "data-unsaved" in text
    assert "Please talk to Tom" not in elm.get(f"/staff/shares/{row.id}").get_data(
        as_text=True)


def test_a_school_that_leaves_the_trust_reads_nothing_more(app, browser, world, session):
    """Trial finding 5."""
    share(browser, world)
    row = the_share(session)
    elm = as_user(app, world["elm_dsl"])
    page = elm.get(f"/staff/shares/{row.id}").get_data(as_text=True)
    world["elm"].trust_id = None
    session.commit()
    after = elm.get(f"/staff/shares/{row.id}").get_data(as_text=True)
    assert WORDS not in after
    assert "no longer in one trust" in after
    refused = elm.client.post(f"/staff/shares/{row.id}/actions", data={
        "csrf_token": token_of(page), f"share{row.id}-done_on": date.today().isoformat(),
        f"share{row.id}-what": "Spoke to Sam"})
    assert refused.status_code == 400
    assert list(session.scalars(select(SharedAction))) == []
    mine = browser.get(f"/staff/cases/{world['report']}").get_data(as_text=True)
    assert "is no longer in your trust" in mine


def test_an_action_dated_before_the_report_was_made_is_refused(app, browser, world, session):
    """Trial finding 9."""
    share(browser, world)
    row = the_share(session)
    elm = as_user(app, world["elm_dsl"])
    response = elm.submit(f"/staff/shares/{row.id}", {
        f"share{row.id}-done_on": (date.today() - timedelta(days=800)).isoformat(),
        f"share{row.id}-what": "Spoke to Sam"}, action=f"/staff/shares/{row.id}/actions")
    assert response.status_code == 400
    assert "before the report was made" in response.get_data(as_text=True)


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
