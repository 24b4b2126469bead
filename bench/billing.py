"""Benchmark of closing a month into draft credit notes on PostgreSQL (DESIGN §6).

Budget: closing a month for 10,000 contracts with 100,000 breaches takes < 30 s, with memory flat:
the contracts are streamed a batch at a time, so what the process holds does not grow with them.

    python bench/billing.py postgresql://postgres@127.0.0.1/test      # or BENCH_DATABASE_URL=…
    python bench/billing.py URL --contracts 10000 --breaches 100000 --keep --profile

For each size (by default 1,000 contracts with 10,000 breaches, then 10,000 with 100,000), a schema
of its own is created, migrated (`flask db upgrade`'s code), filled with COPY and dropped at the end
(kept with --keep). October 2026 (Europe/Paris, 745 h) is the month closed, as of 2 November:

- two calendars (24/7, and business hours with French holidays); an organisation with a client
  per contract; one technician, one finance user;
- contracts with their versions (one in ten has a second version from the 15th, whose tickets
  carry its own priorities), three priorities each (P1 24/7 GTI 2 h / GTR 8 h, P2 business hours
  GTI 4 h / GTR 16 h, P3 business hours GTI 8 h) with their penalty rules; two in three promise
  99.9 % availability with tiers 99.9 % → 10 % and 99.5 % → 25 %;
- as many tickets as breaches, opened in the first 20 days of the month, with their events
  (created, taken, resolved): one in five breached both its GTI and its GTR, one in five met both;
  a share waits on the client (before the due instant, which only moves it, or after, which is
  not delay) or is reopened, so that pricing meets clocks it must replay and clocks it need not;
  a few are cancelled (no credit) or still running at the month's end;
- the breaches (5 % waived by finance), and outages on half the contracts with an availability
  target (some overlapping, a few spanning the month's start or still ongoing).

Each measure runs `close_month` in a fresh Python process, the application loaded and connected
first: the first closing of the month, timed (wall and CPU of that process), with its peak RSS
(getrusage's ru_maxrss, started over from the RSS before closing) against that RSS; closing again
(every draft replaced); the first closing again under tracemalloc, for the peak of Python
allocations. Memory is flat when the peaks at 10× the contracts stay within 1.5× of the small
size's. With --profile, a cProfile of one more first closing (top 25 by own and by cumulative
time). Exit status 1 when over budget or when memory grows.
"""
import argparse
import cProfile
import io
import json
import os
import pstats
import random
import resource
import subprocess
import sys
import time
import tracemalloc
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402

from bench.loading import Loader, bench_app, fill, migrated_schema, vacuum  # noqa: E402
from helpdesk.billing.credits import month_bounds  # noqa: E402
from helpdesk.billing.models import CreditNote, CreditNoteLine  # noqa: E402
from helpdesk.billing.services import Outcome, close_month  # noqa: E402
from helpdesk.billing.settings import billing_settings  # noqa: E402
from helpdesk.extensions import db  # noqa: E402
from helpdesk.sla.calendar import Calendar  # noqa: E402

