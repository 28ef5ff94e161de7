"""Backups that restore (issue 18): one consistent, encrypted archive of an instance, taken
without stopping the portal, and brought back into an empty instance. No Flask here.

What an archive holds (a tar stream, encrypted as it is written):

- ``manifest.json``: the format, when it was taken, the database kind and its migration
  revision, the number of reports, events and evidence files, and each member's size and
  SHA-256 (checked on restore before anything is put in place);
- ``database.sqlite`` (SQLite's online backup API: a consistent copy while reports keep
  arriving) or ``database.pgdump`` (``pg_dump --format=custom``: one snapshot transaction);
- ``instance/evidence/…`` (the kept files, already encrypted with the data key),
  ``instance/risk-words/…`` (the school's own word lists) and ``instance/keys/…`` (the
  data keys and the session secret: without them the database and the files are unreadable).

The database is copied first, the files after: a file is written before its report commits,
so every evidence row in the copy finds its file. A file added after the copy may be in the
archive too, with no row; it is never shown or counted.

Encryption: the archive is a run of Fernet tokens (AES-128-CBC with HMAC-SHA256, from
``cryptography``), each sealing one numbered chunk and saying whether it is the last, so a
reordered, truncated or altered archive is refused, never half restored. The backup key is
its own key (``portal backup-key``), kept away from the backups and from the server: anyone
with an archive and its key holds every report.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import io
import json
import os
import shutil
import sqlite3
import struct
import subprocess  # nosec B404 (pg_dump and pg_restore, arguments a list, no shell)
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, make_url

from . import crypto

MAGIC = b"TELLUS-BACKUP-1\n"
FORMAT = 1
CHUNK = 1024 * 1024
HEADER = struct.Struct(">QB")  # the chunk's number, and 1 for the last chunk
LENGTH = struct.Struct(">I")
# What of the instance folder travels (the rest is made again at start: decode slots)
INSTANCE_DIRS = ("evidence", "risk-words")
KEY_FILES = ("data_key", "data_key.old", "secret_key")
COUNTED = ("reports", "events", "evidence")
# The plaintext copy of the database is made in a folder of the instance (as private as the
# database itself), never the machine's shared temporary folder; one left by a backup that
# was killed is removed by the next backup once it is this old
WORK_PREFIX = ".backup-work-"
RESTORE_PREFIX = ".restore-work-"
LOCK_FILE = ".backup.lock"
STALE_SECONDS = 6 * 3600
# SQLite's side files: a restored database beside a stale one would be a mix of two
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


class BackupError(Exception):
    """A backup or restore that cannot go ahead, in words for the person running it."""


# --- the key ------------------------------------------------------------------------------


def new_key(path: Path) -> None:
    """Write a new backup key to ``path`` (readable by its owner only); never overwrite."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise BackupError(f"{path} exists already: a backup key is never overwritten "
                          "(the backups made with it would be lost).") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(Fernet.generate_key() + b"\n")


def load_key(path: Path) -> Fernet:
    try:
        return Fernet(path.read_bytes().strip())
    except FileNotFoundError:
        raise BackupError(f"No backup key at {path}: make one with `portal backup-key`.") \
            from None
    except ValueError:
        raise BackupError(f"{path} is not a backup key made by `portal backup-key`.") from None


# --- the encrypted stream -----------------------------------------------------------------


class _Sealer(io.RawIOBase):
    """A write-only stream that seals what is written, a chunk at a time."""

    def __init__(self, out: IO[bytes], fernet: Fernet) -> None:
        self.out, self.fernet, self.buffer, self.number = out, fernet, bytearray(), 0
        out.write(MAGIC)

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.buffer.extend(data)
        while len(self.buffer) > CHUNK:
            self._seal(bytes(self.buffer[:CHUNK]), last=False)
            del self.buffer[:CHUNK]
        return len(data)

    def _seal(self, data: bytes, *, last: bool) -> None:
        token = self.fernet.encrypt(HEADER.pack(self.number, int(last)) + data)
        self.out.write(LENGTH.pack(len(token)) + token)
        self.number += 1

    def finish(self) -> None:
        self._seal(bytes(self.buffer), last=True)
        self.buffer.clear()


