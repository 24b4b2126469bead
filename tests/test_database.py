"""The schema comes from migrations only, and SQLite is configured to keep what it acknowledged."""
from datetime import datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.dialects import sqlite

from helpdesk.db import UTCDateTime, in_schema_of
from helpdesk.extensions import db


def test_migrations_match_the_models(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, "include_object": in_schema_of(connection.dialect.name)})
        assert compare_metadata(context, db.metadata) == []


def test_sqlite_connections_are_durable(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite settings")
        with db.engine.connect() as connection:
            pragma = lambda name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
            assert pragma("foreign_keys") == 1
            assert pragma("journal_mode") == "wal"
            assert pragma("synchronous") == 2  # FULL


def test_instants_refuse_naive_datetimes():
    column_type = UTCDateTime()
    with pytest.raises(ValueError, match="naive datetime refused"):
        column_type.process_bind_param(datetime(2026, 11, 30, 9, 0), sqlite.dialect())
