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
