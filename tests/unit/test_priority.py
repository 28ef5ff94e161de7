"""Urgency rules and the reasons they give, with the phrasing children really use."""

from __future__ import annotations

import pytest

from portal.priority import CEOP, URGENT, assess, listed_phrase, words_found
from portal.vocabulary import Reason


def reasons_for(text: str, **kw) -> tuple[Reason, ...]:
    base = {"feels_safe": "yes", "kinds": [], "happened_before": None, "places": []}
    return assess(**{**base, **kw}, text=text).codes


def test_not_feeling_safe_now_is_urgent_with_its_reason():
    # Anti-bullying policy: "making sure they are not at risk of immediate harm".
    result = assess(feels_safe="no", kinds=["verbal"], happened_before=None, places=[])
    assert result.urgent
    assert result.score >= URGENT
    assert result.codes[0] == Reason.NOT_SAFE


def test_feeling_safe_is_not_urgent_by_itself():
    result = assess(feels_safe="yes", kinds=["verbal"], happened_before="no", places=["classroom"])
    assert not result.urgent
    assert result.codes == ()


@pytest.mark.parametrize("text", [
    "i want to kill myself",
    "sometimes i wanna die",
    "I think about sucide",           # misspelt
    "i have been cutting myself",
    "I wish I was dead tbh",
    "i dont want to be here anymore",
])
def test_words_of_self_harm_are_urgent(text):
    assert Reason.SELF_HARM in reasons_for(text)


@pytest.mark.parametrize("text", [
    "he said he's gonna kill me after school",
    "They said they would kill my dog",
    "she threatened to beat me up",
    "you're dead tomorrow he wrote",
])
def test_threats_to_kill_or_hurt_are_urgent(text):
    assert Reason.THREAT_TO_HURT in reasons_for(text)


@pytest.mark.parametrize("text", [
    "he had a knife in his bag",
    "he said he would stab me",
    "someone brought a blade into the toilets",
])
def test_weapons_are_urgent(text):
    assert Reason.WEAPON in reasons_for(text)


@pytest.mark.parametrize("text", [
    "I killed it in the test",                     # the classic false positive
    "we played a killer game of tag",
    "I need a knife and fork at lunch",
    "they squirted me with a water pistol",
    "my brother says I'm dead good at maths",
    "the skills club is fun",
    "i was touched by how kind she was",
])
def test_everyday_phrases_are_not_flagged(text):
    found = {r.name for r in words_found(text)}
    assert not found & {"self_harm", "threats", "weapons"}, found


@pytest.mark.parametrize("text", [
    "he keeps asking me to send nudes",
    "someone shared noods of her in the group chat",
    "they sent a naked picture of me round snapchat",
])
def test_sexual_images_of_a_child_flag_ceop(text):
    result = assess(feels_safe="yes", kinds=["online"], happened_before=None, places=[],
                    text=text)
    assert result.urgent
    assert CEOP in result.flags
    assert Reason.SEXUAL_IMAGES in result.codes


@pytest.mark.parametrize("text", [
    "he touched me where i didnt want",
    "a boy keeps lifting up my skirt",
    "they called her a slag in front of everyone",
])
def test_sexual_harassment_is_always_for_the_dsl(text):
    assert Reason.SEXUAL_HARASSMENT in reasons_for(text)


def test_a_school_can_extend_the_lists(tmp_path):
    (tmp_path / "weapons.txt").write_text("catapult\n")
    assert assess(feels_safe="yes", kinds=[], happened_before=None, places=[],
                  text="he fired a catapult at me", extra_dirs=(tmp_path,)).urgent
    assert not assess(feels_safe="yes", kinds=[], happened_before=None, places=[],
                      text="he fired a catapult at me").urgent


def test_repeated_behaviour_ranks_higher_and_says_why():
    # Policy definition: "behaviour ... repeated over time".
    once = assess(feels_safe="yes", kinds=["verbal"], happened_before="no", places=[])
    again = assess(feels_safe="yes", kinds=["verbal"], happened_before="yes", places=[])
    assert again.score > once.score
    assert Reason.HAPPENED_BEFORE in again.codes


