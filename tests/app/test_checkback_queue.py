"""The queue after issue 14: "A child who says no is seen first", and "Queue filters by
decision, year group, date range, overdue, and 'a child said it is not better'".

Each filter alone and combined with the old ones (status, kind, source, mine, page), bad
dates, the count, the form keeping its values; a fixed number of queries; and, per new
filter, the database's plan using an index (SQLite here, PostgreSQL with
PORTAL_TEST_DATABASE_URL).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from portal import overdue
from portal.casework import checkback
from portal.models import LinkRole, Pupil, Report, ReportPupil, utcnow
from portal.triage import operations as ops
from portal.vocabulary import Category, Status
from tests.app.test_queries import (
    _full_sorts,
    _plans,
    link,
    queries,
    reports_with_everything,
    roster,  # noqa: F401 - a fixture used below
)


@pytest.fixture
def dsl(browser, school, make_user):
    user = make_user(school=school)
    browser.login(user.email)
    return user


def ids_on(html: str) -> list[int]:
    """The report numbers of the queue's rows, in the order shown."""
    return [int(n) for n in re.findall(r'class="queue__id"><a href="/staff/cases/(\d+)"', html)]


def total(html: str) -> int:
    return int(re.search(r'data-total="(\d+)"', html).group(1))


def say(session, report, dsl, feeling: str) -> None:
    """The reporter of ``report`` answers a check-back due today."""
    row = session.get(Report, report.id)
    check = checkback.schedule(session, row, actor=dsl, due_on=checkback.today())
    checkback.answer(session, row, check, feeling=feeling, base_url="http://x")
    session.commit()


def test_a_child_who_says_no_is_seen_first_with_a_clear_tag(browser, dsl, session, school,
                                                            make_report):
    urgent, _ = make_report(school, feels_safe="no")  # urgent: would be first otherwise
    calm, _ = make_report(school)
    said_no, _ = make_report(school)
    said_better, _ = make_report(school)
    say(session, said_no, dsl, "not_better")
    say(session, said_better, dsl, "better")
    assert session.get(Report, urgent.id).urgency >= 100

    html = browser.get("/staff/").get_data(as_text=True)

    shown = ids_on(html)
    assert shown[0] == said_no.id
    assert shown[1] == urgent.id
    assert set(shown) == {urgent.id, calm.id, said_no.id, said_better.id}
    first_row = html[html.index(f'/staff/cases/{said_no.id}"'):]
    first_row = first_row[:first_row.index("</tr>")]
    assert "data-not-better" in first_row
    assert "Said “not better”" in first_row
    assert html.count("data-not-better") == 1


def test_paging_keeps_the_bands_in_order_across_pages(session, school, make_user, make_report):
    """Three bands (said "not better", urgent, the rest) over three pages give exactly the
    order ``queue_key`` gives the whole queue, each report once."""
    dsl = make_user(school=school)
    made = [make_report(school, feels_safe="no" if i % 5 == 0 else "yes")[0]
            for i in range(60)]
    for report in made[3:60:9]:
        say(session, report, dsl, "not_better")
    seen = []
    for page in (1, 2, 3):
        result = ops.queue(session, dsl, ops.QueueFilters(page=page))
        seen.extend(result.reports)
        flagged = result.not_better
    assert result.total == 60
    assert result.pages == 3
    everything = ops.queue(session, dsl, ops.QueueFilters())
    nb = {r.id for r in made[3:60:9]}
    assert [r.id for r in seen] == [r.id for r in sorted(
        session.scalars(select(Report)).all(), key=lambda r: ops.queue_key(r, frozenset(nb)))]
    assert {r.id for r in seen[:len(nb)]} == nb
    assert everything.not_better <= frozenset(nb)
    assert not flagged  # page 3 holds none of them


def test_decision_filter(browser, dsl, session, school, make_report):
    incident, _ = make_report(school)
    make_report(school)
    session.get(Report, incident.id).category = Category.BULLYING_INCIDENT
    session.commit()
    html = browser.get("/staff/?decision=bullying_incident").get_data(as_text=True)
    assert ids_on(html) == [incident.id]
    assert total(html) == 1
    assert '<option value="bullying_incident" selected>' in html
    # an unknown code is left out, not an error
    assert total(browser.get("/staff/?decision=nonsense").get_data(as_text=True)) == 2


