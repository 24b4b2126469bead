"""A sweep killed at random moments, then finished, leaves exactly what one clean sweep leaves.

Each round starts a sweep in a process of its own (`python -m tests.escalation.sweeper`, small
batches so that commits fall between the kills) and sends it SIGKILL after a random short time:
no exception handler, no rollback on the client's side. A last, uninterrupted sweep then finishes
the work. The records are compared with those of one uninterrupted sweep over an identical copy
of the data in a database of its own: events with their instants, breaches, notifications per
recipient, and the stored clocks.
"""
import json
import random
import shutil
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from helpdesk import create_app
from helpdesk.accounts.models import User
from helpdesk.escalation.jobs import run_sweep
from helpdesk.escalation.models import Breach, EscalationEvent, Notification
from helpdesk.extensions import db
from helpdesk.tickets.models import SlaClock, Ticket
from tests.escalation.sweeper import populate, start

AT = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
TICKETS = 400
SEED = 3_000
ROUNDS = 12
BATCH = "5"
KILL_WITHIN = 0.25  # seconds after the process has built its app: about its first few batches


def snapshot() -> dict[str, list[tuple]]:
    """Everything a sweep writes, keyed by what people know things by, ids left out."""
    title = Ticket.title
    return {
        "events": sorted(db.session.execute(
            sa.select(title, EscalationEvent.metric, EscalationEvent.level, EscalationEvent.at,
                      EscalationEvent.recorded_at)
            .join(Ticket, Ticket.id == EscalationEvent.ticket_id)).all()),
        "breaches": sorted(db.session.execute(
            sa.select(title, Breach.metric, Breach.priority_code, Breach.target_seconds,
                      Breach.breached_at, Breach.billing_month, Breach.stopped_at,
                      Breach.delay_seconds, Breach.recorded_at, Breach.waived_at)
            .join(Ticket, Ticket.id == Breach.ticket_id)).all()),
        "notifications": sorted(db.session.execute(
            sa.select(title, EscalationEvent.metric, EscalationEvent.level, User.email,
                      Notification.audience,
                      Notification.state, Notification.created_at, Notification.next_attempt_at)
            .select_from(Notification)
            .join(EscalationEvent, EscalationEvent.id == Notification.event_id)
            .join(Ticket, Ticket.id == EscalationEvent.ticket_id)
            .join(User, User.id == Notification.recipient_id)).all()),
        "clocks": sorted(db.session.execute(
            sa.select(title, SlaClock.metric, SlaClock.status, SlaClock.due_at,
                      SlaClock.breached_at, SlaClock.stopped_at, SlaClock.elapsed_seconds,
                      SlaClock.delay_seconds, SlaClock.escalation_level, SlaClock.next_check_at,
                      SlaClock.computed_at)
            .join(Ticket, Ticket.id == SlaClock.ticket_id)).all()),
        "queue": sorted(db.session.execute(
            sa.select(title, Ticket.status, Ticket.sla_rank, Ticket.sla_due_at)).all()),
    }


def recorded() -> int:
    return sum(db.session.scalar(sa.select(sa.func.count()).select_from(model))
               for model in (EscalationEvent, Breach, Notification))


@contextmanager
def database_of_its_own(database, tmp_path):
    """An app on another empty, migrated database: a SQLite file or a PostgreSQL schema."""
    config = {"TESTING": True, "SECRET_KEY": "reference-" + "x" * 30,
              "INSTANCE_PATH": str(tmp_path / "reference")}
    if database["kind"] == "sqlite":
        path = tmp_path / "reference.sqlite3"
        shutil.copy(database["template"], path)
        app = create_app({**config, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
        yield app
        with app.app_context():
            db.engine.dispose()
        return
    schema = f"{database['schema']}_reference"
    url = database["url"].replace(quote(database["schema"]), quote(schema))
    admin = sa.create_engine(url.split("?")[0])
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        app = create_app({**config, "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            upgrade()
        yield app
        with app.app_context():
            db.engine.dispose()
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture
def reference(database, tmp_path):
    """One uninterrupted sweep over the same tickets: what the killed sweeps must add up to."""
    with database_of_its_own(database, tmp_path) as app:
        with app.app_context():
            populate(count=TICKETS, at=AT, seed=SEED)
            db.session.commit()
        run_sweep(app, now=AT, batch_size=int(BATCH))
        with app.app_context():
            return snapshot()


def wait_for_dead_sessions(app, name: str) -> None:
    """A killed client's PostgreSQL session ends once the server notices the closed socket;
    until then it holds its row locks, and a sweep would rightly skip those tickets."""
    deadline = time.monotonic() + 10
    with app.app_context():
        while True:
            with db.engine.connect() as connection:
                alive = connection.execute(
                    sa.text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :n"),
                    {"n": name}).scalar()
            if not alive:
                return
            assert time.monotonic() < deadline, f"{alive} killed session(s) still there"
            time.sleep(0.05)


# The sweeps run in other processes, on the tickets the test committed, and commit what they do.
@pytest.mark.real_commits
def test_sweep_killed_at_random_moments_then_finished_records_what_one_clean_sweep_does(
        app, database, reference):
    with app.app_context():
        populate(count=TICKETS, at=AT, seed=SEED)
        db.session.commit()
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    name = f"crash-{uuid.uuid4().hex[:8]}"
    if database["kind"] == "postgresql":
        url += f"&application_name={name}"
    command = ["sweep", "--at", AT.isoformat(), "--batch-size", BATCH]
    total = sum(len(reference[key]) for key in ("events", "breaches", "notifications"))
    rng = random.Random(SEED)
    cut_short = done = 0  # kills after which some work was newly committed and some undone
    progress = []
    # Widened after a round that committed nothing (a slow machine), narrowed after one that
    # committed more than a third of what was left (a fast one), so the kills keep landing
    # mid-sweep instead of after it.
    window = KILL_WITHIN

    for _ in range(ROUNDS):
        with start(url, *command) as process:
            try:
                assert process.stdout.readline().strip() == "ready"
                time.sleep(rng.uniform(0, window))
                process.kill()
                process.communicate()
            finally:
                if process.poll() is None:
                    process.kill()
        before = done
        with app.app_context():
            done = recorded()
        cut_short += process.returncode == -9 and before < done < total
        progress.append(done)
        if done == before:
            window = min(window * 1.5, 4 * KILL_WITHIN)
        elif done - before > (total - before) / 3:
            window = max(window / 2, KILL_WITHIN / 4)

    if database["kind"] == "postgresql":
        wait_for_dead_sessions(app, name)
    with start(url, *command) as process:
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    last = json.loads(out.splitlines()[-1])

    with app.app_context():
        after = snapshot()
    assert cut_short >= 3, f"the kills did not land mid-sweep: records after each {progress}"
    for key in reference:
        assert after[key] == reference[key], key
    assert last["thresholds"] < len(reference["events"])  # earlier rounds did part of the work
