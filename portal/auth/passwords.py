"""Staff passwords: Argon2id hashes, 12+ characters, no composition rules, no common ones."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..config import PACKAGE_DIR

MIN_LENGTH = 12
MAX_LENGTH = 256
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


def check_strength(password: str) -> None:
    """Raise WeakPassword unless ``password`` is long enough and not a common one (ASVS 6.2)."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"Use at least {MIN_LENGTH} characters. A few words together work well.")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"Use at most {MAX_LENGTH} characters.")
    if password.lower() in common_passwords():
        raise WeakPassword("That password is too common. Choose another.")


def hash_password(password: str) -> str:
    check_strength(password)
    return _hasher.hash(password)


def verify(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; unknown accounts (``None``) take the same time."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False
