"""Rules key on stable codes and every code has its words (issue 13 item 3): kinds, urgency
reasons, checklist steps and the DSL team."""

from __future__ import annotations

import ast
from pathlib import Path

from portal import checklists, vocabulary
from portal.models import DSL_TEAM, Role
from portal.priority import Found, assess, reason_words, reasons_in_words, signal_tags
from portal.vocabulary import ONLINE, REASON_WORDS, Kind, Reason

PORTAL = Path(__file__).resolve().parents[2] / "portal"


def test_every_kind_code_has_words_and_every_list_is_built_from_codes():
    assert set(vocabulary.KIND_LABELS) == {k.value for k in Kind}
    assert all(vocabulary.KIND_LABELS[k].strip() for k in Kind)
    assert [c.value for c in vocabulary.ALL_KINDS] == list(vocabulary.ALL_KIND_CODES)
    assert [c.value for c in vocabulary.CLASSIFY_KINDS] == list(vocabulary.CLASSIFY_KIND_CODES)
    # "something else" stays last in both, wherever a new kind is added
    assert vocabulary.ALL_KIND_CODES[-1] == vocabulary.CLASSIFY_KIND_CODES[-1] == Kind.OTHER
    # a DSL records a prejudice-based kind by what it is based on, never the umbrella
    assert Kind.PREJUDICE not in vocabulary.CLASSIFY_KIND_CODES
    assert set(vocabulary.PREJUDICE_KINDS) <= set(vocabulary.CLASSIFY_KIND_CODES)


def test_every_reason_code_has_words_and_the_tags_name_known_reasons():
    assert set(REASON_WORDS) == set(Reason)
    assert all(words.strip() for words in REASON_WORDS.values())
    assert set(vocabulary.REASON_TAGS) <= set(Reason)


def test_online_is_one_code_for_the_kind_the_place_and_the_concern():
    assert ONLINE == "online"
    assert ONLINE in vocabulary.KIND_LABELS
    assert ONLINE in vocabulary.PLACE_LABELS
    assert ONLINE in vocabulary.CONCERN_LABELS


def test_no_rule_module_writes_online_or_the_dsl_team_out_by_hand():
    """"online" as a bare string and the DSL role set written out are gone from the rule
    modules: a rename in one place reaches every rule."""
    rule_modules = ["priority.py", "checklists.py", "reporting/operations.py",
                    "reporting/advice.py", "triage/operations.py", "notifications.py",
                    "linking.py"]
    for name in rule_modules:
        tree = ast.parse((PORTAL / name).read_text(encoding="utf-8"))
        bare = [node.lineno for node in ast.walk(tree)
                if isinstance(node, ast.Constant) and node.value == "online"]
        # the checklist's own code "online" (CYBER) is the one literal left, in checklists.py
        assert bare == ([] if name != "checklists.py" else bare[:1]), (name, bare)
    for path in PORTAL.rglob("*.py"):
        if path == PORTAL / "models" / "user.py":
            continue  # DSL_TEAM: the one place the set is written
        text = path.read_text(encoding="utf-8")
        assert "Role.DSL, Role.DEPUTY_DSL" not in text, path
        assert "Role.STAFF, Role.DSL, Role.DEPUTY_DSL" not in text, path
    assert frozenset({Role.DSL, Role.DEPUTY_DSL}) == DSL_TEAM


def test_urgency_keeps_codes_and_the_listed_phrase_that_matched_never_the_childs_words():
    result = assess(feels_safe="no", kinds=["online"], happened_before=None, places=[],
                    text="Jo from 5B said she is gonna kill me at the park")
    assert result.codes == (Reason.NOT_SAFE, Reason.THREAT_TO_HURT, Reason.ONLINE)
    stored = result.stored()
    assert stored[1] == {"code": "threat_to_hurt", "matched": ["kill me", "gonna kill"]}
    assert "Jo" not in repr(stored)
    assert "park" not in repr(stored)
    assert reasons_in_words(stored) == ["Does not feel safe right now",
                                        "Threat to kill or hurt", "Online or outside school"]


def test_a_wildcard_entry_is_stored_as_the_list_writes_it():
    result = assess(feels_safe="yes", kinds=[], happened_before=None, places=[],
                    text="he threatened to beat me")
    assert Found(Reason.THREAT_TO_HURT, ("threaten* to beat",)) in result.reasons


def test_the_words_shown_come_from_the_table_so_a_reason_can_be_renamed(monkeypatch):
    monkeypatch.setitem(REASON_WORDS, Reason.THREAT_TO_HURT, "Said they would hurt someone")
    assert reason_words({"code": "threat_to_hurt"}) == "Said they would hurt someone"


def test_a_reason_this_version_does_not_know_still_reads():
    assert reason_words({"code": "unplaced", "words": "Old words"}) == "Old words"
    assert reason_words({"code": "from_a_later_version"}) == "from_a_later_version"
    assert signal_tags([{"code": "not_sure_safe"}, {"code": "weapon"}]) == ["Unsure if safe"]


def test_checklist_step_codes_are_unique_and_every_step_has_words():
    codes = [s.code for c in checklists.CHECKLISTS.values() for s in (*c.steps, *c.retired)]
    assert len(codes) == len(set(codes))
    assert all(checklists.step_words(code) not in ("", code) for code in codes)
    for c in checklists.CHECKLISTS.values():
        assert c.version >= 1
        assert c.title
        assert not {s.code for s in c.steps} & {s.code for s in c.retired}, c.code
        prefix = "responding-" if c.code == checklists.RESPONDING else "cyber-"
        assert all(s.code.startswith(prefix) for s in (*c.steps, *c.retired)), c.code


def test_steps_named_the_old_way_in_earlier_events_still_read():
    assert checklists.step_words("4.3", "online") == "Secure and preserve any evidence"
    assert checklists.step_words("cyber-4.3") == "Secure and preserve any evidence"
    names = checklists.event_step_names()
    assert names["online:4.3"] == names["online:cyber-4.3"] == "Secure and preserve any evidence"
    assert names["responding:interview_all"] == "Interview all parties involved"
    assert checklists.step_words("no-such-step") == "no-such-step"


def test_online_advice_follows_the_online_code_from_the_kind_or_the_place():
    from portal.reporting import advice

    for kinds, places in ((["online"], []), ([], ["online"])):
        given = advice.advice_for(kinds=kinds, places=places, about="me")
        assert set(advice.ONLINE) <= set(given), (kinds, places)
    assert not set(advice.ONLINE) & set(advice.advice_for(kinds=["verbal"], places=[],
                                                          about="me"))
