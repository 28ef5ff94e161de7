"""Staff passwords: Argon2id hashes, 12+ characters, no composition rules, no common ones,
and none that a strength estimate (zxcvbn) says would be easy to guess."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn  # type: ignore[import-untyped]

from ..config import PACKAGE_DIR

MIN_LENGTH = 12
MAX_LENGTH = 256
# zxcvbn's scores run 0-4; 3 is "safely unguessable: moderate protection from offline
# slow-hash attacks" (about 10^8 guesses or more), which an Argon2 hash makes very slow.
MIN_SCORE = 3
ESTIMATE_CHARS = 72  # zxcvbn refuses longer input; the first 72 characters decide
# Why a password would be easy to guess, keyed on the kind of pattern zxcvbn found in it.
WHY_GUESSABLE = {
    "repeat": "Repeated characters or words are easy to guess.",
    "sequence": "Runs like abc or 1234 are easy to guess.",
    "spatial": "Rows of keys next to each other, like qwerty, are easy to guess.",
    "date": "Dates and years are easy to guess.",
    "regex": "Dates and years are easy to guess.",
    "passwords": "It is too close to a common password.",
    "user_inputs": "It is made from your name, email address or school.",
    "dictionary": "Single common words and names are easy to guess.",
}
ADVICE = "Try three or four unrelated words together, like a short sentence only you would say."
_hasher = PasswordHasher()  # Argon2id with argon2-cffi's RFC 9106 low-memory profile
# Checking an unknown account still costs one verification, so both answers take as long.
_DUMMY_HASH = _hasher.hash("not a real password, only for timing")


class WeakPassword(ValueError):
    """A password the policy refuses, with the reason in plain words."""


@cache
def common_passwords() -> frozenset[str]:
    path = PACKAGE_DIR / "data" / "common-passwords.txt"
    lines = (line.strip().lower() for line in path.read_text().splitlines())
    return frozenset(line for line in lines if line and not line.startswith("#"))


def _why_guessable(estimate: dict[str, Any]) -> str:
    """The plain-words reason for the longest guessable pattern zxcvbn found."""
    matches = [m for m in estimate.get("sequence", []) if m.get("pattern") != "bruteforce"]
    if not matches:
        return "It would be easy to guess."
    worst = max(matches, key=lambda m: len(str(m.get("token", ""))))
    pattern = str(worst.get("pattern"))
    if pattern == "dictionary":
        pattern = {"passwords": "passwords", "user_inputs": "user_inputs"}.get(
            str(worst.get("dictionary_name")), "dictionary")
    return WHY_GUESSABLE.get(pattern, "It would be easy to guess.")


def personal_words(*values: str | None) -> list[str]:
    """Words from the account (email, name, school) that must not make up its password."""
    words: list[str] = []
    for value in values:
        if value:
            words.append(value.lower())
            words.extend(w for w in re.split(r"[^a-z0-9]+", value.lower()) if len(w) > 2)
    return words


def _without(password: str, personal: Iterable[str]) -> str:
    """The password's letters and digits left once the account's own words (of four
    letters or more) are taken out: "OakfieldPrimary2026!" at Oakfield Primary leaves
    "2026". zxcvbn scored such passwords 3 (issue 18's trial, M10)."""
    rest = re.sub(r"[^a-z0-9]+", "", password.lower())
    words = {re.sub(r"[^a-z0-9]+", "", w) for w in personal}
    for word in sorted((w for w in words if len(w) >= 4), key=len, reverse=True):
        rest = rest.replace(word, "")
    return rest


def check_strength(password: str, personal: Iterable[str] = ()) -> None:
    """Raise WeakPassword unless ``password`` is long enough, not a common one (ASVS 6.2)
    and not easy to guess by zxcvbn's estimate (score 3 or more); ``personal`` are the
    account's own words (email, name, school)."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"Use at least {MIN_LENGTH} characters. A few words together work well.")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"Use at most {MAX_LENGTH} characters.")
    if password.lower() in common_passwords():
        raise WeakPassword("That password is too common. Choose another.")
    rest = _without(password, personal)
    if rest != re.sub(r"[^a-z0-9]+", "", password.lower()) and len(rest) < MIN_LENGTH:
        raise WeakPassword("That password would be easy to guess. "
                           f"{WHY_GUESSABLE['user_inputs']} {ADVICE}")
    estimate = zxcvbn(password[:ESTIMATE_CHARS], user_inputs=list(personal),
                      max_length=ESTIMATE_CHARS)
    if int(estimate["score"]) < MIN_SCORE:
        raise WeakPassword(f"That password would be easy to guess. {_why_guessable(estimate)} "
                           f"{ADVICE}")


def hash_password(password: str, personal: Iterable[str] = ()) -> str:
    """The Argon2id hash of a password the policy accepts (WeakPassword otherwise)."""
    check_strength(password, personal)
    return _hasher.hash(password)


def verify(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; unknown accounts (``None``) take the same time."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False
