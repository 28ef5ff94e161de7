"""Declarative base, UTC timestamps and the shared enum column type."""

from __future__ import annotations

import enum
import json
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import DateTime, Enum, MetaData, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql import operators
from sqlalchemy.types import TypeDecorator

# The only SQL an encrypted column takes part in: IS NULL and IS NOT NULL.
_NULL_TESTS = frozenset({operators.is_, operators.is_not})

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Now, in UTC, timezone-aware."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite forgets zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use portal.models.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class EncryptedText(TypeDecorator[Any]):
    """Text encrypted with AES-GCM under the portal's data key (portal.crypto) before it
    reaches the database; a copied database or backup shows only ciphertext (SECURITY P13).

    Values written before encryption was switched on are read as they are, and
    ``portal rotate-key`` encrypts them. Each value gets a fresh nonce, so the database
    can't compare, sort or search these columns: the comparator refuses to build such SQL
    (compare in Python after loading, or use a blind index column, portal.crypto)."""

    impl = Text
    cache_ok = True

    class comparator_factory(TypeDecorator.Comparator[Any]):  # noqa: N801 - SQLAlchemy's name
        def operate(self, op: Any, *other: Any, **kwargs: Any) -> Any:
            if op not in _NULL_TESTS:
                raise TypeError("an encrypted column can't be compared, sorted or searched "
                                "in SQL: load the rows and compare in Python, or use a "
                                "blind index")
            return super().operate(op, *other, **kwargs)

    def serialize(self, value: Any) -> str:
        return str(value)

    def deserialize(self, text: str) -> Any:
        return text

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        from ..crypto import encrypt_text

        return encrypt_text(self.serialize(value))

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        from ..crypto import decrypt_text

        return self.deserialize(decrypt_text(value))


class EncryptedJSON(EncryptedText):
    """A JSON value (a list of urgency reasons), encrypted as its JSON text."""

    cache_ok = True

    def serialize(self, value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    def deserialize(self, text: str) -> Any:
        return json.loads(text)


class EncryptedDate(EncryptedText):
    """A date (a pupil's date of birth), encrypted as its ISO form."""

    cache_ok = True

    def serialize(self, value: Any) -> str:
        if not isinstance(value, date):
            raise TypeError(f"expected a date, got {type(value).__name__}")
        return value.isoformat()

    def deserialize(self, text: str) -> Any:
        return date.fromisoformat(text)


class EncryptedEnum(EncryptedText):
    """A value of a string enum (a pupil's SEN status), encrypted; read back as the enum, and
    only the enum's values are stored (what the CHECK constraint did for plain enums)."""

    cache_ok = True

    def __init__(self, enum_cls: type[enum.Enum]) -> None:
        super().__init__()
        self.enum_cls = enum_cls

    def serialize(self, value: Any) -> str:
        return str(self.enum_cls(value).value)

    def deserialize(self, text: str) -> Any:
        return self.enum_cls(text)


def enum_column(enum_cls: type[enum.Enum], name: str) -> Enum:
    """A portable enum column: a VARCHAR with a CHECK constraint holding the enum's values."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)

    def __repr__(self) -> str:
        ident: Any = getattr(self, "id", None)
        return f"<{type(self).__name__} {ident}>"
