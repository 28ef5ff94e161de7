"""Keyboard only: a pupil sends a report and a DSL records a decision without touching a mouse.

Only the keys a keyboard user has are pressed (Tab, Shift+Tab, Space, Enter, the arrow keys
and typing); nothing is clicked and no field is filled by the test. At every Tab stop the
test checks that the focused thing shows a visible focus indicator and that focus moved on
in the order of the page.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from playwright.sync_api import expect

from portal.models import Report
from tests.browser.conftest import DSL_EMAIL, PASSWORD, LiveServer, PupilOnTablet, next_code

# What is focused now, and whether it shows it. A radio button or checkbox is drawn as its
# card (the label), so the card must show the ring too. The indicator is an outline of at
# least 2 px or a ring in the focus colour (a box-shadow alone could be a button's shadow).
FOCUSED = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const ring = (node) => {
    const s = getComputedStyle(node);
    const outline = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2;
    const glow = s.boxShadow.includes("rgb(255, 191, 71)");
    return outline || glow;
  };
  const choice = el.type === "radio" || el.type === "checkbox";
  const card = choice && el.labels && el.labels.length ? el.labels[0] : null;
  const box = (card || el).getBoundingClientRect();
  const all = Array.prototype.indexOf.call(document.querySelectorAll("*"), el);
  return {
    tag: el.tagName.toLowerCase(), id: el.id, name: el.getAttribute("name") || "",
    type: el.getAttribute("type") || "", checked: !!el.checked,
    text: ((card || el).innerText || el.value || el.getAttribute("aria-label") || "")
      .replace(/\\s+/g, " ").trim(),
    ring: ring(el), cardRing: card ? ring(card) : true,
    top: box.top + window.scrollY, inView: box.bottom > 0 && box.top < window.innerHeight,
    order: all, positiveTabindex: document.querySelectorAll("[tabindex]:not([tabindex='-1'])"
      + ":not([tabindex='0'])").length,
  };
}
"""


DATE_PARTS = frozenset({"date", "time", "datetime-local", "month", "week"})


