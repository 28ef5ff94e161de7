"""Urgency rules and the reasons they give."""

from __future__ import annotations

from portal.priority import URGENT, assess


def test_not_feeling_safe_now_is_urgent_with_its_reason():
    # Anti-bullying policy: "making sure they are not at risk of immediate harm".
    result = assess(feels_safe="no", kinds=["verbal"], happened_before=None, places=[])
    assert result.urgent and result.score >= URGENT
    assert result.reasons[0] == "Does not feel safe right now"


def test_feeling_safe_is_not_urgent_by_itself():
    result = assess(feels_safe="yes", kinds=["verbal"], happened_before="no", places=["classroom"])
    assert not result.urgent
    assert result.reasons == ()


def test_repeated_behaviour_ranks_higher_and_says_why():
    # Policy definition: "behaviour ... repeated over time".
    once = assess(feels_safe="yes", kinds=["verbal"], happened_before="no", places=[])
    again = assess(feels_safe="yes", kinds=["verbal"], happened_before="yes", places=[])
    assert again.score > once.score
    assert "Has happened before" in again.reasons


def test_online_or_outside_school_is_noted():
    # Cyber policy 7.4: "the location may be anytime and anywhere".
    result = assess(feels_safe="yes", kinds=[], happened_before=None, places=["journey"])
    assert "Online or outside school" in result.reasons
