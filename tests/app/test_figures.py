"""The figures pages (issue 15): who sees which school's figures, the period, the
small-number rule in HTML and CSV alike, spreadsheet-safe CSV, a fixed number of queries,
and never a report's words or a child's name."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from portal import linking, retention
from portal.figures import FEWER, WITHHELD, parse_period, safe_cell
from portal.figures.model import recent_terms, term_of
from portal.models import Event, LinkRole, Pupil, Report, Role, School, SenStatus, Trust
from tests.app.test_queries import counting
from tests.conftest import Browser
from tests.pdf_text import pdf_text

SECRET_WORDS = "Zebrafinch-kept-calling-me-names"
NOW = datetime.now(UTC)
# The head and the trust lead see a term's breakdown once it has ended (rule 5).
LAST_TERM = recent_terms(NOW.date())[0]
LAST_TERM_ARGS = f"from={LAST_TERM.start}&to={LAST_TERM.end}"


def into_last_term(session, school):
    """Every report of ``school`` as if sent on the tenth day of the term before this."""
    for report in session.scalars(select(Report).where(Report.school_id == school.id)):
        report.created_at = datetime.combine(LAST_TERM.start + timedelta(days=9),
                                             datetime.min.time(), UTC) + timedelta(hours=10)
    session.commit()


def table_cells(html: str, table: str) -> dict[str, tuple[str, str]]:
    """A figures table's rows: key -> (this period, same period last year) as shown."""
    block = html.split(f'data-figures="{table}"', 1)[1].split("</table>", 1)[0]
    cells = {}
    for key, row in re.findall(r'<tr data-row="([^"]+)">(.*?)</tr>', block, re.S):
        now = re.search(r'data-cell="now"[^>]*>([^<]*)<', row).group(1)
        last = re.search(r'data-cell="last"[^>]*>([^<]*)<', row).group(1)
        cells[key] = (now, last)
    return cells


def signed_in(browser, make_user, role, school=None, trust_id=None):
    user = make_user(role, school, trust_id=trust_id)
    browser.login(user.email)
    return user


def pupil(session, school, upn, year, sen=SenStatus.NONE):
    p = Pupil(school_id=school.id, upn=upn, first_name="Robin", last_name=f"Child{upn}",
              year_group=year, sen_status=sen, on_roll=True)
    session.add(p)
    session.commit()
    return p


@pytest.fixture
def one_send_child(session, school, make_report, make_user):
    """A school with one SEND pupil, in Year 3, named in one report, and twelve other
    reports naming Year 5 children without SEND, and six nobody has linked a child to yet."""
    dsl = make_user(Role.DSL, school)
    send_child = pupil(session, school, "S1", "Year 3", SenStatus.SEN_SUPPORT)
    others = [pupil(session, school, f"P{i}", "Year 5") for i in range(12)]
    report, _ = make_report(school, what_happened=SECRET_WORDS)
    linking.link(session, report, send_child, LinkRole.TARGET, actor=dsl, school=school)
    for child in others:
        other, _ = make_report(school)
        linking.link(session, other, child, LinkRole.TARGET, actor=dsl, school=school)
    for _ in range(6):
        make_report(school)  # nobody linked yet
    session.commit()
    return send_child


def test_the_dsl_sees_this_terms_figures_beside_last_year_and_no_report_text(
        app, browser, session, school, make_report, make_user):
    make_report(school, what_happened=SECRET_WORDS, kinds=["verbal"], places=["corridor"])
    make_report(school, source="parent")
    for _ in range(4):
        make_report(school, places=["playground"])
    for _ in range(5):
        old, _ = make_report(school, places=["playground"])
        old.created_at = NOW - timedelta(days=365)
    session.commit()
    signed_in(browser, make_user, Role.DSL, school)
    page = browser.get("/staff/figures")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    term = parse_period(None, None, NOW.date())
    assert term.label in html
    assert table_cells(html, "source")["parent"] == ("1", "0")
    assert table_cells(html, "source")["pupil_anonymous"] == ("5", "5")
    assert table_cells(html, "place")["corridor"] == ("1", "0")
    assert 'data-total="6"' in html
    assert SECRET_WORDS not in html
    assert "/staff/cases/" not in html  # no link to any case
    assert "<svg" in html
    assert 'role="img"' in html  # a chart beside each table


