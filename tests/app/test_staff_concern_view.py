"""A member of staff who recorded a concern sees what they wrote and that it is being dealt
with, and nothing the DSL added: no staff-only notes, decisions or reasons, linked pupils,
actions, assignments or who has viewed it (design: "staff see only what they wrote")."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.models import Pupil, Report, Role, SenStatus
from portal.vocabulary import Source
from tests.conftest import Browser

WORDS = "Jo says older pupils take her snack every day by the gate"
SECRETS = {
    "note": "NOTE-MARKER mum rang, police already involved",
    "decision": "DECISION-MARKER repeated and targeted, so a bullying incident",
    "status": "STATUS-MARKER started looking into it with Mr Okafor",
    "action": "ACTION-MARKER told Mrs Quill on the phone",
    "who": "Mrs Quill (carer)",
    "hold": "HOLD-MARKER police asked us to keep it",
}


def test_staff_see_their_words_and_a_plain_status_but_nothing_the_dsl_added(
        app, school, make_user, session):
    # Given a teacher who recorded a concern
    teacher = make_user(Role.STAFF, school=school)
    staff = Browser(app.test_client())
    staff.login(teacher.email)
    sent = staff.submit("/staff/concerns/new", {
        "told_by": "Jo Bloggs", "told_by_class": "4B", "what_happened": WORDS,
        "kinds": ["property"], "feels_safe": "no"})
    assert sent.status_code == 302
    concern = session.scalars(select(Report).where(Report.source == Source.STAFF)).one()
    page = f"/staff/cases/{concern.id}"
    pupil = Pupil(school_id=school.id, upn="Z123456789012", first_name="Zebedee",
                  last_name="Quillfeather", year_group="Year 4", form="4B",
                  sen_status=SenStatus.SEN_SUPPORT)
    session.add(pupil)
    session.commit()
    # And a DSL who works on it: views it, notes, moves it on, decides, links a pupil,
    # records an action, takes it on and puts it under a legal hold
    lead = make_user(Role.DSL, school=school)
    lead.display_name = "Ms Dslname Reed"
    session.commit()
    dsl = Browser(app.test_client())
    dsl.login(lead.email)
    assert dsl.get(page).status_code == 200
    for action, data in (
        ("notes", {"note": SECRETS["note"]}),
        ("status", {"status": "in_review", "status_reason": SECRETS["status"]}),
        ("decision", {"category": "bullying_incident", "reason": SECRETS["decision"]}),
        ("actions", {"action_kind": "agency", "agency": "early_help",
                     "happened_on": "2026-11-02", "who": SECRETS["who"],
                     "action_note": SECRETS["action"]}),
        ("assign", {"assignee": str(lead.id)}),
        ("hold", {"hold": "yes", "hold_reason": SECRETS["hold"]}),
    ):
        done = dsl.submit(page, data, action=f"{page}/{action}")
        assert done.status_code == 302, (action, done.get_data(as_text=True)[-2000:])
    linked = dsl.submit(f"{page}?q=Quillfeather",
                        {"pupil_id": str(pupil.id), "role": "alleged_perpetrator"},
                        action=f"{page}/pupils")
    assert linked.status_code == 302
    assert "Zebedee" in dsl.get(page).get_data(as_text=True)  # the DSL sees it all

    # When the teacher opens their concern again
    response = staff.get(page)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    # Then they see their own words and a plain status
    assert WORDS in html
    assert "Jo Bloggs" in html
    # And nothing the DSL added, nor who has looked at it
    leaked = [marker for marker in (
        *SECRETS.values(), "Zebedee", "Quillfeather", "Dslname", lead.email,
        "Bullying Incident", "Alleged", "SEN support", "Who has viewed", "Legal hold",
        "Assigned to", "Chronology", "Recurring", "Urgent", "Why it is ranked",
    ) if marker in html]
    assert leaked == []
    # And no form on the page could change the case
    assert f'action="{page}/' not in html
    status = re.search(r"data-concern-status>([^<]+)<", html)
    assert status, "no plain status on the page"
    assert "look" in status.group(1).lower()

    # And their list of concerns says no more than the concern page does
    listing = staff.get("/staff/").get_data(as_text=True)
    assert f"/staff/cases/{concern.id}" in listing
    leaked = [marker for marker in ("Zebedee", "Quillfeather", "Dslname", "Bullying Incident",
                                    "Alleged", "SEND", "Urgent", "Acknowledged")
              if marker in listing]
    assert leaked == []
