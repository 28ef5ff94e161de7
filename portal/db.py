"""The database engine and one session per request."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

from .config import private_file


def _owner_only_file(url: str) -> None:
    """Make the SQLite database file owner-only before SQLite makes it under the usual
    umask (its -wal and -shm files take the database file's mode); narrow an existing one."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database).expanduser()
    if path.parent.is_dir() and not path.exists():
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    private_file(path)


def make_engine(url: str) -> Engine:
    """An engine tuned for the embedded default (SQLite) or PostgreSQL."""
    if url.startswith("sqlite"):
        _owner_only_file(url)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            # WAL lets readers and one writer work at once; the busy timeout makes a burst
            # of writers queue instead of failing; secure_delete overwrites deleted rows.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            # 16 MiB of page cache per connection (the default is 2 MiB): the queue's
            # indexes of a large school stay in memory between requests.
            cursor.execute("PRAGMA cache_size=-16384")
            cursor.close()

        return engine
    return create_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)


def refresh_statistics(conn: Connection) -> None:
    """Fresh statistics for the query planners after a bulk change (``portal seed``, the
    nightly ``portal purge``). PostgreSQL's autovacuum does this by itself in time; SQLite
    never does, and without statistics it may pick a slower index for a filtered queue.
    On SQLite each index is sampled (analysis_limit), so this takes moments, not minutes."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA analysis_limit=2000")
    conn.exec_driver_sql("ANALYZE")


def init_app(app: Flask, url: str) -> None:
    """Attach an engine and a session factory to ``app``; close the session after each request."""
    engine = make_engine(url)
    app.extensions["portal.engine"] = engine
    app.extensions["portal.sessionmaker"] = sessionmaker(bind=engine, expire_on_commit=False)

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            session.rollback()
            session.close()


def get_session() -> Session:
    """The session of the current request (or app context)."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["portal.sessionmaker"]()
    session: Session = g.db_session
    return session


@contextmanager
def session_scope(app: Flask) -> Iterator[Session]:
    """A session outside a request (CLI, jobs): commit on success, roll back on error."""
    session: Session = app.extensions["portal.sessionmaker"]()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
