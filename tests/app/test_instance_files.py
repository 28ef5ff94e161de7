"""The instance folder holds the data key, the secret key, the SQLite database and the
evidence files: only the portal's own user can read any of them (SECURITY P13), whatever
the umask the operator's shell had."""

from __future__ import annotations

import os
import stat

import pytest

from portal import create_app
from portal.config import Settings


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask():
    """The usual umask (0022): files 644, folders 755 unless the portal says otherwise."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_a_new_instance_folder_and_its_files_are_owner_only(tmp_path, monkeypatch,
                                                             loose_umask):
    instance = tmp_path / "instance"
    monkeypatch.setenv("PORTAL_INSTANCE_DIR", str(instance))
    monkeypatch.delenv("PORTAL_DATABASE_URL", raising=False)
    monkeypatch.delenv("PORTAL_SECRET_KEY", raising=False)
    monkeypatch.delenv("PORTAL_DATA_KEY", raising=False)
    app = create_app(Settings.from_env())
    with app.app_context():
        from sqlalchemy import text

        from portal.db import get_session

        get_session().execute(text("select 1"))
    assert _mode(instance) == 0o700
    for name in ("secret_key", "data_key", "portal.sqlite"):
        assert _mode(instance / name) == 0o600, name


def test_an_instance_folder_left_readable_by_others_is_narrowed(tmp_path, monkeypatch,
                                                                loose_umask):
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    database = instance / "portal.sqlite"
    database.touch(mode=0o644)
    monkeypatch.setenv("PORTAL_INSTANCE_DIR", str(instance))
    monkeypatch.delenv("PORTAL_DATABASE_URL", raising=False)
    create_app(Settings.from_env())
    assert _mode(instance) == 0o700
    assert _mode(database) == 0o600
