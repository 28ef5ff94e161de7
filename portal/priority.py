"""Urgency: which reports the DSL must see first, and why.

Every rule gives a reason: a stable code (``portal.vocabulary.Reason``), stored with the
report, whose words (``REASON_WORDS``) the queue and the case page show; rewording a reason
never changes a rule. Word lists live in data files
(``portal/data/risk-words/*.txt``), which a school extends with files of the same name in
``instance/risk-words/``. Phrases match on whole words, so "I killed it in the test" is not
a threat, and lists carry the misspellings children really type.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from .config import PACKAGE_DIR
from .vocabulary import ONLINE, REASON_TAGS, REASON_WORDS, Kind, Reason, concern_codes

URGENT = 100
WORDS_DIR = PACKAGE_DIR / "data" / "risk-words"
CEOP = "ceop"


@dataclass(frozen=True)
class WordRule:
    """One word list and what a match means."""

    name: str
    score: int
    reason: Reason
    flag: str | None = None


# Anti-bullying policy: the school makes "sure they are not at risk of immediate harm";
# "If necessary, other agencies may be consulted ... if a child is felt to be at risk of
# significant harm". Cyber policy 5.6 / 9.1: "Contact with ... CEOP if images might be
# illegal or raise child protection issues". KCSIE (Sept 2021): sexual harassment and
# sexual violence between children are always referred to the DSL.
WORD_RULES: tuple[WordRule, ...] = (
    WordRule("self_harm", URGENT, Reason.SELF_HARM),
    WordRule("threats", URGENT, Reason.THREAT_TO_HURT),
    WordRule("weapons", URGENT, Reason.WEAPON),
    WordRule("sexual_images", URGENT, Reason.SEXUAL_IMAGES, CEOP),
    WordRule("sexual_harassment", URGENT, Reason.SEXUAL_HARASSMENT),
)


@dataclass(frozen=True)
class Found:
    """One reason a report ranks where it does: its code and, for a word rule, the entries
    of the word list that matched, as the list writes them ("threaten* to kill"). Never the
    child's own words around them: the record says which listed phrase fired, and the
    report's text is kept (encrypted) in one place only."""

    code: Reason
    matched: tuple[str, ...] = ()

    def stored(self) -> dict[str, Any]:
        """The form kept in ``reports.urgency_reasons`` (a JSON object)."""
        if self.matched:
            return {"code": self.code.value, "matched": list(self.matched)}
        return {"code": self.code.value}


@dataclass(frozen=True)
class Urgency:
    score: int
    reasons: tuple[Found, ...]
    flags: frozenset[str] = frozenset()

    @property
    def urgent(self) -> bool:
        return self.score >= URGENT

    @property
    def codes(self) -> tuple[Reason, ...]:
        return tuple(r.code for r in self.reasons)

    def stored(self) -> list[dict[str, Any]]:
        """The reasons as ``reports.urgency_reasons`` keeps them."""
        return [r.stored() for r in self.reasons]


def reason_codes(stored: Iterable[Mapping[str, Any]]) -> list[str]:
    """The codes of a report's stored reasons, in order."""
    return [str(item.get("code", "")) for item in stored]


def reason_words(item: Mapping[str, Any]) -> str:
    """What a DSL reads for one stored reason. A code this version does not know (written
    by a later one, or carried over by migration 0014 from words it could not place) shows
    the words kept with it, else the code itself: the page never fails on a reason."""
    code = str(item.get("code", ""))
    try:
        return REASON_WORDS[Reason(code)]
    except ValueError:
        return str(item.get("words") or code)


def reasons_in_words(stored: Iterable[Mapping[str, Any]]) -> list[str]:
    """A report's stored reasons in words, in order."""
    return [reason_words(item) for item in stored]


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


def listed_phrase(entry: str) -> str:
    """A word-list entry as a DSL reads it: "threaten* to beat" is "threaten… to beat",
    and a final "$" ("or else $") says the sentence ends there."""
    words = entry.split()
    at_end = bool(words) and words[-1] == "$"
    shown = " ".join(w[:-1] + "…" if w.endswith("*") else w for w in words if w != "$")
    return f"{shown} (at the end of a sentence)" if at_end else shown


@dataclass(frozen=True)
class WordList:
    match: re.Pattern[str] | None
    exceptions: re.Pattern[str] | None
    # Each listed phrase with its own pattern: asked only when the list matched, to say
    # which entries did.
    entries: tuple[tuple[str, re.Pattern[str]], ...] = ()

    def _clean(self, text: str) -> str:
        return self.exceptions.sub(" ", text) if self.exceptions is not None else text

    def found(self, text: str) -> bool:
        if self.match is None:
            return False
        return self.match.search(self._clean(text)) is not None

    def matched(self, text: str) -> tuple[str, ...]:
        """The list's entries that match ``text`` (normalised), in the list's order."""
        if self.match is None:
            return ()
        clean = self._clean(text)
        if self.match.search(clean) is None:
            return ()
        return tuple(dict.fromkeys(phrase for phrase, pattern in self.entries
                                   if pattern.search(clean)))


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
    entries = tuple((phrase, re.compile(pattern)) for phrase in include
                    if (pattern := _pattern(phrase)))
    return WordList(_compile(include), _compile(exclude), entries)


@lru_cache(maxsize=8)
def word_lists(extra_dirs: tuple[Path, ...] = ()) -> dict[str, WordList]:
    return {rule.name: load_list(rule.name, extra_dirs) for rule in WORD_RULES}