def test_year_group_filter_reads_the_linked_pupils_year(browser, dsl, session, school,
                                                        make_report):
    year5 = Pupil(school_id=school.id, upn="Y5A", first_name="Ada", last_name="Lamb",
                  year_group="Year 5")
    year3 = Pupil(school_id=school.id, upn="Y3A", first_name="Ben", last_name="Hale",
                  year_group="Year 3")
    session.add_all([year5, year3])
    session.commit()
    about5, _ = make_report(school)
    about3, _ = make_report(school)
    unlinked5, _ = make_report(school)
    make_report(school)
    link(session, session.get(Report, about5.id), year5, dsl)
    link(session, session.get(Report, about3.id), year3, dsl, LinkRole.ALLEGED_PERPETRATOR)
    session.add(ReportPupil(report_id=unlinked5.id, pupil_id=year5.id, role=LinkRole.TARGET,
                            linked_by_id=dsl.id, unlinked_at=utcnow()))
    session.commit()

    html = browser.get("/staff/?year=Year+5").get_data(as_text=True)
    assert ids_on(html) == [about5.id]
    assert '<option value="Year 5" selected>' in html
    assert ids_on(browser.get("/staff/?year=Year+3").get_data(as_text=True)) == [about3.id]
    assert total(browser.get("/staff/?year=Year+1").get_data(as_text=True)) == 0


def test_arrival_dates_are_school_days_inclusive(browser, dsl, session, school, make_report):
    at = {
        "june": datetime(2026, 6, 30, 12, tzinfo=UTC),
        # 23:30 UTC on 30 June is 00:30 on 1 July at school (BST): it arrived on 1 July
        "july_at_school": datetime(2026, 6, 30, 23, 30, tzinfo=UTC),
        "july": datetime(2026, 7, 15, 9, tzinfo=UTC),
        "august": datetime(2026, 8, 1, 9, tzinfo=UTC),
    }
    made = {}
    for name, moment in at.items():
        report, _ = make_report(school)
        session.get(Report, report.id).created_at = moment
        made[name] = report.id
    session.commit()

    html = browser.get("/staff/?status=all&from=2026-07-01&to=2026-07-31").get_data(
        as_text=True)
    assert sorted(ids_on(html)) == sorted([made["july_at_school"], made["july"]])
    assert 'value="2026-07-01"' in html
    assert 'value="2026-07-31"' in html
    only_from = browser.get("/staff/?status=all&from=2026-07-15").get_data(as_text=True)
    assert sorted(ids_on(only_from)) == sorted([made["july"], made["august"]])
    one_day = browser.get("/staff/?status=all&from=2026-06-30&to=2026-06-30")
    assert ids_on(one_day.get_data(as_text=True)) == [made["june"]]


@pytest.mark.parametrize(("query", "words"), [
    ("from=2026-13-01", "“From” must be a date like 2026-09-01"),
    ("to=yesterday", "“To” must be a date like 2026-09-01"),
    ("from=20260701", "“From” must be a date"),
    ("from=2026-07-01%00", "“From” must be a date"),
    ("from=" + "9" * 300, "“From” must be a date"),
    ("from=2026-08-01&to=2026-07-01", "“From” is after “To”"),
])
def test_a_bad_date_is_a_clear_message_not_a_500(browser, dsl, school, make_report, query,
                                                 words):
    make_report(school)
    response = browser.get(f"/staff/?status=all&{query}")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert words in html
    assert "error-summary" in html
    assert total(html) == 1  # the rest of the filters still apply; the bad date is left out


