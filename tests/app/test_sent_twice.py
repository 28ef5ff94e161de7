# ruff: noqa: F811 - the fixtures "case" and "dsl" come from test_parents_pages
"""The same case-work form sent twice records once (a trial found a voice recorded three
times and a detention twice by sending one form again): a double tap on a slow tablet,
Back then Save, or a browser resending a form must not put a second sanction in a child's
chronology. The second send says so plainly and adds nothing; a record that differs in
any way is still added."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from portal.models import (
    Event,
    ParentMeeting,
    ParentsTold,
    PartyInterview,
    PartySupport,
    PartyVoice,
)
from tests.app.test_parents_pages import case, told_mum  # noqa: F401 - fixtures
from tests.app.test_parents_pages import count as _count

TODAY = date.today().isoformat()
AGAIN = "That was recorded already"


def count(session, model) -> int:
    session.expire_all()
    return _count(session, model)


def twice(browser, case, path: str, values: dict) -> tuple[int, int, str]:
    first = browser.submit(case["page"], values, action=f"{case['page']}{path}")
    second = browser.submit(case["page"], values, action=f"{case['page']}{path}")
    return first.status_code, second.status_code, second.get_data(as_text=True)


def events(session, action: str) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Event).where(Event.action == action))


def test_a_sanction_sent_twice_is_recorded_once(browser, case, session):
    values = {"support_code": "detention", "given_by": "Mr X", "starts_on": TODAY,
              "review_on": TODAY, "support_note": "After school, Thursday"}
    first, second, html = twice(browser, case, f"/parties/{case['other']}/support", values)
    assert (first, second) == (302, 400)
    assert AGAIN in html
    assert count(session, PartySupport) == 1
    assert events(session, "support.recorded") == 1
    # a different note is a different record
    values["support_note"] = "And a second detention on Friday"
    assert browser.submit(case["page"], values, action=f"{case['page']}/parties/"
                          f"{case['other']}/support").status_code == 302
    assert count(session, PartySupport) == 2


def test_the_childs_voice_and_an_interview_sent_twice_are_recorded_once(browser, case,
                                                                         session):
    voice = {"said_on": TODAY, "wants": "To sit somewhere else at lunch"}
    assert twice(browser, case, f"/parties/{case['target']}/voice", voice)[:2] == (302, 400)
    interview = {"held_on": TODAY, "interviewer": "Mrs Patel", "present": "",
                 "account": "Said it happens every lunchtime"}
    first, second, html = twice(browser, case, f"/parties/{case['target']}/interviews",
                                interview)
    assert (first, second) == (302, 400)
    assert AGAIN in html
    assert count(session, PartyVoice) == 1
    assert count(session, PartyInterview) == 1


def test_parents_told_and_an_invitation_sent_twice_are_recorded_once(browser, case,
                                                                     session):
    first, second, html = twice(browser, case, f"/parties/{case['target']}/parents-told",
                                told_mum(case))
    assert (first, second) == (302, 400)
    assert AGAIN in html
    assert count(session, ParentsTold) == 1
    invite = {"party_ids": [str(case["target"])], "invited_on": TODAY,
              "invited_how": "letter"}
    assert twice(browser, case, "/parents/meetings", invite)[:2] == (302, 400)
    assert count(session, ParentMeeting) == 1
    assert events(session, "meeting.invited") == 1
