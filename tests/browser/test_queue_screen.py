"""The queue's first screen on a school laptop (1366×768): at least eight reports, one line
each, each with a hint of what it is about (trial issue 12, item 9)."""

from __future__ import annotations

from typing import Any

from portal.models import LinkRole
from tests.browser.conftest import DslAtDesk, LiveServer

LAPTOP = {"width": 1366, "height": 768}
SECRET = "The words only a DSL may read"


def _fill(live: LiveServer) -> None:
    """A realistic morning: urgent, unsure, parents, named pupils with links, long kinds."""
    aisha = live.add_pupil("Aisha", "Khan-Richardson", "Year 5", "5B")
    ben = live.add_pupil("Benjamin", "Taylor-Woods", "Year 6", "6C")
    for i in range(14):
        fields: dict[str, Any] = {"what_happened": f"{SECRET} ({i})"}
        if i % 5 == 0:
            fields["feels_safe"] = "no"
        elif i % 5 == 1:
            fields["feels_safe"] = "not_sure"
        if i % 3 == 0:
            fields.update(kinds=["verbal", "physical", "online", "property"],
                          places=["playground", "online", "journey", "toilets"])
        if i % 4 == 2:
            report_id, _ = live.add_report(source="parent", concern="school_refusal",
                                           since_when="five weeks", details=f"{SECRET} {i}")
        else:
            report_id, _ = live.add_report(**fields)
        if i % 2 == 0:
            live.link_pupil(report_id, aisha, LinkRole.TARGET)
            live.link_pupil(report_id, ben, LinkRole.ALLEGED_PERPETRATOR)


def test_a_laptop_screen_shows_eight_one_line_reports_with_a_hint(new_context, live_server):
    _fill(live_server)
    page = new_context(viewport=LAPTOP).new_page()
    DslAtDesk(page).sign_in()
    rows = page.locator("table.queue tbody tr")
    assert rows.count() >= 14
    boxes = [rows.nth(i).bounding_box() for i in range(rows.count())]
    visible = [b for b in boxes if b and b["y"] >= 0 and b["y"] + b["height"] <= LAPTOP["height"]]
    assert len(visible) >= 8, [round(b["y"] + b["height"]) for b in boxes[:10]]
    # one line each: every row as tall as the shortest (no cell wraps onto a second line)
    shortest = min(b["height"] for b in boxes)
    assert all(b["height"] <= shortest + 2 for b in boxes), sorted(b["height"] for b in boxes)
    # nothing runs off the side either
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= LAPTOP["width"]
    hints = [rows.nth(i).locator(".queue__hint").inner_text() for i in range(rows.count())]
    assert all(h.strip() and h.strip() != "—" for h in hints), hints
    assert any("Physical" in h and "Playground" in h for h in hints), hints
    assert any("come to school" in h for h in hints), hints
    assert not any(SECRET in h for h in hints)
