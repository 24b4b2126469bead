"""Benchmark of ticket submission through the API on PostgreSQL (DESIGN §6).

Budget: ≥ 500 tickets/s through `POST /api/v1/tickets` with gunicorn and 2 workers, and none
lost: every ticket number the API acknowledged is in the database afterwards.

    python bench/submit.py postgresql://postgres@127.0.0.1/bench      # or BENCH_DATABASE_URL=…
    python bench/submit.py URL --tickets 5000 --clients 8

A schema of its own is created, migrated (`flask db upgrade`'s code), filled with the demo
(`flask helpdesk demo`'s code: contracts, accounts, a few hundred tickets of history) and dropped
at the end. gunicorn serves `wsgi:app` on a free loopback port with the production settings
(HELPDESK_ENV=production) and `--workers 2`. The clients are threads of this process, each
posting on its own keep-alive connection with the demo client's API token, an Idempotency-Key
per ticket and a P1 or P3 priority in turn; they share the machine with gunicorn and PostgreSQL.

Figures: tickets/s over the whole run after a warm-up, request latency p50/p95/max, the status
codes, and the check that the acknowledged numbers are exactly the tickets created. Exit status
1 when under budget or when anything acknowledged is missing.
"""
import argparse
import http.client
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bench.loading import migrated_schema, schema_url  # noqa: E402
from helpdesk.accounts.scopes import ALL_SCOPES  # noqa: E402
from helpdesk.accounts.services import find_user  # noqa: E402
from helpdesk.accounts.tokens import create_api_token  # noqa: E402
from helpdesk.clock import now_utc  # noqa: E402
from helpdesk.demo.load import load_demo  # noqa: E402
from helpdesk.extensions import db  # noqa: E402
from helpdesk.tickets.models import Ticket, format_number  # noqa: E402

BUDGET_PER_SECOND = 500
CLIENT = "client@example.com"
CONTRACT = "CT-2026-001"
WARM_UP = 100


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def prepare(app) -> str:
    """Fill the migrated schema with the demo; the demo client's API token."""
    with app.app_context():
        load_demo(now=now_utc())
        token = create_api_token(find_user(CLIENT), name="bench", scopes=ALL_SCOPES,
                                 expires_at=None, actor=None, now=now_utc())
        db.session.commit()
        db.engine.dispose()
    return token


def ticket_ids(app) -> list[int]:
    with app.app_context():
        ids = list(db.session.scalars(sa.select(Ticket.id)))
        db.session.remove()
    return ids


def serve(url: str, schema: str, port: int, workers: int) -> subprocess.Popen:
    env = {**os.environ, "HELPDESK_ENV": "production", "SECRET_KEY": secrets.token_hex(32),
           "TRUSTED_HOSTS": "127.0.0.1",
           "DATABASE_URL": schema_url(url, schema), "BASE_URL": f"http://127.0.0.1:{port}"}
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "--workers", str(workers),
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
        cwd=ROOT, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError("gunicorn did not answer within 30 s")


class Submitter(threading.Thread):
    """Posts tickets from a shared counter until it runs out; keeps what the API answered."""

    def __init__(self, port: int, token: str, numbers, run: str):
        super().__init__(daemon=True)
        self.port, self.token, self.numbers, self.run_id = port, token, numbers, run
        self.acknowledged: list[str] = []
        self.latencies: list[float] = []
        self.statuses: dict[int, int] = {}

    def _connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def run(self) -> None:
        connection = self._connection()
        while (n := next(self.numbers, None)) is not None:
            body = json.dumps({"contract": CONTRACT, "priority": "P1" if n % 2 else "P3",
                               "title": f"Bench incident {n}",
                               "description": "Submitted by bench/submit.py."})
            headers = {"Authorization": f"Bearer {self.token}",
                       "Content-Type": "application/json",
                       "Idempotency-Key": f"bench-{self.run_id}-{n}"}
            began = time.perf_counter()
            try:
                connection.request("POST", "/api/v1/tickets", body, headers)
                response = connection.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException):
                # The server closed the connection (gunicorn's sync workers do not keep it
                # alive): the same key sent again is answered once, by the ticket it made.
                connection.close()
                connection = self._connection()
                connection.request("POST", "/api/v1/tickets", body, headers)
                response = connection.getresponse()
                payload = response.read()
            self.latencies.append(time.perf_counter() - began)
            self.statuses[response.status] = self.statuses.get(response.status, 0) + 1
            if response.status == 201:
                self.acknowledged.append(json.loads(payload)["number"])
            if response.getheader("Connection", "").lower() == "close":
                connection.close()
                connection = self._connection()
        connection.close()


def submit(port: int, token: str, tickets: int, clients: int) -> tuple[float, list[Submitter]]:
    # A range iterator is advanced in C under the GIL: the threads share it safely.
    numbers = iter(range(tickets))
    run = uuid.uuid4().hex[:8]
    threads = [Submitter(port, token, numbers, run) for _ in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began, threads


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", nargs="?", default=os.environ.get("BENCH_DATABASE_URL"),
                        help="PostgreSQL URL (default: $BENCH_DATABASE_URL)")
    parser.add_argument("--tickets", type=int, default=5_000)
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    args = parser.parse_args()
    if not args.url or not args.url.startswith("postgresql"):
        parser.error("give a PostgreSQL URL, or set BENCH_DATABASE_URL")

    with migrated_schema(args.url, "bench_submit") as (schema, app):
        token = prepare(app)
        before = len(ticket_ids(app))
        port = free_port()
        server = serve(args.url, schema, port, args.workers)
        try:
            submit(port, token, WARM_UP, args.clients)  # connections, imports, prepared plans
            elapsed, threads = submit(port, token, args.tickets, args.clients)

            acknowledged = [number for thread in threads for number in thread.acknowledged]
            latencies = sorted(t for thread in threads for t in thread.latencies)
            statuses: dict[int, int] = {}
            for thread in threads:
                for status, count in thread.statuses.items():
                    statuses[status] = statuses.get(status, 0) + count
            ids = ticket_ids(app)
            created = len(ids) - before - WARM_UP
            numbers = {format_number(ticket_id) for ticket_id in ids}
            missing = [number for number in acknowledged if number not in numbers]
            rate = len(acknowledged) / elapsed
            print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
            print(f"{args.tickets:,} tickets through POST /api/v1/tickets, {args.clients} client "
                  f"threads, gunicorn --workers {args.workers}, after {WARM_UP} warm-up:")
            print(f"  {elapsed:.2f} s: {rate:,.0f} tickets/s  (≥ {BUDGET_PER_SECOND}/s: "
                  f"{'OK' if rate >= BUDGET_PER_SECOND else 'UNDER'})")
            print(f"  latency p50 {statistics.median(latencies) * 1000:.1f} ms, p95 "
                  f"{statistics.quantiles(latencies, n=20)[18] * 1000:.1f} ms, max "
                  f"{latencies[-1] * 1000:.1f} ms")
            print(f"  statuses: {dict(sorted(statuses.items()))}")
            print(f"  acknowledged {len(acknowledged):,}, created {created:,}, acknowledged but "
                  f"missing {len(missing)}, duplicates {len(acknowledged) - len(set(acknowledged))}")
            lost = bool(missing) or len(acknowledged) != args.tickets or created != args.tickets
            return 1 if lost or rate < BUDGET_PER_SECOND else 0
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
