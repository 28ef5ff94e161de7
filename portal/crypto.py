"""Encryption at rest: AES-GCM under a data key kept outside the database (SECURITY P13).

The key comes from ``PORTAL_DATA_KEY`` (base64, 32 bytes) or ``instance/data_key`` (made
on first use, mode 600). A copied database or backup holds only ciphertext; tampering is
detected by the GCM tag. ``portal rotate-key`` re-encrypts everything under a new key and
keeps the old one only until that is done.

Stored form of a text value: ``enc1:<key id>:<base64 nonce + ciphertext + tag>``.
Files: ``TUE1`` + key id (8 bytes) + nonce (12) + ciphertext + tag.

A value that must be found by equality (a pupil's UPN on import) also gets a *blind
index*: an HMAC-SHA256 under a key derived from the data key, so the database can hold a
unique constraint on it without holding the value. ``portal rotate-key`` recomputes it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

TEXT_PREFIX = "enc1:"
FILE_MAGIC = b"TUE1"


class TamperedData(ValueError):
    """Ciphertext that does not authenticate: changed, truncated, or another key's."""


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"tell-us-key-id:" + key).hexdigest()[:8]


@dataclass
class Keyring:
    """The current key (encrypts) and older keys (still decrypt until rotation finishes)."""

    current: bytes
    older: dict[str, bytes] = field(default_factory=dict)

    def for_id(self, ident: str) -> bytes:
        if ident == key_id(self.current):
            return self.current
        if ident in self.older:
            return self.older[ident]
        raise TamperedData(f"no key {ident} to decrypt with")


_keyring: Keyring | None = None


def decode_key(text: str) -> bytes:
    key = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    if len(key) != 32:
        raise ValueError("PORTAL_DATA_KEY must be 32 bytes, base64-encoded")
    return key


def new_key_text() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def load_keyring(instance_dir: Path, env_key: str | None = None) -> Keyring:
    """The keyring from PORTAL_DATA_KEY or the instance key file (created once)."""
    old_path = instance_dir / "data_key.old"
    older = {}
    if old_path.exists():
        for line in old_path.read_text().split():
            old = decode_key(line)
            older[key_id(old)] = old
    if env_key:
        return Keyring(decode_key(env_key), older)
    path = instance_dir / "data_key"
    instance_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(new_key_text())
    return Keyring(decode_key(path.read_text()), older)


def install(keyring: Keyring) -> None:
    """Make ``keyring`` the one the encrypted columns and evidence files use. Keys installed
    before stay able to decrypt (one process may hold several apps, as tests do)."""
    global _keyring
    if _keyring is not None:
        previous = {key_id(_keyring.current): _keyring.current, **_keyring.older}
        previous.pop(key_id(keyring.current), None)
        keyring = Keyring(keyring.current, {**previous, **keyring.older})
    _keyring = keyring


def keyring() -> Keyring:
    if _keyring is None:
        raise RuntimeError("no data key loaded: create the app first")
    return _keyring


def encrypt_bytes(data: bytes, aad: bytes = b"") -> tuple[str, bytes]:
    ring = keyring()
    nonce = os.urandom(12)
    return key_id(ring.current), nonce + AESGCM(ring.current).encrypt(nonce, data, aad)


def decrypt_bytes(ident: str, blob: bytes, aad: bytes = b"") -> bytes:
    key = keyring().for_id(ident)
    try:
        return AESGCM(key).decrypt(blob[:12], blob[12:], aad)
    except InvalidTag as error:
        raise TamperedData("the stored data does not match its authentication tag") from error


def blind_index(value: str, key: bytes | None = None) -> str:
    """A keyed hash of ``value`` (hex) for equality look-ups: the same value under the same
    data key always gives the same index, and nobody without the key can compute it (so a
    stolen database can't be searched for a known UPN)."""
    data_key = keyring().current if key is None else key
    index_key = hashlib.sha256(b"tell-us-blind-index:" + data_key).digest()
    return hmac.new(index_key, value.encode(), hashlib.sha256).hexdigest()


def encrypt_text(value: str) -> str:
    ident, blob = encrypt_bytes(value.encode(), b"text")
    return f"{TEXT_PREFIX}{ident}:{base64.b64encode(blob).decode()}"


def decrypt_text(stored: str) -> str:
    if not stored.startswith(TEXT_PREFIX):
        return stored  # written before encryption; `portal rotate-key` encrypts it
    try:
        ident, payload = stored[len(TEXT_PREFIX):].split(":", 1)
        blob = base64.b64decode(payload, validate=True)
    except ValueError as error:
        raise TamperedData("the stored text is not in the expected form") from error
    return decrypt_bytes(ident, blob, b"text").decode()


def encrypt_file(data: bytes) -> bytes:
    ident, blob = encrypt_bytes(data, b"file")
    return FILE_MAGIC + ident.encode() + blob


def decrypt_file(stored: bytes) -> bytes:
    if not stored.startswith(FILE_MAGIC):
        return stored
    return decrypt_bytes(stored[4:12].decode(), stored[12:], b"file")