class _Opener(io.RawIOBase):
    """A read-only stream of what a sealed archive holds; refuses anything altered,
    reordered or cut short."""

    def __init__(self, source: IO[bytes], fernet: Fernet) -> None:
        if source.read(len(MAGIC)) != MAGIC:
            raise BackupError("This is not a Tell Us backup archive.")
        self.source, self.fernet, self.pending, self.number = source, fernet, b"", 0
        self.done = False

    def readable(self) -> bool:
        return True

    def _next(self) -> None:
        size = self.source.read(LENGTH.size)
        if len(size) < LENGTH.size:
            raise BackupError("The archive is cut short: it ends before its last part.")
        token = self.source.read(LENGTH.unpack(size)[0])
        try:
            plain = self.fernet.decrypt(token)
        except InvalidToken:
            raise BackupError("The archive does not open with this key, or it was "
                              "altered.") from None
        number, last = HEADER.unpack(plain[:HEADER.size])
        if number != self.number:
            raise BackupError("The archive's parts are out of order.")
        self.number += 1
        self.pending += plain[HEADER.size:]
        if last:
            self.done = True
            if self.source.read(1):
                raise BackupError("The archive has more after its last part.")

    def readinto(self, target: Any) -> int:
        while not self.pending and not self.done:
            self._next()
        size = min(len(target), len(self.pending))
        target[:size] = self.pending[:size]
        self.pending = self.pending[size:]
        return size


# --- the database -------------------------------------------------------------------------


def _kind(url: URL) -> str:
    if url.get_backend_name() == "sqlite":
        return "sqlite"
    if url.get_backend_name() == "postgresql":
        return "postgresql"
    raise BackupError(f"Backups know SQLite and PostgreSQL, not {url.get_backend_name()}.")


def _pg_args(url: URL) -> tuple[list[str], dict[str, str]]:
    """libpq's arguments for ``url``; the password goes in the environment, never on the
    command line (where other users of the machine could read it)."""
    args = ["--dbname", url.database or "", "--host", url.host or "127.0.0.1",
            "--port", str(url.port or 5432)]
    if url.username:
        args += ["--username", url.username]
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def _run(command: list[str], env: dict[str, str]) -> None:
    try:
        done = subprocess.run(command, env=env, capture_output=True,  # noqa: S603  # nosec
                              check=False)
    except FileNotFoundError:
        raise BackupError(f"{command[0]} is not installed (PostgreSQL's client tools).") \
            from None
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: "
                          f"{done.stderr.decode(errors='replace').strip()[:500]}")


def _copy_database(url: URL, into: Path) -> Path:
    """A consistent copy of the database in ``into``, taken while it is in use."""
    if _kind(url) == "sqlite":
        source_path = url.database or ""
        if not source_path or source_path == ":memory:" or not Path(source_path).exists():
            raise BackupError(f"There is no SQLite database at {source_path!r}.")
        target = _private_file(into / "database.sqlite")
        with contextlib.closing(sqlite3.connect(source_path)) as source, \
                contextlib.closing(sqlite3.connect(target)) as copy:
            source.backup(copy)  # the online backup API: pages copied under a read lock
        return target
    target = _private_file(into / "database.pgdump")
    args, env = _pg_args(url)
    _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
          "--file", str(target), *args], env)
    return target


def _facts(url: str) -> dict[str, Any]:
    """The migration revision and the counts of what matters, read from a database."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            revision = connection.execute(text("SELECT version_num FROM alembic_version")) \
                .scalar() if "alembic_version" in tables else None
            # the table names are this module's own (COUNTED), never anyone's input
            counts = {name: connection.execute(
                text(f"SELECT count(*) FROM {name}")).scalar()  # noqa: S608  # nosec
                for name in COUNTED if name in tables}
    finally:
        engine.dispose()
    return {"revision": revision, "counts": counts}


# --- backup -------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _members(instance_dir: Path, database: Path, keys: dict[str, bytes]) -> Iterator[
        tuple[str, Path | bytes]]:
    yield database.name, database
    for name in INSTANCE_DIRS:
        root = instance_dir / name
        if root.is_dir():
            for path in sorted(p for p in root.rglob("*") if p.is_file()):
                yield f"instance/{path.relative_to(instance_dir).as_posix()}", path
    for name, content in keys.items():
        yield f"instance/keys/{name}", content


def _keys(instance_dir: Path) -> dict[str, bytes]:
    """The data keys and the session secret: the files, or the keys in use when they came
    from the environment (PORTAL_DATA_KEY)."""
    found = {name: (instance_dir / name).read_bytes() for name in KEY_FILES
             if (instance_dir / name).is_file()}
    ring = crypto.keyring()
    found["data_key"] = base64.urlsafe_b64encode(ring.current)
    if ring.older:
        found["data_key.old"] = b"\n".join(base64.urlsafe_b64encode(k)
                                           for k in ring.older.values())
    return found


@dataclass(frozen=True)
class Made:
    path: Path
    counts: dict[str, int]
    files: int


def _key_apart(key_path: Path, destination: Path) -> None:
    """The key is not in the backups' folder, at any depth (issue 18's trial, M4: only the
    folder itself was checked): whoever copies the backups must not get the key too."""
    key = key_path.resolve()
    same_file = False
    if key.stat().st_nlink > 1:  # a hard link to the key may sit anywhere in the folder
        identity = (key.stat().st_dev, key.stat().st_ino)
        same_file = any((p.stat().st_dev, p.stat().st_ino) == identity
                        for p in destination.rglob("*") if p.is_file() and not p.is_symlink())
    if key.is_relative_to(destination) or same_file:
        raise BackupError("The backup key is in the folder the backups go to: keep it "
                          "somewhere else (whoever has both has every report).")


@contextlib.contextmanager
def _only_one(instance_dir: Path) -> Iterator[None]:
    """One backup or restore of an instance at a time (a lock file in it, held by the
    process: a killed run lets go at once). Holding it, whatever plaintext work folder is
    in the instance was left by a run that was killed, and is removed now (the second
    trial: a copy of the database stayed for hours)."""
    fd = os.open(instance_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError("Another backup or restore of this instance is running: wait "
                              "for it to finish.") from None
        for pattern in (f"{WORK_PREFIX}*", f"{RESTORE_PREFIX}*"):
            for left in instance_dir.glob(pattern):
                if left.is_dir() and not left.is_symlink():
                    shutil.rmtree(left, ignore_errors=True)
        yield
    finally:
        os.close(fd)


def _private_file(path: Path) -> Path:
    """An empty file only its owner may read, for a plaintext copy to be written into."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    return path


