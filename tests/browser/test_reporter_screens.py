"""What reporters stumbled on in the trial (issue 12), in real Chromium: the follow-up code
on a phone, and error messages that go once the answer is fixed."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import ParentOnPhone, PupilOnTablet


@pytest.mark.parametrize("width", [390, 320])  # a common phone, and the smallest still sold
@pytest.mark.parametrize("who", ["pupil", "parent"])
def test_the_code_stays_on_one_line_on_a_phone(new_context: Any, who: str, width: int) -> None:
    page = new_context(**{**ParentOnPhone.DEVICE,
                          "viewport": {"width": width, "height": 844}}).new_page()
    if who == "pupil":
        PupilOnTablet(page).report()
    else:
        ParentOnPhone(page).report()
    code = page.locator("[data-followup-code]")
    box = page.evaluate("""() => {
        const el = document.querySelector("[data-followup-code]");
        const range = document.createRange();
        range.selectNodeContents(el);
        const r = el.getBoundingClientRect();
        const text = range.getBoundingClientRect();
        const frame = el.closest(".code-box").getBoundingClientRect();
        return {lines: range.getClientRects().length, height: r.height, left: r.left,
                right: r.right, scroll: el.scrollWidth, client: el.clientWidth,
                lineHeight: parseFloat(getComputedStyle(el).lineHeight),
                select: getComputedStyle(el).userSelect,
                textRight: text.right, frameRight: frame.right,
                fontSize: parseFloat(getComputedStyle(el).fontSize),
                viewport: document.documentElement.clientWidth,
                pageScroll: document.documentElement.scrollWidth};
    }""")
    assert len(code.inner_text().strip()) == 24
    assert box["lines"] == 1, box
    assert box["height"] < 1.5 * box["lineHeight"], box
    assert box["scroll"] <= box["client"], box  # not clipped inside its box
    assert box["left"] >= 0, box
    assert box["right"] <= box["viewport"], box
    assert box["pageScroll"] <= box["viewport"], box  # the page does not scroll sideways
    assert box["select"] == "all", box
    assert box["textRight"] <= box["frameRight"], box  # the digits stay inside their box
    assert box["fontSize"] >= (16 if width >= 390 else 13), box  # big enough to read


def test_an_error_goes_once_the_child_fixes_that_answer(new_context: Any) -> None:
    page = new_context(viewport=PupilOnTablet.VIEWPORT).new_page()
    child = PupilOnTablet(page)
    child.open_form()
    page.get_by_role("button", name="Send to the school").click()
    summary = page.locator("[data-error-summary]")
    summary.wait_for()
    assert "Please choose who this happened to." in summary.inner_text()
    assert "Please tell us if you feel safe right now." in summary.inner_text()

    child.choose("Who is it happening to?", "It's happening to me")
    about = page.locator(".form-group", has=child.group("Who is it happening to?"))
    assert about.locator(".field-error").count() == 0
    assert "form-group--error" not in (about.get_attribute("class") or "")
    assert "Please choose who this happened to." not in summary.inner_text()
    # The other answers still wrong keep their messages.
    assert "Please tell us if you feel safe right now." in summary.inner_text()
    assert page.get_by_text("Please tell us if you feel safe right now.").count() == 2

    page.get_by_label("Tell us what happened").fill("They took my bag")
    assert page.get_by_text("Please tick what happened or write about it.").count() == 0

    child.choose("Do you feel safe right now?", "Yes")
    child.choose("Do you want to tell us your name?", "No, keep my name secret")
    assert not summary.is_visible()
    assert page.locator(".field-error").count() == 0
    child.send()  # and the fixed form goes through
