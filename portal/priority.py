"""Urgency: which reports the DSL must see first, and why.

Each rule returns a reason a DSL can read in the queue. The anti-bullying policy asks the
school to make "sure they are not at risk of immediate harm"; a child who says they do not
feel safe right now comes first.
"""

from __future__ import annotations

from dataclasses import dataclass

URGENT = 100


@dataclass(frozen=True)
class Urgency:
    score: int
    reasons: tuple[str, ...]

    @property
    def urgent(self) -> bool:
        return self.score >= URGENT


def assess(*, feels_safe: str | None, kinds: list[str], happened_before: str | None,
           places: list[str]) -> Urgency:
    """Score a new report from what the reporter chose; reasons in order of weight."""
    score = 0
    reasons: list[str] = []
    if feels_safe == "no":
        score += URGENT
        reasons.append("Does not feel safe right now")
    elif feels_safe == "not_sure":
        score += 30
        reasons.append("Not sure they feel safe right now")
    if "physical" in kinds:
        score += 20
        reasons.append("Physical harm described")
    if happened_before == "yes":
        # "behaviour ... repeated over time" is the policy's definition of bullying.
        score += 15
        reasons.append("Has happened before")
    if "online" in kinds or "online" in places or "journey" in places:
        # Cyber policy 7.4: "anytime and anywhere"; off-site bullying is still investigated.
        score += 5
        reasons.append("Online or outside school")
    return Urgency(score, tuple(reasons))