def test_one_send_pupil_in_year_3_reads_fewer_than_5_everywhere(
        app, browser, session, school, make_user, one_send_child):
    """The small-number rule (docs/figures.md): the Year 3 row and the SEND row read "fewer
    than 5"; the SEND table's other counts are withheld so subtraction from the total (19)
    cannot give it back; shares of hidden counts are blank; the CSV says the same."""
    signed_in(browser, make_user, Role.DSL, school)
    html = browser.get("/staff/figures").get_data(as_text=True)
    years = table_cells(html, "year")
    assert years["Year 3"][0] == FEWER
    assert years["Year 5"][0] == "12"
    send = table_cells(html, "send")
    assert send["yes"][0] == FEWER
    # the other SEND counts (12 with pupils none of whom has SEND, 6 with nobody linked)
    # are withheld: with either one shown, 19 less it would bound the hidden one
    assert send["no"][0] == WITHHELD
    assert send["unlinked"][0] == WITHHELD
    assert 'data-total="19"' in html
    repeats = table_cells(html, "repeats")
    assert repeats["target"][0] == "0"
    body = html.split('data-figures="send"', 1)[1].split("</table>", 1)[0]
    # 1/19 and 6/19 are not given away
    assert "5%" not in body
    assert "32%" not in body
    rows = list(csv.DictReader(io.StringIO(browser.get("/staff/figures.csv").get_data(
        as_text=True))))
    year3 = [r for r in rows if r["figure"] == "Year 3" and r["period"] == "this period"]
    assert [r["value"] for r in year3] == [FEWER]
    send_rows = {r["figure"]: r for r in rows if r["table"].startswith("Children with special")
                 and r["period"] == "this period"}
    assert send_rows["A pupil with SEND involved"]["value"] == FEWER
    assert send_rows["A pupil with SEND involved"]["share"] == ""
    assert send_rows["No pupil linked to the report"]["value"] == WITHHELD
    assert send_rows["Pupils linked, none with SEND"]["value"] == WITHHELD
    assert not any(r["value"] in ("1", "6", "12") for r in send_rows.values())
    assert "Robin" not in html
    assert "Child" + "S1" not in html


def test_a_dsl_gets_their_own_school_whatever_the_parameters(
        app, browser, session, school, make_school, make_report, make_user):
    other = make_school("elm", "Elm Academy")
    for _ in range(7):
        make_report(other)
    make_report(school)
    signed_in(browser, make_user, Role.DSL, school)
    for url in ("/staff/figures?school=elm", "/staff/figures.csv?school=elm"):
        page = browser.get(url)
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert "Elm Academy" not in text
    assert 'data-total="1"' in browser.get("/staff/figures?school=elm").get_data(as_text=True)


def test_staff_and_admin_are_refused_the_figures(app, browser, school, make_user):
    for role in (Role.STAFF, Role.ADMIN):
        user = make_user(role, school)
        browser.login(user.email)
        for url in ("/staff/figures", "/staff/figures.csv", "/staff/figures.pdf"):
            assert browser.get(url).status_code == 403, (role, url)
        browser.client.post("/staff/logout")
        browser.client.delete_cookie("tellus")


def trust_over(session, name, *schools):
    trust = Trust(name=name)
    session.add(trust)
    session.flush()
    for each in schools:
        each.trust_id = trust.id
    session.commit()
    return trust


@pytest.fixture
def trust_of_two(session, school, make_school, make_report):
    elm = make_school("elm", "Elm Academy")
    far = make_school("far", "Far Away School")  # another trust's school
    trust = trust_over(session, "Northern Learning Trust", school, elm)
    trust_over(session, "Another Trust", far)
    for _ in range(6):
        make_report(school)
    for _ in range(9):
        make_report(elm, source="parent")
    make_report(far)
    for i in range(200):
        session.add(Pupil(school_id=school.id, upn=f"R{i}", first_name="A", last_name="B",
                          year_group="Year 4", on_roll=True))
    session.commit()
    for each in (school, elm, far):
        into_last_term(session, each)
    return trust


def test_a_trust_lead_sees_each_school_side_by_side_and_the_trusts_totals(
        app, browser, session, school, make_user, trust_of_two):
    signed_in(browser, make_user, Role.TRUST_LEAD, trust_id=trust_of_two.id)
    html = browser.get(f"/staff/figures?{LAST_TERM_ARGS}").get_data(as_text=True)
    block = html.split('data-figures="schools"', 1)[1].split("</table>", 1)[0]
    assert re.search(r'data-school="oakfield">.*?<td>6</td>', block, re.S)
    assert re.search(r'data-school="elm">.*?<td>9</td>', block, re.S)
    assert "Far Away School" not in html
    # 6 reports for 200 pupils on roll: 3.0 per 100; Elm has no roster in the portal
    assert re.search(r'data-school="oakfield">.*?<td>3\.0</td>', block, re.S)
    assert 'data-total="15"' in html  # the trust's totals
    assert table_cells(html, "source")["parent"][0] == "9"
    one = browser.get(f"/staff/figures?school=elm&{LAST_TERM_ARGS}").get_data(as_text=True)
    assert 'data-total="9"' in one
    assert "Elm Academy" in one
    assert browser.get("/staff/figures?school=far").status_code == 404
    assert browser.get("/staff/figures.csv?school=far").status_code == 404
    assert browser.get("/staff/figures?school=nowhere").status_code == 404
    # the old trust page leads here
    assert browser.get("/staff/trust").headers["Location"].endswith("/staff/figures")


