"""The staff pages send a fixed number of SQL queries, however much data they show (no N+1).

Each page is loaded once to settle (the first view of a case writes its view event, the
session's last-seen time may be written), then counted on the second load.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from portal.models import Event, LinkRole, Pupil, Report, ReportPupil, Role, SenStatus
from portal.triage.operations import PAGE_SIZE
from portal.vocabulary import Status


@contextmanager
def counting(app: Any) -> Iterator[list[str]]:
    """Every SQL statement the portal's engine sends while the block runs."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = app.extensions["portal.engine"]
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def queries(app: Any, browser: Any, url: str) -> list[str]:
    """The statements sent for ``url``, loaded a second time."""
    assert browser.get(url).status_code == 200
    with counting(app) as statements:
        response = browser.get(url)
    assert response.status_code == 200, response.status_code
    return statements


@pytest.fixture
def roster(session, school):
    """Factory: ``n`` pupils on the school's roster, every third with SEN support."""
    counter = iter(range(1, 100_000))

    def make(n: int) -> list[Pupil]:
        pupils = [Pupil(school_id=school.id, upn=f"Q{next(counter):05d}", first_name=f"Pupil{i}",
                        last_name="Test", year_group="Year 5", form="5B",
                        sen_status=SenStatus.SEN_SUPPORT if i % 3 == 0 else SenStatus.NONE)
                  for i in range(n)]
        session.add_all(pupils)
        session.commit()
        return pupils

    return make


def link(session, report: Report, pupil: Pupil, dsl, role=LinkRole.TARGET) -> None:
    """Link as the case page does: the link row and its chronology event."""
    session.add(ReportPupil(report_id=report.id, pupil_id=pupil.id, role=role,
                            linked_by_id=dsl.id))
    session.add(Event(school_id=report.school_id, report_id=report.id, actor_id=dsl.id,
                      action="pupil.linked", payload={"pupil_id": pupil.id, "role": role.value}))


def reports_with_everything(session, school, dsl, make_report, roster, n: int) -> list[Report]:
    """``n`` reports, each with kinds, an assignee and two linked pupils (one SEND)."""
    pupils = roster(2)
    made = []
    for i in range(n):
        report, _ = make_report(school, kinds=["verbal", "online"] if i % 2 else ["physical"],
                                feels_safe="no" if i % 4 == 0 else "yes")
        row = session.get(Report, report.id)
        row.assigned_to_id = dsl.id
        for pupil in pupils:
            link(session, row, pupil, dsl)
        made.append(row)
    session.commit()
    return made


@pytest.mark.parametrize("url", ["/staff/", "/staff/?status=all&kind=online",
                                 "/staff/?source=pupil&page=2"])
def test_the_queue_sends_the_same_queries_for_5_or_60_reports(
        app, browser, dsl, school, session, make_report, roster, url):
    reports_with_everything(session, school, dsl, make_report, roster, 5)
    few = queries(app, browser, url)
    reports_with_everything(session, school, dsl, make_report, roster, 55)

    many = queries(app, browser, url)

    assert PAGE_SIZE < 60
    assert len(many) == len(few), "\n".join(many)
    assert len(many) <= 10, "\n".join(many)


def test_the_case_page_sends_the_same_queries_for_1_or_10_linked_pupils(
        app, browser, dsl, school, session, make_report, roster):
    def case_with(n: int) -> list[str]:
        report, _ = make_report(school, who_involved="Pupil1 Test and Pupil2 Test")
        row = session.get(Report, report.id)
        for i, pupil in enumerate(roster(n)):
            link(session, row, pupil, dsl,
                 LinkRole.TARGET if i == 0 else LinkRole.ALLEGED_PERPETRATOR)
            # each pupil is in other reports too, so the recurring check has dates to read
            other, _ = make_report(school)
            link(session, session.get(Report, other.id), pupil, dsl)
        session.commit()
        return queries(app, browser, f"/staff/cases/{report.id}")

    one = case_with(1)
    several = case_with(10)

    assert len(several) == len(one), "\n".join(several)
    # 28 with the case work of issue 14 (parties, parents, check-backs, notices) and the web
    # addresses kept as evidence (issue 16): the rows several parts read (parties, staff,
    # contacts, adults) are loaded once for the page (case_parts.CaseRows; it was 36 when
    # each part loaded its own), and the number never grows with the people or the records.
    # 29 with the case's shares with other schools (issue 16; test below).
    assert len(several) <= 29, "\n".join(several)


