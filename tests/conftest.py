"""Fixtures: an app on a fresh migrated database per test, SQLite by default or PostgreSQL.

`TEST_DATABASE_URL` selects PostgreSQL; each run migrates its own schema, so runs never collide.
There, a test runs inside one transaction that is rolled back at its end: the application's own
commits and rollbacks act on SAVEPOINTs within it. A test that needs other connections to see
its rows (subprocesses, threads, a second engine) is marked `real_commits`: it commits for real
on an emptied database, and empties it again afterwards.
"""
import os
import re
import shutil
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from flask import current_app
from flask_migrate import upgrade
from flask_sqlalchemy.session import Session as FlaskSession

from helpdesk import create_app
from helpdesk.clock import clock as app_clock
from helpdesk.extensions import db
from helpdesk.web.translations_cli import compile_catalogues
from tests import factories
from tests.mailbox import Mailbox

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "")
CSRF_PATTERN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def pytest_sessionstart(session):
    """Plain `pytest` on a fresh clone: the .mo files are built, not committed."""
    compile_catalogues(stale_only=True)


def _pg_url(schema: str) -> str:
    url = POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}options=-csearch_path%3D{schema}"


def _migrate(url: str, instance) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(instance),
                      "SECRET_KEY": "x" * 40, "TESTING": True})
    with app.app_context():
        upgrade()
        # Closing the last connection checkpoints SQLite's WAL into the file that tests copy.
        db.engine.dispose()


@pytest.fixture(scope="session")
def database(tmp_path_factory):
    """The migrated database of this run: a SQLite template file or a PostgreSQL schema."""
    instance = tmp_path_factory.mktemp("instance")
    if POSTGRES_URL:
        schema = f"test_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1))
        with admin.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        url = _pg_url(schema)
        _migrate(url, instance)
        yield {"kind": "postgresql", "url": url, "schema": schema}
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()
    else:
        template = instance / "template.sqlite3"
        _migrate(f"sqlite:///{template}", instance)
        yield {"kind": "sqlite", "template": template}


def _empty_postgres(app) -> None:
    """DELETE is much cheaper than TRUNCATE on small tables; ids restart so numbers read T-000001."""
    with app.app_context():
        _empty(db.engine)


def _empty(engine: sa.Engine) -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with engine.begin() as connection:
        connection.exec_driver_sql("; ".join(
            [f'DELETE FROM "{t}"' for t in tables]
            + [f'ALTER SEQUENCE "{s}" RESTART' for s in _sequences(connection)]))


def _sequences(connection) -> list[str]:
    return connection.exec_driver_sql(
        "SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()"
    ).scalars().all()


def _tables_with_rows_query() -> str:
    """The tables holding rows: on empty tables, one cheap query."""
    return " UNION ALL ".join(f"SELECT '{t.name}' WHERE EXISTS (SELECT FROM \"{t.name}\")"
                              for t in db.metadata.sorted_tables)


@pytest.fixture(scope="session")
def postgres_connection(database):
    """PostgreSQL: the one connection the rolled-back tests share (no connect per test), and
    the statement restarting every sequence. The database starts empty."""
    if database["kind"] != "postgresql":
        yield None
        return
    engine = sa.create_engine(database["url"], poolclass=sa.pool.NullPool)
    _empty(engine)
    with engine.connect() as connection:
        restart = "; ".join(f'ALTER SEQUENCE "{s}" RESTART' for s in _sequences(connection))
        connection.rollback()
        yield SimpleNamespace(connection=connection, engine=engine, restart=restart,
                              tables_with_rows=_tables_with_rows_query())
    engine.dispose()


class _JoinedSession(FlaskSession):
    """A session of the app under test runs on the test's connection, inside its transaction;
    sessions of any other app keep their own engine."""

    joined: dict = {}  # app -> connection, set by `_rolled_back`

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if bind is None:
            connection = self.joined.get(current_app._get_current_object())
            if connection is not None:
                return connection
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


