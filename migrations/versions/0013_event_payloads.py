"""Events carry a structured payload (JSON, encrypted) instead of packed strings, and the
database refuses to change or delete them (issue 13 item 1).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02

Upgrade reads every event's ``old_value``, ``new_value`` and ``text`` (decrypted with the
data key, as 0009 sealed them), turns the shape each action wrote ("12:target",
"new->done", "responding:interview_all", comma-joined kinds cut to 80 characters, "report
7 of 2026-01-01", "Account 3 added ...") into the payload of portal.events.SCHEMAS, and
drops the three columns: the payload is the one place what happened is kept, so nothing
can read a stale half of it. A row whose values do not have the shape its action wrote
stops the migration (naming the event), rather than being guessed at.

A kinds list that may have been cut (80 characters exactly) is taken whole, for the
latest change of a report, from the report's kinds now; one that can't be recovered keeps
what was left and ``"complete": false``, which the chronology shows.

Then ``event_unlocks`` and the append-only triggers (portal.models.event): UPDATE and
DELETE on ``events`` fail unless the retention purge (this report's events only) or a key
rotation (the ciphertext only) has unlocked them inside its transaction.

Downgrade drops the triggers and writes the old columns back from the payloads, in the
old shapes (a kinds list whole, no longer cut: the column is text since 0009).

Like 0009 this imports portal.crypto, for the data key and the stored form.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | Sequence[str] | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CUT = 80  # what the old code kept of a comma-joined kinds list

_SAME_ROW = ("NEW.id = OLD.id AND NEW.action = OLD.action"
             " AND NEW.school_id IS NOT DISTINCT FROM OLD.school_id"
             " AND NEW.report_id IS NOT DISTINCT FROM OLD.report_id"
             " AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id"
             " AND NEW.staff_address IS NOT DISTINCT FROM OLD.staff_address"
             " AND NEW.created_at = OLD.created_at")
_MAY_UPDATE = ("EXISTS (SELECT 1 FROM event_unlocks WHERE purpose = 'rotate') AND "  # noqa: S608
               + _SAME_ROW)
_MAY_DELETE = ("EXISTS (SELECT 1 FROM event_unlocks WHERE purpose = 'purge'"
               " AND report_id = OLD.report_id)")
SQLITE_TRIGGERS = [
    "CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events "
    f"WHEN NOT ({_MAY_UPDATE.replace('IS NOT DISTINCT FROM', 'IS')}) "
    "BEGIN SELECT RAISE(ABORT, 'events are append-only'); END",
    "CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events "
    f"WHEN NOT ({_MAY_DELETE}) "
    "BEGIN SELECT RAISE(ABORT, 'events are append-only'); END",
]
POSTGRESQL_TRIGGERS = [
    "CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"IF TG_OP = 'UPDATE' AND {_MAY_UPDATE} THEN RETURN NEW; END IF; "
    f"IF TG_OP = 'DELETE' AND {_MAY_DELETE} THEN RETURN OLD; END IF; "
    "RAISE EXCEPTION 'events are append-only' USING ERRCODE = 'integrity_constraint_violation'; "
    "END $$",
    "CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events "
    "FOR EACH ROW EXECUTE FUNCTION events_append_only()",
    # TRUNCATE fires no row trigger: a statement trigger refuses it (nothing may empty the
    # trail; the purge deletes one report's events at a time).
    "CREATE FUNCTION events_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "RAISE EXCEPTION 'events are append-only' USING ERRCODE = 'integrity_constraint_violation'; "
    "END $$",
    "CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events "
    "FOR EACH STATEMENT EXECUTE FUNCTION events_no_truncate()",
]


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


class OldShapeError(RuntimeError):
    """An event whose stored values are not in the shape its action wrote."""


Old = tuple[str | None, str | None, str | None]  # old_value, new_value, text


def _id(value: str | None) -> int:
    if value is None or not value.isdigit():
        raise ValueError(f"not an id: {value!r}")
    return int(value)


def _optional_id(value: str | None) -> int | None:
    return None if value in (None, "") else _id(value)


def _link(value: str | None) -> dict[str, Any]:
    pupil, _, role = (value or "").partition(":")
    if not role:
        raise ValueError(f"not pupil:role: {value!r}")
    return {"pupil_id": _id(pupil), "role": role}


def _kinds(value: str | None) -> list[str]:
    return [k for k in (value or "").split(",") if k]


def _needs(old: Old, *allowed: str) -> None:
    """Refuse a row with a value in a column its action never wrote (it would be lost)."""
    for name, value in zip(("old", "new", "text"), old, strict=True):
        if value is not None and value != "" and name not in allowed:
            raise ValueError(f"unexpected {name} value")


_PURGED = re.compile(r"report (\d+) of (\d{4}-\d{2}-\d{2})")
_ACCOUNT_ADDED = re.compile(r"Account (\d+) added from the command line")
_PASSWORD = re.compile(r"Account (\d+): (.+)", re.S)
_ROSTER = re.compile(r"(\d+) added, (\d+) updated, (\d+) unchanged")
_SETTING = re.compile(r"(\w+): (.*) → (.*)", re.S)


def _full(pattern: re.Pattern[str], value: str | None) -> re.Match[str]:
    found = pattern.fullmatch(value or "")
    if found is None:
        raise ValueError(f"{value!r} does not match {pattern.pattern}")
    return found


def _plain(old: Old) -> dict[str, Any]:
    _needs(old)
    return {}


def _received(old: Old) -> dict[str, Any]:
    _needs(old, "new")
    return {"source": old[1] or None}


def _purged(old: Old) -> dict[str, Any]:
    _needs(old, "old", "new")
    found = _full(_PURGED, old[1])
    return {"retention_class": old[0] or "", "report_id": int(found[1]),
            "reported_on": found[2]}


def _assigned(old: Old) -> dict[str, Any]:
    _needs(old, "old", "new")
    return {"from": _optional_id(old[0]), "to": _optional_id(old[1])}


def _changed(old: Old) -> dict[str, Any]:
    _needs(old, "old", "new", "text")
    if not old[0] or not old[1]:
        raise ValueError("no from or to")
    return {"from": old[0], "to": old[1], "reason": old[2] or ""}


def _text(key: str) -> Callable[[Old], dict[str, Any]]:
    def convert(old: Old) -> dict[str, Any]:
        _needs(old, "text")
        return {key: old[2] or ""}
    return convert


def _optional_text(key: str, value: str) -> Callable[[Old], dict[str, Any]]:
    def convert(old: Old) -> dict[str, Any]:
        _needs(old, "new", "text")
        if not old[1]:
            raise ValueError(f"no {value}")
        return {key: old[1], "note": old[2] or None}
    return convert


def _numbered(key: str) -> Callable[[Old], dict[str, Any]]:
    def convert(old: Old) -> dict[str, Any]:
        _needs(old, "new")
        return {key: _id(old[1])}
    return convert


def _named(key: str) -> Callable[[Old], dict[str, Any]]:
    def convert(old: Old) -> dict[str, Any]:
        _needs(old, "new")
        if not old[1]:
            raise ValueError(f"no {key}")
        return {key: old[1]}
    return convert


def _kinds_changed(old: Old) -> dict[str, Any]:
    _needs(old, "old", "new", "text")
    return {"from": _kinds(old[0]), "to": _kinds(old[1]), "reason": old[2] or "",
            # set from the neighbours in _recover_kinds
            "complete": len(old[0] or "") < CUT and len(old[1] or "") < CUT}


def _step(old: Old) -> dict[str, Any]:
    _needs(old, "old", "new", "text")
    checklist, _, step = (old[0] or "").partition(":")
    before, arrow, after = (old[1] or "").partition("->")
    if not step or not arrow:
        raise ValueError("not checklist:step and old->new")
    return {"checklist": checklist, "step": step, "from": before, "to": after,
            "note": old[2] or None}


def _unlinked(old: Old) -> dict[str, Any]:
    _needs(old, "old", "text")
    return {**_link(old[0]), "reason": old[2] or ""}


def _linked(old: Old) -> dict[str, Any]:
    _needs(old, "new")
    return _link(old[1])


def _settings(old: Old) -> dict[str, Any]:
    _needs(old, "text")
    changes = []
    for part in (old[2] or "").split("; "):
        found = _full(_SETTING, part)
        changes.append({"setting": found[1], "from": found[2], "to": found[3]})
    return {"changes": changes}


def _user_created(old: Old) -> dict[str, Any]:
    _needs(old, "new", "text")
    if not old[1]:
        raise ValueError("no role")
    return {"user_id": int(_full(_ACCOUNT_ADDED, old[2])[1]), "role": old[1]}


def _password(old: Old) -> dict[str, Any]:
    _needs(old, "text")
    found = _full(_PASSWORD, old[2])
    return {"user_id": int(found[1]), "why": found[2]}


def _roster(old: Old) -> dict[str, Any]:
    _needs(old, "text")
    found = _full(_ROSTER, old[2])
    return {"added": int(found[1]), "updated": int(found[2]), "unchanged": int(found[3])}


UPGRADE: dict[str, Callable[[Old], dict[str, Any]]] = {
    "report.received": _received,
    "report.purged": _purged,
    "case.viewed": _plain,
    "case.acknowledged": _plain,
    "case.assigned": _assigned,
    "status.changed": _changed,
    "category.changed": _changed,
    "note.added": _text("note"),
    "kinds.changed": _kinds_changed,
    "checklist.added": _named("checklist"),
    "step.updated": _step,
    "action.recorded": _optional_text("action", "action kind"),
    "message.to_reporter": _plain,
    "message.from_reporter": _plain,
    "evidence.downloaded": _numbered("evidence_id"),
    "hold.set": _text("reason"),
    "hold.lifted": _text("reason"),
    "pupil.linked": _linked,
    "pupil.unlinked": _unlinked,
    "pupil.viewed": _numbered("pupil_id"),
    "pupil.saved": _numbered("pupil_id"),
    "roster.imported": _roster,
    "adult.added": _numbered("adult_id"),
    "adult.shown": _numbered("adult_id"),
    "adult.hidden": _numbered("adult_id"),
    "school.created": _named("slug"),
    "school.settings": _settings,
    "device.enrolled": _numbered("device_id"),
    "device.revoked": _numbered("device_id"),
    "user.created": _user_created,
    "user.2fa_reset": _numbered("user_id"),
    "user.unlocked": _numbered("user_id"),
    "user.password_reset": _password,
    "staff.login": _named("method"),
    "staff.2fa_enrolled": _plain,
    "staff.logout": _plain,
}


def _downgrade(action: str, p: dict[str, Any]) -> Old:
    """The old columns of an event from its payload, in the shape the old code wrote."""
    def s(value: Any) -> str | None:
        return None if value is None else str(value)

    if action in ("status.changed", "category.changed"):
        return p["from"], p["to"], p["reason"] or None
    if action == "kinds.changed":
        return ",".join(p["from"]), ",".join(p["to"]), p["reason"] or None
    if action == "case.assigned":
        return s(p["from"]) or "", s(p["to"]) or "", None
    if action == "report.received":
        return None, p["source"], None
    if action == "report.purged":
        return p["retention_class"], f"report {p['report_id']} of {p['reported_on']}", None
    if action in ("note.added",):
        return None, None, p["note"]
    if action in ("hold.set", "hold.lifted"):
        return None, None, p["reason"]
    if action == "step.updated":
        return f"{p['checklist']}:{p['step']}", f"{p['from']}->{p['to']}", p["note"]
    if action == "action.recorded":
        return None, p["action"], p["note"]
    if action == "pupil.linked":
        return None, f"{p['pupil_id']}:{p['role']}", None
    if action == "pupil.unlinked":
        return f"{p['pupil_id']}:{p['role']}", None, p["reason"]
    if action == "school.settings":
        return None, None, "; ".join(f"{c['setting']}: {c['from']} → {c['to']}"
                                     for c in p["changes"])
    if action == "user.created":
        return None, p["role"], f"Account {p['user_id']} added from the command line"
    if action == "user.password_reset":
        return None, None, f"Account {p['user_id']}: {p['why']}"
    if action == "roster.imported":
        return None, None, (f"{p['added']} added, {p['updated']} updated, "
                            f"{p['unchanged']} unchanged")
    if not p:
        return None, None, None
    (value,) = p.values()  # one id, slug, checklist or method
    return None, s(value), None


def _recover_kinds(rows: list[dict[str, Any]], now: dict[int, list[str]]) -> None:
    """Make a cut kinds list whole where the database still knows it: the latest change of
    a report changed its kinds to what the report has now. A list cut to 80 characters
    was at least that long, so the events either side (cut the same way) can't help; any
    other cut list keeps what is left, marked incomplete."""
    latest: dict[int | None, dict[str, Any]] = {}
    for row in rows:
        if row["action"] == "kinds.changed":
            latest[row["report_id"]] = row  # rows are in time order within a report
    for row in rows:
        if row["action"] != "kinds.changed" or row["payload"]["complete"]:
            continue
        payload, (old, new) = row["payload"], row["old"]
        whole_to = len(new or "") < CUT
        current = now.get(row["report_id"], []) if row["report_id"] is not None else []
        if not whole_to and latest.get(row["report_id"]) is row:
            # the rows of report_kinds have no order of their own: as stored, or sorted
            for candidate in (current, sorted(current)):
                if ",".join(candidate).startswith(new or ""):
                    payload["to"] = list(candidate)
                    whole_to = True
                    break
        payload["complete"] = whole_to and len(old or "") < CUT


def _events(columns: Sequence[str]) -> sa.TableClause:
    return sa.table("events", sa.column("id", sa.Integer()),
                    sa.column("report_id", sa.Integer()), sa.column("action", sa.String()),
                    sa.column("created_at", sa.DateTime()),
                    *(sa.column(c, sa.Text()) for c in columns))


def upgrade() -> None:
    crypto = _crypto()
    conn = op.get_bind()
    # Every row is read and converted before the table changes: a row that can't be read
    # without loss stops the migration with the database as it was (SQLite's DDL is not
    # transactional under Alembic).
    events = _events(("old_value", "new_value", "text", "payload"))

    def plain(value: str | None) -> str | None:
        return None if value is None else crypto.decrypt_text(value)

    rows = []
    for row in conn.execute(sa.select(*(c for c in events.c if c.name != "payload")).order_by(
            events.c.report_id, events.c.created_at, events.c.id)).all():
        old: Old = (plain(row.old_value), plain(row.new_value), plain(row.text))
        convert = UPGRADE.get(row.action)
        try:
            if convert is None:
                raise ValueError("not an action the portal ever wrote")
            payload = convert(old)
        except ValueError as error:
            raise OldShapeError(f"event {row.id} ({row.action}): {error}; nothing was "
                                "changed (migration 0013)") from error
        rows.append({"id": row.id, "report_id": row.report_id, "action": row.action,
                     "old": old[:2], "payload": payload})
    kinds = sa.table("report_kinds", sa.column("report_id", sa.Integer()),
                     sa.column("kind", sa.String()))
    now: dict[int, list[str]] = {}
    for report_id, kind in conn.execute(sa.select(kinds.c.report_id, kinds.c.kind)).all():
        now.setdefault(report_id, []).append(kind)
    _recover_kinds(rows, now)
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payload", sa.Text(), nullable=True))
    for row in rows:
        conn.execute(sa.update(events).where(events.c.id == row["id"]).values(
            payload=crypto.encrypt_text(json.dumps(row["payload"], ensure_ascii=False,
                                                   separators=(",", ":")))))
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.alter_column("payload", existing_type=sa.Text(), nullable=False)
        batch_op.drop_column("old_value")
        batch_op.drop_column("new_value")
        batch_op.drop_column("text")
    op.create_table(
        "event_unlocks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_unlocks")),
    )
    for statement in (SQLITE_TRIGGERS if conn.dialect.name == "sqlite"
                      else POSTGRESQL_TRIGGERS):
        op.execute(statement)


def downgrade() -> None:
    crypto = _crypto()
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS events_append_only_update")
        op.execute("DROP TRIGGER IF EXISTS events_append_only_delete")
    else:
        op.execute("DROP FUNCTION IF EXISTS events_append_only() CASCADE")
        op.execute("DROP FUNCTION IF EXISTS events_no_truncate() CASCADE")
    op.drop_table("event_unlocks")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("old_value", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("new_value", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("text", sa.Text(), nullable=True))
    events = _events(("old_value", "new_value", "text", "payload"))
    for row in conn.execute(sa.select(events.c.id, events.c.action, events.c.payload)).all():
        old = _downgrade(row.action, json.loads(crypto.decrypt_text(row.payload)))
        conn.execute(sa.update(events).where(events.c.id == row.id).values(
            old_value=None if old[0] is None else crypto.encrypt_text(old[0]),
            new_value=None if old[1] is None else crypto.encrypt_text(old[1]),
            text=None if old[2] is None else crypto.encrypt_text(old[2])))
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("payload")
