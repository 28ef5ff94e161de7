"""WCAG 2.2 AA on every page, checked by axe-core in Chromium; and the design's "big touch
targets" and "works on a small phone" for the pages reporters use."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlalchemy import select

from portal.models import Notice, Role, School, SchoolContact, Trust, User
from tests.browser.conftest import PASSWORD, PupilOnTablet
from tests.browser.pages import REPORTER_PAGES, SIGNED_IN_PAGES, STAFF_PAGES, pupil_form
from tests.conftest import next_code

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
TOUCH = 44  # CSS px: the design's "big touch targets" (WCAG 2.5.5), above 2.5.8's 24
NARROWEST = {"width": 320, "height": 640}  # WCAG 1.4.10 reflow: 320 CSS px wide

axe = Axe()


def _describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v.get('impact')}): {v['help']} <{v.get('helpUrl', '')}>")
        for node in v["nodes"][:10]:
            summary = " ".join((node.get("failureSummary") or "").split())
            lines.append(f"    {node['target']}: {summary[:300]}")
    return "\n".join(lines)


def _settled(page: Any) -> None:
    """Wait for the stylesheet and script: an element can be found before either has loaded,
    and sizes measured then are the unstyled ones."""
    page.wait_for_load_state("load")


def _assert_no_violations(page: Any, name: str) -> None:
    _settled(page)
    results = axe.run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
    violations = results.response["violations"]
    assert not violations, f"axe found problems on the {name} page:\n{_describe(violations)}"
    # axe files misused ARIA it can't be sure about under "incomplete"; ARIA is checked by
    # rule, so anything there is a real mistake too.
    unsure = [v for v in results.response.get("incomplete", []) if v["id"].startswith("aria-")]
    assert not unsure, f"axe found doubtful ARIA on the {name} page:\n{_describe(unsure)}"


@pytest.fixture
def tablet_page(new_context: Callable[..., Any], seeded: dict[str, Any]) -> Any:
    return new_context(viewport=PupilOnTablet.VIEWPORT, has_touch=True).new_page()


@pytest.mark.parametrize("name", list(REPORTER_PAGES))
def test_reporter_page_has_no_axe_violations(name: str, tablet_page: Any,
                                             seeded: dict[str, Any]) -> None:
    # Given a reporter's page, as it looks on the school tablet
    REPORTER_PAGES[name](tablet_page, seeded)
    # Then axe finds nothing against WCAG 2.2 AA or its best practices
    _assert_no_violations(tablet_page, name)


@pytest.mark.parametrize("name", list(STAFF_PAGES))
def test_staff_page_has_no_axe_violations(name: str, new_context: Callable[..., Any],
                                          seeded: dict[str, Any]) -> None:
    # Given a staff page on a desktop
    page = new_context().new_page()
    STAFF_PAGES[name](page, seeded)
    # Then axe finds nothing against WCAG 2.2 AA or its best practices
    _assert_no_violations(page, name)


@pytest.mark.parametrize("name", list(SIGNED_IN_PAGES))
def test_signed_in_staff_page_has_no_axe_violations(
        name: str, new_context: Callable[..., Any], seeded: dict[str, Any],
        dsl_signed_in: dict[str, Any]) -> None:
    # Given a page behind the sign-in, on the DSL's desktop
    page = new_context(storage_state=dsl_signed_in).new_page()
    SIGNED_IN_PAGES[name](page, seeded)
    # Then axe finds nothing against WCAG 2.2 AA or its best practices
    _assert_no_violations(page, name)


# What counts as something to tap: links, buttons, fields, and the label of each radio or
# checkbox (the whole card is the target). A link inside a sentence is exempt (WCAG 2.5.8
# "inline"), as is a link whose size is set by the text around it.
SMALL_TARGETS = """
(min) => {
  const small = [];
  const shown = (el) => {
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== "hidden";
  };
  const inSentence = (a) => {
    const block = a.parentElement && a.parentElement.closest("p, li, dd, td, label");
    if (!block) return false;
    return block.textContent.replace(/\\s+/g, " ").trim().length >
           a.textContent.replace(/\\s+/g, " ").trim().length;
  };
  const describe = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (typeof el.className === "string" && el.className
      ? "." + el.className.split(" ").join(".") : "") +
    ' "' + (el.textContent || el.name || "").replace(/\\s+/g, " ").trim().slice(0, 40) + '"';
  const els = document.querySelectorAll(
    "a[href], button, input:not([type=hidden]), select, textarea, summary");
  for (const el of els) {
    let target = el;
    if (el.type === "radio" || el.type === "checkbox") {
      target = (el.labels && el.labels[0]) || el;
    }
    if (!shown(target)) continue;
    if (el.tagName === "A" && inSentence(el)) continue;
    const r = target.getBoundingClientRect();
    if (r.width + 0.01 < min || r.height + 0.01 < min) {
      small.push(describe(target) + " is " + r.width.toFixed(1) + "x" + r.height.toFixed(1));
    }
  }
  return small;
}
"""


@pytest.mark.parametrize("name", list(REPORTER_PAGES))
def test_reporter_page_fits_a_small_phone_with_big_targets(
        name: str, new_context: Callable[..., Any], seeded: dict[str, Any]) -> None:
    # Given a reporter's page on the narrowest phone screen
    page = new_context(viewport=NARROWEST, is_mobile=True, has_touch=True).new_page()
    REPORTER_PAGES[name](page, seeded)
    _settled(page)
    # Then nothing makes the page scroll sideways
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= NARROWEST["width"], f"{name}: the page is {width}px wide at 320px"
    # and every button, link, field and choice is at least 44x44 CSS px
    small = page.evaluate(SMALL_TARGETS, TOUCH)
    assert not small, f"{name}: targets smaller than {TOUCH}x{TOUCH}px:\n" + "\n".join(small)


@pytest.mark.parametrize("width", [320, 768, 1280])
def test_reporter_targets_stay_big_at_every_width(
        width: int, new_context: Callable[..., Any], seeded: dict[str, Any]) -> None:
    # Given the pupil form (the page with the most to tap) at phone, tablet and desk widths
    page = new_context(viewport={"width": width, "height": 900}).new_page()
    pupil_form(page, seeded)
    _settled(page)
    PupilOnTablet(page).choose("Do you want to tell us your name?",
                               "Yes, I will tell you my name")
    # Then every target is at least 44x44 CSS px
    small = page.evaluate(SMALL_TARGETS, TOUCH)
    assert not small, f"{width}px: targets smaller than {TOUCH}x{TOUCH}px:\n" + "\n".join(small)


@pytest.mark.parametrize("name", list(SIGNED_IN_PAGES))
def test_staff_page_on_a_phone_has_no_axe_violations(
        name: str, new_context: Callable[..., Any], seeded: dict[str, Any],
        dsl_signed_in: dict[str, Any]) -> None:
    # Given a DSL checking the queue on their phone (reports become cards, tables scroll)
    page = new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                       storage_state=dsl_signed_in).new_page()
    SIGNED_IN_PAGES[name](page, seeded)
    # Then axe finds nothing there either, and the page does not scroll sideways
    _assert_no_violations(page, name)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_trust_figures_page_has_no_axe_violations(live_server, new_context: Callable[..., Any],
                                                  seeded: dict[str, Any]) -> None:
    # Given a trust lead for the school's trust, signed in on a desktop
    with live_server.db() as db:
        trust = Trust(name="Northern Learning Trust")
        db.add(trust)
        db.flush()
        db.scalars(select(School).where(School.slug == "oakfield")).one().trust_id = trust.id
    live_server.add_staff("oakfield", "lead@trust.test", role=Role.TRUST_LEAD)
    with live_server.db() as db:
        lead = db.scalars(select(User).where(User.email == "lead@trust.test")).one()
        lead.trust_id = db.scalars(select(Trust)).one().id
    page = new_context().new_page()
    page.goto("/staff/login")
    page.get_by_label("Email").fill("lead@trust.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Code from your authenticator app").fill(next_code("lead@trust.test"))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/staff/figures$"))
    assert "Northern Learning Trust" in page.locator("h1").inner_text()
    assert page.locator('[data-figures="schools"]').is_visible()
    # Then axe finds nothing against WCAG 2.2 AA or its best practices
    _assert_no_violations(page, "trust figures")


def test_notices_to_the_principal_page_has_no_axe_violations(
        live_server, new_context: Callable[..., Any], seeded: dict[str, Any]) -> None:
    # Given a head teacher whose school told its Principal of a case (cyber-bullying 4.4)
    live_server.add_staff("oakfield", "principal@oakfield.test", role=Role.HEAD)
    with live_server.db() as db:
        school = db.scalars(select(School).where(School.slug == "oakfield")).one()
        contact = SchoolContact(school_id=school.id, name="Dr Head", role="principal",
                                email="principal@oakfield.test")
        db.add(contact)
        db.flush()
        db.add(Notice(report_id=seeded["named_id"], kind="contact", step="cyber-4.4",
                      person_id=contact.id, round=1))
    # When they sign in on a desktop
    page = new_context().new_page()
    page.goto("/staff/login")
    page.get_by_label("Email").fill("principal@oakfield.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Code from your authenticator app").fill(
        next_code("principal@oakfield.test"))
    page.get_by_role("button", name="Sign in").click()
    # Then they land on the figures; the notices show the case number without a link,
    # and axe finds nothing against WCAG 2.2 AA
    page.wait_for_url(re.compile(r"/staff/figures$"))
    page.get_by_role("link", name="Notices to the Principal").click()
    page.wait_for_url(re.compile(r"/staff/notices$"))
    assert page.locator("h1").inner_text() == "Notices to the Principal"
    assert page.locator("td", has_text="Inform Principal").count() == 1
    assert page.locator("a[href^='/staff/cases/']").count() == 0
    _assert_no_violations(page, "notices to the principal")
