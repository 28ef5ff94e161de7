"""Urgency: which reports the DSL must see first, and why.

Every rule returns a reason a DSL reads in the queue. Word lists live in data files
(``portal/data/risk-words/*.txt``), which a school extends with files of the same name in
``instance/risk-words/``. Phrases match on whole words, so "I killed it in the test" is not
a threat, and lists carry the misspellings children really type.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .config import PACKAGE_DIR

URGENT = 100
WORDS_DIR = PACKAGE_DIR / "data" / "risk-words"
CEOP = "ceop"


@dataclass(frozen=True)
class WordRule:
    """One word list and what a match means."""

    name: str
    score: int
    reason: str
    flag: str | None = None


# Anti-bullying policy: the school makes "sure they are not at risk of immediate harm";
# "If necessary, other agencies may be consulted ... if a child is felt to be at risk of
# significant harm". Cyber policy 5.6 / 9.1: "Contact with ... CEOP if images might be
# illegal or raise child protection issues". KCSIE (Sept 2021): sexual harassment and
# sexual violence between children are always referred to the DSL.
WORD_RULES: tuple[WordRule, ...] = (
    WordRule("self_harm", URGENT, "Words of self-harm or suicide"),
    WordRule("threats", URGENT, "Threat to kill or hurt"),
    WordRule("weapons", URGENT, "Weapon mentioned"),
    WordRule("sexual_images", URGENT, "Sexual images of a child: consider CEOP", CEOP),
    WordRule("sexual_harassment", URGENT,
             "Sexual harassment or violence: always a safeguarding matter for the DSL"),
)


@dataclass(frozen=True)
class Urgency:
    score: int
    reasons: tuple[str, ...]
    flags: frozenset[str] = frozenset()

    @property
    def urgent(self) -> bool:
        return self.score >= URGENT


def word_dirs(instance_path: str | Path) -> tuple[Path, ...]:
    """Where a school's own additions to the word lists live (``instance/risk-words/``)."""
    return (Path(instance_path) / "risk-words",)


END = "."  # a sentence's end in normalised text ("or else." is a threat; "or else we" not)


def normalise(text: str) -> str:
    """Lower case, apostrophes dropped, the end of a sentence (. ! ? ; a new line) a lone
    ".", anything else not a letter or digit a single space."""
    text = text.lower().replace("’", "'").replace("'", "")
    text = re.sub(r"[.!?;\n]+", f" {END} ", text)
    text = re.sub(r"[^a-z0-9.]+", " ", text).strip()
    return f" {text} {END} "


def _pattern(phrase: str) -> str:
    """A regular expression for one phrase over normalised text. Words match across a
    sentence's end (children's punctuation is wherever it falls); a final "$" in the
    phrase means "and then the sentence ends" (``or else $``)."""
    tokens = re.sub(r"[^a-z0-9*$]+", " ", phrase.lower().replace("'", "")).split()
    at_end = bool(tokens) and tokens[-1] == "$"
    parts = [re.escape(t.rstrip("*")) + r"[a-z0-9]*" if t.endswith("*") else re.escape(t)
             for t in tokens if t.replace("$", "").rstrip("*")]
    if not parts:
        return ""
    tail = r" \." if at_end else r"(?![a-z0-9])"
    return r"(?<![a-z0-9])" + r" (?:\. )*".join(parts) + tail


@dataclass(frozen=True)
class WordList:
    match: re.Pattern[str] | None
    exceptions: re.Pattern[str] | None

    def found(self, text: str) -> bool:
        if self.match is None:
            return False
        if self.exceptions is not None:
            text = self.exceptions.sub(" ", text)
        return self.match.search(text) is not None


def _compile(phrases: Iterable[str]) -> re.Pattern[str] | None:
    patterns = [p for p in (_pattern(x) for x in phrases) if p]
    return re.compile("|".join(patterns)) if patterns else None


def load_list(name: str, extra_dirs: tuple[Path, ...] = ()) -> WordList:
    """The phrases of list ``name``: the shipped file plus any school files of that name."""
    include: list[str] = []
    exclude: list[str] = []
    for folder in (WORDS_DIR, *extra_dirs):
        path = folder / f"{name}.txt"
        if not path.is_file():
            continue
        for raw in path.read_text(encoding="utf-8").splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            (exclude if line.startswith("!") else include).append(line.lstrip("! ").strip())
    return WordList(_compile(include), _compile(exclude))


@lru_cache(maxsize=8)
def word_lists(extra_dirs: tuple[Path, ...] = ()) -> dict[str, WordList]:
    return {rule.name: load_list(rule.name, extra_dirs) for rule in WORD_RULES}


def words_found(text: str, extra_dirs: tuple[Path, ...] = ()) -> list[WordRule]:
    """The word rules whose lists match ``text``."""
    clean = normalise(text)
    lists = word_lists(extra_dirs)
    return [rule for rule in WORD_RULES if lists[rule.name].found(clean)]


def assess(*, feels_safe: str | None, kinds: list[str], happened_before: str | None,
           places: list[str], text: str = "", send: bool = False, recurring: bool = False,
           extra_dirs: tuple[Path, ...] = ()) -> Urgency:
    """Score a report from what the reporter chose and wrote; reasons in order of weight."""
    score = 0
    reasons: list[str] = []
    flags: set[str] = set()
    if feels_safe == "no":
        score += URGENT
        reasons.append("Does not feel safe right now")
    for rule in words_found(text, extra_dirs):
        score += rule.score
        reasons.append(rule.reason)
        if rule.flag:
            flags.add(rule.flag)
    if "sexual" in kinds and not any("Sexual harassment" in r for r in reasons):
        score += URGENT
        reasons.append("Sexual harassment or violence: always a safeguarding matter for the DSL")
    if feels_safe == "not_sure":
        score += 30
        reasons.append("Not sure they feel safe right now")
    if send:
        # "children with SEND ... disproportionately impacted by bullying" (anti-bullying).
        score += 25
        reasons.append("A pupil with SEND is involved")
    if recurring:
        score += 25
        reasons.append("Recurring: named in several reports")
    if "physical" in kinds:
        score += 20
        reasons.append("Physical harm described")
    if happened_before == "yes":
        # "behaviour ... repeated over time" is the policy's definition of bullying.
        score += 15
        reasons.append("Has happened before")
    if "online" in kinds or "online" in places or "journey" in places:
        # Cyber policy 7.4: "the location may be anytime and anywhere"; off-site bullying
        # "will ensure that the concern is fully investigated" (anti-bullying policy).
        score += 5
        reasons.append("Online or outside school")
    return Urgency(score, tuple(reasons), frozenset(flags))
