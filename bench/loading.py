"""What the benchmarks share: a migrated schema of their own, filled fast with COPY."""
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import islice

import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade

from helpdesk import create_app
from helpdesk.extensions import db


def schema_url(url: str, schema: str) -> str:
    """The app's database URL for `url`, with `schema` as the only one it sees."""
    url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


def bench_app(url: str, schema: str, **config) -> Flask:
    return create_app({"SQLALCHEMY_DATABASE_URI": schema_url(url, schema),
                       "SECRET_KEY": "bench-" + "x" * 40, **config})


@contextmanager
def migrated_schema(url: str, prefix: str, *, keep: bool = False, reuse: str | None = None,
                    **config) -> Iterator[tuple[str, Flask]]:
    """A schema of its own, migrated, and an app on it; dropped at the end unless `keep`.
    `reuse` names a schema an earlier run kept: it is used as it is, and kept again."""
    schema = reuse or f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    if not reuse:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        app = bench_app(url, schema, **config)
        if not reuse:
            with app.app_context():
                upgrade()
                db.session.remove()
        yield schema, app
        with app.app_context():
            db.engine.dispose()
    finally:
        if keep or reuse:
            print(f"\nschema {schema} kept: drop it with DROP SCHEMA \"{schema}\" CASCADE")
        else:
            with admin.begin() as connection:
                connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


class Loader:
    """Rows straight into the tables with COPY; ids are given, sequences set afterwards."""

    def __init__(self, connection):
        self.cursor = connection.cursor()
        self.counts: Counter[str] = Counter()

    def copy(self, table: str, columns: str, rows) -> None:
        with self.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                self.counts[table] += 1

    def copy_tickets(self, rows, *, tickets: str, events: str, clocks: str,
                     chunk: int = 50_000) -> None:
        """Tickets given as (ticket row, event row, clock rows), a chunk at a time so that
        memory stays flat; the clocks' ids are numbered here (`clocks` names the columns
        after `id`)."""
        clock_id = 0
        while batch := list(islice(rows, chunk)):
            self.copy("tickets", tickets, (ticket for ticket, _, _ in batch))
            self.copy("ticket_events", events, (event for _, event, _ in batch))
            batch_clocks = [clock for _, _, ticket_clocks in batch for clock in ticket_clocks]
            self.copy("sla_clocks", f"id, {clocks}",
                      ((clock_id + n, *clock) for n, clock in enumerate(batch_clocks, start=1)))
            clock_id += len(batch_clocks)

    def sync_sequences(self) -> None:
        """Each filled table's id sequence past its largest id, so the app's inserts go on."""
        for table in self.counts:
            self.cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                f"(SELECT max(id) FROM {table}))")


def fill(app, write: Callable[[Loader], None], *, trusted: bool = False) -> Counter:
    """Run `write` with a Loader in one transaction, set the sequences, ANALYZE; the rows
    written per table. `trusted` rows are consistent by construction: their foreign keys are
    not checked one by one, each with a plan made while the tables looked empty (a sequential
    scan per row: minutes per chunk)."""
    with app.app_context():
        raw = db.engine.raw_connection()
        try:
            connection = raw.driver_connection
            if trusted:
                connection.execute("SET LOCAL session_replication_role = replica")
            loader = Loader(connection)
            write(loader)
            loader.sync_sequences()
            connection.commit()
        finally:
            raw.close()
    vacuum(app, "ANALYZE")
    return loader.counts


def vacuum(app, what: str) -> None:
    """`VACUUM what` (e.g. "ANALYZE"), outside a transaction as PostgreSQL requires."""
    with app.app_context():
        raw = db.engine.raw_connection()
        try:
            raw.driver_connection.autocommit = True
            raw.driver_connection.execute(f"VACUUM {what}")
        finally:
            raw.driver_connection.autocommit = False
            raw.close()
