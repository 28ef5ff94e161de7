"""WCAG 2.2 AA on every page, checked by axe-core in Chromium; and the design's "big touch
targets" and "works on a small phone" for the pages reporters use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.browser.conftest import (
    SCHOOL,
    DslAtDesk,
    LiveServer,
    ParentOnPhone,
    Person,
    PupilOnTablet,
)

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
TOUCH = 44  # CSS px: the design's "big touch targets" (WCAG 2.5.5), above 2.5.8's 24
NARROWEST = {"width": 320, "height": 640}  # WCAG 1.4.10 reflow: 320 CSS px wide

axe = Axe()


@pytest.fixture(scope="module")
def seeded(live_server: LiveServer) -> dict[str, Any]:
    """Reports for the staff pages and a code for the follow-up page."""
    urgent_id, urgent_code = live_server.add_report(
        feels_safe="no", what_happened="An older pupil says he will hurt me after school.")
    parent_id, _ = live_server.add_report(source="parent")
    named_id, _ = live_server.add_report(anonymous="no", reporter_name="Jo Bloggs",
                                         reporter_class="5B", kinds=["online"],
                                         places=["online"])
    return {"urgent_id": urgent_id, "urgent_code": urgent_code, "parent_id": parent_id,
            "named_id": named_id}


def _pupil_form(page: Any, seeded: dict[str, Any]) -> None:
    PupilOnTablet(page).open_form()


def _pupil_errors(page: Any, seeded: dict[str, Any]) -> None:
    PupilOnTablet(page).open_form()
    page.get_by_role("button", name="Send to the school").click()
    page.locator("[data-error-summary]").wait_for()


def _pupil_done(page: Any, seeded: dict[str, Any]) -> None:
    # The fullest confirmation: not safe (the "go to an adult" panel), online advice.
    PupilOnTablet(page).report(pictures=("It happened online, on a phone or in games",),
                               words="They post mean things about me in the class chat.",
                               feels_safe="No", adult="Mr Okafor (Learning mentor)")


def _parent_form(page: Any, seeded: dict[str, Any]) -> None:
    page.goto(f"/s/{SCHOOL}/parent")


def _parent_errors(page: Any, seeded: dict[str, Any]) -> None:
    page.goto(f"/s/{SCHOOL}/parent")
    page.get_by_role("button", name="Send to the school").click()
    page.locator("[data-error-summary]").wait_for()


def _parent_done(page: Any, seeded: dict[str, Any]) -> None:
    ParentOnPhone(page).report()


def _follow_up(page: Any, seeded: dict[str, Any]) -> None:
    page.goto("/follow-up")


def _follow_up_unknown(page: Any, seeded: dict[str, Any]) -> None:
    page.goto("/follow-up")
    page.get_by_label("Your follow-up code").fill("0000-0000-0000-0000-0000")
    page.get_by_role("button", name="Show my report").click()
    page.locator(".field-error").wait_for()


def _follow_up_status(page: Any, seeded: dict[str, Any]) -> None:
    Person(page).check_code(seeded["urgent_code"])


def _not_found(page: Any, seeded: dict[str, Any]) -> None:
    response = page.goto("/no-such-page")
    assert response is not None
    assert response.status == 404


REPORTER_PAGES: dict[str, Callable[[Any, dict[str, Any]], None]] = {
    "start": lambda page, seeded: page.goto("/"),
    "pupil form": _pupil_form,
    "pupil form with errors": _pupil_errors,
    "pupil confirmation": _pupil_done,
    "parent form": _parent_form,
    "parent form with errors": _parent_errors,
    "parent confirmation": _parent_done,
    "follow-up": _follow_up,
    "follow-up unknown code": _follow_up_unknown,
    "follow-up status": _follow_up_status,
    "404": _not_found,
}


def _staff_login(page: Any, seeded: dict[str, Any]) -> None:
    page.goto("/staff/login")


def _staff_login_failed(page: Any, seeded: dict[str, Any]) -> None:
    DslAtDesk(page).page.goto("/staff/login")
    page.get_by_label("Email").fill("nobody@oakfield.test")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    page.locator("[data-error-summary]").wait_for()


def _queue(page: Any, seeded: dict[str, Any]) -> None:
    DslAtDesk(page).sign_in()


def _case(page: Any, seeded: dict[str, Any]) -> None:
    dsl = DslAtDesk(page)
    dsl.sign_in()
    dsl.open_case(seeded["urgent_id"])


def _case_parent(page: Any, seeded: dict[str, Any]) -> None:
    dsl = DslAtDesk(page)
    dsl.sign_in()
    dsl.open_case(seeded["parent_id"])


def _school(page: Any, seeded: dict[str, Any]) -> None:
    DslAtDesk(page).sign_in()
    page.get_by_role("link", name="School", exact=True).click()
    page.wait_for_url("**/staff/school")


STAFF_PAGES: dict[str, Callable[[Any, dict[str, Any]], None]] = {
    "staff login": _staff_login,
    "staff login failed": _staff_login_failed,
    "queue": _queue,
    "case (pupil)": _case,
    "case (parent)": _case_parent,
    "school": _school,
}


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
    _pupil_form(page, seeded)
    _settled(page)
    PupilOnTablet(page).choose("Do you want to tell us your name?",
                               "Yes, I will tell you my name")
    # Then every target is at least 44x44 CSS px
    small = page.evaluate(SMALL_TARGETS, TOUCH)
    assert not small, f"{width}px: targets smaller than {TOUCH}x{TOUCH}px:\n" + "\n".join(small)
