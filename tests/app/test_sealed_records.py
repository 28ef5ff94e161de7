"""A stolen database (SECURITY P13), read the way a thief reads it: the raw SQLite file, or
every row of every table on PostgreSQL. A real case is worked through the web pages first:
a roster imported with the CLI, a pupil's report, the DSL finding and linking a child as
alleged perpetrator, deciding, changing the kinds and writing a note. Then none of the
child's details, the link's role, the decision's values or the urgency reasons are there,
while the portal still shows, searches and suggests all of it."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from portal.cli import cli
from portal.models import Event, Pupil, Report, SenStatus
from tests.app.test_encryption import raw_dump
from tests.conftest import PUPIL, Browser

MARKER = "QXZSEALED"
UPN = "Q801234567890"
ROSTER = ("UPN,Legal Surname,Legal Forename,DOB,Year,Reg Group,SEN Status\n"
          f"{UPN},Quartermain,Zebedee,14/03/2015,Year 5,Kestrels,E\n"
          "Q801234567891,Khan,Aisha,02/09/2014,Year 6,Owls,N\n")


def work_a_case(app, browser, school, make_user, session, tmp_path) -> tuple[Report, Pupil]:
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER)
    result = app.test_cli_runner().invoke(cli, ["import-pupils", school.slug, str(roster)])
    assert result.exit_code == 0, result.output
    browser.submit(f"/s/{school.slug}/pupil", {
        **PUPIL, "feels_safe": "no",
        "what_happened": f"Zebedee Quartermain said he would kill me {MARKER}-body",
        "who_involved": "Zebedee from the Kestrels"})
    report = session.scalars(select(Report)).one()
    staff = Browser(app.test_client())
    staff.login(make_user(school=school).email)
    page = f"/staff/cases/{report.id}"
    # The DSL sees the suggestion and finds the child by surname and by UPN.
    html = staff.get(page).get_data(as_text=True)
    assert "Zebedee Quartermain" in html
    zebedee = next(p for p in session.scalars(select(Pupil)) if p.last_name == "Quartermain")
    for query in ("quarterm", UPN):
        found = staff.get(f"{page}?q={query}").get_data(as_text=True)
        assert f'value="{zebedee.id}"' in found, query
    linked = staff.submit(f"{page}?q=Quartermain",
                          {"pupil_id": str(zebedee.id), "role": "alleged_perpetrator"},
                          action=f"{page}/pupils")
    assert linked.status_code == 302
    for form, action in (
            ({"category": "bullying_incident", "reason": f"{MARKER}-decision"}, "decision"),
            ({"kinds": ["verbal", "physical"], "kinds_reason": f"{MARKER}-kinds"}, "kinds"),
            ({"note": f"{MARKER}-note"}, "notes")):
        assert staff.submit(page, form, action=f"{page}/{action}").status_code == 302, action
    # The portal still reads everything it sealed.
    html = staff.get(page).get_data(as_text=True)
    for shown in ("Zebedee Quartermain", "as alleged perpetrator", f"{MARKER}-decision",
                  "Allegation of Bullying → Bullying Incident", "Threat to kill"):
        assert shown in html, shown
    chronology = staff.get(f"/staff/pupils/{zebedee.id}").get_data(as_text=True)
    assert "Zebedee Quartermain" in chronology
    assert "Alleged perpetrator" in chronology
    session.expire_all()
    return session.get(Report, report.id), session.get(Pupil, zebedee.id)


# What the thief must not read: the child (names, UPN, date of birth, form, SEN status),
# what they are said to have done and what the DSL decided and why.
SEALED = [b"Zebedee", b"Quartermain", b"QUARTERMAIN", UPN.encode(), b"2015-03-14",
          b"Kestrels", MARKER.encode(), b"Threat to kill", b"feel safe", b"threat_to_hurt",
          b'"role":"alleged_perpetrator"', b'physical","verbal', b'verbal","physical']


def test_a_stolen_database_reads_no_child_role_decision_or_reason(
        app, browser, school, make_user, session, tmp_path):
    report, zebedee = work_a_case(app, browser, school, make_user, session, tmp_path)
    assert "threat_to_hurt" in report.reason_codes
    assert (zebedee.sen_status, zebedee.form) == (SenStatus.EHC_PLAN, "Kestrels")
    assert session.scalars(select(Event).where(Event.action == "pupil.linked")).one() \
        .payload == {"pupil_id": zebedee.id, "role": "alleged_perpetrator"}
    dump = raw_dump(app)
    assert b"enc1:" in dump
    for needle in SEALED:
        assert needle not in dump, needle


def test_what_a_stolen_database_still_shows_is_codes_and_numbers(
        app, browser, school, make_user, session, tmp_path):
    """docs/security.md lists what stays readable; this holds the list to the truth: the
    pupil row is a number of a school, the link a role code between two numbers."""
    report, zebedee = work_a_case(app, browser, school, make_user, session, tmp_path)
    raw = session.execute(text(
        "SELECT p.upn_hash, p.on_roll, rp.role, r.category, r.status, r.source, r.urgency "
        "FROM pupils p JOIN report_pupils rp ON rp.pupil_id = p.id "
        "JOIN reports r ON r.id = rp.report_id")).one()
    assert raw.role == "alleged_perpetrator"
    assert (raw.category, raw.status, raw.source) == ("bullying_incident", "in_review", "pupil")
    assert len(raw.upn_hash) == 64
    assert UPN not in raw.upn_hash
    for column in ("upn", "first_name", "last_name", "date_of_birth", "year_group", "form",
                   "sen_status"):
        stored = session.execute(text(f"SELECT {column} FROM pupils WHERE id = :id"),
                                 {"id": zebedee.id}).scalar()
        assert stored.startswith("enc1:"), column
    for column in ("urgency_reasons", "preferred_adult"):
        stored = session.execute(text(f"SELECT {column} FROM reports WHERE id = :id"),
                                 {"id": report.id}).scalar()
        assert stored.startswith("enc1:"), column
    payload = session.execute(text(
        "SELECT payload FROM events WHERE action = 'category.changed'")).scalar_one()
    assert payload.startswith("enc1:")


def test_the_upn_stays_unique_in_a_school_without_being_stored(
        app, school, session):
    """With the UPN encrypted (a fresh nonce each time) the blind index keeps the database's
    own guard: the same UPN twice in one school is refused, even past the import's checks."""
    session.add(Pupil(school_id=school.id, upn=UPN, first_name="A", last_name="B"))
    session.commit()
    session.add(Pupil(school_id=school.id, upn=UPN, first_name="C", last_name="D"))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()


