"""Encrypt what names a pupil or says what happened (SECURITY P13), rows already stored too.

Revision ID: 0009
Revises: 0005
Create Date: 2026-12-01

Becomes encrypted text (``enc1:...``, portal.crypto): a pupil's UPN, names, date of birth,
year group, form and SEN status; a report's urgency reasons and the adult the pupil chose;
every event's old and new value; an outbox message's last error. A pupil's UPN gets a
blind index ``upn_hash`` (HMAC under a key derived from the data key) that keeps it unique
within the school. Downgrade decrypts everything back into the old columns.

Unlike the other migrations this one imports application code: portal.crypto, for the
data key (the one the app has installed, else the environment's or the instance file's,
as ``portal`` finds it) and the stored form every later version must still read.

On SQLite ``secure_delete`` is switched on while it runs, so the plaintext a row held is
overwritten rather than left in the file's free pages; on PostgreSQL the old row versions
stay on disk until ``VACUUM FULL`` (docs/security.md says so), and old backups keep them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | Sequence[str] | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, its type before, how PostgreSQL turns text back into it)
SEALED = [
    ('pupils', 'upn', sa.String(length=20), None),
    ('pupils', 'first_name', sa.String(length=80), None),
    ('pupils', 'last_name', sa.String(length=80), None),
    ('pupils', 'date_of_birth', sa.Date(), 'date_of_birth::date'),
    ('pupils', 'year_group', sa.String(length=30), None),
    ('pupils', 'form', sa.String(length=30), None),
    ('pupils', 'sen_status', sa.String(length=32), None),
    ('reports', 'urgency_reasons', sa.JSON(), 'urgency_reasons::json'),
    ('reports', 'preferred_adult', sa.String(length=160), None),
    ('events', 'old_value', sa.String(length=80), None),
    ('events', 'new_value', sa.String(length=80), None),
    ('outbox', 'last_error', sa.String(length=300), None),
]
SEN_CHECK = "sen_status IN ('N', 'K', 'E')"


def _crypto():  # type: ignore[no-untyped-def]
    """portal.crypto with a keyring installed: the app's, or the configured one."""
    from portal import crypto

    try:
        crypto.keyring()
    except RuntimeError:
        try:
            from flask import current_app

            settings = current_app.config["PORTAL_SETTINGS"]
        except (RuntimeError, KeyError):
            from portal.config import Settings

            settings = Settings.from_env()
        crypto.install(crypto.load_keyring(settings.instance_dir, settings.data_key))
    return crypto


def _columns(table: str) -> list[str]:
    return [column for name, column, _type, _using in SEALED if name == table]


def _rewrite(table: str, change: Callable[[str, str], str]) -> None:
    """Every non-null sealed value of ``table`` through ``change(column, value)``."""
    conn = op.get_bind()
    columns = _columns(table)
    shape = sa.table(table, sa.column('id', sa.Integer()),
                     *(sa.column(c, sa.Text()) for c in columns))
    rows = conn.execute(sa.select(shape)).all()
    for row in rows:
        values = {c: change(c, getattr(row, c)) for c in columns if getattr(row, c) is not None}
        if values:
            conn.execute(sa.update(shape).where(shape.c.id == row.id).values(values))


def _retype_in_place(table: str, column: str, new_type: str, nullable: bool = False) -> None:
    """SQLite: give ``column`` a new declared type without rebuilding the table (a rebuild
    can't copy ``reports.in_queue``, a generated column, and CASTs a date's text to a
    number): add, copy, drop, rename. A NOT NULL column added has a default; the ORM always
    sets a value."""
    null = "" if nullable else " NOT NULL DEFAULT ''"
    op.execute(f"ALTER TABLE {table} ADD COLUMN {column}_0009 {new_type}{null}")
    op.execute(f"UPDATE {table} SET {column}_0009 = {column}")
    op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    op.execute(f"ALTER TABLE {table} RENAME COLUMN {column}_0009 TO {column}")


def _to_text(table: str) -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'
    if table == 'reports' and not postgres:
        for column in _columns(table):
            _retype_in_place(table, column, 'TEXT')
        return
    with op.batch_alter_table(table, schema=None) as batch_op:
        for name, column, old_type, _using in SEALED:
            if name == table:
                batch_op.alter_column(column, existing_type=old_type, type_=sa.Text(),
                                      postgresql_using=f'{column}::text' if postgres else None)


def _from_text(table: str) -> None:
    if table == 'reports' and op.get_bind().dialect.name == 'sqlite':
        _retype_in_place(table, 'urgency_reasons', 'JSON')
        _retype_in_place(table, 'preferred_adult', 'VARCHAR(160)')
        return
    in_place = op.get_bind().dialect.name == 'sqlite' and table == 'pupils'
    if in_place:
        _retype_in_place(table, 'date_of_birth', 'DATE', nullable=True)
    with op.batch_alter_table(table, schema=None) as batch_op:
        for name, column, old_type, using in SEALED:
            if name == table and not (in_place and column == 'date_of_birth'):
                batch_op.alter_column(column, existing_type=sa.Text(), type_=old_type,
                                      postgresql_using=using)


def _secure_delete(on: bool) -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(f"PRAGMA secure_delete = {'ON' if on else 'OFF'}")


def upgrade() -> None:
    crypto = _crypto()
    _secure_delete(True)
    with op.batch_alter_table('pupils', schema=None) as batch_op:
        batch_op.drop_index('ix_pupils_school_last_first')
        batch_op.drop_constraint(op.f('uq_pupils_school_upn'), type_='unique')
        batch_op.drop_constraint(op.f('ck_pupils_sen_status'), type_='check')
        batch_op.add_column(sa.Column('upn_hash', sa.String(length=64), nullable=True))
    for table in ('pupils', 'reports', 'events', 'outbox'):
        _to_text(table)
    conn = op.get_bind()
    pupils = sa.table('pupils', sa.column('id', sa.Integer()), sa.column('upn', sa.Text()),
                      sa.column('upn_hash', sa.String()))
    for row in conn.execute(sa.select(pupils.c.id, pupils.c.upn)).all():
        conn.execute(sa.update(pupils).where(pupils.c.id == row.id).values(
            upn_hash=crypto.blind_index(crypto.decrypt_text(row.upn).strip().upper())))
    for table in ('pupils', 'reports', 'events', 'outbox'):
        # decrypt first: a value already sealed (written by a newer app) stays as it was
        _rewrite(table, lambda _c, v: crypto.encrypt_text(crypto.decrypt_text(v)))
    with op.batch_alter_table('pupils', schema=None) as batch_op:
        batch_op.alter_column('upn_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(op.f('uq_pupils_school_upn'), ['school_id', 'upn_hash'])
    _secure_delete(False)


def downgrade() -> None:
    crypto = _crypto()
    for table in ('pupils', 'reports', 'events', 'outbox'):
        _rewrite(table, lambda _c, v: crypto.decrypt_text(v))
    for table in ('pupils', 'reports', 'events', 'outbox'):
        _from_text(table)
    with op.batch_alter_table('pupils', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('uq_pupils_school_upn'), type_='unique')
        batch_op.drop_column('upn_hash')
        batch_op.create_unique_constraint(op.f('uq_pupils_school_upn'), ['school_id', 'upn'])
        batch_op.create_check_constraint(op.f('ck_pupils_sen_status'), sa.text(SEN_CHECK))
        batch_op.create_index('ix_pupils_school_last_first',
                              ['school_id', 'last_name', 'first_name'], unique=False)
