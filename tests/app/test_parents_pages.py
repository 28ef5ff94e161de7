"""Parents and carers on the case page and the child's page, through the pages with the
real CSRF token read from the page ("Keep them informed at all stages")."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.models import (
    Event,
    LinkRole,
    ParentContact,
    ParentMeeting,
    ParentsTold,
    Pupil,
    Report,
    ReportPupil,
    Role,
)
from tests.conftest import Browser, hidden_fields

SCRIPT = '<script>alert("x")</script>'
TODAY = date.today().isoformat()


@pytest.fixture
def case(session, school, make_report, dsl):
    """A report with Aisha (target, with Mum on the roster) and Jack (alleged perpetrator)."""
    stored, _ = make_report(school)
    aisha = Pupil(school_id=school.id, upn="A1", first_name="Aisha", last_name="Khan",
                  year_group="Year 5", form="5B")
    jack = Pupil(school_id=school.id, upn="J1", first_name="Jack", last_name="Lee",
                 year_group="Year 5", form="5B")
    session.add_all([aisha, jack])
    session.flush()
    target = ReportPupil(report_id=stored.id, pupil_id=aisha.id, role=LinkRole.TARGET,
                         linked_by_id=dsl.id)
    other = ReportPupil(report_id=stored.id, pupil_id=jack.id,
                        role=LinkRole.ALLEGED_PERPETRATOR, linked_by_id=dsl.id)
    mum = ParentContact(pupil_id=aisha.id, position=1, priority=1, name="Sara Khan",
                        relationship="Mum", email="sara@example.org", phone="07700 900123")
    session.add_all([target, other, mum])
    session.commit()
    page = f"/staff/cases/{stored.id}"
    return {"id": stored.id, "page": page, "target": target.id, "other": other.id,
            "mum": mum.id, "aisha": aisha, "jack": jack,
            "told": f"{page}/parties/{target.id}/parents-told",
            "invite": f"{page}/parents/meetings"}


def told(session) -> list[ParentsTold]:
    return list(session.scalars(select(ParentsTold).order_by(ParentsTold.id)))


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def told_mum(case, **extra):
    return {"told_on": TODAY, "contact": str(case["mum"]), "how": "phone", "by_user": "me",
            "what": "Told Mum by phone what happened at lunch.", **extra}


def party_panel(html: str, party_id: int) -> str:
    """The html of one party's panel in "People involved"."""
    start = html.index(f'<li class="party" id="party-{party_id}"')
    following = html.find('<li class="party" id="party-', start + 1)
    return html[start:following if following != -1 else html.index("</section>", start)]


def test_each_childs_parents_are_inside_that_childs_panel_with_a_form_per_child(
        browser, case):
    html = browser.get(case["page"]).get_data(as_text=True)
    aisha = party_panel(html, case["target"])
    jack = party_panel(html, case["other"])
    # Aisha's panel holds her parents: Mum's contact and the form that records for Aisha
    assert f'id="parents-{case["target"]}"' in aisha
    assert "Sara Khan" in aisha
    assert "07700 900123" in aisha
    assert f'action="{case["told"]}"' in aisha
    # and Jack's holds his, with nothing of Aisha's mother
    assert f'id="parents-{case["other"]}"' in jack
    assert f'action="{case["page"]}/parties/{case["other"]}/parents-told"' in jack
    assert "Sara Khan" not in jack
    assert html.index(f'id="party-{case["target"]}"') < html.index(f'id="party-{case["other"]}"')
    # ids are unique on the whole page although each child has the same forms
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


def test_told_mum_by_phone_through_the_page(browser, case, session, dsl):
    response = browser.submit(case["page"], told_mum(case), action=case["told"])
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"#parents-{case['target']}")
    (record,) = told(session)
    assert (record.party_id, record.told, record.how, record.by_user_id) == (
        case["target"], "Sara Khan (Mum)", "phone", dsl.id)
    page = browser.get(case["page"]).get_data(as_text=True)
    assert "Told Mum by phone what happened at lunch." in page
    assert "Parents of Aisha Khan told: Sara Khan (Mum), by phone call" in page  # chronology
    pupil = browser.get(f"/staff/pupils/{case['aisha'].id}").get_data(as_text=True)
    assert "Told Mum by phone what happened at lunch." in pupil
    assert f"/staff/cases/{case['id']}#parents-{case['target']}" in pupil


def test_without_a_csrf_token_nothing_is_recorded(browser, case, session):
    response = browser.client.post(case["told"], data=told_mum(case))
    assert response.status_code == 400
    assert told(session) == []


