"""Alembic environment for the portal.

The database is, in order: a connection handed over in ``config.attributes["connection"]``
(tests), ``config.attributes["database_url"]`` (portal.migrate, ``portal db upgrade``), the
``sqlalchemy.url`` option, the current Flask app's settings, or ``PORTAL_DATABASE_URL`` /
the default SQLite file in ``instance/`` (portal.config.Settings).
"""

from __future__ import annotations

from logging.config import fileConfig
from typing import Any

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import create_engine, pool
from sqlalchemy.types import TypeDecorator

from portal.models import Base

config = context.config

if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def database_url() -> str:
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    if url:
        return str(url)
    try:
        from flask import current_app

        return str(current_app.config["PORTAL_SETTINGS"].database_url)
    except (RuntimeError, KeyError):
        pass
    from portal.config import Settings

    return Settings.from_env().database_url


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | bool:
    """Write the portal's own column types as the plain SQLAlchemy type they store.

    ``UTCDateTime`` only converts values in Python; in the database it is
    ``DateTime(timezone=True)``, and a migration must not import application code.
    """
    if type_ == "type" and isinstance(obj, TypeDecorator):
        impl = obj.impl_instance
        if type(impl).__module__.startswith("sqlalchemy."):
            return f"sa.{impl!r}"
    return False


def _configure(**kwargs: Any) -> None:
    context.configure(
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        render_item=render_item,
        **kwargs,
    )


def run_migrations_offline() -> None:
    _configure(url=database_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return

    engine = create_engine(database_url(), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            _configure(connection=connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
