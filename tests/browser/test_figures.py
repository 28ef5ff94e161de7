"""The figures in real Chromium (issue 15): a DSL, a head teacher and a trust lead each see
the figures they may see and no more; the period form works with and without JavaScript,
with Back, Forward and Reload; the PDF and the CSV download and say what the page says; the
page fits a phone and prints without its form."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from portal.models import Role, School, Trust, User
from tests.browser.conftest import PASSWORD, LiveServer, next_code
from tests.pdf_text import pdf_text

TABLET = {"width": 768, "height": 1024}
PHONE = {"width": 390, "height": 844}


def cell(page: Any, table: str, row: str, which: str = "now") -> str:
    return page.locator(f'[data-figures="{table}"] tr[data-row="{row}"] '
                        f'[data-cell="{which}"]').inner_text()


def sign_in(page: Any, email: str, lands: str) -> None:
    page.goto("/staff/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Code from your authenticator app").fill(next_code(email))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(lands))


def test_a_dsl_chooses_a_period_goes_back_and_forward_and_downloads_the_pdf_and_csv(
        live_server: LiveServer, new_context: Callable[..., Any], seeded: dict[str, Any],
        dsl_signed_in: dict[str, Any]) -> None:
    page = new_context(viewport=TABLET, storage_state=dsl_signed_in,
                       accept_downloads=True).new_page()
    page.goto("/staff/")
    page.get_by_role("link", name="Figures").click()
    page.wait_for_url(re.compile(r"/staff/figures$"))
    total = page.locator("[data-total]").first.get_attribute("data-total")
    assert total is not None
    assert int(total) > 0
    this_term = page.locator("h1").inner_text()
    # A month that has nothing in it, chosen with the form
    page.get_by_label("From").fill("2026-01-01")
    page.get_by_label("to", exact=True).fill("2026-01-31")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"from=2026-01-01&to=2026-01-31"))
    assert "1 January 2026 to 31 January 2026" in page.locator("main").inner_text()
    assert page.locator("[data-total]").first.get_attribute("data-total") == "0"
    page.reload()
    assert page.locator("[data-total]").first.get_attribute("data-total") == "0"
    page.go_back()
    page.wait_for_url(re.compile(r"/staff/figures$"))
    assert page.locator("[data-total]").first.get_attribute("data-total") == total
    page.go_forward()
    page.wait_for_url(re.compile(r"from=2026-01-01"))
    page.go_back()
    assert page.locator("h1").inner_text() == this_term
    anonymous = cell(page, "source", "pupil_anonymous")
    # The governors' PDF says what the page says
    with page.expect_download() as pdf_download:
        page.get_by_role("link", name="Governors’ report (PDF)").click()
    text = " ".join(pdf_text(Path(pdf_download.value.path()).read_bytes()).split())
    assert f"A pupil, anonymously {anonymous}" in text
    assert "Confidential — exported by Ms Reed" in text
    # And so does the CSV, one row per figure
    with page.expect_download() as csv_download:
        page.get_by_role("link", name="Every figure (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(
        Path(csv_download.value.path()).read_text(encoding="utf-8"))))
    got = [r["value"] for r in rows if r["figure"] == "A pupil, anonymously"
           and r["period"] == "this period"]
    assert got == [anonymous]
    assert "Case" not in page.locator("main").inner_text()


def test_the_figures_work_without_javascript_fit_a_phone_and_print_without_the_form(
        new_context: Callable[..., Any], seeded: dict[str, Any],
        dsl_signed_in: dict[str, Any]) -> None:
    page = new_context(viewport=PHONE, is_mobile=True, storage_state=dsl_signed_in,
                       java_script_enabled=False).new_page()
    page.goto("/staff/figures?from=2026-09-01&to=2026-12-31")
    assert page.locator("svg.chart").count() >= 10
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # Finding 7 of the trial: the charts' words were 9 px on a phone. Drawn at a phone's
    # width, their 12-unit text is at least 11 px there, and no label runs off the drawing.
    drawn = page.evaluate("""() => [...document.querySelectorAll('svg.chart')].map(svg => ({
        px: 12 * svg.getBoundingClientRect().width / svg.viewBox.baseVal.width,
        over: [...svg.querySelectorAll('text')].filter(
            t => t.getBBox().x + t.getBBox().width > svg.viewBox.baseVal.width).length}))""")
    assert min(d["px"] for d in drawn) >= 11, drawn
    assert not [d for d in drawn if d["over"]], drawn
    # A table wider than the phone says it slides sideways (finding 7)
    assert page.locator(".table-scroll__hint").first.is_visible()
    page.get_by_label("From").fill("2026-12-01")
    page.get_by_label("to", exact=True).fill("2026-09-01")
    page.get_by_role("button", name="Show").click()
    summary = page.locator("[data-error-summary]")
    assert "start on or before" in summary.inner_text()
    assert page.get_by_label("From").input_value() == "2026-12-01"
    page.goto("/staff/figures")
    page.emulate_media(media="print")
    assert not page.locator("form.figures-period").is_visible()
    assert not page.locator(".staff-header").is_visible()
    assert not page.locator(".table-scroll__hint").first.is_visible()
    assert page.locator("svg.chart").first.is_visible()


def test_a_head_sees_the_figures_and_nothing_of_the_reports(
        live_server: LiveServer, new_context: Callable[..., Any],
        seeded: dict[str, Any]) -> None:
    live_server.add_staff("oakfield", "head@oakfield.test", role=Role.HEAD, name="Mr Hughes")
    page = new_context(viewport=TABLET).new_page()
    sign_in(page, "head@oakfield.test", r"/staff/figures$")
    assert "Oakfield Primary: figures" in page.locator("h1").inner_text()
    nav = page.get_by_role("navigation", name="Staff").inner_text()
    assert "Figures" in nav
    assert "Queue" not in nav
    assert "Search" not in nav
    page.goto("/staff/")  # the staff home sends a head on to the figures
    assert page.url.endswith("/staff/figures")
    for path in (f"/staff/cases/{seeded['named_id']}", "/staff/pupils",
                 "/staff/roster", "/staff/search?q=lunch"):
        response = page.goto(path)
        assert response is not None
        assert response.status == 403, path
    page.goto("/staff/figures?school=elsewhere")  # a head's own school whatever it says
    assert "Oakfield Primary: figures" in page.locator("h1").inner_text()


def test_a_trust_lead_compares_the_schools_and_opens_one(
        live_server: LiveServer, new_context: Callable[..., Any],
        seeded: dict[str, Any]) -> None:
    live_server.add_school("birch", "Birch Academy")
    live_server.add_report("birch", source="parent")
    live_server.add_school("faraway", "Faraway School")
    with live_server.db() as db:
        trust = Trust(name="Riverside Trust")
        other = Trust(name="Another Trust")
        db.add_all([trust, other])
        db.flush()
        for slug, owner in (("oakfield", trust), ("birch", trust), ("faraway", other)):
            db.scalars(select(School).where(School.slug == slug)).one().trust_id = owner.id
    live_server.add_staff("oakfield", "lead@riverside.test", role=Role.TRUST_LEAD)
    with live_server.db() as db:
        lead = db.scalars(select(User).where(User.email == "lead@riverside.test")).one()
        lead.school_id = None
        lead.trust_id = db.scalars(select(Trust).where(Trust.name == "Riverside Trust")).one().id
    page = new_context(viewport=TABLET).new_page()
    sign_in(page, "lead@riverside.test", r"/staff/figures$")
    schools = page.locator('[data-figures="schools"]').inner_text()
    assert "Birch Academy" in schools
    assert "Oakfield Primary" in schools
    assert "Faraway School" not in page.locator("main").inner_text()
    page.get_by_role("link", name="Birch Academy").click()
    page.wait_for_url(re.compile(r"school=birch"))
    assert "Birch Academy: figures" in page.locator("h1").inner_text()
    assert page.locator("[data-total]").first.get_attribute("data-total") == "1"
    page.go_back()
    assert "Riverside Trust: figures" in page.locator("h1").inner_text()
    response = page.goto("/staff/figures?school=faraway")
    assert response is not None
    assert response.status == 404