def test_the_case_page_sends_the_same_queries_for_1_or_10_parties_with_their_records(
        app, browser, dsl, school, session, make_report, roster):
    """People involved (issue 14): each party's support, sanctions, voice, interviews and
    finding are loaded with selectinload, never one query per party or record."""
    from datetime import date

    from portal.models import PartyInterview, PartySupport, PartyVoice

    def case_with(n: int) -> list[str]:
        report, _ = make_report(school)
        row = session.get(Report, report.id)
        pupils = roster(n)
        for i in range(n):
            party = ReportPupil(report_id=row.id, pupil_id=pupils[i].id if i % 2 else None,
                                party_kind="roster_pupil" if i % 2 else "unknown",
                                description="" if i % 2 else f"account {i}",
                                role=LinkRole.ALLEGED_PERPETRATOR, linked_by_id=dsl.id,
                                finding="not_upheld", finding_by_id=dsl.id)
            session.add(party)
            session.flush()
            session.add(Event(school_id=school.id, report_id=row.id, actor_id=dsl.id,
                              action="party.added", payload={
                                  "party_id": party.id, "kind": party.party_kind,
                                  "role": "alleged_perpetrator"}))
            for code in ("discuss_change", "detention"):
                session.add(PartySupport(report_id=row.id, party_id=party.id,
                                         type="sanction" if code == "detention" else "support",
                                         code=code, given_by="Mrs Patel",
                                         starts_on=date.today(), recorded_by_id=dsl.id))
            session.add(PartyVoice(report_id=row.id, party_id=party.id, said_on=date.today(),
                                   wants="To stop", recorded_by_id=dsl.id))
            session.add(PartyInterview(report_id=row.id, party_id=party.id,
                                       held_on=date.today(), interviewer="Mrs Patel",
                                       present="", account="Said sorry",
                                       recorded_by_id=dsl.id))
        session.commit()
        return queries(app, browser, f"/staff/cases/{report.id}")

    two = case_with(2)
    ten = case_with(10)

    assert len(ten) == len(two), "\n".join(ten)
    assert len(ten) <= 33, "\n".join(ten)  # 32, and the case's shares (issue 16)


def test_the_case_page_sends_the_same_queries_for_1_or_3_shares_with_their_actions(
        app, browser, dsl, school, session, make_report, make_school, make_user):
    """A case worked together with other schools (issue 16): its shares, their actions and
    who recorded them are loaded with selectinload, never one query per share or action."""
    from datetime import date

    from portal.models import CaseShare, SharedAction, Trust

    trust = Trust(name="Northern Trust")
    session.add(trust)
    session.flush()
    school.trust_id = trust.id
    others = []
    for i in range(3):
        other = make_school(f"other{i}", f"Other School {i}")
        other.trust_id = trust.id
        others.append((other, make_user(Role.DSL, other)))
    session.commit()

    def case_with(n: int) -> list[str]:
        report, _ = make_report(school)
        for other, their_dsl in others[:n]:
            row = CaseShare(report_id=report.id, from_school_id=school.id,
                            to_school_id=other.id, note="The bus", shared_by_id=dsl.id)
            session.add(row)
            session.flush()
            for words in ("Spoke to him", "Parents told"):
                session.add(SharedAction(share_id=row.id, school_id=other.id,
                                         done_on=date.today(), what=words,
                                         added_by_id=their_dsl.id))
        session.commit()
        return queries(app, browser, f"/staff/cases/{report.id}")

    one = case_with(1)
    three = case_with(3)
    assert len(three) == len(one), "\n".join(three)


