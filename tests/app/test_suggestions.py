"""Suggested roster matches for the names a reporter typed: helpful, never noisy."""

from __future__ import annotations

from portal.linking import suggest
from portal.models import Pupil, Report


def names(session, school, text: str) -> list[str]:
    """Suggestions for a report whose 'who was involved' is ``text``."""
    for first, last in (("Aisha", "Khan"), ("Theo", "Begum"), ("Lily", "Wright"),
                        ("Will", "Jones"), ("Chloe", "Smith")):
        session.add(Pupil(school_id=school.id, upn=f"{first}{last}", first_name=first,
                          last_name=last))
    session.commit()
    report = Report(school_id=school.id, source="pupil", followup_code_hash=text[:60] + "x",
                    body="", people_involved=text)
    session.add(report)
    session.commit()
    return [s.pupil.name for s in suggest(session, report)]


def test_a_misspelt_full_name_is_suggested(session, school):
    assert names(session, school, "aisha kahn pushed me")[0] == "Aisha Khan"


def test_a_first_name_alone_is_suggested(session, school):
    assert names(session, school, "Chloe said mean things") == ["Chloe Smith"]


def test_common_words_are_not_taken_for_names(session, school):
    assert names(session, school, "they will not let me play with the others") == []
