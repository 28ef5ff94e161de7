"""Less motion for those who ask for it, and pages that still work zoomed to 200%.

- prefers-reduced-motion (WCAG 2.3.3): with the setting on, nothing that can be pressed
  animates or transitions; with it off, buttons fade gently (so the first check is real).
- 200% zoom (WCAG 1.4.4 and 1.4.10): a 1280 x 900 window zoomed to 200% lays the page out
  in 640 x 450 CSS px at two device pixels each, which is what Chromium is given here. No
  page scrolls sideways, and every field, choice and button is on screen, whole, and not
  covered by anything. Text-only zoom (the browser's "font size" setting at 200%) is
  checked on the pupil form at a desk's width too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.conftest import PupilOnTablet
from tests.browser.pages import REPORTER_PAGES, SIGNED_IN_PAGES, STAFF_PAGES

ZOOMED = {"viewport": {"width": 640, "height": 450}, "device_scale_factor": 2}

# Every transition and animation on things that can be pressed, with its longest duration.
MOTION = """
() => {
  const seconds = (list) => Math.max(...list.split(",").map((t) => parseFloat(t) || 0));
  const moving = [];
  const els = document.querySelectorAll(
    "a[href], button, .button, input, select, textarea, summary, .choice__label, .start-card");
  for (const el of els) {
    const s = getComputedStyle(el);
    const transition = seconds(s.transitionDuration) + seconds(s.transitionDelay);
    const animation = s.animationName !== "none" ? seconds(s.animationDuration) : 0;
    if (transition > 0 || animation > 0) {
      moving.push({what: el.tagName.toLowerCase() + "." + (el.className || ""),
                   transition, animation});
    }
  }
  return moving;
}
"""

# Each visible control (for a radio button or checkbox, its card) and what is wrong with
# it: outside the window's width, cut off by a box around it, or covered by something else.
CONTROLS = """
() => {
  const problems = [];
  const width = document.documentElement.clientWidth;
  const describe = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + ' "' +
    (el.innerText || el.value || el.name || "").replace(/\\s+/g, " ").trim().slice(0, 40) + '"';
  const els = document.querySelectorAll(
    "input:not([type=hidden]), select, textarea, button, a.button, summary");
  for (const el of els) {
    let target = el;
    if (el.type === "radio" || el.type === "checkbox") target = (el.labels && el.labels[0]) || el;
    if (target.closest(".visually-hidden, [hidden]")) continue;
    // Inside a closed <details> nothing is shown (only its summary is).
    const details = el.closest("details:not([open])");
    if (details && !el.closest("summary")) continue;
    const s = getComputedStyle(target);
    const r = target.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || s.visibility === "hidden") continue;
    if (r.left < -0.5 || r.right > width + 0.5) {
      problems.push(describe(target) + " runs off the side: " + r.left.toFixed(0) + " to " +
                    r.right.toFixed(0) + " of " + width);
    }
    for (let box = target.parentElement; box && box !== document.body; box = box.parentElement) {
      const o = getComputedStyle(box);
      if (o.overflowX !== "visible" || o.overflowY !== "visible") {
        const b = box.getBoundingClientRect();
        if (r.left < b.left - 0.5 || r.right > b.right + 0.5) {
          problems.push(describe(target) + " is cut off by " + describe(box));
        }
      }
    }
    target.scrollIntoView({block: "center", inline: "nearest"});
    const c = target.getBoundingClientRect();
    const x = Math.min(Math.max(c.left + c.width / 2, 0), width - 1);
    const y = c.top + Math.min(c.height / 2, 10);
    const hit = document.elementFromPoint(x, y);
    if (hit && hit !== target && !target.contains(hit) && !hit.contains(target) &&
        !(el.labels && Array.from(el.labels).some((l) => l.contains(hit)))) {
      problems.push(describe(target) + " is covered by " + describe(hit));
    }
  }
  window.scrollTo(0, 0);
  return problems;
}
"""


def _settled(page: Any) -> None:
    page.wait_for_load_state("load")


@pytest.mark.parametrize("name", ["start", "pupil form", "pupil confirmation", "parent form",
                                  "follow-up status"])
def test_nothing_moves_for_someone_who_asks_for_less_motion(
        name: str, new_context: Callable[..., Any], seeded: dict[str, Any]) -> None:
    # Given a pupil's tablet without the setting, the buttons fade gently
    calm = new_context(viewport=PupilOnTablet.VIEWPORT).new_page()
    REPORTER_PAGES[name](calm, seeded)
    _settled(calm)
    assert calm.evaluate(MOTION), f"{name}: expected a gentle transition without the setting"

    # When the device asks for reduced motion
    still = new_context(viewport=PupilOnTablet.VIEWPORT, reduced_motion="reduce").new_page()
    REPORTER_PAGES[name](still, seeded)
    _settled(still)
    # Then nothing that can be pressed transitions or animates at all
    moving = still.evaluate(MOTION)
    assert not moving, f"{name}: motion despite prefers-reduced-motion: {moving[:10]}"


def test_nothing_moves_on_staff_pages_for_someone_who_asks_for_less_motion(
        new_context: Callable[..., Any], seeded: dict[str, Any],
        dsl_signed_in: dict[str, Any]) -> None:
    page = new_context(reduced_motion="reduce", storage_state=dsl_signed_in).new_page()
    for name in ("queue (signed in)", "case with evidence, messages and pupils"):
        SIGNED_IN_PAGES[name](page, seeded)
        _settled(page)
        moving = page.evaluate(MOTION)
        assert not moving, f"{name}: motion despite prefers-reduced-motion: {moving[:10]}"


def _assert_fits(page: Any, name: str) -> None:
    _settled(page)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= ZOOMED["viewport"]["width"], (
        f"{name}: the page scrolls sideways at 200% zoom ({width}px for 640)")
    problems = page.evaluate(CONTROLS)
    assert not problems, f"{name} at 200% zoom:\n" + "\n".join(problems)


@pytest.mark.parametrize("name", list(REPORTER_PAGES))
def test_reporter_page_works_zoomed_to_200_percent(
        name: str, new_context: Callable[..., Any], seeded: dict[str, Any]) -> None:
    # Given a 1280 px wide window zoomed to 200%
    page = new_context(**ZOOMED).new_page()
    REPORTER_PAGES[name](page, seeded)
    # Then nothing scrolls sideways and every control is whole and uncovered
    _assert_fits(page, name)


@pytest.mark.parametrize("name", ["staff login", "sign-in code", "enrol an authenticator"])
def test_sign_in_works_zoomed_to_200_percent(
        name: str, new_context: Callable[..., Any], seeded: dict[str, Any]) -> None:
    page = new_context(**ZOOMED).new_page()
    STAFF_PAGES[name](page, seeded)
    _assert_fits(page, name)


@pytest.mark.parametrize("name", ["queue (signed in)", "case (pupil)",
                                  "case with evidence, messages and pupils",
                                  "pupil chronology", "roster", "record a concern", "school"])
def test_staff_page_works_zoomed_to_200_percent(
        name: str, new_context: Callable[..., Any], seeded: dict[str, Any],
        dsl_signed_in: dict[str, Any]) -> None:
    # Given a DSL's 1280 px window zoomed to 200%
    page = new_context(**ZOOMED, storage_state=dsl_signed_in).new_page()
    SIGNED_IN_PAGES[name](page, seeded)
    # Then the page does not scroll sideways (a wide table scrolls inside its own box)
    _assert_fits(page, name)


def test_pupil_form_works_with_text_at_200_percent(
        new_context: Callable[..., Any], seeded: dict[str, Any]) -> None:
    # Given the browser's text size set to 200% on a desk's screen
    page = new_context(viewport={"width": 1280, "height": 900}).new_page()
    REPORTER_PAGES["pupil form"](page, seeded)
    page.evaluate("document.documentElement.style.fontSize = '200%'")
    # Then the text is twice the size and everything still fits
    size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('h1')).fontSize)")
    assert size >= 60, size
    _assert_fits_width(page, 1280)


def _assert_fits_width(page: Any, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"the page scrolls sideways ({scroll}px for {width})"
    problems = page.evaluate(CONTROLS)
    assert not problems, "\n".join(problems)
