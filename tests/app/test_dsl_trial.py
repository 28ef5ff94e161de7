"""What the DSL stumbled on in the trial (issue 12): the case page and the queue."""

from __future__ import annotations

import re

from portal.models import Report


def radios(html: str, name: str) -> dict[str, bool]:
    """Each radio button called ``name``: value -> checked."""
    found = {}
    for tag in re.findall(r"<input[^>]*>", html):
        if f'name="{name}"' in tag and 'type="radio"' in tag:
            value = re.search(r'value="([^"]*)"', tag).group(1)
            found[value] = " checked" in tag
    return found


def test_retention_card_preselects_nothing_and_says_whether_a_hold_is_on(
        browser, school, make_user, make_report, session):
    report, _ = make_report(school)
    browser.login(make_user(school=school).email)
    page = f"/staff/cases/{report.id}"
    html = browser.get(page).get_data(as_text=True)
    assert radios(html, "hold") == {"yes": False, "no": False}
    assert "No legal hold now." in html and "A legal hold is on now." not in html
    assert browser.submit(page, {"hold": "yes", "hold_reason": "Police investigation"},
                          action=f"{page}/hold").status_code == 302
    session.expire_all()
    assert session.get(Report, report.id).legal_hold
    html = browser.get(page).get_data(as_text=True)
    assert radios(html, "hold") == {"yes": False, "no": False}
    assert "A legal hold is on now." in html and "No legal hold now." not in html
