"""Several schedulers sweeping at once, in separate processes, record everything exactly once.

PostgreSQL only: there, sweeps share the due tickets with row locks (SKIP LOCKED) and the unique
constraints are the last line of defence. Each subprocess is `python -m tests.escalation.sweeper`
(the scheduler's `run_sweep`, or a technician taking tickets) on this run's schema.
"""
import json
import os
import random
import subprocess
from collections import Counter
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from helpdesk.accounts.models import User
from helpdesk.accounts.roles import Role
from helpdesk.escalation.jobs import run_sweep
from helpdesk.escalation.models import (
    Breach,
    EscalationEvent,
    Notification,
    SchedulerHeartbeat,
)
from helpdesk.extensions import db
from helpdesk.tickets.clocks import BREACH_LEVEL, threshold_levels, ticket_clocks
from helpdesk.tickets.models import SlaClock, SlaStatus, Ticket
from tests.escalation.sweeper import populate, start

pytestmark = [
    pytest.mark.skipif(
        not os.environ.get("TEST_DATABASE_URL"),
        reason="PostgreSQL only (set TEST_DATABASE_URL): concurrent schedulers share the work "
               "with row locks and SKIP LOCKED; SQLite serialises every writer"),
    # The sweepers are other processes: they see only the tickets the test committed.
    pytest.mark.real_commits,
]

AT = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)  # Thursday 09:00 in Paris
TICKETS = 1_000
BATCH = "25"  # small batches: many commits, so the sweeps interleave
TIMEOUT = 120


@contextmanager
def together(database, *commands: list[str]):
    """Start the processes, release them at the same moment, yield them; never leave one behind."""
    with ExitStack() as stack:
        processes = [stack.enter_context(start(database["url"], *command, "--wait"))
                     for command in commands]
        try:
            for process in processes:  # each has built its app and waits on stdin
                line = process.stdout.readline()
                assert line.strip() == "ready", line + process.stderr.read()
            for process in processes:
                process.stdin.write("go\n")
                process.stdin.flush()
            yield processes
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()


def finish(process: subprocess.Popen) -> dict:
    out, err = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 0, err
    assert "deadlock" not in err.lower() and "error" not in err.lower(), err
    return json.loads(out.splitlines()[-1])


def sweep_command(name: str) -> list[str]:
    return ["sweep", "--at", AT.isoformat(), "--batch-size", BATCH, "--name", name]


def recipients(ticket: Ticket, level: int, staff: list[User]) -> set[str]:
    """Who DESIGN §3.3 says hears of a threshold: the assignee (or the whole team while
    unassigned), the team leads, and for a breach the team leads and the client's people."""
    leads = {u.email for u in staff if u.role == Role.TEAM_LEAD}
    clients = {u.email for u in ticket.organisation.users if u.role == Role.CLIENT}
    if level == BREACH_LEVEL:
        return leads | clients
    people: set[str] = set()
    for threshold in ticket.priority.escalations:
        if threshold.at_percent != level:
            continue
        if threshold.notify == "assignee":
            people |= ({ticket.assignee.email} if ticket.assignee else
                       {u.email for u in staff if u.role in (Role.TECHNICIAN, Role.TEAM_LEAD)})
        elif threshold.notify == "team_leads":
            people |= leads
        else:
            people |= clients
    return people


def expected_records() -> tuple[dict, dict, set]:
    """What the engine says a sweep as of AT must have recorded, from the tickets as they are.

    events: (ticket, metric, level) -> instant; breaches: (ticket, metric) -> due instant;
    mails: (ticket, metric, level, recipient) for the highest threshold of each running clock
    (and for a breach, always).
    """
    staff = list(db.session.scalars(sa.select(User).where(User.role != Role.CLIENT)))
    events, breaches, mails = {}, {}, set()
    for ticket in db.session.scalars(sa.select(Ticket).order_by(Ticket.id)):
        for clock in ticket_clocks(ticket, now=AT).values():
            if clock.status == SlaStatus.CANCELLED:
                continue
            crossed = []
            for level in threshold_levels(ticket.priority):
                instant = clock.state.instant_for(clock.target * level / 100)
                if instant is None or instant > AT:
                    break
                crossed.append(level)
                events[ticket.id, clock.metric.value, level] = instant
            if BREACH_LEVEL in crossed:
                assert clock.breached_at == events[ticket.id, clock.metric.value, BREACH_LEVEL]
                breaches[ticket.id, clock.metric.value] = clock.breached_at
            if crossed and (clock.state.stopped_at is None or crossed[-1] == BREACH_LEVEL):
                mails |= {(ticket.id, clock.metric.value, crossed[-1], email)
                          for email in recipients(ticket, crossed[-1], staff)}
    return events, breaches, mails