def test_a_trust_total_is_withheld_when_a_schools_count_in_it_is_hidden(
        app, browser, session, school, make_user, trust_of_two, make_report):
    """Oakfield has one Year 3 child with an EHC plan in a report, Elm five Year 3 children
    in five reports: the trust's Year 3 total (6) would give Oakfield's away (6 - 5)."""
    dsl = make_user(Role.DSL, school)
    child = pupil(session, school, "S9", "Year 3", SenStatus.EHC_PLAN)
    report = session.scalars(select(Report).where(Report.school_id == school.id)).first()
    linking.link(session, report, child, LinkRole.TARGET, actor=dsl, school=school)
    elm = session.scalars(select(School).where(School.slug == "elm")).one()
    elm_dsl = make_user(Role.DSL, elm)
    for i, elm_report in enumerate(session.scalars(select(Report).where(
            Report.school_id == elm.id)).all()[:5]):
        linking.link(session, elm_report, pupil(session, elm, f"E{i}", "Year 3"),
                     LinkRole.TARGET, actor=elm_dsl, school=elm)
    session.commit()
    signed_in(browser, make_user, Role.TRUST_LEAD, trust_id=trust_of_two.id)
    html = browser.get(f"/staff/figures?{LAST_TERM_ARGS}").get_data(as_text=True)
    assert table_cells(html, "year")["Year 3"][0] == WITHHELD
    assert table_cells(html, "send")["yes"][0] == FEWER
    elm_only = browser.get(f"/staff/figures?school=elm&{LAST_TERM_ARGS}").get_data(
        as_text=True)
    assert table_cells(elm_only, "year")["Year 3"][0] == "5"


def test_a_period_the_figures_cannot_show_gets_a_plain_message_and_keeps_the_dates(
        app, browser, school, make_user):
    signed_in(browser, make_user, Role.DSL, school)
    for query, words in (("from=2026-13-01&to=2026-12-01", "year-month-day"),
                         ("from=2026-12-01&to=2026-09-01", "start on or before"),
                         ("from=2024-09-01&to=2026-08-31", "at most one year"),
                         ("from=<script>&to=x", "year-month-day"),
                         ("from=20261001&to=2026-10-31", "year-month-day"),
                         ("from=2026-W40-1&to=2026-10-31", "year-month-day"),
                         ("from=2026-09-01&from=2026-10-01", "one date"),
                         ("from=2029-12-01&to=2030-01-01", "up to a year from today"),
                         # trial finding 8: one date alone was read with the term's other
                         # end, and "to=2025-01-01" said the period started after it ended
                         ("to=2025-01-01", "Give both dates"),
                         ("from=2025-01-01", "Give both dates")):
        page = browser.get(f"/staff/figures?{query}")
        html = page.get_data(as_text=True)
        assert page.status_code == 400, query
        assert words in html
        assert "<script>" not in html
        assert browser.get(f"/staff/figures.csv?{query}").status_code == 400
    kept = browser.get("/staff/figures?from=2026-12-01&to=2026-09-01").get_data(as_text=True)
    assert 'value="2026-12-01"' in kept
    assert 'value="2026-09-01"' in kept
    # the second trial: a date no date field can show is kept as text, to be corrected,
    # and both fields are described by the message
    typed = browser.get("/staff/figures?from=2026-13-01&to=2026-11-30").get_data(as_text=True)
    assert re.search(r'id="p-from" name="from" type="text"[^>]*value="2026-13-01"', typed)
    assert re.search(r'id="p-to" name="to" type="date"[^>]*value="2026-11-30"', typed)
    assert typed.count('aria-describedby="period-problem"') == 2
    # a school's DSL gets their school whatever ``school`` says, twice or not
    assert browser.get("/staff/figures?school=a&school=b").status_code == 200


def test_a_trust_lead_who_asks_for_two_schools_is_asked_to_choose_one(
        app, browser, session, school, make_user, trust_of_two):
    signed_in(browser, make_user, Role.TRUST_LEAD, trust_id=trust_of_two.id)
    for query in (f"school={school.slug}&school=elm", f"school=nowhere&school={school.slug}"):
        page = browser.get(f"/staff/figures?{query}&{LAST_TERM_ARGS}")
        assert page.status_code == 400, query
        assert "Choose one school" in page.get_data(as_text=True)


