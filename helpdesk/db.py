"""Declarative base, naming convention and column types shared by every domain."""
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, registry
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.schema import SchemaItem

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Primary keys are INTEGER (32-bit on PostgreSQL): an id from a URL beyond this is no row at all.
MAX_ROW_ID = 2**31 - 1


class UTCDateTime(sa.types.TypeDecorator):
    """An instant: refuses naive datetimes, always returns aware UTC (SQLite forgets zones)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime refused: {value!r}; pass an aware instant")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def str_enum(enum_cls: type[StrEnum], length: int = 32) -> sa.Enum:
    """A StrEnum stored by value as a checked VARCHAR, identical on SQLite and PostgreSQL."""
    return sa.Enum(
        enum_cls,
        values_callable=lambda members: [m.value for m in members],
        native_enum=False,
        create_constraint=True,
        length=length,
        validate_strings=True,
        name=enum_cls.__name__.lower(),
    )


class Base(DeclarativeBase):
    registry = registry(
        metadata=sa.MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


def configure_engine_events(engine: sa.Engine) -> None:
    """Durable SQLite: an acknowledged ticket survives a crash.

    Transactions start with BEGIN IMMEDIATE: a transaction that reads and then writes would
    otherwise fail at once with "database is locked" when another process writes meanwhile,
    instead of waiting its turn.
    """
    if engine.dialect.name != "sqlite":
        return

    @sa.event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: sqlite3.Connection,
                        _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin_immediate(connection: sa.Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


# Alembic's include_object: (object, name, type_, reflected, compare_to) -> keep it?
IncludeObject = Callable[[SchemaItem, str | None, str, bool, SchemaItem | None], bool]


def in_schema_of(dialect_name: str) -> IncludeObject:
    """Alembic's `include_object` for a database of that dialect: an index built with a
    PostgreSQL access method (a trigram index, say) exists on PostgreSQL only (its model
    declares it with `ddl_if`), so autogenerate neither adds it to nor expects it in SQLite."""

    def include_object(obj: SchemaItem, name: str | None, type_: str, reflected: bool,
                       compare_to: SchemaItem | None) -> bool:
        if type_ == "index" and dialect_name != "postgresql" and obj is not None:
            return not obj.dialect_options["postgresql"].get("using")
        return True

    return include_object


class StrEnumSet(sa.types.TypeDecorator):
    """A set of StrEnum members, stored as their values sorted and space-separated (as OAuth
    writes scopes): a plain VARCHAR, identical on SQLite and PostgreSQL."""

    impl = sa.String
    cache_ok = True

    def __init__(self, enum_cls: type[StrEnum], length: int) -> None:
        super().__init__(length)
        self.enum_cls = enum_cls

    def process_bind_param(self, value: frozenset[StrEnum] | None,
                           dialect: sa.Dialect) -> str | None:
        if value is None:
            return None
        return " ".join(sorted(self.enum_cls(member).value for member in value))

    def process_result_value(self, value: str | None,
                             dialect: sa.Dialect) -> frozenset[StrEnum] | None:
        if value is None:
            return None
        return frozenset(self.enum_cls(word) for word in value.split())
