"""Benchmark of one escalation sweep on PostgreSQL (DESIGN §6).

Budget: a sweep with 1,000 thresholds due among 1,000,000 tickets takes < 0.5 s, and within 1.5×
of the same sweep among 10,000 tickets: its cost grows with the thresholds due, not the tickets.

    python bench/sweep.py postgresql://postgres@127.0.0.1/bench      # or BENCH_DATABASE_URL=…
    python bench/sweep.py URL --sizes 10000 100000 --profile

For each size, a schema of its own is created, migrated (`flask db upgrade`'s code), filled with
COPY and dropped at the end. The tickets are a "created" event and stored clocks each: 30 % are
open with their next check in the coming two weeks, 70 % closed (clocks stopped, nothing to
check), and exactly 1,000 have one threshold due at the sweep instant (50 % of the GTI, half on
a 24/7 calendar, half on business hours with French holidays; one in ten unassigned, so its
warning goes to the whole team).

Figures, per size: the sweep as the scheduler runs it (`run_sweep`: its batches, a commit
each, the heartbeat), first in the process (cold caches), then five more, each undone after it
(records deleted, the due clocks as loaded, VACUUM, CHECKPOINT) so that every one sees the same
data; the budget is checked on their median, the slowest is shown. The process freezes what it
holds before, as `flask sla scheduler` does. Also: the SQL statements a sweep sends and the
plan of the due-ticket query as the sweep sends it (EXPLAIN ANALYZE, 1,000 due). With
--profile, a cProfile of one sweep. Exit status 1 when over budget.
"""
import argparse
import cProfile
import gc
import io
import json
import os
import pstats
import random
import statistics
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402

from bench.loading import Loader, fill, migrated_schema, vacuum  # noqa: E402
from helpdesk.escalation.jobs import run_sweep  # noqa: E402
from helpdesk.escalation.models import EscalationEvent, Notification  # noqa: E402
from helpdesk.extensions import db  # noqa: E402
from helpdesk.sla.calendar import Calendar  # noqa: E402
from helpdesk.tickets.models import SlaClock  # noqa: E402

