"""Backups that restore (issue 18): `portal backup` takes one encrypted archive while reports
keep arriving, `portal restore` brings it back into an empty instance, and the restored
portal has every report, file and event the archive was taken with; an altered archive, a
wrong key and a non-empty instance are refused in words, restoring nothing. Run as the
commands a person types (subprocesses), on SQLite and, in CI, on PostgreSQL."""

from __future__ import annotations

import hashlib
import io
import os
import secrets
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from portal import backup, create_app, evidence
from portal.config import PROJECT_DIR, Settings
from portal.models import Event, Evidence, Report
from portal.reporting import operations
from tests.conftest import PUPIL


def picture(seed: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (seed % 256, 90, 160)).save(out, "PNG")
    return out.getvalue()


def submit(app: Any, school_id: int, n: int) -> int:
    """A pupil's report with a picture, as the form stores it: its id."""
    from portal.models import School

    extras = operations.Extras(files=tuple(evidence.clean_all([(f"p{n}.png", picture(n))])),
                               evidence_dir=app.config["PORTAL_EVIDENCE_DIR"])
    db: Session = app.extensions["portal.sessionmaker"]()
    try:
        school = db.get(School, school_id)
        stored = operations.submit_pupil_report(db, school, operations.PupilSubmission(
            about=PUPIL["about"], kinds=list(PUPIL["kinds"]),
            what_happened=f"Report {n}: they took my bag", places=list(PUPIL["places"]),
            when=PUPIL["when"], happened_before=PUPIL["happened_before"],
            who_involved=PUPIL["who_involved"], feels_safe=PUPIL["feels_safe"],
            anonymous=True, reporter_name="", reporter_class="", adult=PUPIL["adult"],
        ), token=secrets.token_urlsafe(24), extras=extras)
        db.commit()
        return stored.report.id
    finally:
        db.close()


def portal(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "portal.cli", *args], cwd=PROJECT_DIR,
                          env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=300, check=False)