def test_send_and_recurring_raise_the_score_with_reasons():
    # "children with SEND ... disproportionately impacted by bullying".
    result = assess(feels_safe="yes", kinds=[], happened_before=None, places=[], send=True,
                    recurring=True)
    assert Reason.SEND_INVOLVED in result.codes
    assert Reason.RECURRING in result.codes


def test_online_or_outside_school_is_noted():
    # Cyber policy 7.4: "the location may be anytime and anywhere".
    result = assess(feels_safe="yes", kinds=[], happened_before=None, places=["journey"])
    assert Reason.ONLINE in result.codes


@pytest.mark.parametrize("text", [
    "Don't come in tomorrow or else",
    "don't come in tomorrow or else!!",
    "he said tell anyone or else. then he walked off",
    "give me your dinner money or else you'll get it",
    "stop talking to her or ill get you",
    "If you tell anyone I'll make you pay",
    "you'll regret it",
    "she said you’re gonna regret this",
    "ur gonna regret it",
    "watch your back",
    "watch ur back at home time",
    "I know where you live",
    "they messaged i know where u live",
    "snitches get stitches",
])
def test_conditional_and_veiled_threats_are_urgent(text):
    assert Reason.THREAT_TO_HURT in reasons_for(text), text


@pytest.mark.parametrize("text", [
    "hurry up or else we could play football instead",
    "or else we will be late for the bus",
    "I regret it now",
    "I will always regret not telling someone",
    "he hurt my back in PE",
    "I don't know where they live",
    "Someone else took my pencil",
    "Nobody else saw",
])
def test_everyday_or_else_regret_and_back_are_not_threats(text):
    assert "threats" not in {r.name for r in words_found(text)}, text


def _score(**kw) -> int:
    base = {"feels_safe": "yes", "kinds": [], "happened_before": None, "places": []}
    return assess(**{**base, **kw}).score


# The most a report scores from small points alone: SEND, recurring, physical, repeated,
# online: an older, acknowledged report in the trial.
BUSY = {"kinds": ["physical", "online"], "happened_before": "yes", "send": True,
        "recurring": True}


def test_a_child_not_sure_they_are_safe_ranks_above_every_other_non_urgent_report():
    not_sure = assess(feels_safe="not_sure", kinds=["verbal"], happened_before=None, places=[])
    assert not not_sure.urgent
    assert not_sure.score > _score(**BUSY)
    assert not_sure.codes[0] == Reason.NOT_SURE_SAFE
    assert _score(feels_safe="no") > _score(feels_safe="not_sure", **BUSY)


@pytest.mark.parametrize("since", ["five weeks", "about 5 weeks now", "since half term",
                                   "a month", "2 months", "a fortnight", "3 wks"])
def test_long_school_refusal_ranks_above_every_other_non_urgent_report(since):
    result = assess(feels_safe=None, kinds=[], happened_before=None, places=[],
                    concern="school_refusal", since=since)
    assert not result.urgent
    assert result.score > _score(**BUSY)
    assert result.codes == (Reason.LONG_REFUSAL,)


@pytest.mark.parametrize("since", ["", "yesterday", "3 days", "last week", "since monday"])
def test_short_or_unknown_school_refusal_is_noted_but_not_a_signal(since):
    result = assess(feels_safe=None, kinds=[], happened_before=None, places=[],
                    concern="school_refusal", since=since)
    assert 0 < result.score < _score(feels_safe="not_sure")
    assert result.codes == (Reason.SCHOOL_REFUSAL,)


def test_within_the_signal_band_small_points_still_order_reports():
    assert _score(feels_safe="not_sure", happened_before="yes") > _score(feels_safe="not_sure")
    assert _score(feels_safe="not_sure", **BUSY) < URGENT


@pytest.mark.parametrize(("entry", "shown"), [
    ("or else $", "or else (at the end of a sentence)"),
    ("threaten* to beat", "threaten… to beat"),
    ("watch your back", "watch your back"),
])
def test_a_matched_word_list_entry_reads_as_words_not_pattern_syntax(entry, shown):
    """The case page says which listed phrase matched; a DSL reads words, not "$" or "*"."""
    assert listed_phrase(entry) == shown