def words_found(text: str, extra_dirs: tuple[Path, ...] = ()) -> list[WordRule]:
    """The word rules whose lists match ``text``."""
    clean = normalise(text)
    lists = word_lists(extra_dirs)
    return [rule for rule in WORD_RULES if lists[rule.name].found(clean)]


def phrases_found(text: str,
                  extra_dirs: tuple[Path, ...] = ()) -> list[tuple[WordRule, tuple[str, ...]]]:
    """The word rules whose lists match ``text``, each with the list entries that matched."""
    clean = normalise(text)
    lists = word_lists(extra_dirs)
    found = ((rule, lists[rule.name].matched(clean)) for rule in WORD_RULES)
    return [(rule, entries) for rule, entries in found if entries]


# A known safeguarding signal short of "urgent": the child's own doubt about being safe,
# or a long refusal to come to school. Every such report ranks above every other
# non-urgent one (SIGNAL plus the rest of its score, which is capped below SIGNAL), so a
# "not sure" from a child is never behind an older report that merely scores many small
# points. The queue shows the signal's tag.
SIGNAL = 50
LONG_REFUSAL_DAYS = 14


def signal_tags(stored: Iterable[Mapping[str, Any]]) -> list[str]:
    """The queue's short tags for a report's signal reasons ("Unsure if safe")."""
    tags = {code.value: tag for code, tag in REASON_TAGS.items()}
    return [tags[code] for code in reason_codes(stored) if code in tags]

_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
            "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
            "few": 3, "couple": 2, "several": 3, "many": 4}
_UNITS = {"day": 1, "days": 1, "week": 7, "weeks": 7, "wk": 7, "wks": 7, "fortnight": 14,
          "fortnights": 14, "month": 30, "months": 30, "term": 70, "terms": 70,
          "half": 35, "year": 365, "years": 365}


def days_in(since: str | None) -> int | None:
    """How long a parent's "Since when?" says, in days ("five weeks" -> 35, "2 months" ->
    60, "since half term" -> 35, "a fortnight" -> 14); None when it names no length."""
    words = normalise(since or "").split()
    longest: int | None = None
    for i, word in enumerate(words):
        unit = _UNITS.get(word)
        if unit is None:
            continue
        if word == "half" and (i + 1 >= len(words) or words[i + 1] != "term"):
            continue
        if word in ("term", "terms") and i and words[i - 1] == "half":
            continue  # "half term" counted at "half"
        before = words[i - 1] if i else ""
        count = int(before) if before.isdigit() and len(before) < 4 else _NUMBERS.get(before, 1)
        longest = max(longest or 0, count * unit)
    return longest


def assess(*, feels_safe: str | None, kinds: list[str], happened_before: str | None,
           places: list[str], text: str = "", send: bool = False, recurring: bool = False,
           concern: Sequence[str] | str | None = None, since: str | None = None,
           extra_dirs: tuple[Path, ...] = ()) -> Urgency:
    """Score a report from what the reporter chose and wrote; reasons in order of weight.

    Three bands: urgent (URGENT or more), a safeguarding signal (SIGNAL to URGENT - 1),
    then the rest (below SIGNAL)."""
    urgent = 0
    reasons: list[Found] = []
    flags: set[str] = set()
    if feels_safe == "no":
        urgent += URGENT
        reasons.append(Found(Reason.NOT_SAFE))
    for rule, entries in phrases_found(text, extra_dirs):
        urgent += rule.score
        reasons.append(Found(rule.reason, entries))
        if rule.flag:
            flags.add(rule.flag)
    if Kind.SEXUAL in kinds and Reason.SEXUAL_HARASSMENT not in (r.code for r in reasons):
        urgent += URGENT
        reasons.append(Found(Reason.SEXUAL_HARASSMENT))
    signal = 0
    if feels_safe == "not_sure":
        signal = SIGNAL
        reasons.append(Found(Reason.NOT_SURE_SAFE))
    rest = 0
    # A parent may tick several concerns (a list, or codes joined with commas when stored).
    if "school_refusal" in concern_codes(concern):
        days = days_in(since)
        if days is not None and days >= LONG_REFUSAL_DAYS:
            # Persistent absence is a known safeguarding signal (KCSIE: children absent
            # from education for prolonged periods).
            signal = SIGNAL
            reasons.append(Found(Reason.LONG_REFUSAL))
        else:
            rest += 20
            reasons.append(Found(Reason.SCHOOL_REFUSAL))
    if send:
        # "children with SEND ... disproportionately impacted by bullying" (anti-bullying).
        rest += 25
        reasons.append(Found(Reason.SEND_INVOLVED))
    if recurring:
        rest += 25
        reasons.append(Found(Reason.RECURRING))
    if Kind.PHYSICAL in kinds:
        rest += 20
        reasons.append(Found(Reason.PHYSICAL_HARM))
    if happened_before == "yes":
        # "behaviour ... repeated over time" is the policy's definition of bullying.
        rest += 15
        reasons.append(Found(Reason.HAPPENED_BEFORE))
    if ONLINE in kinds or ONLINE in places or "journey" in places:
        # Cyber policy 7.4: "the location may be anytime and anywhere"; off-site bullying
        # "will ensure that the concern is fully investigated" (anti-bullying policy).
        rest += 5
        reasons.append(Found(Reason.ONLINE))
    score = urgent + signal + rest if urgent else signal + min(rest, SIGNAL - 1)
    return Urgency(score, tuple(reasons), frozenset(flags))