def test_overdue_filter_matches_the_overdue_tag(browser, dsl, session, school, make_report):
    old = utcnow() - timedelta(days=10)
    late, _ = make_report(school)
    late_urgent, _ = make_report(school, feels_safe="no")
    acknowledged, _ = make_report(school)
    closed, _ = make_report(school)
    fresh, _ = make_report(school)
    for report in (late, late_urgent, acknowledged, closed):
        session.get(Report, report.id).created_at = old
    session.get(Report, acknowledged.id).acknowledged_at = utcnow()
    session.get(Report, closed.id).status = Status.CLOSED
    session.commit()

    html = browser.get("/staff/?status=all&overdue=1").get_data(as_text=True)
    assert sorted(ids_on(html)) == sorted([late.id, late_urgent.id])
    assert html.count('data-ack="overdue"') == 2  # each row shown carries the tag
    assert 'name="overdue" type="checkbox" value="1" checked' in html
    everything = browser.get("/staff/?status=all").get_data(as_text=True)
    assert everything.count('data-ack="overdue"') == 2
    assert fresh.id in ids_on(everything)


def test_the_overdue_cut_off_agrees_with_is_overdue_for_any_moment():
    """``arrived_before`` (asked in SQL) gives the same answer as ``is_overdue`` for arrival
    times over a year of nows, weekends and clock changes included, and school settings."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    checked = 0
    for hours in range(0, 24 * 400, 7):
        now = start + timedelta(hours=hours, minutes=hours % 60)
        for urgent in (True, False):
            for days in ((0, 2), (1, 3)):
                settings = {"urgent_days": days[0], "normal_days": days[1],
                            "day_ends_hour": 15 + hours % 3}
                cut = overdue.arrived_before(now, urgent=urgent, **settings)
                for back in (0, 1, 5, 26, 49, 73, 97, 170, 260):
                    arrived = now - timedelta(hours=back, minutes=17)
                    assert (arrived < cut) == overdue.is_overdue(
                        arrived, None, urgent=urgent, now=now, **settings), (now, arrived)
                    checked += 1
                for arrived in (cut, cut - timedelta(microseconds=1)):
                    assert (arrived < cut) == overdue.is_overdue(
                        arrived, None, urgent=urgent, now=now, **settings)
    assert checked > 40_000


def test_not_better_filter(browser, dsl, session, school, make_report):
    said_no, _ = make_report(school)
    said_better, _ = make_report(school)
    make_report(school)
    say(session, said_no, dsl, "not_better")
    say(session, said_better, dsl, "better")
    html = browser.get("/staff/?not_better=1").get_data(as_text=True)
    assert ids_on(html) == [said_no.id]
    assert 'name="not_better" type="checkbox" value="1" checked' in html


def test_the_new_filters_combine_with_the_old_ones_and_paging(browser, dsl, session, school,
                                                              make_report):
    pupil = Pupil(school_id=school.id, upn="Y5B", first_name="Cal", last_name="Reed",
                  year_group="Year 5")
    session.add(pupil)
    session.commit()
    wanted = []
    for i in range(30):
        report, _ = make_report(school, kinds=["online"] if i % 2 else ["physical"])
        row = session.get(Report, report.id)
        row.category = Category.BULLYING_INCIDENT if i % 3 else Category.NOT_BULLYING
        row.created_at = datetime(2026, 3, 2, 10, tzinfo=UTC) + timedelta(days=i % 4)
        row.assigned_to_id = dsl.id if i % 5 else None
        link(session, row, pupil, dsl)
        if i % 2 and i % 3 and i % 5:
            wanted.append(row.id)
    session.commit()
    query = ("status=all&kind=online&source=pupil&mine=1&decision=bullying_incident"
             "&year=Year+5&from=2026-03-02&to=2026-03-05")
    page1 = browser.get(f"/staff/?{query}").get_data(as_text=True)
    assert total(page1) == len(wanted)
    shown = ids_on(page1)
    if len(wanted) > ops.PAGE_SIZE:  # pragma: no cover - the numbers above keep one page
        shown += ids_on(browser.get(f"/staff/?{query}&page=2").get_data(as_text=True))
    assert sorted(shown) == sorted(wanted)
    narrower = browser.get(f"/staff/?{query.replace('to=2026-03-05', 'to=2026-03-02')}")
    assert total(narrower.get_data(as_text=True)) == sum(
        1 for i in range(30) if i % 2 and i % 3 and i % 5 and i % 4 == 0)


def test_the_page_links_keep_every_filter(browser, dsl, session, school, make_report):
    for _ in range(ops.PAGE_SIZE + 2):
        make_report(school)
    html = browser.get("/staff/?status=all&decision=allegation&from=2020-01-01&overdue=0"
                       "&not_better=0&year=Year+5").get_data(as_text=True)
    assert total(html) == 0  # nobody in Year 5 is linked
    html = browser.get("/staff/?status=all&decision=allegation&from=2020-01-01"
                       "&to=2099-12-31").get_data(as_text=True)
    nav = html[html.index('class="pagination"'):]
    nxt = re.search(r'href="([^"]+)" rel="next"', nav).group(1).replace("&amp;", "&")
    for part in ("page=2", "status=all", "decision=allegation", "from=2020-01-01",
                 "to=2099-12-31"):
        assert part in nxt
    assert len(ids_on(browser.get(nxt).get_data(as_text=True))) == 2


# --- a fixed number of queries, and the indexes ---------------------------------------------


@pytest.mark.parametrize("url", ["/staff/?decision=allegation&from=2020-01-01&to=2099-01-01",
                                 "/staff/?status=all&overdue=1&not_better=1&page=2",
                                 "/staff/?year=Year+5&kind=online"])
def test_the_queue_with_new_filters_sends_the_same_queries_for_5_or_60_reports(
        app, browser, dsl, school, session, make_report, roster, url):  # noqa: F811
    reports_with_everything(session, school, dsl, make_report, roster, 5)
    few = queries(app, browser, url)
    reports_with_everything(session, school, dsl, make_report, roster, 55)
    many = queries(app, browser, url)
    assert len(many) == len(few), "\n".join(many)
    assert len(many) <= 11, "\n".join(many)


def _DAYS_AGO(days: int) -> str:  # noqa: N802 - reads as a constant in the table below
    return (datetime.now(UTC) - timedelta(days=days)).date().isoformat()


# ``sorts``: whether the page may sort the rows an index range found. A date range and
# "overdue" (reports nobody has acknowledged: few, however many a school keeps) read only
# their matches from an index range and sort those; the others read the queue's order.
@pytest.mark.parametrize(("url", "index", "sorts"), [
    ("/staff/?status=all&decision=bullying_incident", "ix_reports_category", False),
    # the four reports that arrived twenty days ago (below), out of forty
    (f"/staff/?status=all&from={_DAYS_AGO(21)}&to={_DAYS_AGO(19)}", "ix_reports_arrived", True),
    ("/staff/?status=all&overdue=1", "ix_reports_unacknowledged", True),
    ("/staff/?status=all&not_better=1", "ix_check_backs_latest", False),
    ("/staff/?status=all&year=Year+5", "ix_report_pupils_pupil_report", False),
])
def test_each_new_filter_is_answered_from_an_index(
        app, browser, dsl, school, session, make_report, roster, url, index,  # noqa: F811
        sorts):
    made = reports_with_everything(session, school, dsl, make_report, roster, 40)
    for report in made[:32]:
        report.status = Status.CLOSED
    for report in made[32:36]:
        report.category = Category.BULLYING_INCIDENT
        report.created_at = utcnow() - timedelta(days=20)
    session.commit()
    say(session, made[36], dsl, "not_better")

    plans = _plans(app, browser, url)

    if app.extensions["portal.engine"].dialect.name != "sqlite":
        # PostgreSQL's plan for 40 rows is not its plan for a million (it may prefer the
        # default view's covering index): it must read an index, never the whole table.
        assert "Seq Scan on reports" not in plans["count"] + plans["page"], plans
        assert "Index" in plans["count"], plans["count"]
    if app.extensions["portal.engine"].dialect.name == "sqlite":
        assert index in plans["count"], plans["count"]
        if sorts:
            # the bands are read from an index range (this one, or the arrival index, as
            # SQLite's planner sees fit for a tiny table), never a scan of the table
            assert "SEARCH reports USING INDEX ix_reports_" in plans["page"], plans["page"]
            assert "SCAN reports" not in plans["page"], plans["page"]
        else:
            assert not _full_sorts(plans["page"]), plans["page"]