def test_a_chosen_period_is_compared_with_the_same_dates_a_year_before(
        app, browser, session, school, make_report, make_user):
    for day in range(1, 6):
        report, _ = make_report(school)
        report.created_at = datetime(2025, 10, 10 + day, 10, tzinfo=UTC)
    session.commit()
    signed_in(browser, make_user, Role.DSL, school)
    html = browser.get("/staff/figures?from=2026-10-01&to=2026-10-31").get_data(as_text=True)
    assert "1 October 2025 to 31 October 2025" in html
    assert table_cells(html, "source")["pupil_anonymous"] == ("0", "5")


def test_looking_at_the_figures_is_in_the_audit_trail_and_a_refused_period_is_not(
        app, browser, session, school, make_report, make_user):
    """Trial finding 10: the CSV and the PDF were audited, the page was not, so a run of
    periods a few days apart looked at one after the other left no trace."""
    make_report(school)
    user = signed_in(browser, make_user, Role.DSL, school)
    assert browser.get("/staff/figures?from=2026-10-01&to=2026-10-31").status_code == 200
    assert browser.get("/staff/figures?from=2026-10-31&to=2026-10-01").status_code == 400
    events = session.scalars(select(Event).where(Event.action == "figures.viewed")).all()
    assert [(e.actor_id, e.school_id, e.payload) for e in events] == [
        (user.id, school.id, {"from": "2026-10-01", "to": "2026-10-31",
                              "school": school.slug})]


def test_the_csv_is_one_row_per_figure_and_safe_in_a_spreadsheet(
        app, browser, session, school, make_report, make_user):
    school.name = "=HYPERLINK(\"http://evil.example\",\"click\")"
    session.commit()
    make_report(school)
    user = signed_in(browser, make_user, Role.DSL, school)
    reply = browser.get("/staff/figures.csv?from=2026-09-01&to=2026-12-31")
    assert reply.mimetype == "text/csv"
    assert "attachment" in reply.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(reply.get_data(as_text=True))))
    assert rows[0] == ["school", "table", "figure", "period", "from", "to", "value", "share"]
    assert all(row[0].startswith("'=") for row in rows[1:])
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    assert ["2026-09-01", "2026-12-31"] in [r[4:6] for r in rows]
    assert safe_cell("-1+2") == "'-1+2"
    assert safe_cell(" =1+1") == "' =1+1"  # trial finding 9: spaces before the formula
    # the second trial: a no-break, ideographic or zero-width space, a byte-order mark
    for blank in ("\u00a0", "\u3000", "\u200b", "\ufeff", "\u00a0\u200b "):
        assert safe_cell(f"{blank}=1+1") == f"'{blank}=1+1"
    assert safe_cell("\u00a0Year 5") == "\u00a0Year 5"
    assert safe_cell("12") == "12"
    # the download is in the audit trail: who, which format, which period
    event = session.scalars(select(Event).where(Event.action == "figures.exported")).one()
    assert event.actor_id == user.id
    assert event.payload == {"format": "csv", "from": "2026-09-01", "to": "2026-12-31",
                             "school": school.slug}


def test_the_figures_page_sends_the_same_queries_for_a_month_and_a_year(
        app, browser, session, school, make_report, make_user):
    for days in (1, 40, 200, 400):
        report, _ = make_report(school)
        report.created_at = NOW - timedelta(days=days)
    session.commit()
    signed_in(browser, make_user, Role.DSL, school)
    counts = []
    for query in ("from=2026-11-01&to=2026-11-30", "from=2025-12-03&to=2026-12-02", ""):
        assert browser.get(f"/staff/figures?{query}").status_code == 200
        with counting(app) as statements:
            assert browser.get(f"/staff/figures?{query}").status_code == 200
        counts.append(len(statements))
    assert len(set(counts)) == 1, counts


def test_the_governors_pdf_says_what_the_page_and_the_csv_say(
        app, browser, session, school, make_user, one_send_child):
    """The PDF opens (pypdf reads it), its figures are the page's and the CSV's, the small
    numbers read "fewer than 5" in it too, and it names who exported it."""
    user = signed_in(browser, make_user, Role.DSL, school)
    reply = browser.get("/staff/figures.pdf")
    assert reply.status_code == 200
    assert reply.mimetype == "application/pdf"
    assert "attachment" in reply.headers["Content-Disposition"]
    text = " ".join(pdf_text(reply.data).split())
    html = browser.get("/staff/figures").get_data(as_text=True)
    assert f"Confidential — exported by {user.name}" in text
    assert "Page 1 of" in text
    assert parse_period(None, None, NOW.date()).label in text
    assert "Year 3 fewer than 5" in text
    assert "Year 5 12" in text
    assert table_cells(html, "year")["Year 5"][0] == "12"
    assert "A pupil with SEND involved fewer than 5" in text
    assert "No pupil linked to the report not shown" in text
    assert "Pupils linked, none with SEND not shown" in text
    assert SECRET_WORDS not in text
    assert "Robin" not in text
    event = session.scalars(select(Event).where(Event.action == "figures.exported")).one()
    assert event.payload["format"] == "pdf"