AT = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)  # Thursday 15:00 in Paris
DUE = 1_000
ORGANISATIONS = 100
TECHNICIANS, LEADS = 5, 2
OPEN_SHARE = 0.3
REPEATS = 5
BUDGET_SECONDS, BUDGET_RATIO = 0.5, 1.5
HOUR = 3600
WEEKLY = {day: [["08:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
BUSINESS = Calendar("Europe/Paris", {day: [("08:00", "18:00")] for day in range(5)},
                    holidays_country="FR")
# code, calendar id, GTI seconds, GTR seconds
PRIORITIES = [("P1", 1, 2 * HOUR, 8 * HOUR), ("P3", 2, 8 * HOUR, None),
              ("P4", 1, 30 * 24 * HOUR, None)]


def reference_rows(loader: Loader) -> dict:
    """Calendars, organisations with a client each, staff, one contract per organisation."""
    created = datetime(2026, 1, 1, tzinfo=UTC)
    loader.copy("calendars", "id, code, version, timezone, is_always, weekly, holidays_country, "
                "holidays_subdiv, closures, created_at",
                [(1, "24x7", 1, "Europe/Paris", True, "{}", None, None, "[]", created),
                 (2, "biz-fr", 1, "Europe/Paris", False, json.dumps(WEEKLY), "FR", None, "[]",
                  created)])
    loader.copy("organisations", "id, code, name, kind, address, company_id, vat_number, "
                "created_at",
                ((n, f"org-{n}", f"Client {n} SARL", "client", "", "", "", created)
                 for n in range(1, ORGANISATIONS + 1)))
    users = [(n, f"client{n}@example.com", f"Client {n}", "client", n) for n in
             range(1, ORGANISATIONS + 1)]
    staff = [("technician", TECHNICIANS), ("team_lead", LEADS)]
    for role, count in staff:
        for n in range(count):
            users.append((len(users) + 1, f"{role}{n}@provider.example", f"{role} {n}", role, None))
    loader.copy("users", "id, email, name, role, organisation_id, password_hash, timezone, "
                "language, is_active_account, created_at",
                ((*user, "!", "Europe/Paris", "fr", True, created) for user in users))
    technicians = [u[0] for u in users if u[3] == "technician"]
    loader.copy("contracts",
                "id, reference, organisation_id, title, starts_on, ends_on, created_at",
                ((n, f"CT-{n}", n, "Maintenance", date(2026, 1, 1), None, created)
                 for n in range(1, ORGANISATIONS + 1)))
    loader.copy("contract_versions", "id, contract_id, version, effective_at, monthly_fee, "
                "currency, vat_rate, credit_cap_percent, credits_subject_to_vat, "
                "availability_target_percent, availability_calendar_id, terms_digest",
                ((n, n, 1, created, "1000.00", "EUR", "20", "30", True, "99.9", 1, "0" * 64)
                 for n in range(1, ORGANISATIONS + 1)))
    priorities, thresholds = {}, []
    for version in range(1, ORGANISATIONS + 1):
        for code, calendar, gti, gtr in PRIORITIES:
            priority_id = len(priorities) + 1
            priorities[version, code] = (priority_id, calendar, gti, gtr, code)
            thresholds += [(priority_id, 50, "assignee"), (priority_id, 80, "team_leads")]
    positions = {code: position for position, (code, *_) in enumerate(PRIORITIES)}
    loader.copy("priorities", "id, contract_version_id, code, label, position, calendar_id, "
                "gti_seconds, gtr_seconds",
                ((pid, version, code, code, positions[code], calendar, gti, gtr)
                 for (version, _), (pid, calendar, gti, gtr, code) in priorities.items()))
    loader.copy("escalation_thresholds", "id, priority_id, at_percent, notify",
                ((n, *row) for n, row in enumerate(thresholds, start=1)))
    return {"priorities": priorities, "technicians": technicians}


def due_opening(rng: random.Random, code: str) -> datetime:
    """An opening whose GTI crossed 50 % at or before AT, and 80 % only after it."""
    while True:
        if code == "P1":  # 24/7, 2 h: 50 % at +1 h, 80 % at +1 h 36
            return AT - timedelta(seconds=rng.randrange(HOUR, 96 * 60))
        opened = AT - timedelta(seconds=rng.randrange(4 * HOUR, 7 * HOUR))
        if BUSINESS.add(opened, timedelta(hours=4)) <= AT < BUSINESS.add(opened,
                                                                        timedelta(hours=6.4)):
            return opened


def ticket_rows(tickets: int, reference: dict, seed: int):
    """(ticket, event, clocks) per ticket; the due ones spread evenly among the others."""
    rng = random.Random(seed)
    technicians = reference["technicians"]
    due_every = tickets // DUE
    for ticket_id in range(1, tickets + 1):
        organisation = rng.randrange(1, ORGANISATIONS + 1)
        due = ticket_id % due_every == 0 and ticket_id // due_every <= DUE
        if due:
            code = "P1" if ticket_id // due_every % 2 else "P3"
            opened = due_opening(rng, code)
            status = "new"
        elif rng.random() < OPEN_SHARE:
            code, status = "P4", "new"  # 50 % of a 30-day GTI falls within the next 15 days
            opened = AT - timedelta(seconds=rng.randrange(1, 15 * 24 * HOUR))
        else:
            code, status = "P1", "closed"
            opened = AT - timedelta(seconds=rng.randrange(HOUR, 330 * 24 * HOUR))
        priority_id, calendar, gti, gtr, _ = reference["priorities"][organisation, code]
        assignee = rng.choice(technicians) if status == "new" and rng.random() < 0.9 else None
        targets = [("gti", gti)] + ([("gtr", gtr)] if gtr else [])
        clocks, dues = [], []
        for metric, target in targets:
            span = timedelta(seconds=target)
            if status == "closed":
                clocks.append((metric, "met", target, None, opened + span / 4, target // 4, None))
                continue
            if calendar == 1:
                due_at, check = opened + span, opened + span / 2
            else:
                due_at, check = BUSINESS.add(opened, span), BUSINESS.add(opened, span / 2)
            dues.append(due_at)
            clocks.append((metric, "running", target, due_at, None, 0, check))
        rank, due_at = (0, min(dues)) if status == "new" else (9, None)
        yield ((ticket_id, organisation, organisation, organisation, priority_id, organisation,
                assignee, status, f"Ticket {ticket_id}", "Something is broken.", opened, opened,
                None, None, opened + timedelta(days=1) if status == "closed" else None, rank,
                due_at),
               (ticket_id, ticket_id, opened, "created", organisation,
                json.dumps({"priority": code})),
               [(ticket_id, metric, clock_status, target, due, None, stopped, elapsed, 0, 0,
                 check, opened)
                for metric, clock_status, target, due, stopped, elapsed, check in clocks])


TICKET_COLUMNS = ("id, organisation_id, contract_id, contract_version_id, priority_id, "
                  "requester_id, assignee_id, status, title, description, created_at, updated_at, "
                  "taken_at, resolved_at, closed_at, sla_rank, sla_due_at")
EVENT_COLUMNS = "id, ticket_id, at, kind, actor_id, data"
CLOCK_COLUMNS = ("ticket_id, metric, status, target_seconds, due_at, breached_at, stopped_at, "
                 "elapsed_seconds, delay_seconds, escalation_level, next_check_at, computed_at")


def load(app, tickets: int, seed: int) -> None:
    """Fill the migrated schema; the indexes are those of the migrations, kept during COPY."""
    fill(app, lambda loader: loader.copy_tickets(
        ticket_rows(tickets, reference_rows(loader), seed),
        tickets=TICKET_COLUMNS, events=EVENT_COLUMNS, clocks=CLOCK_COLUMNS))


class Statements:
    """Counts the SQL statements sent, and keeps the due-ticket query as the sweep sends it."""

    def __init__(self, engine):
        self.counts: Counter[str] = Counter()
        self.due_query: tuple[str, dict] | None = None
        sa.event.listen(engine, "before_cursor_execute", self.seen)

    def seen(self, _connection, _cursor, statement, parameters, _context, _many):
        self.counts[statement.split(None, 1)[0].upper()] += 1
        if "SKIP LOCKED" in statement and self.due_query is None:
            self.due_query = (statement, parameters)

    def reset(self) -> None:
        self.counts.clear()


SWEPT_TABLES = "sla_clocks, tickets, escalation_events, breaches, notifications"
CLOCK_STATE = ("status, target_seconds, due_at, breached_at, stopped_at, elapsed_seconds, "
               "delay_seconds, escalation_level, next_check_at, computed_at")


def keep_due_clocks(app) -> None:
    """A copy of the due clocks as loaded, so that each sweep can start from them again."""
    with app.app_context():
        db.session.execute(sa.text("CREATE TABLE bench_due_clocks AS SELECT * FROM sla_clocks "
                                   "WHERE next_check_at <= :at"), {"at": AT})
        db.session.commit()


def restore_due_clocks(app) -> None:
    """Undo a committed sweep: its records go, the clocks it moved on are as loaded again;
    then VACUUM and a checkpoint, so every sweep starts from the same state, its first
    writes of each page logged whole as after any checkpoint."""
    with app.app_context():
        for table in ("notifications", "breaches", "escalation_events"):
            db.session.execute(sa.text(f"DELETE FROM {table}"))
        db.session.execute(sa.text(
            f"UPDATE sla_clocks SET ({CLOCK_STATE}) = (SELECT {CLOCK_STATE} FROM bench_due_clocks "
            "AS kept WHERE kept.id = sla_clocks.id) WHERE id IN (SELECT id FROM bench_due_clocks)"))
        db.session.commit()
    vacuum(app, SWEPT_TABLES)
    with app.app_context():
        db.session.execute(sa.text("CHECKPOINT"))
        db.session.commit()


def timed_sweep(app, statements: "Statements") -> tuple[float, int, Counter]:
    """One sweep as the scheduler runs it (`run_sweep`: its batches, a commit each, the
    heartbeat), timed; then checked (every due threshold recorded once) and undone. Returns
    the seconds, the notifications it queued and the statements it sent."""
    statements.reset()
    began = time.perf_counter()
    summary = run_sweep(app, now=AT, name="bench")
    elapsed = time.perf_counter() - began
    sent = Counter(statements.counts)
    with app.app_context():
        recorded = db.session.scalar(sa.select(sa.func.count()).select_from(EscalationEvent))
        mails = db.session.scalar(sa.select(sa.func.count()).select_from(Notification))
        left = db.session.scalar(sa.select(sa.func.count()).select_from(SlaClock)
                                 .where(SlaClock.next_check_at <= AT))
        db.session.remove()
    assert (summary.thresholds, recorded, left) == (DUE, DUE, 0), (summary, recorded, left)
    restore_due_clocks(app)
    return elapsed, mails, sent


def plan(app, statements: Statements) -> str:
    statement, parameters = statements.due_query
    with app.app_context(), db.engine.connect() as connection:
        rows = connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
        text = "\n".join(row[0] for row in rows)
        connection.rollback()
    return text


def measure(url: str, tickets: int, *, seed: int, profile: bool) -> dict:
    with migrated_schema(url, "bench_sweep", BASE_URL="http://helpdesk.test") as (schema, app):
        began = time.perf_counter()
        load(app, tickets, seed)
        print(f"\n{tickets:,} tickets loaded with COPY into schema {schema} in "
              f"{time.perf_counter() - began:.1f} s")
        with app.app_context():
            statements = Statements(db.engine)
            due = db.session.scalar(sa.select(sa.func.count()).select_from(SlaClock)
                                    .where(SlaClock.next_check_at <= AT))
            db.session.remove()
        assert due == DUE, f"{due} clocks due, expected {DUE}"

        # As `flask sla scheduler` does once started: what the process holds is frozen out of
        # the garbage collector.
        gc.collect()
        gc.freeze()
        keep_due_clocks(app)
        first, mails, per_sweep = timed_sweep(app, statements)
        explained = plan(app, statements)
        runs = [timed_sweep(app, statements)[0] for _ in range(REPEATS)]
        profiled = ""
        if profile:
            profiler = cProfile.Profile()
            profiler.enable()
            run_sweep(app, now=AT, name="bench")
            profiler.disable()
            restore_due_clocks(app)
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            stats.sort_stats("tottime").print_stats(12)
            stats.sort_stats("cumulative").print_stats(r"helpdesk/|orm/session.py.*flush", 20)
            profiled = out.getvalue()
        gc.unfreeze()
        return {"tickets": tickets, "first": first, "median": statistics.median(runs),
                "runs": runs, "notifications": mails, "statements": per_sweep,
                "plan": explained, "profile": profiled}


def report(result: dict) -> None:
    print(f"sweep of {DUE:,} due thresholds among {result['tickets']:,} tickets "
          f"({result['notifications']:,} notifications queued)")
    print(f"  first sweep in the process:  {result['first']:.3f} s")
    print(f"  then {REPEATS} sweeps: median {result['median']:.3f} s, slowest "
          f"{max(result['runs']):.3f} s  (runs: {', '.join(f'{t:.3f}' for t in result['runs'])})")
    statements = result["statements"]
    print(f"  SQL statements per sweep: {sum(statements.values()):,} "
          f"({', '.join(f'{k} {v:,}' for k, v in statements.most_common())})")
    uses_index = "ix_sla_clocks_next_check_at" in result["plan"]
    print(f"  due-ticket query uses ix_sla_clocks_next_check_at: {'yes' if uses_index else 'NO'}")
    print("    " + result["plan"].replace("\n", "\n    "))
    if result["profile"]:
        print(result["profile"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", nargs="?", default=os.environ.get("BENCH_DATABASE_URL"),
                        help="PostgreSQL URL (default: $BENCH_DATABASE_URL)")
    parser.add_argument("--sizes", nargs="+", type=int, default=[10_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=20261203)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one sweep")
    args = parser.parse_args()
    if not args.url or not args.url.startswith("postgresql"):
        parser.error("give a PostgreSQL URL, or set BENCH_DATABASE_URL")
    if min(args.sizes) < 2 * DUE:
        parser.error(f"each size must be at least {2 * DUE:,} tickets ({DUE:,} of them due)")
    results = []
    for tickets in args.sizes:
        result = measure(args.url, tickets, seed=args.seed, profile=args.profile)
        report(result)
        results.append(result)
    over = False
    print(f"\nbudget (DESIGN §6), on the median of {REPEATS} sweeps:")
    for result in results:
        ok = result["median"] < BUDGET_SECONDS
        over |= not ok
        print(f"  {result['tickets']:>9,} tickets: {result['median']:.3f} s  "
              f"(< {BUDGET_SECONDS} s: {'OK' if ok else 'OVER'}; slowest {max(result['runs']):.3f} s)")
    if len(results) > 1:
        smallest, largest = results[0], results[-1]
        ratio = largest["median"] / smallest["median"]
        ok = ratio <= BUDGET_RATIO
        over |= not ok
        print(f"  ratio {largest['tickets']:,} / {smallest['tickets']:,}: {ratio:.2f}×  "
              f"(≤ {BUDGET_RATIO}×: {'OK' if ok else 'OVER'})")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
