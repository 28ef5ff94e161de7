"""Fresh benchmark databases (SQLite files, PostgreSQL databases named ``bench*``) with a
school, its trusted adults and a DSL team, migrated exactly as production is."""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

import psycopg
from sqlalchemy import insert
from sqlalchemy.engine import make_url

from portal import migrate
from portal.auth.passwords import hash_password
from portal.db import make_engine
from portal.models import Role, School, TrustedAdult, User, utcnow

SLUG = "bench"
DSL_EMAIL = "dsl@bench.school"
PASSWORD = "bench-password-for-the-dsl-9"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # the DSL's authenticator, when 2FA is on
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/4")
# One data key for the whole run: the servers (PORTAL_DATA_KEY) and this process, which
# writes encrypted columns when it prepares and seeds the databases.
DATA_KEY = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def use_data_key() -> None:
    """Encrypt what this process writes under the run's data key (as the servers will)."""
    try:
        from portal import crypto
    except ImportError:  # a portal without encryption at rest
        return
    crypto.install(crypto.Keyring(crypto.decode_key(DATA_KEY)))


def sqlite_url(path: Path) -> str:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def _admin_dsn() -> str:
    return make_url(PG_ADMIN_URL).set(drivername="postgresql").render_as_string(
        hide_password=False)


def postgres_available() -> bool:
    try:
        with psycopg.connect(_admin_dsn(), connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def postgres_url(name: str) -> str:
    """A new, empty PostgreSQL database ``name`` (dropped first if it is there)."""
    if not name.startswith("bench"):
        raise ValueError("benchmark databases are named bench*")
    with psycopg.connect(_admin_dsn(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_postgres(name: str) -> None:
    if not name.startswith("bench"):
        raise ValueError("benchmark databases are named bench*")
    with psycopg.connect(_admin_dsn(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def prepare(url: str) -> None:
    """Migrate ``url`` to head and add the bench school with a DSL and a deputy."""
    use_data_key()
    migrate.upgrade(url)
    engine = make_engine(url)
    now = utcnow()
    password_hash = hash_password(PASSWORD)
    second_factor = {"totp_secret": TOTP_SECRET} if "totp_secret" in User.__table__.c else {}
    with engine.begin() as conn:
        school_id = conn.execute(insert(School).values(
            slug=SLUG, name="Benchmark Academy", exit_url="https://www.bbc.co.uk/weather",
            created_at=now).returning(School.id)).scalar_one()
        conn.execute(insert(TrustedAdult), [
            {"school_id": school_id, "name": name, "description": what, "position": i,
             "active": True}
            for i, (name, what) in enumerate([("Mrs Patel", "Class 4 teacher"),
                                              ("Mr Okafor", "Learning mentor")], start=1)])
        conn.execute(insert(User), [
            {"email": DSL_EMAIL, "display_name": "Bench DSL", "password_hash": password_hash,
             "role": Role.DSL, "school_id": school_id, "is_active": True, "created_at": now,
             **second_factor},
            {"email": "deputy@bench.school", "display_name": "Bench Deputy",
             "password_hash": password_hash, "role": Role.DEPUTY_DSL, "school_id": school_id,
             "is_active": True, "created_at": now, **second_factor},
        ])
    engine.dispose()


def enrol_tablets(url: str, count: int, secret_key: str) -> list[str | None]:
    """Enrol ``count`` kiosk tablets for the bench school, as its DSL would from the admin
    page; returns each tablet's signed enrolment cookie (None when the portal has no kiosks)."""
    try:
        from portal import kiosk
    except ImportError:
        return [None] * count
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    use_data_key()
    engine = make_engine(url)
    cookies: list[str | None] = []
    with Session(engine) as session:
        school = session.scalars(select(School).where(School.slug == SLUG)).one()
        dsl = session.scalars(select(User).where(User.email == DSL_EMAIL)).one()
        for number in range(1, count + 1):
            _device, cookie = kiosk.enrol(session, school, actor=dsl, label=f"Tablet {number}",
                                          secret_key=secret_key)
            cookies.append(cookie)
        session.commit()
    engine.dispose()
    return cookies
