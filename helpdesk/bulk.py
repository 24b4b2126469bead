"""Many rows written in one statement each: the sweep writes thousands of rows per batch.

On PostgreSQL rows are sent with COPY (changed rows into a scratch table, then one UPDATE … FROM):
where a multi-row VALUES list of thousands of placeholders costs more to build and parse than to
execute, COPY costs about what the server does with the rows. Elsewhere (SQLite) SQLAlchemy's
executemany does the work.

Rows bypass the session: callers expire what they hold of them afterwards.
"""
import json
from collections.abc import Iterable, Sequence
from enum import Enum

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import DeclarativeBase

from helpdesk.extensions import db


def _plain(value: object) -> object:
    # psycopg would send an Enum by name; the columns hold the value.
    return value.value if isinstance(value, Enum) else value


def _json(value: object) -> object:
    return None if value is None else json.dumps(value)


def among(column: sa.ColumnElement, ids: Iterable[int]) -> sa.ColumnElement[bool]:
    """`column IN ids`. On PostgreSQL the ids travel as one array (`= ANY`): a list of hundreds
    of placeholders costs more to build and parse than the lookup itself."""
    ids = list(ids)
    if db.session.get_bind().dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam(None, ids, type_=ARRAY(column.type)))
    return column.in_(ids)


def insert_rows(model: type[DeclarativeBase], rows: Sequence[dict], *,
                with_ids: bool = False) -> list[int]:
    """Insert `rows` (dicts with the same keys); with `with_ids`, the new ids in row order."""
    if not rows:
        return []
    table: sa.Table = model.__table__
    dialect = db.session.get_bind().dialect
    if dialect.name != "postgresql":
        if with_ids:
            statement = sa.insert(model).returning(table.c.id, sort_by_parameter_order=True)
            return [row.id for row in db.session.execute(statement, list(rows))]
        db.session.execute(sa.insert(model), list(rows))
        return []
    ids: list[int] = []
    if with_ids:
        ids = list(db.session.scalars(
            sa.text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                    "FROM generate_series(1, :count)"),
            {"table": table.name, "count": len(rows)}))
        rows = [{**row, "id": row_id} for row, row_id in zip(rows, ids, strict=True)]
    _copy(table, list(rows[0]), rows)
    return ids


def update_rows(model: type[DeclarativeBase], rows: Sequence[dict]) -> None:
    """Update rows by primary key `id`; each dict has the same keys, `id` among them."""
    if not rows:
        return
    table: sa.Table = model.__table__
    dialect = db.session.get_bind().dialect
    if dialect.name != "postgresql":
        db.session.execute(sa.update(model), list(rows),
                           execution_options={"synchronize_session": False})
        return
    columns = list(rows[0])
    # The new values are copied into a scratch table shaped like the changed columns, then
    # applied by one UPDATE … FROM; the table lives until the end of the transaction.
    scratch = f"bulk_{table.name}"
    db.session.execute(sa.text(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {scratch} ON COMMIT DROP AS "
        f"SELECT {', '.join(columns)} FROM {table.name} WITH NO DATA"))
    db.session.execute(sa.text(f"TRUNCATE {scratch}"))
    _copy(table, columns, rows, into=scratch)
    assignments = ", ".join(f"{name} = new.{name}" for name in columns if name != "id")
    db.session.execute(sa.text(f"UPDATE {table.name} SET {assignments} FROM {scratch} AS new "
                               f"WHERE {table.name}.id = new.id"))


def _copy(table: sa.Table, columns: list[str], rows: Sequence[dict], *,
          into: str | None = None) -> None:
    """COPY: the rows are encoded by psycopg's C code, with no statement to build or parse.
    COPY's text format takes JSON as text and an enum by its value."""
    encoders = [_json if isinstance(table.c[name].type, sa.JSON) else _plain for name in columns]
    driver = db.session.connection().connection.driver_connection
    with driver.cursor() as cursor, cursor.copy(
            f"COPY {into or table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([encode(row[name])
                            for encode, name in zip(encoders, columns, strict=True)])