def test_a_token_from_another_session_comes_back_with_what_was_typed(app, browser, case,
                                                                     session, school,
                                                                     make_user):
    stranger = Browser(app.test_client())
    stranger.login(make_user(school=school).email)
    token = hidden_fields(stranger.get(case["page"]).get_data(as_text=True),
                          case["told"])["csrf_token"]
    response = browser.client.post(case["told"], data={
        **told_mum(case, what="Typed before the page expired"), "csrf_token": token,
        "party_id": str(case["target"])})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Typed before the page expired" in html
    assert f'id="told-{case["target"]}" open' in html
    assert told(session) == []


def test_a_refusal_is_400_with_the_typed_values_in_that_childs_panel(browser, case, session):
    response = browser.submit(case["page"], told_mum(case, how="", told_name="Mr Khan",
                                                     what="Kept words"), action=case["told"])
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    panel = html[html.index(f'id="told-{case["target"]}"'):]
    panel = panel[:panel.index("</details>")]
    assert "Choose how they were told." in panel
    assert "Kept words" in panel
    assert 'value="Mr Khan"' in panel
    assert f'href="#how-p{case["target"]}-0"' in panel
    assert told(session) == []


@pytest.mark.parametrize(("change", "words"), [
    ({"what": "x" * 4001}, "Keep this to 4000 characters."),
    ({"told_on": "yesterday"}, "Enter the date, like 2026-11-23."),
    ({"told_on": (date.today() + timedelta(days=2)).isoformat()}, "can&#39;t be in the future"),
    ({"contact": "", "told_name": ""}, "type their name"),
    ({"by_user": "not-a-number"}, "member of staff of this school"),
    ({"how": "carrier-pigeon"}, "Choose how they were told."),
])
def test_hostile_and_wrong_values_are_refused_in_words(browser, case, session, change, words):
    response = browser.submit(case["page"], told_mum(case, **change), action=case["told"])
    assert response.status_code == 400
    assert words in response.get_data(as_text=True)
    assert told(session) == []


def test_script_in_every_text_field_is_shown_as_text(browser, case, session):
    assert browser.submit(case["page"], told_mum(case, contact="", told_name=SCRIPT,
                                                 by_name=SCRIPT, what=SCRIPT),
                          action=case["told"]).status_code == 302
    assert browser.submit(case["page"], {"party_ids": [str(case["target"])],
                                         "invited_on": TODAY, "invited_how": "letter"},
                          action=case["invite"]).status_code == 302
    meeting = session.scalars(select(ParentMeeting)).one()
    assert browser.submit(case["page"], {
        "outcome": "attended", "meeting_on": TODAY, "attended": SCRIPT, "agreed": SCRIPT,
        "next_steps": SCRIPT}, action=f"{case['invite']}/{meeting.id}").status_code == 302
    for url in (case["page"], f"/staff/pupils/{case['aisha'].id}"):
        html = browser.get(url).get_data(as_text=True)
        assert SCRIPT not in html
        assert "&lt;script&gt;" in html
    refused = browser.submit(case["page"], told_mum(case, how="", told_name=SCRIPT,
                                                    what=SCRIPT), action=case["told"])
    assert refused.status_code == 400
    assert SCRIPT not in refused.get_data(as_text=True)


def test_another_reports_party_and_another_schools_case_answer_404(
        browser, case, session, school, make_report, make_school):
    stored, _ = make_report(school)
    wrong_party = f"/staff/cases/{stored.id}/parties/{case['target']}/parents-told"
    page = browser.get(f"/staff/cases/{stored.id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert browser.client.post(wrong_party, data={**told_mum(case), "csrf_token": token}
                               ).status_code == 404
    elsewhere, _ = make_report(make_school("elm", "Elm Academy"))
    assert browser.client.post(f"/staff/cases/{elsewhere.id}/parties/{case['target']}/"
                               "parents-told", data={**told_mum(case), "csrf_token": token}
                               ).status_code == 404
    # a party of another report among the meeting's children is refused in words
    response = browser.submit(case["page"], {"party_ids": [str(case["target"]), "999999"],
                                             "invited_on": TODAY, "invited_how": "letter"},
                              action=case["invite"])
    assert response.status_code == 400
    assert count(session, ParentsTold) == 0
    assert count(session, ParentMeeting) == 0