@contextmanager
def _rolled_back(app, postgres, monkeypatch):
    """SQLAlchemy's "joining a session into an external transaction": the app's commit() and
    rollback() release or roll back SAVEPOINTs, and the outer transaction is rolled back at the
    end, which is cheaper than deleting every row. ALTER SEQUENCE ... RESTART is transactional in
    PostgreSQL (10 and later): inside the transaction ids start at 1 again (numbers read
    T-000001), and the rollback also undoes the numbers handed out, so sequences stay unused.
    The restart locks the sequences until the rollback: a test that inserts through another
    connection hits the app URL's lock_timeout; mark it `real_commits`."""
    connection = postgres.connection
    leaked = connection.exec_driver_sql(postgres.tables_with_rows).scalars().all()
    connection.rollback()
    if leaked:
        _empty(postgres.engine)
        pytest.fail(f"rows committed by an earlier test were left behind (in {', '.join(leaked)}):"
                    " mark that test `real_commits`, or empty the database in the fixture that"
                    " committed them", pytrace=False)
    transaction = connection.begin()
    connection.exec_driver_sql(postgres.restart)
    monkeypatch.setattr(db, "session", db._make_scoped_session(
        {"class_": _JoinedSession, "join_transaction_mode": "create_savepoint"}))
    monkeypatch.setitem(_JoinedSession.joined, app, connection)
    try:
        yield  # each app context's session is closed as the context ends
    finally:
        transaction.rollback()


@pytest.fixture
def app_config() -> dict:
    """Settings a test module adds to the app's (override this fixture in the module)."""
    return {}


@pytest.fixture
def app(request, database, postgres_connection, tmp_path, app_config, monkeypatch):
    config = {"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"),
              "SECRET_KEY": "test-secret-" + uuid.uuid4().hex,
              "ATTACHMENT_DIR": str(tmp_path / "attachments"),
              "MAX_ATTACHMENT_BYTES": 64 * 1024, "MAX_CONTENT_LENGTH": 128 * 1024,
              # The specifications read in English; French is tested where it is the subject.
              "BABEL_DEFAULT_LOCALE": "en", **app_config}
    real_commits = request.node.get_closest_marker("real_commits") is not None
    if database["kind"] == "postgresql" and real_commits:
        config["SQLALCHEMY_DATABASE_URI"] = database["url"]
    elif database["kind"] == "postgresql":
        # Only a second connection uses this URL (the app's session runs on the test's). It
        # would wait for ever on the sequences the test's transaction restarted: fail instead.
        config["SQLALCHEMY_DATABASE_URI"] = database["url"] + "%20-clock_timeout%3D5s"
    else:
        path = tmp_path / "helpdesk.sqlite3"
        shutil.copy(database["template"], path)
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    app = create_app(config)
    if database["kind"] == "sqlite":
        yield app
    elif real_commits:
        _empty_postgres(app)
        yield app
        # Leave the database as the rolled-back tests expect it: empty, sequences unused.
        _empty_postgres(app)
    else:
        with _rolled_back(app, postgres_connection, monkeypatch):
            yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# Monday 30 November 2026, 10:00 in Paris: a working morning, the contracts of the tests in force.
TEST_START = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock():
    """The app's one clock for every test, whatever today's date: it runs from TEST_START at the
    real pace; `clock.freeze(at)` stops it at an instant, `clock.advance(delta)` moves it."""
    app_clock.start_at(TEST_START)
    yield app_clock
    app_clock.reset()


@pytest.fixture
def now():
    return TEST_START


@pytest.fixture
def mailbox():
    """A real SMTP server on loopback for this test (tests/mailbox.py)."""
    box = Mailbox()
    box.start()
    yield box
    box.stop()


@pytest.fixture
def world(app):
    """A provider's usual set-up, committed; users by e-mail, contracts by reference."""
    with app.app_context():
        data = factories.world()
        db.session.commit()
        return SimpleNamespace(**{key: factories.handle(value) for key, value in data.items()
                                  if key != "calendars"})


def csrf_token(client, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    match = CSRF_PATTERN.search(page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client, email: str, password: str = factories.PASSWORD):
    token = csrf_token(client)
    response = client.post("/login", data={"email": email, "password": password,
                                           "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


@pytest.fixture
def login_as(client):
    def sign_in(email: str):
        login(client, email)
        return client
    return sign_in


DESK_PRIORITIES = [("P1", "Critique", "24x7", 2, 8), ("P2", "Haute", "biz-fr", 4, 8),
                   ("P3", "Normale", "biz-fr", 8, None)]


@pytest.fixture
def desk(app):
    """Inside an app context: a client, a technician, a team lead and a contract with P1 (24/7,
    GTI 2 h, GTR 8 h), P2 (business hours, GTI 4 h, GTR 8 h) and P3 (business hours, GTI 8 h)."""
    with app.app_context():
        calendars = {"biz-fr": factories.calendar(),
                     "24x7": factories.calendar(code="24x7", always=True)}
        shop = factories.organisation()
        people = {
            "client": factories.user(email="client@shop.example", organisation=shop),
            "tech": factories.user(email="tech@provider.example", role="technician"),
            "lead": factories.user(email="lead@provider.example", role="team_lead"),
        }
        contract = factories.contract(organisation=shop, calendars=calendars,
                                      priorities=DESK_PRIORITIES)
        yield {"contract": contract, **people}
