"""Parent and carer contacts imported with the roster from the MIS export (optional
columns: "Contact 1 Name", "Contact 1 Relationship", "Contact 1 Email", "Contact 1 Phone",
"Contact 1 Priority", and Contact 2, 3), so the school can "ensure parents/carers are kept
informed about the concern and action taken"."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from portal import accounts
from portal.events import Action
from portal.models import Event, ParentContact, Pupil
from portal.roster import import_roster, parse

PLAIN = """UPN,Legal Surname,Legal Forename,DOB,Year,Reg Group,SEN Status
A123456789012,Khan,Aisha,14/03/2015,Year 5,5B,N
B123456789012,O'Neill,Jack,02/11/2014,Year 6,6R,K
"""

WITH_CONTACTS = (
    "UPN,Legal Surname,Legal Forename,Contact 1 Name,Contact 1 Relationship,Contact 1 Email,"
    "Contact 1 Phone,Contact 1 Priority,Contact 2 Forename,Contact 2 Surname,"
    "Contact 2 Relationship,Contact 2 Mobile\n"
    "A123456789012,Khan,Aisha,Sara Khan,Mother,sara@example.org,07700 900123,1,Omar,Khan,"
    "Father,+44 7700 900456\n"
    "B123456789012,O'Neill,Jack,Mary O'Neill,Grandmother,,01632 960001,,,,,\n"
)


def contacts(session) -> dict[str, list[tuple]]:
    """Each pupil's contacts by first name (encrypted: compared after loading)."""
    pupils = {p.id: p.first_name for p in session.scalars(select(Pupil))}
    found: dict[str, list[tuple]] = {}
    for c in session.scalars(select(ParentContact).order_by(ParentContact.position)):
        found.setdefault(pupils[c.pupil_id], []).append(
            (c.position, c.name, c.relationship, c.email, c.phone, c.priority))
    return found


def test_a_roster_without_contact_columns_imports_as_before(session, school):
    result = import_roster(session, school, PLAIN)
    session.commit()
    assert (result.added, result.contacts) == (2, None)
    assert session.scalar(select(func.count()).select_from(ParentContact)) == 0


def test_contact_columns_are_read_as_the_mis_names_them(session, school):
    result = import_roster(session, school, WITH_CONTACTS.encode())
    session.commit()
    assert (result.added, result.contacts) == (2, 3)
    assert contacts(session) == {
        "Aisha": [(1, "Sara Khan", "Mother", "sara@example.org", "07700 900123", 1),
                  (2, "Omar Khan", "Father", "", "+44 7700 900456", None)],
        "Jack": [(1, "Mary O'Neill", "Grandmother", "", "01632 960001", None)]}


def test_parent_and_carer_prefixes_and_underscores_are_understood():
    rows, errors = parse("Adno,Forename,Surname,Parent_1_Full_Name,Carer 2 Name,"
                         "Carer 2 Email Address\n1042,Sam,Lee,Jo Lee,Kim Lee,kim@example.org\n")
    assert errors == []
    first, second = rows[0][1].contacts
    assert (first.position, first.name, first.email) == (1, "Jo Lee", "")
    assert (second.position, second.name, second.email) == (2, "Kim Lee", "kim@example.org")


def test_a_contact_with_details_but_no_name_is_a_row_error():
    _rows, errors = parse("Adno,Forename,Surname,Contact 1 Email\n1042,Sam,Lee,a@b.org\n")
    assert [(e.line, e.message) for e in errors] == [(2, "contact 1 has details but no name")]


def test_a_reimport_replaces_the_contacts_and_one_without_columns_keeps_them(session, school):
    import_roster(session, school, WITH_CONTACTS)
    session.commit()
    moved = WITH_CONTACTS.replace("sara@example.org", "sara.k@example.org").replace(
        "Omar,Khan,Father,+44 7700 900456", ",,,")
    result = import_roster(session, school, moved)
    session.commit()
    assert result.contacts == 2
    assert contacts(session)["Aisha"] == [
        (1, "Sara Khan", "Mother", "sara.k@example.org", "07700 900123", 1)]
    import_roster(session, school, PLAIN)
    session.commit()
    assert len(contacts(session)["Aisha"]) == 1


def test_a_bad_email_refuses_the_whole_file_with_its_row_number(session, school):
    """All rows or none: a file with one bad email changes nobody, and says which row."""
    accounts.import_pupils(session, school, WITH_CONTACTS.encode())
    session.commit()
    before = contacts(session)
    bad = WITH_CONTACTS.replace("Mary O'Neill,Grandmother,,", "Mary O'Neill,Grandmother,"
                                "mary-at-home,")
    with pytest.raises(accounts.RosterRefused) as refused:
        accounts.import_pupils(session, school, bad.encode())
    assert [(e.line, e.message) for e in refused.value.result.errors] == [
        (3, "contact 1's email 'mary-at-home' is not an email address")]
    assert contacts(session) == before


@pytest.mark.parametrize(("cells", "message"), [
    ("Sara,Mother,sara@example.org,call me,1", "phone 'call me' is not a phone number"),
    ("Sara,Mother,sara@example.org,07700 900123,first", "priority 'first' should be a number"),
    ("x" * 161 + ",Mother,,,", "name or relationship is too long"),
])
def test_other_bad_contact_values_are_row_errors_in_plain_words(cells, message):
    header = ("UPN,Surname,Forename,Contact 1 Name,Contact 1 Relationship,Contact 1 Email,"
              "Contact 1 Phone,Contact 1 Priority\n")
    _rows, errors = parse(header + f"A1,Khan,Aisha,{cells}\n")
    assert len(errors) == 1
    assert errors[0].line == 2
    assert message in errors[0].message


def test_the_import_records_how_many_contacts_and_they_are_encrypted(session, school):
    accounts.import_pupils(session, school, WITH_CONTACTS.encode())
    session.commit()
    (event,) = [e for e in session.scalars(select(Event))
                if e.action == Action.CONTACTS_IMPORTED.value]
    assert event.payload == {"pupils": 2, "contacts": 3}
    raw = " ".join(str(v) for row in session.execute(text("SELECT * FROM parent_contacts"))
                   for v in row)
    for plain in ("Sara Khan", "sara@example.org", "07700 900123", "Mother"):
        assert plain not in raw


def test_the_cli_says_how_many_contacts_it_stored(app, school, tmp_path):
    from portal.cli import cli

    export = tmp_path / "export.csv"
    export.write_text(WITH_CONTACTS)
    result = app.test_cli_runner().invoke(cli, ["import-pupils", school.slug, str(export)])
    assert result.exit_code == 0, result.output
    assert "3 parent or carer contact(s) stored." in result.output