def test_one_account_cannot_keep_the_workers_busy_making_pdfs(
        app, browser, school, make_user, monkeypatch):
    import portal.pdf

    # What is counted is the asking; the drawing is left out to keep the test short.
    monkeypatch.setattr(portal.pdf, "render_pdf", lambda html, **_kw: b"%PDF-1.7 test")
    signed_in(browser, make_user, Role.DSL, school)
    codes = [browser.get("/staff/figures.pdf?from=2026-12-01&to=2026-12-01").status_code
             for _ in range(21)]
    assert codes[:20] == [200] * 20
    assert codes[20] == 429
    assert browser.get("/staff/figures").status_code == 200  # the page itself still opens


def test_a_period_of_fewer_than_5_reports_shows_only_its_total(
        app, browser, session, school, make_report, make_user):
    """Trial finding B1: a one-day period with one report gave every hidden count exactly
    (each "fewer than 5" was 1) and that report's place, hour and kind. Rule 0: with 1 to
    4 reports in a period, only the total is shown."""
    report, _ = make_report(school, kinds=["verbal"], places=["toilets"], feels_safe="no")
    report.created_at = datetime(2026, 10, 1, 9, 30, tzinfo=UTC)
    session.commit()
    signed_in(browser, make_user, Role.DSL, school)
    html = browser.get("/staff/figures?from=2026-10-01&to=2026-10-01").get_data(as_text=True)
    assert 'data-total="1"' in html
    for table in ("source", "kind", "place", "hour", "weekday", "unsafe", "outcome"):
        assert {now for now, _ in table_cells(html, table).values()} == {WITHHELD}, table
    rows = list(csv.DictReader(io.StringIO(browser.get(
        "/staff/figures.csv?from=2026-10-01&to=2026-10-01").get_data(as_text=True))))
    shown = {r["value"] for r in rows if r["period"] == "this period" and r["table"] != "total"}
    assert shown == {WITHHELD}


def test_no_hidden_count_of_a_table_that_adds_up_can_be_worked_out(
        app, browser, session, school, make_report, make_user):
    """Trial findings B2 and B3: "did not feel safe" 4 and "not asked" 4 both hidden, with
    "not sure" and "felt safe" shown, gave 32 - 5 - 19 = 8 = 4 + 4; and "not asked" is the
    parents' reports, which "Who told us" shows. Rule 2: when a count of such a table is
    hidden, the whole column is withheld (noughts too)."""
    for feels, n in (("no", 4), ("not_sure", 5), ("yes", 19)):
        for _ in range(n):
            make_report(school, feels_safe=feels)
    for _ in range(4):
        make_report(school, source="parent")
    signed_in(browser, make_user, Role.DSL, school)
    html = browser.get("/staff/figures").get_data(as_text=True)
    assert 'data-total="32"' in html
    assert table_cells(html, "source")["parent"][0] == "4"
    unsafe = table_cells(html, "unsafe")
    assert unsafe["no"][0] == FEWER
    assert unsafe["not_asked"][0] == WITHHELD
    assert unsafe["not_sure"][0] == WITHHELD
    assert unsafe["yes"][0] == WITHHELD
    # the column last year had nothing: noughts are shown only where nothing is hidden
    assert unsafe["yes"][1] == "0"


def test_children_named_in_two_or_more_reports_are_counted_within_each_period(
        app, session, school, make_report, make_user):
    """Six children each the target of two reports this term, one the target of one
    report this term and one last year (counted in neither), one alleged perpetrator of
    three reports; a report naming a child twice over counts once."""
    from portal.figures import school_figures

    dsl = make_user(Role.DSL, school)
    twice = [pupil(session, school, f"T{i}", "Year 4") for i in range(6)]
    split = pupil(session, school, "S1", "Year 4")
    bully = pupil(session, school, "B1", "Year 6")
    reports = []
    for child in twice:
        for _ in range(2):
            report, _ = make_report(school)
            linking.link(session, report, child, LinkRole.TARGET, actor=dsl, school=school)
            reports.append(report)
    for report in reports[:3]:
        linking.link(session, report, bully, LinkRole.ALLEGED_PERPETRATOR, actor=dsl,
                     school=school)
    now, _ = make_report(school)
    old, _ = make_report(school)
    for report in (now, old):
        linking.link(session, report, split, LinkRole.TARGET, actor=dsl, school=school)
    old.created_at = NOW - timedelta(days=365)
    session.commit()
    figures = school_figures(session, school, parse_period(None, None, NOW.date()))
    rows = {r.key: r.raw for r in figures.table("repeats").rows}
    assert rows["target"] == (6, 0)
    assert rows["alleged_perpetrator"] == (1, 0)