@pytest.fixture
def restore_url(tmp_path: Path, database_url: str) -> Any:
    """An empty database to restore into: a new SQLite file, or a new PostgreSQL database
    beside the test one (dropped afterwards)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored' / 'portal.sqlite'}"
        return
    name = f"restore_{secrets.token_hex(4)}"
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


def key_and_folder(tmp_path: Path) -> tuple[Path, Path]:
    """A new backup key in a folder of its own, and the folder the backups go to."""
    key = tmp_path / "keys" / "backup.key"
    key.parent.mkdir()
    backup.new_key(key)
    destination = tmp_path / "backups"
    destination.mkdir()
    return key, destination


def facts(session: Session) -> dict[int, tuple[str, int, list[str]]]:
    """Each report's words, its number of events, and its files' kept hashes."""
    rows = {}
    for report in session.scalars(select(Report)):
        events = session.scalar(select(func.count()).select_from(Event)
                                .where(Event.report_id == report.id))
        rows[report.id] = (report.body, events,
                           sorted(e.sha256_kept for e in report.evidence))
    return rows


def test_a_backup_taken_while_reports_arrive_restores_whole(
        app, session, school, settings: Settings, tmp_path: Path, restore_url: str) -> None:
    before = [submit(app, school.id, n) for n in range(12)]
    key = tmp_path / "keys" / "backup.key"
    key.parent.mkdir()
    backup.new_key(key)
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    destination = tmp_path / "backups"
    destination.mkdir()
    env = {"PORTAL_INSTANCE_DIR": str(settings.instance_dir),
           "PORTAL_DATABASE_URL": settings.database_url,
           "PORTAL_SECRET_KEY": settings.secret_key}

    # Reports keep arriving the whole time the backup is taken.
    stop = threading.Event()
    during: list[int] = []

    def keep_reporting() -> None:
        n = 100
        while not stop.is_set():
            during.append(submit(app, school.id, n))
            n += 1

    worker = threading.Thread(target=keep_reporting)
    worker.start()
    try:
        made = portal("backup", str(destination), "--key-file", str(key), env=env)
    finally:
        stop.set()
        worker.join(timeout=60)
    assert made.returncode == 0, made.stderr
    assert "Backup written" in made.stdout
    (archive,) = destination.glob("tellus-*.backup")
    assert b"they took my bag" not in archive.read_bytes()  # encrypted as written
    assert during, "no report arrived while the backup was taken"

    restored_dir = tmp_path / "restored"
    back = portal("restore", str(archive), "--key-file", str(key),
                  env={"PORTAL_INSTANCE_DIR": str(restored_dir),
                       "PORTAL_DATABASE_URL": restore_url, "PORTAL_SECRET_KEY": ""})
    assert back.returncode == 0, back.stderr
    assert "Restored the backup" in back.stdout

    session.expire_all()
    original = facts(session)
    again = create_app(Settings(instance_dir=restored_dir, database_url=restore_url,
                                secret_key=secrets.token_hex(32), ratelimit_enabled=False))
    try:
        copy: Session = again.extensions["portal.sessionmaker"]()
        restored = facts(copy)
        # Every report from before the backup, whole: its words, its events, its files.
        for report_id in before:
            assert restored[report_id] == original[report_id]
        # Those that arrived meanwhile: each whole as of the copy, or not in it at all.
        for report_id in restored.keys() - set(before):
            words, events, hashes = restored[report_id]
            assert words == original[report_id][0]
            assert events >= 1
            assert len(hashes) == 1
        # Every kept file of the copy is there, readable with the restored key, unchanged.
        folder = again.config["PORTAL_EVIDENCE_DIR"]
        for item, school_id in copy.execute(select(Evidence, Report.school_id).join(
                Report, Report.id == Evidence.report_id)):
            data = evidence.read(folder / str(school_id) / item.stored_name)
            assert hashlib.sha256(data).hexdigest() == item.sha256_kept
        copy.close()
    finally:
        again.extensions["portal.engine"].dispose()


def test_an_altered_archive_a_wrong_key_and_a_used_instance_are_refused(
        app, session, school, settings: Settings, tmp_path: Path) -> None:
    submit(app, school.id, 1)
    key, other_key = tmp_path / "k1", tmp_path / "k2"
    backup.new_key(key)
    backup.new_key(other_key)
    destination = tmp_path / "backups"
    destination.mkdir()
    made = backup.backup(settings.database_url, settings.instance_dir, destination, key)
    empty = tmp_path / "empty"

    def restore_from(path: Path, with_key: Path, into: Path) -> str:
        url = f"sqlite:///{into / 'portal.sqlite'}"
        with pytest.raises(backup.BackupError) as refused:
            backup.restore(path, with_key, url, into)
        assert not (into / "portal.sqlite").exists()  # nothing restored
        return str(refused.value)

    assert "does not open with this key" in restore_from(made.path, other_key, empty)
    altered = tmp_path / "altered.backup"
    data = bytearray(made.path.read_bytes())
    data[len(data) // 2] ^= 0x01
    altered.write_bytes(bytes(data))
    assert "altered" in restore_from(altered, key, empty)
    cut = tmp_path / "cut.backup"
    cut.write_bytes(made.path.read_bytes()[: len(data) - 100])
    assert "cut short" in restore_from(cut, key, empty) or \
        "altered" in restore_from(cut, key, empty)
    used = tmp_path / "used"
    used.mkdir()
    (used / "data_key").write_text("x")
    assert "empty instance" in restore_from(made.path, key, used)


def test_the_backup_key_is_never_kept_with_the_backups_or_overwritten(
        settings: Settings, tmp_path: Path, app) -> None:
    key = tmp_path / "backup.key"
    backup.new_key(key)
    first = key.read_bytes()
    with pytest.raises(backup.BackupError, match="never overwritten"):
        backup.new_key(key)
    assert key.read_bytes() == first
    with pytest.raises(backup.BackupError, match="keep it somewhere else"):
        backup.backup(settings.database_url, settings.instance_dir, tmp_path, key)
    assert list(tmp_path.glob("tellus-*")) == []


def test_the_commands_fail_in_words_not_tracebacks(settings: Settings, tmp_path: Path,
                                                   app) -> None:
    env = {"PORTAL_INSTANCE_DIR": str(settings.instance_dir),
           "PORTAL_DATABASE_URL": settings.database_url,
           "PORTAL_SECRET_KEY": settings.secret_key}
    (tmp_path / "backups").mkdir()
    missing = portal("backup", str(tmp_path / "backups"), "--key-file",
                     str(tmp_path / "nokey"), env=env)
    assert missing.returncode == 1
    assert "No backup key" in missing.stderr
    assert "Traceback" not in missing.stderr
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"not a backup")
    key = tmp_path / "k"
    backup.new_key(key)
    refused = portal("restore", str(junk), "--key-file", str(key),
                     env={"PORTAL_INSTANCE_DIR": str(tmp_path / "new"),
                          "PORTAL_DATABASE_URL": f"sqlite:///{tmp_path / 'new' / 'p.sqlite'}"})
    assert refused.returncode == 1
    assert "not a Tell Us backup" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_a_key_anywhere_inside_the_backups_folder_is_refused(settings: Settings,
                                                             tmp_path: Path, app) -> None:
    """Only the folder itself was checked (trial M4): a key in a subfolder travelled with
    every copy of the backups."""
    destination = tmp_path / "backups"
    (destination / "keys").mkdir(parents=True)
    key = destination / "keys" / "backup.key"
    backup.new_key(key)
    with pytest.raises(backup.BackupError, match="keep it somewhere else"):
        backup.backup(settings.database_url, settings.instance_dir, destination, key)
    assert list(destination.glob("tellus-*")) == []


def test_a_key_hard_linked_into_the_backups_folder_is_refused(settings: Settings,
                                                              tmp_path: Path, app) -> None:
    """A hard link is the key itself under another name (second trial, low)."""
    key, destination = key_and_folder(tmp_path)
    (destination / "old").mkdir()
    os.link(key, destination / "old" / "notes.txt")
    with pytest.raises(backup.BackupError, match="keep it somewhere else"):
        backup.backup(settings.database_url, settings.instance_dir, destination, key)
    assert list(destination.glob("tellus-*")) == []


def test_archives_and_restored_files_are_their_owners_only(
        app, school, settings: Settings, tmp_path: Path, restore_url: str) -> None:
    """The archive was 0644 and restored evidence world-readable (trial M2)."""
    submit(app, school.id, 1)
    key, destination = key_and_folder(tmp_path)
    old_umask = os.umask(0o022)
    try:
        made = backup.backup(settings.database_url, settings.instance_dir, destination, key)
        into = tmp_path / "restored"
        backup.restore(made.path, key, restore_url, into)
    finally:
        os.umask(old_umask)
    assert made.path.stat().st_mode & 0o077 == 0
    evidence_dir = into / "evidence"
    kept = [p for p in evidence_dir.rglob("*")]
    assert any(p.is_file() for p in kept)
    for path in [evidence_dir, *kept]:
        assert path.stat().st_mode & 0o077 == 0, path
    if restore_url.startswith("sqlite"):
        assert (into / "portal.sqlite").stat().st_mode & 0o077 == 0


def test_a_killed_backup_leaves_no_plaintext_database_in_the_shared_temporary_folder(
        app, school, settings: Settings, tmp_path: Path, monkeypatch) -> None:
    """The copy of the database (plaintext) was made in /tmp and stayed there when the
    backup was killed (trial M3): it is made in the instance folder, and the next backup
    removes what a killed one left."""
    import tempfile as tempfile_module

    submit(app, school.id, 1)
    key, destination = key_and_folder(tmp_path)
    used: list[str] = []
    real = tempfile_module.TemporaryDirectory

    def watched(*args: Any, **kwargs: Any) -> Any:
        folder = real(*args, **kwargs)
        used.append(folder.name)
        return folder

    monkeypatch.setattr(backup.tempfile, "TemporaryDirectory", watched)
    backup.backup(settings.database_url, settings.instance_dir, destination, key)
    (work,) = used
    assert Path(work).parent == settings.instance_dir.resolve() or \
        Path(work).parent == settings.instance_dir
    # what a killed run leaves: its plaintext work folder (removed by the next run at once:
    # no other run holds the instance's lock) and its partial archive (encrypted; another
    # instance's may be in the same folder, so only an hours-old one is removed)
    left = settings.instance_dir / f"{backup.WORK_PREFIX}killed"
    left.mkdir()
    (left / "database.sqlite").write_bytes(b"plaintext")
    restore_left = settings.instance_dir / f"{backup.RESTORE_PREFIX}killed"
    restore_left.mkdir()
    partial = destination / "tellus-20260101T000000Z.partial"
    partial.write_bytes(b"half")
    hours_ago = __import__("time").time() - backup.STALE_SECONDS - 60
    os.utime(partial, (hours_ago, hours_ago))
    backup.backup(settings.database_url, settings.instance_dir, destination, key)
    assert not left.exists()
    assert not restore_left.exists()
    assert not partial.exists()


def test_a_second_backup_while_one_runs_is_refused_in_words(
        app, school, settings: Settings, tmp_path: Path) -> None:
    import fcntl

    key, destination = key_and_folder(tmp_path)
    settings.instance_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.instance_dir / backup.LOCK_FILE, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(backup.BackupError, match="Another backup or restore"):
            backup.backup(settings.database_url, settings.instance_dir, destination, key)
    assert list(destination.iterdir()) == []


def test_a_backup_of_an_instance_with_no_database_is_refused(tmp_path: Path) -> None:
    """A misconfigured cron job "succeeded" with an empty archive (second trial)."""
    key, destination = key_and_folder(tmp_path)
    empty = tmp_path / "nothing-here"
    empty.mkdir()
    import sqlite3

    sqlite3.connect(empty / "portal.sqlite").close()
    with pytest.raises(backup.BackupError, match="no Tell Us tables"):
        backup.backup(f"sqlite:///{empty / 'portal.sqlite'}", empty, destination, key)
    assert list(destination.iterdir()) == []
    assert not list(empty.glob(f"{backup.WORK_PREFIX}*"))


@pytest.mark.parametrize("side", ["-wal", "-shm", "-journal"])
def test_a_restore_beside_an_old_databases_side_files_is_refused(
        app, school, settings: Settings, tmp_path: Path, side: str) -> None:
    """SQLite would replay an old write-ahead log into the restored database (trial H5)."""
    submit(app, school.id, 1)
    key, destination = key_and_folder(tmp_path)
    made = backup.backup(settings.database_url, settings.instance_dir, destination, key)
    into = tmp_path / "restored"
    into.mkdir()
    (into / f"portal.sqlite{side}").write_bytes(b"left from the old database")
    with pytest.raises(backup.BackupError, match="left from an earlier database"):
        backup.restore(made.path, key, f"sqlite:///{into / 'portal.sqlite'}", into)
    assert not (into / "portal.sqlite").exists()
