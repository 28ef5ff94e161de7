"""The head's page of notices to the Principal (/staff/notices): the notices the school sent
under the cyber-bullying policy's steps addressed to the Principal/SLT (4.4 "Inform
Principal and Senior Management team", 5.4), newest first, with the case number but never
what was reported, a child's name or (for a head) a link to the case; only the head's own
school; a fixed number of queries; and a head lands here after sign-in and is refused the
case work."""

from __future__ import annotations

import re

import pytest

from portal.casework import notices
from portal.models import Role
from tests.app.test_queries import queries
from tests.conftest import Browser

BASE = "http://127.0.0.1:5000"
# Words a leak would show: the report's text and the reporter's name.
WORDS = "Quillbert posted the Zanzibar photo of Casey in the group chat"
NAME = "Casey Brownlow"


@pytest.fixture
def dsl(make_user, school):
    return make_user(Role.DSL, school, email="dsl@oakfield.test")


@pytest.fixture
def head(make_user, school):
    return make_user(Role.HEAD, school, email="head@oakfield.test")


def online_report(make_report, school):
    """A pupil's report of online bullying, with the cyber-bullying checklist on it."""
    report, _code = make_report(school, kinds=["online"], what_happened=WORDS,
                                anonymous="no", reporter_name=NAME, reporter_class="8R")
    return report


def contact(session, school, actor, role, name):
    made = notices.add_contact(session, school, actor=actor, name=name, role=role,
                               email=f"{role}-{school.slug}@school.test")
    session.commit()
    return made


def send(session, report, actor, step, to):
    notices.send_step_notice(session, report, actor=actor, step=step, to=to, seen={},
                             mark_done=False, base_url=BASE)
    session.commit()


def case_numbers(page: str) -> list[str]:
    """The case number column of the notices table, top to bottom."""
    rows = re.findall(r"<tr><td>.*?</td><td>.*?</td><td>(.*?)</td>", page)
    return [re.sub(r"<[^>]+>", "", cell) for cell in rows]


@pytest.fixture
def world(session, school, make_school, make_report, make_user, dsl):
    """Oakfield: a report with a 4.4 notice to the Principal and a 4.9 notice to the LA
    eSafety officer (not addressed to the Principal); Elm: a report with its own 4.4 notice."""
    report = online_report(make_report, school)
    principal = contact(session, school, dsl, "principal", "Dr Head")
    council = contact(session, school, dsl, "la_esafety", "Ms Council")
    send(session, report, dsl, "cyber-4.4", [principal])
    send(session, report, dsl, "cyber-4.9", [council])
    elm = make_school("elm", "Elm Academy")
    elm_dsl = make_user(Role.DSL, elm, email="dsl@elm.test")
    elm_report = online_report(make_report, elm)
    elm_report_2 = online_report(make_report, elm)  # a number Oakfield's page won't hold
    elm_principal = contact(session, elm, elm_dsl, "principal", "Mr Elm")
    send(session, elm_report, elm_dsl, "cyber-4.4", [elm_principal])
    send(session, elm_report_2, elm_dsl, "cyber-4.4", [elm_principal])
    return {"report": report, "elm_reports": [elm_report, elm_report_2]}


def test_a_head_sees_the_principal_notices_of_their_school_and_no_report_text(
        app, session, world, head):
    browser = Browser(app.test_client())
    browser.login(head.email)
    response = browser.get("/staff/notices")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    report = world["report"]
    assert case_numbers(page) == [str(report.id)]  # 4.9 and Elm's notices are not listed
    assert "4.4: Inform Principal and Senior Management team" in page
    assert "Test dsl" in page  # who sent it
    assert "<td>Principal</td>" in page
    # No report text, no child's name, no link to the case, nothing of another school.
    for word in [*WORDS.split(), *NAME.split(), "Elm", "Ms Council", "eSafety"]:
        if len(word) > 3:
            assert word not in page, word
    assert "/staff/cases/" not in page
    for elm_report in world["elm_reports"]:
        assert f"/{elm_report.id}" not in page
    assert "Notices to the Principal</a>" in page  # in the staff nav


def test_the_dsl_team_sees_the_same_list_with_links_to_the_cases(app, world, dsl):
    browser = Browser(app.test_client())
    browser.login(dsl.email)
    page = browser.get("/staff/notices").get_data(as_text=True)
    report_id = world["report"].id
    assert case_numbers(page) == [str(report_id)]
    assert f'href="/staff/cases/{report_id}"' in page


def test_newest_first_a_page_at_a_time(session, school, make_report, dsl):
    principal = contact(session, school, dsl, "principal", "Dr Head")
    slt = contact(session, school, dsl, "slt", "Mr Deputy")
    reports = [online_report(make_report, school) for _ in range(3)]
    for report in reports:
        send(session, report, dsl, "cyber-4.4", [principal])
    send(session, reports[0], dsl, "cyber-4.4", [slt])
    first = notices.principal_notices(session, school.id, per_page=3)
    assert [(n.report_id, n.to) for n in first.lines] == [
        (reports[0].id, "Senior leadership team"), (reports[2].id, "Principal"),
        (reports[1].id, "Principal")]
    assert first.older
    second = notices.principal_notices(session, school.id, page=2, per_page=3)
    assert [n.report_id for n in second.lines] == [reports[0].id]
    assert not second.older
    assert notices.principal_notices(session, school.id, page=3, per_page=3).lines == []


def test_the_page_links_older_and_newer(app, session, school, make_report, dsl, head,
                                        monkeypatch):
    monkeypatch.setattr(notices, "PRINCIPAL_PAGE", 1)
    principal = contact(session, school, dsl, "principal", "Dr Head")
    for _ in range(2):
        send(session, online_report(make_report, school), dsl, "cyber-4.4", [principal])
    browser = Browser(app.test_client())
    browser.login(head.email)
    first = browser.get("/staff/notices").get_data(as_text=True)
    assert 'href="/staff/notices?page=2" rel="next">Older' in first
    assert "Newer" not in first
    second = browser.get("/staff/notices?page=2").get_data(as_text=True)
    assert 'href="/staff/notices?page=1" rel="prev">Newer' in second
    assert "Older</a>" not in second
    assert browser.get("/staff/notices?page=x").status_code == 200  # a bad page is page 1


def test_the_query_count_does_not_grow_with_the_notices(app, session, school, make_report,
                                                        dsl, head):
    principal = contact(session, school, dsl, "principal", "Dr Head")
    send(session, online_report(make_report, school), dsl, "cyber-4.4", [principal])
    browser = Browser(app.test_client())
    browser.login(head.email)
    one = len(queries(app, browser, "/staff/notices"))
    for _ in range(5):
        send(session, online_report(make_report, school), dsl, "cyber-4.4", [principal])
    assert len(queries(app, browser, "/staff/notices")) == one


def test_a_head_lands_on_the_figures_and_is_refused_the_case_work(app, world, head):
    browser = Browser(app.test_client())
    signed_in = browser.login(head.email)
    assert signed_in.status_code == 302
    assert signed_in.headers["Location"] == "/staff/figures"
    home = browser.get("/staff/")
    assert home.status_code == 302
    assert home.headers["Location"] == "/staff/figures"
    assert browser.get("/staff/notices").status_code == 200
    report_id = world["report"].id
    for url in [f"/staff/cases/{report_id}", "/staff/pupils", "/staff/search",
                "/staff/roster", "/staff/school", "/staff/school/tablets", "/staff/trust",
                "/staff/concerns/new"]:
        assert browser.get(url).status_code == 403, url