def test_a_meeting_for_both_children_invited_then_completed(browser, case, session):
    response = browser.submit(case["page"], {
        "party_ids": [str(case["target"]), str(case["other"])], "invited_on": TODAY,
        "invited_how": "letter", "meeting_on": (date.today() + timedelta(days=3)).isoformat()},
        action=case["invite"])
    assert response.status_code == 302
    meeting = session.scalars(select(ParentMeeting)).one()
    html = browser.get(case["page"]).get_data(as_text=True)
    assert html.count(f'action="{case["invite"]}/{meeting.id}"') == 2  # in both panels
    assert "also for Jack Lee" in html
    refused = browser.submit(case["page"], {"outcome": "attended", "meeting_on": TODAY,
                                            "agreed": "Sit apart"},
                             action=f"{case['invite']}/{meeting.id}")
    assert refused.status_code == 400
    assert "Write who attended." in refused.get_data(as_text=True)
    done = browser.submit(case["page"], {"outcome": "attended", "meeting_on": TODAY,
                                         "attended": "Sara Khan, Mr Lee",
                                         "agreed": "Sit apart at lunch",
                                         "next_steps": "Review in two weeks"},
                          action=f"{case['invite']}/{meeting.id}")
    assert done.status_code == 302
    session.expire_all()
    assert session.get(ParentMeeting, meeting.id).state == "attended"
    actions = [e.action for e in session.scalars(select(Event).where(
        Event.report_id == case["id"]).order_by(Event.id))]
    assert actions.count("meeting.invited") == 2
    assert actions.count("meeting.completed") == 2
    html = browser.get(case["page"]).get_data(as_text=True)
    assert "Sit apart at lunch" in html
    assert "Meeting with the parents of Jack Lee" in html


def test_the_recurring_prompt_appears_and_goes_once_an_invitation_is_recorded(
        browser, case, session):
    """"Inviting parents/carers into school to form part of the discussions around
    reoccurring incidents"."""
    html = browser.get(case["page"]).get_data(as_text=True)
    assert "data-recurring-prompt" not in html
    aisha = session.get(Pupil, case["aisha"].id)
    aisha.recurring = True
    session.commit()
    html = browser.get(case["page"]).get_data(as_text=True)
    assert f'data-recurring-prompt="{case["target"]}"' in html
    assert f'data-recurring-prompt="{case["other"]}"' not in html
    assert "Inviting parents/carers into school to form part of the discussions around " \
           "reoccurring incidents" in html
    link = f'href="{case["page"]}?invite={case["target"]}#invite-{case["target"]}"'
    assert link in html
    # the link opens that child's invitation form, with the child ticked
    prefilled = browser.get(f"{case['page']}?invite={case['target']}").get_data(as_text=True)
    assert f'id="invite-{case["target"]}" open' in prefilled
    assert re.search(rf'name="party_ids" value="{case["target"]}" checked', prefilled)
    assert browser.submit(case["page"], {"party_ids": [str(case["target"])],
                                         "invited_on": TODAY, "invited_how": "phone"},
                          action=case["invite"]).status_code == 302
    assert "data-recurring-prompt" not in browser.get(case["page"]).get_data(as_text=True)


def test_correct_this_opens_the_form_filled_and_keeps_the_first_record(browser, case,
                                                                       session):
    browser.submit(case["page"], told_mum(case), action=case["told"])
    (first,) = told(session)
    page = browser.get(f"{case['page']}?correct={first.id}").get_data(as_text=True)
    assert f'name="corrects" value="{first.id}"' in page
    response = browser.submit(f"{case['page']}?correct={first.id}",
                              told_mum(case, what="Rang Mum, not emailed."),
                              action=case["told"])
    assert response.status_code == 302
    records = told(session)
    assert [r.corrects_id for r in records] == [None, first.id]
    html = browser.get(case["page"]).get_data(as_text=True)
    assert "Corrected below" in html


def test_staff_may_not_record_for_parents(app, case, make_user, school):
    staff = Browser(app.test_client())
    staff.login(make_user(Role.STAFF, school).email)
    assert staff.client.post(case["told"], data=told_mum(case)).status_code in (400, 403)


def test_someone_not_on_the_roster_has_no_parents_panel(browser, school, make_report, dsl,
                                                       session):
    stored, _ = make_report(school)
    unknown = ReportPupil(report_id=stored.id, pupil_id=None, party_kind="unknown",
                          description="an Instagram account", role=LinkRole.ALLEGED_PERPETRATOR,
                          linked_by_id=dsl.id)
    session.add(unknown)
    session.commit()
    html = browser.get(f"/staff/cases/{stored.id}").get_data(as_text=True)
    panel = party_panel(html, unknown.id)
    assert "an Instagram account" in panel
    assert "Parents and carers" not in panel
    assert "/parents-told" not in html  # no child, nothing to record against


def test_the_report_of_a_told_record_is_its_own(session, case, browser):
    browser.submit(case["page"], told_mum(case), action=case["told"])
    (record,) = told(session)
    assert record.report_id == case["id"]
    session.expire_all()  # the page's own session acknowledged it, not this one
    assert session.get(Report, case["id"]).acknowledged_at is not None