def test_the_pupil_page_sends_the_same_queries_for_2_or_30_reports(
        app, browser, dsl, school, session, make_report, roster):
    def pupil_in(n: int) -> list[str]:
        pupil, friend = roster(2)
        for i in range(n):
            report, _ = make_report(school, kinds=["verbal"] if i % 2 else ["online", "physical"])
            row = session.get(Report, report.id)
            row.assigned_to_id = dsl.id
            link(session, row, pupil, dsl)
            link(session, row, friend, dsl, LinkRole.ALLEGED_PERPETRATOR)
        session.commit()
        return queries(app, browser, f"/staff/pupils/{pupil.id}")

    two = pupil_in(2)
    thirty = pupil_in(30)

    assert len(thirty) == len(two), "\n".join(thirty)
    # 15 with the records of a child who moved school (issue 16: one query, sent or received)
    assert len(thirty) <= 15, "\n".join(thirty)


def _plans(app: Any, browser: Any, url: str) -> dict[str, str]:
    """The database's plan for the queue's count and page queries of ``url``."""
    engine = app.extensions["portal.engine"]
    sent: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        sent.append((statement, parameters))

    assert browser.get(url).status_code == 200
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert browser.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    wanted = {"count": next(s for s in sent if "count(" in s[0] and "FROM reports" in s[0]),
              "page": next(s for s in sent if "UNION ALL" in s[0])}
    plans = {}
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        cursor = raw.cursor()
        if engine.dialect.name == "sqlite":
            prefix = "EXPLAIN QUERY PLAN "
        else:
            # Tiny test tables are cheaper to scan whole; forbid that, so the plan shows
            # which index PostgreSQL *can* use (the partial index matching is what is tested).
            cursor.execute("ANALYZE reports")  # as autovacuum would have by now
            cursor.execute("SET enable_seqscan = off")
            cursor.execute("SET enable_bitmapscan = off")
            prefix = "EXPLAIN "
        for name, (statement, parameters) in wanted.items():
            cursor.execute(prefix + statement, parameters)
            plans[name] = "\n".join(str(row[-1]) for row in cursor.fetchall())
        cursor.close()
        raw.rollback()
    return plans


def _full_sorts(plan: str) -> list[str]:
    """SQLite plan lines that sort every matching row (a temp b-tree for the whole ORDER BY;
    one for the "RIGHT PART" sorts only the ties of the index's order, which is allowed)."""
    return [line for line in plan.splitlines() if "USE TEMP B-TREE FOR ORDER BY" in line]


@pytest.mark.parametrize(("url", "index", "counted_from"), [
    # the default view: its own small index (open cases only), for the count too
    ("/staff/", "ix_reports_open", "ix_reports_open"),
    ("/staff/?status=all", "ix_reports_rank", "ix_reports_"),
    ("/staff/?status=in_review", "ix_reports_", "ix_reports_"),
    # counted from the kinds' own index or the reports' one, as the planner sees fit
    ("/staff/?status=all&kind=online", "ix_reports_", ""),
])
def test_the_queue_reads_a_page_in_index_order_without_sorting_every_report(
        app, browser, dsl, school, session, make_report, roster, url, index, counted_from):
    made = reports_with_everything(session, school, dsl, make_report, roster, 40)
    for report in made[:32]:  # most of a school's reports are closed
        report.status = Status.CLOSED
    session.commit()

    plans = _plans(app, browser, url)

    assert counted_from in plans["count"], plans["count"]
    if app.extensions["portal.engine"].dialect.name == "sqlite":
        # both bands (urgent, then the rest) are read from the index, and neither sorts
        assert plans["page"].count(index) >= 2, plans["page"]
        assert not _full_sorts(plans["page"]), plans["page"]
    elif "kind=" not in url:
        # PostgreSQL's plan for a table of 40 rows is not the one it makes for 100,000
        # (for a kind it may start from the kinds' index and sort a handful of rows);
        # bench/ measures the real thing.
        assert plans["page"].count(index) >= 2, plans["page"]


@pytest.mark.parametrize("url", ["/staff/search?q=names", "/staff/search?q=Calling+LUNCH"])
def test_the_search_page_sends_the_same_queries_for_5_or_60_matches(
        app, browser, dsl, school, session, make_report, roster, url):
    """Issue 14 search: only the page of results shown is loaded and decrypted."""
    reports_with_everything(session, school, dsl, make_report, roster, 5)
    few = queries(app, browser, url)
    reports_with_everything(session, school, dsl, make_report, roster, 55)

    many = queries(app, browser, url)

    assert len(many) == len(few), "\n".join(many)
    assert len(many) <= 12, "\n".join(many)
