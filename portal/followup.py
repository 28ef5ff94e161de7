"""Follow-up codes: random, easy to read aloud and type on a tablet, stored only as a hash.

A code is 20 digits shown in five groups of four (``4821-0937-...``): 66 bits of entropy,
which with strict guessing limits is far beyond reach, yet a child can read it out.
"""

from __future__ import annotations

import hashlib
import os
import secrets

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

DIGITS = 20
GROUP = 4


def new_code() -> str:
    """A fresh code in its display form."""
    number = "".join(secrets.choice("0123456789") for _ in range(DIGITS))
    return format_code(number)


def normalise(text: str) -> str | None:
    """The digits of what someone typed, or None when it cannot be a code."""
    digits = "".join(ch for ch in text if ch.isdigit() and ch.isascii())
    if len(digits) != DIGITS \
            or any(not (ch.isspace() or ch in "-–." or ch.isdigit()) for ch in text):
        return None
    return digits


def format_code(digits: str) -> str:
    """Digits grouped for reading aloud."""
    return "-".join(digits[i : i + GROUP] for i in range(0, len(digits), GROUP))


def code_hash(code: str) -> str:
    """The stored form of a code (display or bare digits)."""
    digits = normalise(code) or code
    return hashlib.sha256(b"tell-us-followup:" + digits.encode()).hexdigest()


def submission_hash(token: str) -> str:
    """The stored form of a form's one-time submission token."""
    return hashlib.sha256(b"tell-us-submission:" + token.encode()).hexdigest()


def _token_key(token: str) -> bytes:
    return hashlib.sha256(b"tell-us-seal:" + token.encode()).digest()


def seal_code(code: str, token: str) -> bytes:
    """Encrypt ``code`` under a key derived from the submission token (kept only by the form)."""
    nonce = os.urandom(12)
    return nonce + AESGCM(_token_key(token)).encrypt(nonce, code.encode(), None)


def unseal_code(sealed: bytes, token: str) -> str:
    """Recover the code for a repeated submission of the same form."""
    return AESGCM(_token_key(token)).decrypt(sealed[:12], sealed[12:], None).decode()