def recorded_events() -> list[tuple]:
    return [(t, m.value, level, at) for t, m, level, at in db.session.execute(
        sa.select(EscalationEvent.ticket_id, EscalationEvent.metric, EscalationEvent.level,
                  EscalationEvent.at))]


def recorded_breaches() -> list[tuple]:
    return [(t, m.value, at) for t, m, at in db.session.execute(
        sa.select(Breach.ticket_id, Breach.metric, Breach.breached_at))]


def recorded_mails() -> list[tuple]:
    return [(t, m.value, level, email) for t, m, level, email in db.session.execute(
        sa.select(EscalationEvent.ticket_id, EscalationEvent.metric, EscalationEvent.level,
                  User.email)
        .select_from(Notification)
        .join(EscalationEvent, EscalationEvent.id == Notification.event_id)
        .join(User, User.id == Notification.recipient_id))]


def once(rows: list[tuple]) -> set[tuple]:
    duplicates = [row for row, count in Counter(rows).items() if count > 1]
    assert duplicates == [], f"recorded more than once: {duplicates[:5]}"
    return set(rows)


def test_four_sweepers_at_once_record_everything_exactly_once(app, database):
    with app.app_context():
        ids = populate(count=TICKETS, at=AT, seed=1_000, history=False, due_only=True)
        db.session.commit()
        due = set(db.session.scalars(sa.select(SlaClock.ticket_id)
                                     .where(SlaClock.next_check_at <= AT)))
        assert due == set(ids)
        events, breaches, mails = expected_records()

    names = [f"sweeper-{n}" for n in range(4)]
    with together(database, *(sweep_command(name) for name in names)) as processes:
        results = [finish(process) for process in processes]

    with app.app_context():
        assert once(recorded_events()) == {key + (at,) for key, at in events.items()}
        assert once(recorded_breaches()) == {key + (at,) for key, at in breaches.items()}
        assert once(recorded_mails()) == mails
        # What each process says it did adds up to what is there: no work done twice, none lost.
        assert sum(r["thresholds"] for r in results) == len(events)
        assert sum(r["breaches"] for r in results) == len(breaches)
        assert sum(r["notifications"] for r in results) == len(mails)
        assert set().union(*(r["ticket_ids"] for r in results)) == due
        assert sum(1 for r in results if r["thresholds"]) >= 2, "one process did all the work"
        assert set(db.session.scalars(sa.select(SchedulerHeartbeat.name))) == set(names)
        assert not db.session.scalar(sa.select(sa.func.count()).select_from(SlaClock)
                                     .where(SlaClock.next_check_at <= AT))
    assert run_sweep(app, now=AT).as_dict() == {"tickets": 0, "thresholds": 0, "breaches": 0,
                                                "notifications": 0}


def test_two_sweepers_and_a_technician_at_once_neither_duplicate_nor_deadlock(app, database):
    with app.app_context():
        ids = populate(count=400, at=AT, seed=2_000, history=False, due_only=True)
        db.session.commit()
    taken = random.Random(2_000).sample(ids, 200)
    technician = ["take", "--at", AT.isoformat(), "--actor", "tech@provider.example",
                  *map(str, taken)]
    with together(database, sweep_command("a"), technician, sweep_command("b")) as processes:
        first, took, second = (finish(process) for process in processes)
    assert took["taken"] == taken

    with app.app_context():
        # Taken at the sweep instant, a clock has counted the same time either way: the same
        # thresholds are due whether a sweep or the technician got to the ticket first.
        events, breaches, _ = expected_records()
        assert once(recorded_events()) == {key + (at,) for key, at in events.items()}
        assert once(recorded_breaches()) == {key + (at,) for key, at in breaches.items()}
        mails = once(recorded_mails())
        assert len(mails) == first["notifications"] + second["notifications"]
        assert first["thresholds"] + second["thresholds"] == len(events)
        # Mail only ever for the highest threshold of a clock, and every breach is told.
        highest = Counter()
        for ticket_id, metric, level in events:
            highest[ticket_id, metric] = max(highest[ticket_id, metric], level)
        assert {(t, m, level) for t, m, level, _ in mails} <= {
            (t, m, level) for (t, m), level in highest.items()}
        assert {(t, m) for t, m, level, _ in mails if level == BREACH_LEVEL} == set(breaches)
        # The technician's stop reached the breaches, whoever came first.
        gti = dict(db.session.execute(sa.select(Breach.ticket_id, Breach.stopped_at)
                                      .where(Breach.metric == "gti")).all())
        assert {t for t, stopped in gti.items() if stopped == AT} == set(taken) & set(gti)
        # No clock lost its recorded level to a concurrent write: nothing is left to do.
        assert not db.session.scalar(sa.select(sa.func.count()).select_from(SlaClock)
                                     .where(SlaClock.next_check_at <= AT))
    assert run_sweep(app, now=AT).thresholds == 0
