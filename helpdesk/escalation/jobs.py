"""The periodic work, as the CLI and the scheduler process run it: batches, commits, heartbeat."""
import logging
import os
import socket
from collections.abc import Iterator
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from helpdesk.accounts import mail as account_mails
from helpdesk.clock import now_utc
from helpdesk.escalation.mail import claim_next, deliver
from helpdesk.escalation.models import EscalationEvent
from helpdesk.escalation.queries import RecordedThreshold, thresholds_recorded
from helpdesk.escalation.services import (
    BATCH_SIZE,
    SweepSummary,
    record_heartbeat,
    sweep_batch,
)
from helpdesk.extensions import db
from helpdesk.mailer import transport_from_config

logger = logging.getLogger(__name__)


def process_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _sweep_batches(as_of: datetime, batch_size: int) -> Iterator[SweepSummary]:
    """Batch after batch until none is due; the caller commits after each, or never."""
    seen: set[int] = set()
    while True:
        summary = sweep_batch(now=as_of, limit=batch_size)
        yield summary
        if summary.tickets == 0:
            return
        before = len(seen)
        seen.update(summary.ticket_ids)
        if len(seen) == before:
            logger.error("sweep as of %s keeps finding the same tickets; stopping", as_of)
            return


def run_sweep(app: Flask, *, now: datetime | None = None, name: str | None = None,
              batch_size: int = BATCH_SIZE) -> SweepSummary:
    """One sweep as of `now` (default: the present), committed batch by batch."""
    as_of = now or now_utc()
    total = SweepSummary()
    with app.app_context():
        for summary in _sweep_batches(as_of, batch_size):
            db.session.commit()
            total.add(summary)
        record_heartbeat(name=name or process_name(), swept_at=now_utc(), as_of=as_of,
                         summary=total)
        db.session.commit()
    return total


def preview_sweep(app: Flask, *, now: datetime,
                  batch_size: int = BATCH_SIZE) -> tuple[SweepSummary, list[RecordedThreshold]]:
    """What a sweep as of `now` would record and whom it would tell, with nothing written: the
    sweep runs as it always does, in one transaction read back and then rolled back. No
    heartbeat, and the outbox it wrote is gone before any sender could see it."""
    with app.app_context():
        try:
            after_id = db.session.scalar(sa.select(sa.func.max(EscalationEvent.id))) or 0
            total = SweepSummary()
            for summary in _sweep_batches(now, batch_size):
                total.add(summary)
            recorded = thresholds_recorded(after_id=after_id, recorded_at=now)
        finally:
            db.session.rollback()
    return total, recorded


def run_sender(app: Flask, *, now: datetime | None = None, limit: int = 200) -> tuple[int, int]:
    """Send the mails that are due, account mails first (a reset link is awaited by someone at
    a screen); each one is committed as soon as the server answered."""
    sent = failed = 0
    with app.app_context():
        transport = transport_from_config(app.config)
        base_url = app.config["BASE_URL"]
        common = {"mail_from": app.config["MAIL_FROM"], "base_url": base_url,
                  "domain": urlsplit(base_url).hostname or "helpdesk.invalid"}
        lifetimes = {
            "reset_lifetime": timedelta(minutes=app.config["PASSWORD_RESET_MINUTES"]),
            "invitation_lifetime": timedelta(days=app.config["INVITATION_DAYS"]),
        }
        for _ in range(limit):
            at = now or now_utc()
            account_mail = account_mails.claim_next(now=at)
            if account_mail is not None:
                delivered = account_mails.deliver(account_mail, transport, now=at,
                                                  **lifetimes, **common)
            else:
                notification = claim_next(now=at)
                if notification is None:
                    break
                delivered = deliver(notification, transport, now=at, **common)
            sent, failed = (sent + 1, failed) if delivered else (sent, failed + 1)
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
