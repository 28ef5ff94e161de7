"""Roster import from a school MIS export: good, bad and repeated files."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from portal.models import Pupil, SenStatus
from portal.roster import RosterError, import_roster, parse

SIMS = """UPN,Legal Surname,Legal Forename,DOB,Year,Reg Group,SEN Status
A123456789012,Khan,Aisha,14/03/2015,Year 5,5B,N
B123456789012,O'Neill,Jack,02/11/2014,Year 6,6R,K
C123456789012,Smith,Lily,2016-07-30,Year 4,4P,E
"""


def count(session) -> int:
    return session.scalar(select(func.count()).select_from(Pupil))


def named(session, first: str) -> Pupil:
    """The one pupil with this first name (names are encrypted: compared after loading)."""
    (pupil,) = [p for p in session.scalars(select(Pupil)) if p.first_name == first]
    return pupil


def test_a_sims_export_is_read_with_its_own_column_names(session, school):
    result = import_roster(session, school, SIMS.encode())
    session.commit()
    assert (result.added, result.updated, result.errors) == (3, 0, [])
    jack = named(session, "Jack")
    assert (jack.last_name, jack.date_of_birth, jack.year_group, jack.form, jack.sen_status) == (
        "O'Neill", date(2014, 11, 2), "Year 6", "6R", SenStatus.SEN_SUPPORT)


def test_reimporting_the_same_file_changes_nothing(session, school):
    import_roster(session, school, SIMS)
    session.commit()
    again = import_roster(session, school, SIMS)
    session.commit()
    assert (again.added, again.updated, again.unchanged) == (0, 0, 3)
    assert count(session) == 3


def test_a_later_export_updates_pupils_matched_on_upn(session, school):
    import_roster(session, school, SIMS)
    session.commit()
    moved = SIMS.replace("Year 5,5B,N", "Year 6,6B,K")
    result = import_roster(session, school, moved)
    session.commit()
    assert (result.added, result.updated, result.unchanged) == (0, 1, 2)
    aisha = named(session, "Aisha")
    assert (aisha.year_group, aisha.form, aisha.sen_status) == ("Year 6", "6B",
                                                                SenStatus.SEN_SUPPORT)


def test_bad_rows_are_each_reported_and_nothing_is_imported(session, school):
    bad = SIMS + ("D1,,Noname,01/01/2015,Year 5,5B,N\n"
                  "E1,Date,Bad,31/02/2015,Year 5,5B,N\n"
                  "A123456789012,Khan,Twin,14/03/2015,Year 5,5B,N\n"
                  "F1,Sen,Odd,01/01/2015,Year 5,5B,maybe\n")
    result = import_roster(session, school, bad)
    session.rollback()
    assert [e.line for e in result.errors] == [5, 6, 7, 8]
    assert "first name or surname is missing" in result.errors[0].message
    assert "not a date" in result.errors[1].message
    assert "also on line 2" in result.errors[2].message
    assert "SEN status" in result.errors[3].message
    assert count(session) == 0


def test_a_file_without_the_needed_columns_is_refused_whole():
    with pytest.raises(RosterError, match="no UPN"):
        parse("Name,Class\nAisha,5B\n")


def test_arbor_style_headers_and_a_byte_order_mark_are_understood():
    rows, errors = parse("\ufeffAdmission Number,First Name,Last Name,Date of Birth,Year Group,"
                         "Form,SEN\n1042,Sam,Lee,2015-01-31,Year 5,5B,SEN Support\n")
    assert errors == []
    assert rows[0][1].sen_status == SenStatus.SEN_SUPPORT
    assert rows[0][1].upn == "1042"