def test_rotate_key_re_encrypts_the_roster_and_its_blind_index(
        app, school, make_user, session, tmp_path):
    from portal.admin.operations import DuplicatePupil, save_pupil
    from portal.models import upn_index

    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER)
    runner = app.test_cli_runner()
    assert runner.invoke(cli, ["import-pupils", school.slug, str(roster)]).exit_code == 0
    before = session.scalars(select(Pupil).order_by(Pupil.id)).first().upn_hash
    result = runner.invoke(cli, ["rotate-key"])
    assert result.exit_code == 0, result.output
    session.expire_all()
    zebedee = session.scalars(select(Pupil).order_by(Pupil.id)).first()
    assert zebedee.name == "Zebedee Quartermain"
    assert zebedee.upn_hash != before
    assert zebedee.upn_hash == upn_index(UPN)
    # The UPN is still found under the new key: a second pupil can't take it.
    with pytest.raises(DuplicatePupil, match="Zebedee Quartermain already has the UPN"):
        save_pupil(session, school, actor=make_user(school=school), pupil=None,
                   values={"upn": UPN.lower(), "first_name": "A", "last_name": "B"})
    session.rollback()
    assert runner.invoke(cli, ["import-pupils", school.slug, str(roster)]).output.endswith(
        "0 added, 0 updated, 2 unchanged.\n")
