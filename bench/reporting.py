"""Benchmark of the KPI dashboard's queries on PostgreSQL, with their plans.

    python bench/reporting.py postgresql://postgres@127.0.0.1/bench      # or BENCH_DATABASE_URL=…
    python bench/reporting.py URL --tickets 100000

A schema of its own is created, migrated, filled by bench/sweep.py's loader (100 organisations,
70 % of the tickets closed over the last eleven months, 30 % open), then given what the
dashboard reads: the closed tickets' clocks keep their due instant, one in twenty is breached
with a breach record, one breach in four is waived. Figures: the dashboard's queries (the default
period, six months), warm median of three runs each, and the whole dashboard; then the plans
(EXPLAIN ANALYZE). The schema is dropped at the end.
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402

from bench.loading import migrated_schema, vacuum  # noqa: E402
from bench.sweep import AT, load  # noqa: E402
from helpdesk.extensions import db  # noqa: E402
from helpdesk.month import Month  # noqa: E402
from helpdesk.reporting import queries  # noqa: E402
from helpdesk.reporting.queries import Scope  # noqa: E402

REPEATS = 3

# Closed tickets' clocks: due at opening + target; one in twenty breached (stopped an hour
# late), with its breach record; one breach in four waived.
DASHBOARD_DATA = """
UPDATE sla_clocks SET due_at = computed_at + target_seconds * interval '1 second'
 WHERE status = 'met' AND due_at IS NULL;
UPDATE sla_clocks SET status = 'breached', breached_at = due_at,
       stopped_at = due_at + interval '1 hour', elapsed_seconds = target_seconds + 3600,
       delay_seconds = 3600
 WHERE status = 'met' AND id % 20 = 0;
INSERT INTO breaches (ticket_id, contract_id, contract_version_id, priority_id, metric,
                      priority_code, target_seconds, breached_at, billing_month, stopped_at,
                      delay_seconds, recorded_at, waived_at, waiver_reason)
SELECT c.ticket_id, t.contract_id, t.contract_version_id, t.priority_id, c.metric, 'P1',
       c.target_seconds, c.breached_at, to_char(c.breached_at, 'YYYY-MM'), c.stopped_at, 3600,
       c.breached_at, CASE WHEN c.id % 80 = 0 THEN c.breached_at END,
       CASE WHEN c.id % 80 = 0 THEN 'bench' END
  FROM sla_clocks c JOIN tickets t ON t.id = c.ticket_id WHERE c.status = 'breached';
"""


def timed(function) -> tuple[float, object]:
    runs, result = [], None
    for _ in range(REPEATS):
        began = time.perf_counter()
        result = function()
        runs.append(time.perf_counter() - began)
    return statistics.median(runs), result


def explain(statement) -> str:
    compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
    rows = db.session.execute(sa.text(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}"))
    return "\n".join(row[0] for row in rows)


def indented(text: str) -> str:
    return "    " + text.replace("\n", "\n    ")


def measure(url: str, tickets: int, seed: int) -> None:
    with migrated_schema(url, "bench_reporting") as (schema, app):
        began = time.perf_counter()
        load(app, tickets, seed)
        with app.app_context():
            for statement in DASHBOARD_DATA.split(";"):
                if statement.strip():
                    db.session.execute(sa.text(statement))
            db.session.commit()
        vacuum(app, "ANALYZE")
        print(f"{tickets:,} tickets loaded into schema {schema} in "
              f"{time.perf_counter() - began:.1f} s")
        with app.app_context():
            last = Month(AT.year, AT.month)
            period = queries.make_period(str(last.plus(-5)), str(last), "Europe/Paris")
            scope = Scope()
            figures = {
                "compliance and mean times": lambda: queries.figures(period, scope),
                "at risk now": lambda: queries.at_risk(scope, now=AT),
            }
            total = 0.0
            print(f"dashboard queries, {period.months[0]} to {period.months[-1]}, "
                  f"warm median of {REPEATS}:")
            for name, function in figures.items():
                seconds, _result = timed(function)
                total += seconds
                print(f"  {name:<30} {seconds * 1000:8.1f} ms")
            print(f"  {'whole dashboard':<30} {total * 1000:8.1f} ms")
            seconds, _result = timed(lambda: queries.figures(period, Scope(organisation_id=7)))
            print(f"  {'the same, one organisation':<30} {seconds * 1000:8.1f} ms")
            print("\nplan: compliance and mean times (one read for the five tables)")
            print(indented(explain(queries.clock_figures_query(period, scope))))
            print("\nplan: at risk now")
            print(indented(explain(queries.at_risk_query(scope, now=AT,
                                                         limit=2 * queries.AT_RISK_LIMIT))))
            db.session.remove()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", nargs="?", default=os.environ.get("BENCH_DATABASE_URL"),
                        help="PostgreSQL URL (default: $BENCH_DATABASE_URL)")
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20261203)
    args = parser.parse_args()
    if not args.url or not args.url.startswith("postgresql"):
        parser.error("give a PostgreSQL URL, or set BENCH_DATABASE_URL")
    measure(args.url, args.tickets, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
