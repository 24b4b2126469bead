"""What the benchmarks share to fill a schema of their own fast: its URL, COPY, VACUUM."""
from collections import Counter

from helpdesk.extensions import db


def schema_url(url: str, schema: str) -> str:
    """The app's database URL for `url`, with `schema` as the only one it sees."""
    url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


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
        while batch := [row for _, row in zip(range(chunk), rows)]:
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