def _send_pupils(session, school, count, year="Year 3", sen=SenStatus.NONE, when=None,
                 make_report=None, dsl=None, prefix="D"):
    """``count`` reports, each naming a new child of ``year``, sent at ``when``."""
    for i in range(count):
        report, _ = make_report(school)
        child = pupil(session, school, f"{prefix}{i}", year, sen)
        linking.link(session, report, child, LinkRole.TARGET, actor=dsl, school=school)
        if when is not None:
            report.created_at = when
    session.commit()


@pytest.mark.parametrize("role", [Role.HEAD, Role.TRUST_LEAD])
def test_the_head_and_the_trust_lead_cannot_difference_two_overlapping_periods(
        app, browser, session, school, make_user, make_report, role):
    """Trial finding (stop 24): 1 September to 15 November, less 1 September to 1 November,
    gave exactly the "fewer than 5" counts and one report's whole profile of the days
    between. Rule 5: those who cannot read the reports choose whole terms only."""
    trust = Trust(name="Northern Learning Trust")
    session.add(trust)
    session.flush()
    school.trust_id = trust.id
    session.commit()
    signed_in(browser, make_user, role, school, trust_id=trust.id)
    term = LAST_TERM
    for query in (f"from={term.start}&to={term.start + timedelta(days=40)}",
                  f"from={term.start}&to={term.end - timedelta(days=1)}",
                  f"from={term.start + timedelta(days=1)}&to={term.end}",
                  f"from={term.start}&to={NOW.date() - timedelta(days=1)}"):
        for url in ("/staff/figures", "/staff/figures.csv", "/staff/figures.pdf"):
            reply = browser.get(f"{url}?{query}")
            assert reply.status_code == 400, (url, query)
            assert "whole terms" in reply.get_data(as_text=True)
    page = browser.get(f"/staff/figures?{LAST_TERM_ARGS}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'type="date"' not in html  # no dates to type: the terms are links
    assert f'href="/staff/figures?from={term.start}&amp;to={term.end}"' in html
    assert 'aria-current="page"' in html
    # the DSL team, who read the reports, still choose any dates
    browser.client.post("/staff/logout")
    browser.client.delete_cookie("tellus")
    signed_in(browser, make_user, Role.DSL, school)
    assert browser.get(f"/staff/figures?from={term.start}&to="
                       f"{term.start + timedelta(days=40)}").status_code == 200


def test_a_term_under_way_shows_the_head_its_totals_and_nothing_else(
        app, browser, session, school, make_user, make_report):
    """Rule 5: this term's figures seen one day and the next would tell the head what that
    day's reports were (a Year 3 child with SEND today): a term still under way shows them
    its totals only, in the page, the CSV and the PDF; the term once ended shows it all."""
    dsl = make_user(Role.DSL, school)
    _send_pupils(session, school, 6, make_report=make_report, dsl=dsl, prefix="N")
    _send_pupils(session, school, 1, sen=SenStatus.SEN_SUPPORT, make_report=make_report,
                 dsl=dsl, prefix="S")
    ended = datetime.combine(LAST_TERM.start + timedelta(days=3), datetime.min.time(), UTC)
    _send_pupils(session, school, 7, year="Year 6", when=ended + timedelta(hours=11),
                 make_report=make_report, dsl=dsl, prefix="L")
    signed_in(browser, make_user, Role.HEAD, school)
    html = browser.get("/staff/figures").get_data(as_text=True)
    assert 'data-total="7"' in html
    assert "data-figures-held" in html
    assert 'data-figures="year"' not in html
    assert 'data-figures="send"' not in html
    assert "Year 3" not in html
    rows = list(csv.DictReader(io.StringIO(browser.get("/staff/figures.csv").get_data(
        as_text=True))))
    assert {r["value"] for r in rows if r["table"] != "total"} == {WITHHELD}
    assert [r["value"] for r in rows if r["figure"] == "Reports"] == ["7", "0"]
    text = " ".join(pdf_text(browser.get("/staff/figures.pdf").data).split())
    assert "is still under way" in text
    assert "Year 3" not in text
    whole = browser.get(f"/staff/figures?{LAST_TERM_ARGS}").get_data(as_text=True)
    assert "data-figures-held" not in whole
    assert table_cells(whole, "year")["Year 6"] == ("7", "0")
    # the DSL team sees this term's breakdown as it stands
    browser.client.post("/staff/logout")
    browser.client.delete_cookie("tellus")
    browser.login(dsl.email)
    live = browser.get("/staff/figures").get_data(as_text=True)
    assert table_cells(live, "year")["Year 3"][0] == "7"
    assert table_cells(live, "send")["yes"][0] == FEWER


def test_the_default_is_this_term_so_far_beside_the_same_days_last_year(
        app, browser, session, school, make_user, make_report):
    """Trial finding 2: the default compared a term under way with the whole of last year's
    term, which had all its weeks to fill. Now: this term so far, and the same days of
    last year's term (a report after today's date last year is not in the comparison)."""
    today = NOW.date()
    term = term_of(today)
    year_ago = today.replace(year=today.year - 1)
    inside, _ = make_report(school)
    inside.created_at = datetime.combine(year_ago, datetime.min.time(), UTC) + timedelta(hours=12)
    if term.end > today:
        after, _ = make_report(school)
        after.created_at = inside.created_at + timedelta(days=1)
    session.commit()
    signed_in(browser, make_user, Role.DSL, school)
    html = browser.get("/staff/figures").get_data(as_text=True)
    period = parse_period(None, None, today)
    assert period.label == f"{term.label} so far"
    assert (period.start, period.end) == (term.start, today)
    assert f"{term.label.replace(str(today.year), str(year_ago.year))}, to " \
           f"{year_ago.day} {year_ago:%B}" in html
    assert table_cells(html, "source")["pupil_anonymous"][1] == "1" or \
        'data-total="0"' in html  # one report last year: rule 0 may withhold its breakdown
    assert re.search(r"<dd>1</dd>", html.split("figures-summary", 1)[1].split("</dl>")[0])


def test_the_trust_pdf_lists_every_school_and_the_trusts_row(
        app, browser, session, school, make_user, trust_of_two):
    """Trial finding 4: the trust's PDF had no "All schools" row."""
    signed_in(browser, make_user, Role.TRUST_LEAD, trust_id=trust_of_two.id)
    reply = browser.get(f"/staff/figures.pdf?{LAST_TERM_ARGS}")
    assert reply.status_code == 200
    text = " ".join(pdf_text(reply.data).split())
    assert "Oakfield" in text
    assert "Elm Academy" in text
    assert re.search(r"All schools 15 0", text), text[:2000]
    assert "Far Away School" not in text


def test_a_finished_term_stays_as_the_head_and_the_trust_lead_were_first_shown_it(
        app, browser, session, school, make_school, make_report, make_user):
    """The trial's HIGH finding (rule 6): a term long over was counted against today's
    roster, so the day a child joined the SEND register the head's SEND table for that term
    moved by the number of reports naming that child. Now a finished term is fixed the
    first time a head or a trust lead is shown it: the page, the CSV and the trust's view
    (its totals too) stay as they were, the DSL's figures count the change, and what is kept
    is encrypted."""
    elm = make_school("elm-fixed", "Elm Fixed")
    trust = trust_over(session, "Fixed Terms Trust", school, elm)
    dsl = make_user(Role.DSL, school)
    with_send = [pupil(session, school, f"S{i}", "Year 5", SenStatus.SEN_SUPPORT)
                 for i in range(6)]
    without = [pupil(session, school, f"P{i}", "Year 5") for i in range(6)]
    joins = pupil(session, school, "X1", "Year 4")  # named in two reports
    for child in [*with_send, *without, joins, joins]:
        report, _ = make_report(school)
        linking.link(session, report, child, LinkRole.TARGET, actor=dsl, school=school)
    for _ in range(7):
        make_report(elm)
    session.commit()
    for each in (school, elm):
        into_last_term(session, each)
    head_browser, lead_browser, dsl_browser = (app.test_client(), app.test_client(),
                                               app.test_client())
    head, lead, dsl_client = Browser(head_browser), Browser(lead_browser), Browser(dsl_browser)
    head.login(make_user(Role.HEAD, school).email)
    lead.login(make_user(Role.TRUST_LEAD, trust_id=trust.id).email)
    dsl_client.login(dsl.email)

    def shown() -> tuple[dict, dict, list, str]:
        page = head.get(f"/staff/figures?{LAST_TERM_ARGS}").get_data(as_text=True)
        csv_text = head.get(f"/staff/figures.csv?{LAST_TERM_ARGS}").get_data(as_text=True)
        trust_page = lead.get(f"/staff/figures?{LAST_TERM_ARGS}").get_data(as_text=True)
        return (table_cells(page, "send"), table_cells(page, "year"),
                [row for row in csv.reader(io.StringIO(csv_text))], trust_page)

    send_before, years_before, csv_before, trust_before = shown()
    assert send_before["yes"][0] == "6"
    # The child joins the SEND register and moves up a year, as a roster import would.
    joins.sen_status = SenStatus.SEN_SUPPORT
    joins.year_group = "Year 6"  # a year group none of that term's children was in
    without[0].on_roll = False  # and a child leaves (the fourth trial: per 100 pupils moved)
    session.commit()
    live = dsl_client.get(f"/staff/figures?{LAST_TERM_ARGS}").get_data(as_text=True)
    assert table_cells(live, "send")["yes"][0] == "8"  # the DSL's figures count it
    send_after, years_after, csv_after, trust_after = shown()
    assert (send_after, years_after, csv_after) == (send_before, years_before, csv_before)
    # the same page, but for the sign-out form's CSRF token (signed with the second it was made)
    tokenless = re.compile(r'name="csrf_token" value="[^"]*"')
    assert tokenless.sub("", trust_after) == tokenless.sub("", trust_before)
    assert "data-figures-counted" in trust_after
    # What is kept is sealed: the database holds no count in the clear.
    stored = session.execute(text("SELECT \"column\" FROM figure_term_columns")).scalars().all()
    assert len(stored) == 4  # two schools, the term and the same term a year before
    assert not any("send" in value or "Year 5" in value for value in stored)


def test_a_request_across_midnight_cannot_take_this_term_so_far_for_a_finished_term(
        app, browser, session, school, make_report, make_user, monkeypatch):
    """The fourth trial: "today" was read twice, so a request across midnight checked the
    period "this term so far" (ending yesterday) against today, took it for a finished term,
    showed the head its breakdown and kept it as that whole term's figures. Today is read
    once per request now, and only a whole term is ever kept."""
    from portal.figures import views

    for _ in range(6):
        make_report(school)
    head = signed_in(browser, make_user, Role.HEAD, school)
    assert head.role is Role.HEAD
    today = datetime.now(views.LOCAL).date()
    reads = iter([today, today + timedelta(days=1)] * 50)

    class Midnight(datetime):
        @classmethod
        def now(cls, tz=None):
            day = next(reads)
            return datetime.combine(day, datetime.min.time(), views.LOCAL).astimezone(tz)

    monkeypatch.setattr(views, "datetime", Midnight)
    html = browser.get("/staff/figures").get_data(as_text=True)
    assert "data-figures-held" in html
    assert 'data-figures="place"' not in html
    assert session.execute(text("SELECT count(*) FROM figure_term_columns")).scalar() == 0


def test_a_term_under_way_sits_beside_last_years_term_as_it_was_kept(
        app, browser, session, school, make_report, make_user):
    """The fourth trial: a report deleted after the head was shown last year's term still
    showed, as one fewer, in that term's total beside this term (under way). That total is
    now the kept one; the DSL's figures count the deletion."""
    this_term = term_of(NOW.date())
    before = this_term.last_year()
    reports = [make_report(school)[0] for _ in range(7)]
    for report in reports:
        report.created_at = datetime.combine(before.start + timedelta(days=9),
                                             datetime.min.time(), UTC) + timedelta(hours=10)
    session.commit()
    head = app.test_client()
    from tests.conftest import Browser as Client
    Client(head).login(make_user(Role.HEAD, school).email)
    dsl = signed_in(browser, make_user, Role.DSL, school)
    assert dsl.role is Role.DSL
    kept = head.get(f"/staff/figures?from={before.start}&to={before.end}")
    assert 'data-total="7"' in kept.get_data(as_text=True)
    gone = reports[0]
    # deleted the one way the portal deletes a report: its retention rule
    retention.purge(session, [retention.Retention(gone.id, school.id, "test", None, False)],
                    app.config["PORTAL_EVIDENCE_DIR"])
    session.commit()
    live = browser.get(f"/staff/figures?from={before.start}&to={before.end}")
    assert 'data-total="6"' in live.get_data(as_text=True)
    held = head.get(f"/staff/figures?from={this_term.start}&to={this_term.end}").get_data(
        as_text=True)
    assert "data-figures-held" in held
    shown = re.search(rf"<dt>{re.escape(before.label)}</dt><dd>([^<]*)</dd>", held)
    assert shown is not None
    assert shown.group(1) == "7"
