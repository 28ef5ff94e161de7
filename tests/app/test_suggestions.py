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


def roster(session, school, *people: tuple[str, str]) -> None:
    for first, last in people:
        session.add(Pupil(school_id=school.id, upn=f"U{first}{last}", first_name=first,
                          last_name=last))
    session.commit()


def suggested(session, school, text: str) -> list[tuple[str, str]]:
    report = Report(school_id=school.id, source="pupil", followup_code_hash=text[:60] + "y",
                    body=text, people_involved="")
    session.add(report)
    session.commit()
    return [(s.pupil.name, s.because) for s in suggest(session, report)]


def test_common_words_never_suggest_a_pupil(session, school):
    # The trial: a pupil was suggested because the report said "been" (~ Ben).
    roster(session, school, ("Ben", "Cole"), ("Will", "Ahmed"), ("May", "Lin"),
           ("Grace", "Obi"), ("Theo", "Park"), ("Tim", "Ross"))
    text = ("It has been going on for weeks. They will not stop, they say I may as well "
            "give up. She took it with grace and then some time later they said it again.")
    assert suggested(session, school, text) == []


def test_a_word_that_is_also_a_name_suggests_only_when_capitalised(session, school):
    roster(session, school, ("Grace", "Obi"), ("Will", "Ahmed"))
    assert suggested(session, school, "she said it with grace") == []
    assert suggested(session, school, "at break Grace took my bag") == [("Grace Obi", "grace")]
    assert suggested(session, school, "and then Will pushed me") == [("Will Ahmed", "will")]


def test_a_short_first_name_must_be_spelt_exactly(session, school):
    roster(session, school, ("Ben", "Cole"), ("Chloe", "Smith"))
    assert suggested(session, school, "ben hit me") == [("Ben Cole", "ben")]
    assert suggested(session, school, "beno hit me") == []
    assert suggested(session, school, "cloe hit me") == [("Chloe Smith", "cloe")]