def _clear_stale_partials(destination: Path) -> None:
    """Remove the half-written archives killed backups left (older than STALE_SECONDS: not
    one being written now, by this instance or another backing up into the same folder).
    Their plaintext work folders are ``_only_one``'s to remove."""
    cutoff = time.time() - STALE_SECONDS
    for path in destination.glob("tellus-*.partial"):
        with contextlib.suppress(OSError):
            if path.lstat().st_mtime < cutoff:
                path.unlink()


def backup(database_url: str, instance_dir: Path, destination: Path, key_path: Path,
           *, now: datetime | None = None) -> Made:
    """Write one encrypted archive of the instance into the folder ``destination``."""
    fernet = load_key(key_path)
    destination = destination.resolve()
    if not destination.is_dir():
        raise BackupError(f"{destination} is not a folder: make it first.")
    _key_apart(key_path, destination)
    url = make_url(database_url)
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    stem = f"tellus-{moment:%Y%m%dT%H%M%SZ}"
    final = destination / f"{stem}.backup"
    for n in range(2, 100):  # two backups in one second: the second is "-2"
        if not final.exists() and not final.with_suffix(".partial").exists():
            break
        final = destination / f"{stem}-{n}.backup"
    instance_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    # another instance may back up into the same folder: only old partials are theirs no more
    _clear_stale_partials(destination)
    with _only_one(instance_dir), \
            tempfile.TemporaryDirectory(prefix=WORK_PREFIX, dir=instance_dir) as work:
        # mkdtemp's folder is its owner's only (0700), inside the instance folder
        database = _copy_database(url, Path(work))
        facts = _facts(f"sqlite:///{database}") if _kind(url) == "sqlite" \
            else _facts(database_url)
        if "reports" not in facts["counts"]:
            raise BackupError("The database has no Tell Us tables (check PORTAL_DATABASE_URL "
                              "and PORTAL_INSTANCE_DIR): no backup was written.")
        members = list(_members(instance_dir, database, _keys(instance_dir)))
        listing: list[dict[str, Any]] = [{"name": name, "size": len(item) if isinstance(item, bytes)
                    else item.stat().st_size,
                    "sha256": hashlib.sha256(item).hexdigest() if isinstance(item, bytes)
                    else _sha256(item)} for name, item in members]
        manifest = {"format": FORMAT, "taken_at": moment.isoformat(), "database": _kind(url),
                    **facts, "members": listing}
        partial = final.with_suffix(".partial")
        # readable by its owner only, like the key (issue 18's trial, M2)
        try:
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise BackupError(f"{partial.name} is being written by another backup into "
                              f"{destination}: wait a second and run it again.") from None
        with os.fdopen(fd, "wb") as out:
            sealer = _Sealer(out, fernet)
            with tarfile.open(fileobj=sealer, mode="w|gz") as archive:
                _add_bytes(archive, "manifest.json",
                           json.dumps(manifest, indent=1).encode())
                for name, item in members:
                    if isinstance(item, bytes):
                        _add_bytes(archive, name, item)
                    else:
                        archive.add(item, arcname=name, recursive=False)
            sealer.finish()
            out.flush()
            os.fsync(out.fileno())
        partial.replace(final)  # a backup is whole or not there
    files = sum(1 for m in listing if m["name"].startswith("instance/evidence/"))
    return Made(path=final, counts=facts["counts"], files=files)


