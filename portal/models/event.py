"""The append-only chronology and audit trail."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from datetime import datetime
from typing import Any

from sqlalchemy import DDL, Connection, ForeignKey, Index, String, event, insert
from sqlalchemy import delete as sql_delete
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from ..events import Action, check_payload
from .base import Base, EncryptedJSON, UTCDateTime, utcnow
from .user import User


class AppendOnlyError(RuntimeError):
    """An attempt to change or delete an audit event through the application."""


class Event(Base):
    """Something that happened: a report arrived, was viewed, changed, noted; a login.

    KCSIE record keeping asks for concerns, decisions and their reasons in writing; an
    event is never edited or deleted by the application, corrections are new events.
    Events hold staff-written reasons and notes, never the reporter's words.

    ``action`` is one of ``portal.events.Action``; ``payload`` is what that action records
    (``portal.events.SCHEMAS``), checked on write, encrypted like every value that names a
    pupil or says what happened, so the chronology says what happened only to the app.
    The database refuses UPDATE and DELETE on this table (triggers below) except the two
    maintenance jobs ``unlocked`` names.
    """

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_report_created", "report_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON())
    # The network address of a member of staff acting (audit: "from which staff address").
    # Never set for reporters: an event without an actor has no address.
    staff_address: Mapped[str | None] = mapped_column(String(45))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    actor: Mapped[User | None] = relationship()

    @classmethod
    def new(cls, action: Action, payload: Mapping[str, Any] | None = None,
            **columns: Any) -> Event:
        """An event of ``action`` with its payload checked against the action's schema."""
        return cls(action=action.value, payload=check_payload(action, payload), **columns)

    @classmethod
    def by(cls, actor: User, action: Action, payload: Mapping[str, Any] | None = None,
           **columns: Any) -> Event:
        """An event done by a member of staff, with the address they acted from."""
        return cls.new(action, payload, actor_id=actor.id, staff_address=actor.address,
                       **columns)


class EventUnlock(Base):
    """While a row is here, inside one transaction, the database lets one maintenance job
    touch events: ``purge`` deletes the events of report ``report_id`` (the retention rule,
    SECURITY P12), ``rotate`` re-encrypts payloads without changing anything else (``portal
    rotate-key``). ``unlocked`` adds the row and removes it before the transaction ends,
    so no other transaction ever sees it (PostgreSQL) or runs beside it (SQLite)."""

    __tablename__ = "event_unlocks"

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))
    report_id: Mapped[int | None] = mapped_column()


PURGE = "purge"
ROTATE = "rotate"


@contextmanager
def unlocked(connection: Connection | Session, purpose: str,
             report_id: int | None = None) -> Iterator[None]:
    """Let one maintenance job through the append-only triggers for this block only."""
    if purpose not in (PURGE, ROTATE):
        raise ValueError(f"no such maintenance job: {purpose}")
    result = connection.execute(insert(EventUnlock).values(purpose=purpose, report_id=report_id)
                                .returning(EventUnlock.id))
    unlock_id = result.scalar_one()
    relock = sql_delete(EventUnlock).where(EventUnlock.id == unlock_id)
    try:
        yield
    except BaseException:
        # On PostgreSQL a failed statement aborts the transaction, and its rollback takes
        # the row away; SQLite carries on, so the row is removed here too.
        with suppress(SQLAlchemyError):
            connection.execute(relock)
        raise
    connection.execute(relock)


# The database's own guard. A DELETE passes only for the events of a report the purge has
# named; an UPDATE only while a rotation runs, and only if nothing but the encrypted
# payload changes (the same words under a new key). A raw `UPDATE events SET ...` or
# `DELETE FROM events` fails on both databases. The SQL is repeated in migration 0013.
_SAME_ROW = ("NEW.id = OLD.id AND NEW.action = OLD.action"
             " AND NEW.school_id IS NOT DISTINCT FROM OLD.school_id"
             " AND NEW.report_id IS NOT DISTINCT FROM OLD.report_id"
             " AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id"
             " AND NEW.staff_address IS NOT DISTINCT FROM OLD.staff_address"
             " AND NEW.created_at = OLD.created_at")
_MAY_UPDATE = ("EXISTS (SELECT 1 FROM event_unlocks WHERE purpose = 'rotate') AND "  # noqa: S608 - constant SQL
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

def _ddl(statement: str, dialect: str) -> DDL:
    ddl: DDL = DDL(statement).execute_if(dialect=dialect)  # type: ignore[no-untyped-call]
    return ddl


for _statement in SQLITE_TRIGGERS:
    event.listen(Event.__table__, "after_create", _ddl(_statement, "sqlite"))
for _statement in POSTGRESQL_TRIGGERS:
    event.listen(Event.__table__, "after_create", _ddl(_statement, "postgresql"))
for _function in ("events_append_only", "events_no_truncate"):
    event.listen(Event.__table__, "before_drop",
                 _ddl(f"DROP FUNCTION IF EXISTS {_function}() CASCADE", "postgresql"))


@event.listens_for(Session, "before_flush")
def _refuse_event_changes(session: Session, _ctx: object, _instances: object) -> None:
    for obj in session.new:
        if isinstance(obj, Event):
            check_payload(obj.action, obj.payload)
    for obj in session.dirty:
        if isinstance(obj, Event) and session.is_modified(obj):
            raise AppendOnlyError("audit events cannot be changed")
    for obj in session.deleted:
        if isinstance(obj, Event):
            raise AppendOnlyError("audit events cannot be deleted")
