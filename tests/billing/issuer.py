"""What the concurrent issuing test runs in its subprocesses, and the month of drafts it issues.

    python -m tests.billing.issuer month --month 2026-10 --at ISO [--wait]
    python -m tests.billing.issuer notes --at ISO --seed N [--wait] ID [ID …]

Both read DATABASE_URL and SECRET_KEY from the environment, like the real processes. Each prints
`ready` once the application is built (with `--wait`, it then waits for one line on stdin, so a
test can start several of them at the same moment), then one JSON line with what it did.
`month` is `flask billing issue`: `issue_month`, a transaction per draft. `notes` is finance
clicking "issue" on the drafts in its own (seeded, shuffled) order, each in its own transaction
as a web request would, taking a refusal for a note issued meanwhile as the page would.

`drafts` builds the month those tests issue: `count` contracts, each with a P1 ticket of
5 October 2026 never taken, swept and closed into one draft credit note per contract.
"""
import argparse
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from helpdesk import create_app
from helpdesk.billing.models import CreditNote, CreditNoteStatus
from helpdesk.billing.services import close_month, issue_credit_note, issue_month
from helpdesk.clock import parse_instant
from helpdesk.errors import Conflict
from helpdesk.extensions import db
from helpdesk.tickets import services
from tests import factories
from tests.billing.conftest import paris, settings, sweep

ROOT = Path(__file__).resolve().parents[2]
PRIORITIES = [("P1", "Critique", "24x7", 2, 8)]


def drafts(*, count: int, organisations: int = 8, month: str = "2026-10") -> list[int]:
    """`count` draft credit notes of `month` for as many contracts, spread over
    `organisations` clients; returns their ids. Commits (closing commits as it goes)."""
    calendars = {"biz-fr": factories.calendar(),
                 "24x7": factories.calendar(code="24x7", always=True)}
    clients = []
    for n in range(organisations):
        organisation = factories.organisation(code=f"client-{n}", name=f"Client {n} SARL",
                                              vat_number=f"FR00{n:09d}")
        clients.append(factories.user(email=f"client@{n}.example", organisation=organisation))
    for n in range(count):
        client = clients[n % organisations]
        contract = factories.contract(organisation=client.organisation,
                                      reference=f"CT-{n:03d}", calendars=calendars,
                                      priorities=PRIORITIES)
        services.open_ticket(actor=client, contract=contract, priority_code="P1",
                             title=f"Incident {n}", description="Down.",
                             now=paris(2026, 10, 5, 8, 0))
    sweep(paris(2026, 11, 1, 0, 0))
    db.session.commit()
    close_month(month, seller=settings().seller, at=paris(2026, 11, 1, 0, 0),
                on_batch=db.session.commit)
    return list(db.session.scalars(sa.select(CreditNote.id).where(
        CreditNote.month == month, CreditNote.status == CreditNoteStatus.DRAFT)
        .order_by(CreditNote.id)))


def start(database_url: str, *args: str) -> subprocess.Popen:
    """This module in a process of its own on `database_url`; use it as a context manager."""
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "s" * 40,
           "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "tests.billing.issuer", *args],
                            cwd=ROOT, env=env, text=True, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _announce(wait: bool) -> None:
    print("ready", flush=True)
    if wait:
        sys.stdin.readline()


def issue_the_month(args) -> dict:
    app = create_app()
    _announce(args.wait)
    with app.app_context():
        # As `flask billing issue` does: each number in a transaction of its own.
        return {"numbers": issue_month(args.month, settings=settings(), actor=None, now=args.at,
                                       on_batch=db.session.commit)}


def issue_notes(args) -> dict:
    app = create_app()
    ids = list(args.ids)
    random.Random(args.seed).shuffle(ids)
    _announce(args.wait)
    numbers, refused = [], []
    with app.app_context():
        for note_id in ids:
            try:
                note = issue_credit_note(note_id, settings=settings(), actor=None, now=args.at)
            except Conflict:  # issued meanwhile by another process
                db.session.rollback()
                refused.append(note_id)
                continue
            number = note.number
            db.session.commit()
            numbers.append(number)
    return {"numbers": numbers, "refused": refused}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.billing.issuer")
    commands = parser.add_subparsers(dest="command", required=True)
    month_parser = commands.add_parser("month")
    month_parser.add_argument("--month", required=True)
    notes_parser = commands.add_parser("notes")
    notes_parser.add_argument("--seed", type=int, default=0)
    notes_parser.add_argument("ids", nargs="+", type=int)
    for sub in (month_parser, notes_parser):
        sub.add_argument("--at", type=parse_instant, required=True)
        sub.add_argument("--wait", action="store_true")
    args = parser.parse_args(argv)
    result = {"month": issue_the_month, "notes": issue_notes}[args.command](args)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
