"""What the multi-process escalation tests run in their subprocesses, and the desk they sweep.

    python -m tests.escalation.sweeper sweep --at ISO [--batch-size N] [--name NAME] [--wait]
    python -m tests.escalation.sweeper take --at ISO --actor EMAIL [--wait] ID [ID …]

Both read DATABASE_URL and SECRET_KEY from the environment, like the real processes. Each prints
`ready` once the application is built (with `--wait`, it then waits for one line on stdin, so a
test can start several of them at the same moment), then one JSON line with what it did.
`sweep` is `run_sweep`, the scheduler's job, committed batch by batch; `take` is what a
technician's browser does: take each ticket in its own transaction, as a web request would.

`populate` builds the desk those tests share: tickets opened at seeded random instants before
the sweep instant, some taken, waiting on the client, resolved or cancelled since.
"""
import argparse
import json
import os
import random
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from helpdesk import create_app
from helpdesk.accounts.models import User
from helpdesk.accounts.roles import Role
from helpdesk.clock import parse_instant
from helpdesk.escalation.jobs import run_sweep
from helpdesk.escalation.services import BATCH_SIZE
from helpdesk.extensions import db
from helpdesk.tickets import services
from helpdesk.tickets.models import Ticket
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
PRIORITIES = [("P1", "Critique", "24x7", 2, 8), ("P2", "Haute", "biz-fr", 4, 8),
              ("P3", "Normale", "biz-fr", 8, None)]
STAFF = [("tech@provider.example", Role.TECHNICIAN), ("tech2@provider.example", Role.TECHNICIAN),
         ("lead@provider.example", Role.TEAM_LEAD), ("lead2@provider.example", Role.TEAM_LEAD)]


def populate(*, count: int, at: datetime, seed: int, history: bool = True,
             due_only: bool = False) -> list[int]:
    """`count` tickets opened between 72 h and 20 min before `at`; returns their ids.

    With `history`, about a third of them were then worked on before `at` (taken, waiting on
    the client, resumed, resolved, cancelled), so the sweep meets stopped, paused and cancelled
    clocks as well as running ones. With `due_only`, each was opened early enough for its first
    threshold (50 % of the GTI, in service time) to fall at or before `at`. Flushes, never
    commits. Deterministic for a given seed.
    """
    rng = random.Random(seed)
    calendars = {"biz-fr": factories.calendar(),
                 "24x7": factories.calendar(code="24x7", always=True)}
    staff = {email: factories.user(email=email, role=role) for email, role in STAFF}
    contracts, clients = [], []
    for code in ("shop", "bakery"):
        organisation = factories.organisation(code=code, name=f"{code.title()} SARL")
        clients.append(factories.user(email=f"client@{code}.example", organisation=organisation))
        contracts.append(factories.contract(organisation=organisation, reference=f"CT-{code}",
                                            calendars=calendars, priorities=PRIORITIES))
    engines = {row.id: row.engine() for row in calendars.values()}
    techs = [staff["tech@provider.example"], staff["tech2@provider.example"]]
    ids = []
    for number in range(count):
        side = number % 2
        priority = contracts[side].current_version.priority(rng.choice(("P1", "P1", "P2", "P3")))
        opened = at - timedelta(seconds=rng.randrange(20 * 60, 72 * 3600))
        while due_only and engines[priority.calendar_id].add(opened, priority.gti / 2) > at:
            opened = at - timedelta(seconds=rng.randrange(20 * 60, 72 * 3600))
        ticket = services.open_ticket(actor=clients[side], contract=contracts[side],
                                      priority_code=priority.code,
                                      title=f"Incident {number:04d}",
                                      description="Down since this morning.", now=opened)
        ids.append(ticket.id)
        if history and rng.random() < 0.35:
            _work_on(ticket, rng, techs=techs, client=clients[side], opened=opened, at=at)
    db.session.flush()
    return ids


def _work_on(ticket: Ticket, rng: random.Random, *, techs: list[User], client: User,
             opened: datetime, at: datetime) -> None:
    def later(after: datetime) -> datetime:
        return after + (at - after) * rng.uniform(0.05, 0.6)

    tech = rng.choice(techs)
    story = rng.choice(("take", "wait", "resolve", "cancel"))
    when = later(opened)
    if story == "cancel":
        services.cancel_ticket(ticket, actor=tech, reason="Duplicate.", now=when)
        return
    services.take_ticket(ticket, actor=tech, now=when)
    if story == "wait":
        when = later(when)
        services.wait_on_client(ticket, actor=tech, now=when)
        if rng.random() < 0.5:
            services.reply_to_ticket(ticket, actor=client, body="Here it is.", now=later(when))
    elif story == "resolve":
        services.resolve_ticket(ticket, actor=tech, now=later(when))


def start(database_url: str, *args: str) -> subprocess.Popen:
    """This module in a process of its own on `database_url`; use it as a context manager."""
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "s" * 40,
           "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "tests.escalation.sweeper", *args],
                            cwd=ROOT, env=env, text=True, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _announce(wait: bool) -> None:
    print("ready", flush=True)
    if wait:
        sys.stdin.readline()


def sweep(args) -> dict:
    app = create_app()
    _announce(args.wait)
    summary = run_sweep(app, now=args.at, name=args.name, batch_size=args.batch_size)
    return {**summary.as_dict(), "ticket_ids": summary.ticket_ids}


def take(args) -> dict:
    app = create_app()
    _announce(args.wait)
    taken = []
    with app.app_context():
        actor = db.session.scalar(sa.select(User).where(User.email == args.actor))
        for ticket_id in args.ids:
            services.take_ticket(db.session.get(Ticket, ticket_id), actor=actor, now=args.at)
            db.session.commit()
            taken.append(ticket_id)
    return {"taken": taken}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.escalation.sweeper")
    commands = parser.add_subparsers(dest="command", required=True)
    sweep_parser = commands.add_parser("sweep")
    sweep_parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    sweep_parser.add_argument("--name", default=None)
    take_parser = commands.add_parser("take")
    take_parser.add_argument("--actor", required=True)
    take_parser.add_argument("ids", nargs="+", type=int)
    for sub in (sweep_parser, take_parser):
        sub.add_argument("--at", type=parse_instant, required=True)
        sub.add_argument("--wait", action="store_true")
    args = parser.parse_args(argv)
    result = {"sweep": sweep, "take": take}[args.command](args)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
