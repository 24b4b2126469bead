"""The periodic work, as the CLI and the scheduler process run it: batches, commits, heartbeat."""
import logging
import os
import socket
from datetime import datetime
from urllib.parse import urlsplit

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from helpdesk.clock import now_utc
from helpdesk.escalation.mail import claim_next, deliver, transport_from_config
from helpdesk.escalation.services import (
    BATCH_SIZE,
    SweepSummary,
    record_heartbeat,
    sweep_batch,
)
from helpdesk.extensions import db

logger = logging.getLogger(__name__)


def process_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_sweep(app: Flask, *, now: datetime | None = None, name: str | None = None,
              batch_size: int = BATCH_SIZE) -> SweepSummary:
    """One sweep as of `now` (default: the present), committed batch by batch."""
    as_of = now or now_utc()
    total = SweepSummary()
    seen: set[int] = set()
    with app.app_context():
        while True:
            summary = sweep_batch(now=as_of, limit=batch_size)
            db.session.commit()
            total.add(summary)
            if summary.tickets == 0:
                break
            before = len(seen)
            seen.update(summary.ticket_ids)
            if len(seen) == before:
                logger.error("sweep as of %s keeps finding the same tickets; stopping", as_of)
                break
        record_heartbeat(name=name or process_name(), swept_at=now_utc(), as_of=as_of,
                         summary=total)
        db.session.commit()
    return total


def run_sender(app: Flask, *, now: datetime | None = None, limit: int = 200) -> tuple[int, int]:
    """Send the mails that are due; each one is committed as soon as the server answered."""
    sent = failed = 0
    with app.app_context():
        transport = transport_from_config(app.config)
        base_url = app.config["BASE_URL"]
        domain = urlsplit(base_url).hostname or "helpdesk.invalid"
        for _ in range(limit):
            notification = claim_next(now=now or now_utc())
            if notification is None:
                break
            if deliver(notification, transport, now=now or now_utc(),
                       mail_from=app.config["MAIL_FROM"], base_url=base_url, domain=domain):
                sent += 1
            else:
                failed += 1
            db.session.commit()
    return sent, failed


def build_scheduler(app: Flask) -> BlockingScheduler:
    """Sweep and send on intervals; one run of each at a time, late runs coalesced, never dropped."""
    scheduler = BlockingScheduler(timezone="UTC")
    defaults = {"trigger": "interval", "max_instances": 1, "coalesce": True,
                "misfire_grace_time": None}
    scheduler.add_job(scheduled_sweep, args=[app, process_name()], id="sweep", name="sweep",
                      seconds=app.config["SWEEP_INTERVAL_SECONDS"], next_run_time=now_utc(),
                      **defaults)
    scheduler.add_job(scheduled_mail, args=[app], id="mail", name="mail",
                      seconds=app.config["MAIL_INTERVAL_SECONDS"], **defaults)
    return scheduler


def scheduled_sweep(app: Flask, name: str) -> None:
    summary = run_sweep(app, name=name)
    if summary.thresholds or summary.notifications:
        logger.info("sweep: %s", summary.as_dict())


def scheduled_mail(app: Flask) -> None:
    sent, failed = run_sender(app)
    if sent or failed:
        logger.info("mail: %s sent, %s to retry", sent, failed)
