"""`portal rotate-key`: re-encrypt every encrypted value and evidence file under a new key,
and work out the blind indexes (a pupil's ``upn_hash``, the search index's terms) again
under it.

The old key is kept in ``instance/data_key.old`` while the work runs, so a crash half way
leaves everything readable; it is deleted when all is done."""

from __future__ import annotations

import base64
import os
from pathlib import Path

from flask import Flask
from sqlalchemy import select, update

from . import crypto, search
from .models import Base, upn_index
from .models.base import EncryptedText
from .models.event import ROTATE, unlocked


class RotationError(RuntimeError):
    """Rotation can't run here (for example the key is set by PORTAL_DATA_KEY)."""


def encrypted_columns() -> list[tuple[str, str]]:
    """(table, column) for every column stored with EncryptedText."""
    return [(table.name, column.name) for table in Base.metadata.sorted_tables
            for column in table.columns if isinstance(column.type, EncryptedText)]


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_suffix(path.suffix + ".new")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)


def rotate(app: Flask, instance_dir: Path, *, env_key: str | None) -> tuple[int, int]:
    if env_key:
        raise RotationError("The key comes from PORTAL_DATA_KEY. Set a new key there with the "
                            "old one in instance/data_key.old, or use the key file instead.")
    key_path, old_path = instance_dir / "data_key", instance_dir / "data_key.old"
    old = crypto.keyring().current
    new_text = crypto.new_key_text()
    # 1. Keep the old key where a restart would find it, then switch to the new one.
    with open(old_path, "a") as handle:
        handle.write(base64.urlsafe_b64encode(old).decode() + "\n")
    os.chmod(old_path, 0o600)
    _write_atomically(key_path, new_text.encode())
    crypto.install(crypto.load_keyring(instance_dir))
    # 2. Read every value (any key decrypts) and write it back (the new key encrypts).
    rows = 0
    engine = app.extensions["portal.engine"]
    # The events' payloads too: the append-only triggers let this one job rewrite them,
    # as long as nothing but the ciphertext changes (portal.models.event).
    with engine.begin() as connection, unlocked(connection, ROTATE):
        for table_name, column_name in encrypted_columns():
            table = Base.metadata.tables[table_name]
            column = table.c[column_name]
            # A row by its primary key (an id, or a composite key such as a school's day)
            key = list(table.primary_key.columns)
            for *ident, value in connection.execute(
                    select(*key, column.label("value")).where(column.is_not(None))).all():
                connection.execute(update(table).where(
                    *(c == v for c, v in zip(key, ident, strict=True)))
                    .values({column_name: value}))
                rows += 1
        # Blind indexes are keyed by the data key too: work them out under the new one.
        pupils = Base.metadata.tables["pupils"]
        for row_id, upn in connection.execute(select(pupils.c.id, pupils.c.upn)).all():
            connection.execute(update(pupils).where(pupils.c.id == row_id)
                               .values(upn_hash=upn_index(upn)))
        # The search index's terms too (portal.search), in the same transaction: a run
        # that stops half way leaves the old terms with the old key, and running
        # `portal rotate-key` again rebuilds them.
        search.rebuild(connection)
    # 3. Evidence files.
    files = 0
    folder = app.config["PORTAL_EVIDENCE_DIR"]
    if folder.exists():
        for path in folder.rglob("*"):
            if path.is_file() and not path.name.endswith(".new"):
                _write_atomically(path, crypto.encrypt_file(crypto.decrypt_file(
                    path.read_bytes())))
                files += 1
    # 4. Done: the old key is no longer needed.
    old_path.unlink()
    crypto.install(crypto.load_keyring(instance_dir))
    return rows, files