def _add_bytes(archive: tarfile.TarFile, name: str, content: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(content)
    info.mode = 0o600
    archive.addfile(info, io.BytesIO(content))


# --- restore ------------------------------------------------------------------------------


def _empty(database_url: str, instance_dir: Path) -> None:
    """Refuse to restore over anything: the database has no tables, the instance folder
    holds no evidence and no keys."""
    url = make_url(database_url)
    if _kind(url) == "sqlite":
        path = Path(url.database or "")
        if path.exists() and path.stat().st_size > 0:
            raise BackupError(f"{path} exists: restore goes into an empty instance only.")
        for suffix in SQLITE_SIDE_FILES:
            side = Path(f"{path}{suffix}")
            if side.exists():
                raise BackupError(f"{side} is left from an earlier database: remove it (or "
                                  "restore somewhere else), or SQLite would mix it into "
                                  "the restored one.")
    else:
        engine = create_engine(database_url)
        try:
            with engine.connect() as connection:
                if inspect(connection).get_table_names():
                    raise BackupError("The PostgreSQL database has tables: restore goes into "
                                      "an empty database only.")
        finally:
            engine.dispose()
    for name in (*INSTANCE_DIRS, *KEY_FILES):
        path = instance_dir / name
        if path.is_file() or (path.is_dir() and any(path.iterdir())):
            raise BackupError(f"{path} exists: restore goes into an empty instance only.")


def _private(root: Path) -> None:
    """Folders 0700 and files 0600 under ``root``, whatever the umask (issue 18's trial,
    M2: restored evidence was readable by every user of the machine)."""
    os.chmod(root, 0o700)
    for path in root.rglob("*"):
        os.chmod(path, 0o700 if path.is_dir() else 0o600)


def _safe_name(name: str) -> Path:
    path = Path(name)
    if path.is_absolute() or ".." in path.parts:
        raise BackupError(f"The archive names a file outside the instance: {name!r}.")
    return path


@dataclass(frozen=True)
class Restored:
    counts: dict[str, int]
    files: int
    taken_at: str


def restore(archive_path: Path, key_path: Path, database_url: str,
            instance_dir: Path) -> Restored:
    """Bring an archive back into an empty instance: everything is checked against the
    manifest first, then put in place."""
    fernet = load_key(key_path)
    _empty(database_url, instance_dir)
    instance_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(instance_dir, 0o700)  # a folder made before, 0755, would show what is restored
    with _only_one(instance_dir), \
            tempfile.TemporaryDirectory(prefix=RESTORE_PREFIX, dir=instance_dir) as work:
        root = Path(work)
        manifest: dict[str, Any] | None = None
        with archive_path.open("rb") as source:
            opener = io.BufferedReader(_Opener(source, fernet), CHUNK)
            try:
                with tarfile.open(fileobj=opener, mode="r|gz") as archive:
                    for member in archive:
                        if not member.isfile():
                            raise BackupError(f"Unexpected entry in the archive: "
                                              f"{member.name!r}.")
                        target = root / _safe_name(member.name)
                        target.parent.mkdir(parents=True, exist_ok=True)
                        handle = archive.extractfile(member)
                        assert handle is not None  # a regular file (checked above)
                        with target.open("wb") as out:
                            shutil.copyfileobj(handle, out, CHUNK)
                        if member.name == "manifest.json":
                            manifest = json.loads(target.read_text())
            except (tarfile.TarError, EOFError, OSError) as error:
                raise BackupError(f"The archive could not be read: {error}.") from None
        if manifest is None or manifest.get("format") != FORMAT:
            raise BackupError("The archive has no manifest this version understands.")
        for member in manifest["members"]:
            path = root / _safe_name(member["name"])
            if not path.is_file() or _sha256(path) != member["sha256"]:
                raise BackupError(f"{member['name']} does not match the manifest: "
                                  "nothing was restored.")
        url = make_url(database_url)
        if manifest["database"] != _kind(url):
            raise BackupError(f"The archive holds a {manifest['database']} database; this "
                              f"instance uses {_kind(url)}.")
        if _kind(url) == "sqlite":
            target = Path(url.database or "")
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            shutil.copyfile(root / "database.sqlite", _private_file(target))
            os.chmod(target, 0o600)
        else:
            args, env = _pg_args(url)
            _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error",
                  *args, str(root / "database.pgdump")], env)
        for name in (*INSTANCE_DIRS,):
            kept = root / "instance" / name
            if kept.is_dir():
                shutil.copytree(kept, instance_dir / name, dirs_exist_ok=True)
                _private(instance_dir / name)
        for name in KEY_FILES:
            kept = root / "instance" / "keys" / name
            if kept.is_file():
                fd = os.open(instance_dir / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as out:
                    out.write(kept.read_bytes())
        files = sum(1 for m in manifest["members"]
                    if m["name"].startswith("instance/evidence/"))
        return Restored(counts=_facts(database_url)["counts"], files=files,
                        taken_at=manifest["taken_at"])


__all__ = ["BackupError", "Made", "Restored", "backup", "load_key", "new_key", "restore"]