class Keyboard:
    """Presses keys on a page and keeps what each Tab stop looked like."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.stops: list[dict[str, Any]] = []

    def focused(self) -> dict[str, Any]:
        state = self.page.evaluate(FOCUSED)
        assert state is not None, "nothing has focus"
        return state  # type: ignore[no-any-return]

    def press(self, key: str) -> dict[str, Any]:
        self.page.keyboard.press(key)
        return self.focused()

    def tab(self) -> dict[str, Any]:
        """Tab once; the new stop must show focus, be on screen and come later in the page."""
        state = self.press("Tab")
        where = f"{self.page.url} Tab stop {len(self.stops) + 1}: {state['tag']} {state['text']!r}"
        assert state["ring"], f"{where} has no visible focus indicator"
        assert state["cardRing"], f"{where}: its card shows no focus indicator"
        assert state["inView"], f"{where} is focused but not scrolled into view"
        assert state["positiveTabindex"] == 0, f"{where}: a positive tabindex changes the order"
        if self.stops and self.stops[-1]["url"] == self.page.url:
            previous = self.stops[-1]
            # Chromium gives a date field a Tab stop per part (day, month, year, the calendar
            # button): the same element again is its next part, not a step backwards.
            same_date_field = (state["type"] in DATE_PARTS and state["order"] == previous["order"])
            assert same_date_field or state["order"] > previous["order"], (
                f"{where} comes before the previous stop {previous['text']!r}")
        self.stops.append({**state, "url": self.page.url})
        return state

    def tab_to(self, wanted: Callable[[dict[str, Any]], bool], limit: int = 150) -> dict[str, Any]:
        for _ in range(limit):
            state = self.tab()
            if wanted(state):
                return state
        raise AssertionError(f"not reached with {limit} presses of Tab; stops: "
                             + ", ".join(repeat["text"][:30] for repeat in self.stops[-20:]))

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)

    def follow(self, key: str = "Enter") -> None:
        """Press a key that loads a new page (a link, a form's button) and wait for it."""
        with self.page.expect_navigation():
            self.page.keyboard.press(key)
        self.page.wait_for_load_state("load")

    def skip_to_main(self) -> None:
        """The first Tab stop on a fresh page is the skip link; Enter moves focus to main."""
        first = self.tab()
        assert (first["tag"], first["text"]) == ("a", "Skip to main content"), first
        self.page.keyboard.press("Enter")
        assert self.page.evaluate("document.activeElement.id") == "main"
        # The next Tab starts from main, as if the header were not there.
        self.stops.append({**first, "order": self.page.evaluate(
            "Array.prototype.indexOf.call(document.querySelectorAll('*'), "
            "document.getElementById('main'))"), "url": self.page.url})

    def choose_with_arrows(self, label: str, limit: int = 8) -> dict[str, Any]:
        """In a group of radio buttons (focus on one of them), arrow down to ``label``."""
        state = self.focused()
        for _ in range(limit):
            if state["text"] == label:
                assert state["checked"], f"{label!r} is focused but not chosen"
                return state
            state = self.press("ArrowDown")
            assert state["ring"], f"{state['text']!r} shows no focus"
            assert state["cardRing"], f"{state['text']!r}: its card shows no focus"
        raise AssertionError(f"{label!r} not reached with the arrow keys")


def _is(tag: str, **attrs: str) -> Callable[[dict[str, Any]], bool]:
    return lambda s: s["tag"] == tag and all(s.get(k) == v for k, v in attrs.items())


def test_pupil_sends_a_report_with_the_keyboard_alone(
        new_context: Callable[..., Any], live_server: LiveServer) -> None:
    # Given the start page on a tablet with a keyboard
    page = new_context(viewport=PupilOnTablet.VIEWPORT).new_page()
    page.goto("/")
    keys = Keyboard(page)

    # When the pupil presses Tab, the skip link comes first and takes them to the content,
    # where the first stop is "I am a pupil"
    keys.skip_to_main()
    pupil_card = keys.tab()
    assert pupil_card["text"].startswith("I am a pupil"), pupil_card
    keys.follow("Enter")
    expect(page.get_by_role("heading", name="Tell us what happened", level=1)).to_be_visible()

    # On the form: skip link, then one stop per group of choices, Space to tick
    keys.skip_to_main()
    first = keys.tab()
    assert (first["name"], first["text"]) == ("about", "It's happening to me"), first
    keys.press("Space")
    keys.tab_to(lambda s: s["text"] == "Someone called me names or said mean things")
    keys.press("Space")
    keys.tab_to(_is("textarea", name="what_happened"))
    keys.type("They call me names at lunch every day.")
    keys.tab_to(lambda s: s["text"] == "In the lunch hall")
    keys.press("Space")
    # Arrow keys choose within a group of radio buttons
    keys.tab_to(_is("input", name="when"))
    keys.press("Space")
    keys.tab_to(_is("input", name="feels_safe"))
    keys.press("Space")
    keys.choose_with_arrows("No")
    keys.tab_to(_is("input", name="anonymous"))
    keys.press("Space")
    keys.choose_with_arrows("Yes, I will tell you my name")
    # Choosing to give a name shows the name fields, next in the Tab order
    assert keys.tab()["id"] == "reporter_name"
    keys.type("Priya Shah")
    assert keys.tab()["id"] == "reporter_class"
    keys.type("4B")
    # "Any adult at school" is already chosen, so Tab lands on it
    adult = keys.tab_to(_is("input", name="adult"))
    assert (adult["text"], adult["checked"]) == ("Any adult at school", True)
    keys.choose_with_arrows("Mrs Patel (Class 4 teacher)")
    keys.tab_to(lambda s: s["text"] == "Send to the school")
    keys.follow("Enter")

    # Then they reach the confirmation, told to go to an adult now
    expect(page.get_by_role("alert")).to_contain_text("Please go to an adult now")
    expect(page.locator("main")).to_contain_text("You were right to tell us")
    # and the form's stops came top to bottom, as the page reads
    form_stops = [s for s in keys.stops if re.search(r"/pupil(#main)?$", s["url"])]
    tops = [s["top"] for s in form_stops]
    assert tops == sorted(tops), [(s["text"][:30], round(s["top"])) for s in form_stops]
    # and the school has exactly what was chosen
    with live_server.db() as db:
        stored = db.get(Report, live_server.reports()[-1].id)
        assert stored is not None
        assert (stored.body, stored.feels_safe, stored.anonymous, stored.reporter_name,
                stored.reporter_class) == ("They call me names at lunch every day.", "no",
                                           False, "Priya Shah", "4B")
        assert stored.kind_values == ["verbal"]
        assert list(stored.places) == ["lunch_hall"]
        assert stored.preferred_adult == "Mrs Patel"

    # and on the confirmation too, the skip link is the first stop
    keys.skip_to_main()


def test_dsl_signs_in_and_records_a_decision_with_the_keyboard_alone(
        new_context: Callable[..., Any], live_server: LiveServer) -> None:
    # Given a pupil's report waiting, and the DSL at the sign-in page
    report_id, _ = live_server.add_report(what_happened="They took my bag and hid it.",
                                          kinds=["property"])
    page = new_context().new_page()
    page.goto("/staff/login")
    keys = Keyboard(page)

    # When they sign in with the keyboard: email, password, Enter
    keys.skip_to_main()
    assert keys.tab()["id"] == "email"
    keys.type(DSL_EMAIL)
    assert keys.tab()["id"] == "password"
    keys.type(PASSWORD)
    keys.follow("Enter")
    assert page.url.endswith("/staff/login/code")
    # then the authenticator's code, Enter
    keys.skip_to_main()
    assert keys.tab()["id"] == "otp"
    keys.type(next_code(DSL_EMAIL))
    keys.follow("Enter")
    assert re.search(r"/staff/$", page.url), page.url

    # and Tab to the report in the queue and open it
    keys.skip_to_main()
    keys.tab_to(_is("a", text=f"#{report_id}"))
    keys.follow("Enter")
    expect(page.get_by_role("heading", name=f"Report #{report_id}", level=1)).to_be_visible()

    # and in the decision form, arrow to "Bullying Incident", write why, and send it
    keys.skip_to_main()
    current = keys.tab_to(_is("input", name="category"))
    assert current["checked"], "Tab should land on the decision already recorded"
    keys.choose_with_arrows("Bullying Incident")
    keys.tab_to(_is("textarea", name="reason"))
    keys.type("Took and hid a bag twice this week; both classes spoken to.")
    keys.tab_to(lambda s: s["text"] == "Record decision")
    page.keyboard.press("Enter")  # sent in place by case.js: no new page

    # Then the decision is recorded, with the reason in the chronology
    expect(page.locator(".flash")).to_contain_text("Decision recorded")
    # and the keyboard is by the message, in the decision card, not back at the page's top
    expect(page.locator("#decision-card .flash")).to_be_focused()
    chronology = page.locator(".chronology")
    expect(chronology).to_contain_text("Decision: Allegation of Bullying → Bullying Incident")
    expect(chronology).to_contain_text("Took and hid a bag twice this week")
    # and focus was shown at every stop on the way (checked at each Tab)
    assert len(keys.stops) > 10