MONTH = "2026-10"
ZONE = "Europe/Paris"
PARIS = ZoneInfo(ZONE)
START, END = month_bounds(MONTH, ZONE)
AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
CREATED = datetime(2026, 1, 1, tzinfo=UTC)
SECOND_VERSION_AT = datetime(2026, 10, 15, tzinfo=PARIS).astimezone(UTC)
BUDGET_SECONDS = 30.0
FLAT_RATIO = 1.5  # peak memory growth at the large size within 1.5× of the small size's
SIZES = [(1_000, 10_000), (10_000, 100_000)]
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
WEEKLY = {day: [["08:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
ALWAYS = Calendar.always(ZONE)
BUSINESS = Calendar(ZONE, {day: [("08:00", "18:00")] for day in range(5)}, holidays_country="FR")
CALENDARS = {1: ALWAYS, 2: BUSINESS}
# code, calendar id, GTI, GTR, {metric: (fixed, percent per started hour)}
PRIORITIES = [
    ("P1", 1, 2 * HOUR, 8 * HOUR, {"gti": ("100.00", "0"), "gtr": ("0", "2")}),
    ("P2", 2, 4 * HOUR, 16 * HOUR, {"gti": ("50.00", "0"), "gtr": ("0", "1")}),
    ("P3", 2, 8 * HOUR, None, {"gti": ("20.00", "0")}),
]
TECHNICIAN, FINANCE = 1, 2  # user ids; clients follow


# -- the month's data ----------------------------------------------------------------------------


class Contracts:
    """Contract ids, their versions and priorities, and which promise availability."""

    def __init__(self, count: int):
        self.count = count
        self.versions: dict[int, list[int]] = {}  # contract -> version ids, oldest first
        self.priorities: dict[tuple[int, str], int] = {}  # (version id, code) -> priority id
        version_id = 0
        for contract in range(1, count + 1):
            self.versions[contract] = []
            for _ in range(2 if contract % 10 == 0 else 1):
                version_id += 1
                self.versions[contract].append(version_id)
                for code, *_ in PRIORITIES:
                    self.priorities[version_id, code] = len(self.priorities) + 1

    @staticmethod
    def has_availability(contract: int) -> bool:
        return contract % 3 != 0

    def version_at(self, contract: int, at: datetime) -> int:
        versions = self.versions[contract]
        return versions[1] if len(versions) > 1 and at >= SECOND_VERSION_AT else versions[0]


def reference_rows(loader: Loader, contracts: Contracts) -> None:
    loader.copy("calendars", "id, code, version, timezone, is_always, weekly, holidays_country, "
                "holidays_subdiv, closures, created_at",
                [(1, "24x7", 1, ZONE, True, "{}", None, None, "[]", CREATED),
                 (2, "biz-fr", 1, ZONE, False, json.dumps(WEEKLY), "FR", None, "[]", CREATED)])
    count = contracts.count
    loader.copy("organisations", "id, code, name, kind, address, company_id, vat_number, "
                "created_at",
                ((n, f"org-{n}", f"Client {n} SARL", "client", f"{n} rue Exemple, 44000 Nantes",
                  f"{n:09d}", f"FR00{n:09d}", CREATED) for n in range(1, count + 1)))
    staff = [(TECHNICIAN, "tech@provider.example", "Tech", "technician", None),
             (FINANCE, "finance@provider.example", "Finance", "finance", None)]
    clients = ((n + FINANCE, f"client{n}@example.com", f"Client {n}", "client", n)
               for n in range(1, count + 1))
    loader.copy("users", "id, email, name, role, organisation_id, password_hash, timezone, "
                "language, is_active_account, created_at",
                ((*user, "!", ZONE, "fr", True, CREATED) for rows in (staff, clients)
                 for user in rows))
    loader.copy("contracts", "id, reference, organisation_id, title, starts_on, ends_on, "
                "created_at",
                ((n, f"CT-{n:06d}", n, "Maintenance", date(2026, 1, 1), None, CREATED)
                 for n in range(1, count + 1)))
    versions, tiers, priorities, rules = [], [], [], []
    for contract, ids in contracts.versions.items():
        available = contracts.has_availability(contract)
        for number, version_id in enumerate(ids, start=1):
            fee = "1000.00" if number == 1 else "1200.00"
            versions.append((version_id, contract, number,
                             CREATED if number == 1 else SECOND_VERSION_AT, fee, "EUR", "20",
                             "30", True, "99.9" if available else None,
                             1 if available else None, "0" * 64))
            if available:
                tiers += [(version_id, "99.9", "10"), (version_id, "99.5", "25")]
            for position, (code, calendar, gti, gtr, penalties) in enumerate(PRIORITIES):
                priority_id = contracts.priorities[version_id, code]
                priorities.append((priority_id, version_id, code, code, position, calendar,
                                   int(gti.total_seconds()),
                                   int(gtr.total_seconds()) if gtr else None))
                rules += [(priority_id, metric, fixed, percent)
                          for metric, (fixed, percent) in penalties.items()]
    loader.copy("contract_versions", "id, contract_id, version, effective_at, monthly_fee, "
                "currency, vat_rate, credit_cap_percent, credits_subject_to_vat, "
                "availability_target_percent, availability_calendar_id, terms_digest", versions)
    loader.copy("availability_tiers", "id, contract_version_id, below_percent, credit_percent",
                ((n, *row) for n, row in enumerate(tiers, start=1)))
    loader.copy("priorities", "id, contract_version_id, code, label, position, calendar_id, "
                "gti_seconds, gtr_seconds", priorities)
    loader.copy("penalty_rules", "id, priority_id, metric, fixed_amount, "
                "percent_per_started_hour", ((n, *row) for n, row in enumerate(rules, start=1)))


class Story:
    """One ticket's events and breaches, built on its priority's calendar."""

    def __init__(self, rng: random.Random, opened: datetime, calendar: Calendar):
        self.rng, self.calendar = rng, calendar
        self.events: list[tuple[datetime, str, dict]] = [(opened, "created", {})]
        self.opened = opened
        self.breaches: list[tuple[str, datetime, datetime | None, int | None]] = []
        self.status = "closed"

    def later(self, at: datetime, low: timedelta, high: timedelta) -> datetime:
        span = self.rng.uniform(low.total_seconds(), high.total_seconds())
        return self.calendar.add(at, timedelta(seconds=int(span)))

    def event(self, at: datetime, kind: str, **data) -> datetime:
        self.events.append((at, kind, data))
        return at

    def gti(self, target: timedelta, breached: bool) -> datetime:
        due = self.calendar.add(self.opened, target)
        if not breached:
            return self.event(self.later(self.opened, target / 10, target * 9 / 10), "taken")
        taken = self.event(self.later(due, 5 * MINUTE, 4 * HOUR), "taken")
        self.breaches.append(("gti", due, taken, self.delay(due, taken)))
        return taken

    def delay(self, due: datetime, stop: datetime, pauses=()) -> int:
        counted = self.calendar.elapsed(due, stop)
        for start, end in pauses:
            counted -= self.calendar.elapsed(start, end)
        return int(counted.total_seconds())

    def gtr(self, target: timedelta, taken: datetime, breached: bool, shape: str) -> None:
        """shape: plain, pause (before the due instant), late-pause (after it), reopen, running."""
        counted_from, used = self.opened, timedelta(0)
        if shape == "pause":
            waiting = self.event(max(taken, self.calendar.add(self.opened, target / 4)) + MINUTE,
                                 "waiting")
            used = self.calendar.elapsed(self.opened, waiting)
            counted_from = self.event(waiting + self.rng.choice([HOUR, 3 * HOUR, 20 * HOUR]),
                                      "resumed")
        elif shape == "reopen":
            first = self.event(max(taken, self.calendar.add(self.opened, target / 2)) + MINUTE,
                               "resolved")
            used = self.calendar.elapsed(self.opened, first)
            counted_from = self.event(first + 2 * HOUR, "reopened", reason="Still broken.")
        due = self.calendar.add(counted_from, target - used)
        if shape == "running":
            self.status = "in_progress"
            self.breaches.append(("gtr", due, None, None))
            return
        if not breached:
            end = max(taken + MINUTE, self.calendar.add(counted_from, (target - used) * 0.8))
            self.event(end, "resolved")
            return
        pauses = []
        start = due
        if shape == "late-pause":
            waiting = self.event(self.later(due, 10 * MINUTE, HOUR), "waiting")
            start = self.event(waiting + 2 * HOUR, "resumed")
            pauses.append((waiting, start))
        resolved = self.event(self.later(max(start, taken), 10 * MINUTE, 6 * HOUR), "resolved")
        self.breaches.append(("gtr", due, resolved, self.delay(due, resolved, pauses)))


def ticket_rows(breaches: int, contracts: Contracts, seed: int):
    """(ticket, events, breaches) per ticket; as many tickets as breaches in all."""
    rng = random.Random(seed)
    for ticket_id in range(1, breaches + 1):
        contract = rng.randrange(1, contracts.count + 1)
        both, neither = ticket_id % 5 == 0, ticket_id % 5 == 1
        code = rng.choice(["P1", "P2"] if both or neither else ["P1", "P1", "P2", "P2", "P3"])
        _, calendar_id, gti, gtr, _ = next(p for p in PRIORITIES if p[0] == code)
        calendar = CALENDARS[calendar_id]
        opened = calendar.next_open(START + timedelta(seconds=rng.randrange(20 * 24 * 3600)))
        version = contracts.version_at(contract, opened)
        story = Story(rng, opened, calendar)
        story.events[0][2]["priority"] = code
        metric = "gtr" if both else "gti" if gtr is None else rng.choice(["gti", "gtr"])
        taken = story.gti(gti, breached=both or (not neither and metric == "gti"))
        roll = rng.random()
        if gtr is not None:
            shape = ("running" if roll < 0.01 and metric == "gtr" and not neither else
                     "pause" if roll < 0.12 else "late-pause" if roll < 0.22 else
                     "reopen" if roll < 0.27 else "plain")
            if shape == "late-pause" and (neither or metric != "gtr"):
                shape = "plain"
            story.gtr(gtr, taken, breached=metric == "gtr" and not neither, shape=shape)
        else:
            story.event(story.later(taken, 10 * MINUTE, 2 * HOUR), "resolved")
        story.events.sort(key=lambda event: event[0])
        if story.status == "closed" and roll > 0.99 and story.events[-1][1] == "resolved":
            # Cancelled as a duplicate instead of resolved: its breaches credit nothing.
            story.status = "cancelled"
            story.events[-1] = (story.events[-1][0], "cancelled", {"reason": "Duplicate."})
        resolved = [at for at, kind, _ in story.events if kind == "resolved"]
        ticket = (ticket_id, contract, contract, version, contracts.priorities[version, code],
                  contract + FINANCE, TECHNICIAN, story.status, f"Ticket {ticket_id}",
                  "Something is broken.", opened, story.events[-1][0], taken,
                  resolved[-1] if story.status == "closed" else None,
                  resolved[-1] + timedelta(days=2) if story.status == "closed" else None,
                  0 if story.status == "in_progress" else 9, None)
        rows = [(ticket_id, metric, contract, version, contracts.priorities[version, code], code,
                 due, stopped, delay) for metric, due, stopped, delay in story.breaches]
        yield ticket, story.events, rows


def outage_rows(contracts: Contracts, first_tickets: dict[int, int], seed: int):
    """Outages on half the contracts that promise availability (a third of them all)."""
    rng = random.Random(seed + 1)
    for contract in range(1, contracts.count + 1):
        ticket = first_tickets.get(contract)
        if ticket is None or not contracts.has_availability(contract) or contract % 3 != 1:
            continue
        start = None
        for _ in range(rng.choice([1, 1, 2, 3])):
            if start is not None and rng.random() < 0.5:  # reported twice: they overlap
                start += timedelta(minutes=rng.randrange(1, 60))
            else:
                start = START + timedelta(seconds=rng.randrange(-2 * 3600, 28 * 24 * 3600))
            end = start + timedelta(seconds=rng.randrange(300, 6 * 3600))
            if rng.random() < 0.01:
                end = None  # still ongoing at the month's end: the whole rest is down
            yield ticket, contract, start, end


TICKET_COLUMNS = ("id, organisation_id, contract_id, contract_version_id, priority_id, "
                  "requester_id, assignee_id, status, title, description, created_at, updated_at, "
                  "taken_at, resolved_at, closed_at, sla_rank, sla_due_at")
BREACH_COLUMNS = ("id, ticket_id, contract_id, contract_version_id, priority_id, metric, "
                  "priority_code, target_seconds, breached_at, billing_month, stopped_at, "
                  "delay_seconds, recorded_at, waived_at, waived_by_id, waiver_reason")
CHUNK = 20_000
TARGETS = {(code, metric): int(target.total_seconds())
           for code, _, gti, gtr, _ in PRIORITIES
           for metric, target in (("gti", gti), ("gtr", gtr)) if target is not None}


def load(app, contract_count: int, breach_count: int, seed: int) -> Counter:
    """Fill the migrated schema with COPY, a chunk of tickets at a time; row counts per table."""
    contracts = Contracts(contract_count)
    rng = random.Random(seed + 2)

    def write(loader: Loader) -> None:
        reference_rows(loader, contracts)
        rows = ticket_rows(breach_count, contracts, seed)
        event_id = breach_id = 0
        first_tickets: dict[int, int] = {}
        while chunk := list(islice(rows, CHUNK)):
            loader.copy("tickets", TICKET_COLUMNS, (ticket for ticket, _, _ in chunk))
            events = [(ticket[0], at, kind, None if kind == "created" else TECHNICIAN,
                       json.dumps(data)) for ticket, story, _ in chunk
                      for at, kind, data in story]
            loader.copy("ticket_events", "id, ticket_id, at, kind, actor_id, data",
                        ((event_id + n, *event) for n, event in enumerate(events, start=1)))
            event_id += len(events)
            breaches = []
            for ticket, _, ticket_breaches in chunk:
                first_tickets.setdefault(ticket[1], ticket[0])
                for ticket_id, metric, contract, version, priority, code, due, stopped, \
                        delay in ticket_breaches:
                    assert START <= due < END, (ticket_id, metric, due)
                    waived = rng.random() < 0.05
                    breaches.append((
                        ticket_id, contract, version, priority, metric, code,
                        TARGETS[code, metric], due, MONTH, stopped, delay, due,
                        AT - timedelta(days=1) if waived else None,
                        FINANCE if waived else None,
                        "Client asked us to wait." if waived else None))
            loader.copy("breaches", BREACH_COLUMNS,
                        ((breach_id + n, *row) for n, row in enumerate(breaches, start=1)))
            breach_id += len(breaches)
        loader.copy("outages", "id, ticket_id, contract_id, started_at, ended_at, "
                    "recorded_by_id, recorded_at",
                    ((n, ticket, contract, start, end, TECHNICIAN, end or start)
                     for n, (ticket, contract, start, end) in enumerate(
                         outage_rows(contracts, first_tickets, seed), start=1)))

    return fill(app, write)


def forget_drafts(app) -> None:
    """Back to a month never closed, so that the next measure is a first closing again."""
    with app.app_context(), db.engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM credit_note_lines; DELETE FROM credit_notes; "
                                   "DELETE FROM audit_entries WHERE entity = 'credit_note'")
    vacuum(app, "ANALYZE credit_notes, credit_note_lines, audit_entries")


# -- one closing, in a process of its own ----------------------------------------------------------


def rss_now_kib() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def reset_peak_rss() -> bool:
    """Start the peak RSS (getrusage's ru_maxrss) over from the current RSS (Linux ≥ 4.0), so
    that the peak measured is the closing's, not that of importing the application."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


def close_in_this_process(url: str, schema: str, mode: str) -> dict:
    """Run `close_month` once; mode: time (RSS), trace (tracemalloc) or profile (cProfile)."""
    app = bench_app(url, schema)
    statements: Counter[str] = Counter()
    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute",
                        lambda _c, _cur, statement, *_: statements.update(
                            [statement.split(None, 1)[0].upper()]))
        db.session.execute(sa.text("SELECT 1"))  # connected, as a running app would be
        db.session.rollback()
        peak_reset = reset_peak_rss()
        rss_before = rss_now_kib()
        profiler = cProfile.Profile() if mode == "profile" else None
        if mode == "trace":
            tracemalloc.start()
        if profiler:
            profiler.enable()
        seller = billing_settings(app.config).seller
        began, cpu = time.perf_counter(), time.process_time()
        # Committed a batch at a time, as `flask billing close` does.
        summary = close_month(MONTH, seller=seller, at=AT, on_batch=db.session.commit)
        elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
        if profiler:
            profiler.disable()
        traced_peak = tracemalloc.get_traced_memory()[1] if mode == "trace" else None
        tracemalloc.stop()
        result = {
            "seconds": elapsed, "cpu_seconds": cpu, "peak_reset": peak_reset,
            "rss_before_kib": rss_before,
            "rss_peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            "rss_end_kib": rss_now_kib(), "traced_peak": traced_peak,
            "outcomes": Counter(r.outcome for r in summary.results),
            "notes": db.session.scalar(sa.select(sa.func.count()).select_from(CreditNote)),
            "lines": db.session.scalar(sa.select(sa.func.count()).select_from(CreditNoteLine)),
            "statements": statements,
        }
        if profiler:
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            stats.sort_stats("tottime").print_stats(25)
            stats.sort_stats("cumulative").print_stats(25)
            result["profile"] = out.getvalue()
        db.engine.dispose()
    return result


# Starts the closing's process from a small one: on Linux, getrusage's peak RSS of a process
# counts the image it was exec'ed from, here this process and the data it generated.
LAUNCHER = "import subprocess, sys; sys.exit(subprocess.run(sys.argv[1:]).returncode)"


def close_in_a_fresh_process(url: str, schema: str, mode: str) -> dict:
    done = subprocess.run([sys.executable, "-c", LAUNCHER, sys.executable, __file__, url,
                           "--child", schema, "--mode", mode],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"closing ({mode}) failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- sizes, figures ------------------------------------------------------------------------------


def measure(url: str, contracts: int, breaches: int, *, seed: int, keep: bool,
            profile: bool) -> dict:
    with migrated_schema(url, "bench_billing", keep=keep) as (schema, app):
        began = time.perf_counter()
        counts = load(app, contracts, breaches, seed)
        print(f"\n{contracts:,} contracts, {counts['breaches']:,} breaches "
              f"({counts['tickets']:,} tickets, {counts['ticket_events']:,} events, "
              f"{counts['outages']:,} outages) loaded with COPY into schema {schema} in "
              f"{time.perf_counter() - began:.1f} s")
        with app.app_context():
            db.engine.dispose()
        load_average = os.getloadavg()[0]  # other work on the machine slows every figure down
        first = close_in_a_fresh_process(url, schema, "time")
        again = close_in_a_fresh_process(url, schema, "time")
        forget_drafts(app)
        traced = close_in_a_fresh_process(url, schema, "trace")
        profiled = None
        if profile:
            forget_drafts(app)
            profiled = close_in_a_fresh_process(url, schema, "profile")
        return {"contracts": contracts, "breaches": counts["breaches"], "first": first,
                "load": load_average,
                "again": again, "traced": traced, "profile": profiled}


def mib(kib: int) -> str:
    return f"{kib / 1024:,.0f} MiB"


def report(results: list[dict]) -> None:
    print("\nclosing October 2026: the first closing (time, CPU of the Python process, RSS), "
          "closing again (every draft replaced), tracemalloc peak of a first closing")
    header = (f"{'contracts':>9} {'breaches':>9} {'first':>7} {'CPU':>7} {'again':>7} "
              f"{'RSS before':>10} {'peak RSS':>9} {'growth':>8} {'tracemalloc':>12} "
              f"{'notes':>7} {'lines':>8} {'SQL':>5}")
    print(header)
    print("-" * len(header))
    for r in results:
        first = r["first"]
        growth = first["rss_peak_kib"] - first["rss_before_kib"]
        print(f"{r['contracts']:>9,} {r['breaches']:>9,} {first['seconds']:>6.1f}s "
              f"{first['cpu_seconds']:>6.1f}s {r['again']['seconds']:>6.1f}s "
              f"{mib(first['rss_before_kib']):>10} {mib(first['rss_peak_kib']):>9} "
              f"{mib(growth):>8} {r['traced']['traced_peak'] / 2**20:>8,.1f} MiB "
              f"{first['notes']:>7,} {first['lines']:>8,} {sum(first['statements'].values()):>5,}")
    if not all(r["first"]["peak_reset"] for r in results):
        print("  (the peak RSS could not be reset before closing: it includes start-up)")
    for r in results:
        outcomes = ", ".join(f"{count:,} {outcome}" for outcome, count in
                             sorted(r["first"]["outcomes"].items()))
        statements = ", ".join(f"{kind} {count:,}" for kind, count in
                               Counter(r["first"]["statements"]).most_common())
        print(f"  {r['contracts']:,} contracts: {outcomes}; SQL statements: {statements} "
              f"(notes, lines and audit entries go by COPY); 1-min load average before: "
              f"{r['load']:.1f}")
        if r["profile"]:
            print(r["profile"]["profile"])


def check(results: list[dict]) -> bool:
    over = False
    print("\nbudget (DESIGN §6):")
    for r in results:
        ok = r["first"]["seconds"] < BUDGET_SECONDS
        over |= not ok
        print(f"  {r['contracts']:>6,} contracts, {r['breaches']:>7,} breaches: "
              f"{r['first']['seconds']:.1f} s (< {BUDGET_SECONDS:.0f} s: "
              f"{'OK' if ok else 'OVER'})")
        if r["first"]["outcomes"].get(Outcome.DRAFTED, 0) == 0:
            over = True
            print("    no draft was made: the data is wrong")
    if len(results) > 1:
        small, large = results[0], results[-1]
        for label, key in (("peak RSS growth", None), ("tracemalloc peak", "traced_peak")):
            if key is None:
                values = [r["first"]["rss_peak_kib"] - r["first"]["rss_before_kib"]
                          for r in (small, large)]
            else:
                values = [r["traced"][key] for r in (small, large)]
            ratio = values[1] / max(values[0], 1)
            ok = ratio <= FLAT_RATIO
            over |= not ok
            print(f"  {label}: {ratio:.2f}× for {large['contracts'] / small['contracts']:.0f}× "
                  f"the contracts (≤ {FLAT_RATIO}×, flat: {'OK' if ok else 'GROWS'})")
    return over


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", nargs="?", default=os.environ.get("BENCH_DATABASE_URL"),
                        help="PostgreSQL URL (default: $BENCH_DATABASE_URL)")
    parser.add_argument("--contracts", nargs="+", type=int,
                        help="contracts per size (default: 1000 10000)")
    parser.add_argument("--breaches", nargs="+", type=int,
                        help="breaches per size, as many as --contracts (default: 10 each)")
    parser.add_argument("--seed", type=int, default=20261031)
    parser.add_argument("--keep", action="store_true", help="keep the schemas (not dropped)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of a closing")
    parser.add_argument("--child", metavar="SCHEMA", help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="time", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.url or not args.url.startswith("postgresql"):
        parser.error("give a PostgreSQL URL, or set BENCH_DATABASE_URL")
    if args.child:
        print(json.dumps(close_in_this_process(args.url, args.child, args.mode), default=str))
        return 0
    contracts = args.contracts or [c for c, _ in SIZES]
    breaches = args.breaches or ([b for _, b in SIZES] if args.contracts is None
                                 else [10 * c for c in contracts])
    if len(breaches) != len(contracts) or min(contracts) < 30 or min(breaches) < 5:
        parser.error("give as many --breaches as --contracts (at least 30 contracts, 5 breaches)")
    results = [measure(args.url, c, b - b % 5, seed=args.seed, keep=args.keep,
                       profile=args.profile) for c, b in zip(contracts, breaches, strict=True)]
    report(results)
    return 1 if check(results) else 0


if __name__ == "__main__":
    sys.exit(main())
