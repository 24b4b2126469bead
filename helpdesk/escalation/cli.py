"""`flask sla …`: the clocks' maintenance commands."""
import gc
import logging
from datetime import datetime

import click
from flask import current_app
from flask.cli import AppGroup

from helpdesk.cli_options import instant_option
from helpdesk.clock import is_future, now_utc, preview_notice
from helpdesk.escalation.jobs import (
    build_scheduler,
    preview_sweep,
    process_name,
    run_sender,
    run_sweep,
)
from helpdesk.extensions import db
from helpdesk.tickets.clocks import recompute_batch
from helpdesk.tickets.models import parse_number

sla_cli = AppGroup("sla", help="SLA clocks: recompute the stored state, sweep, schedule.")


@sla_cli.command("recompute")
@click.option("--ticket", "number", help="Only this ticket (e.g. T-000123).")
@click.option("--at", callback=instant_option,
              help="As of this ISO 8601 instant, now or past (default: now). A future instant is "
                   "refused: the stored clocks are the present's; flask sla sweep --at previews "
                   "what a later instant brings.")
def recompute_command(number: str | None, at: datetime | None) -> None:
    """Rebuild the stored clocks from the tickets' events."""
    if is_future(at):
        raise click.ClickException(
            f"--at {at.isoformat()} is later than now ({now_utc().isoformat(timespec='seconds')}): "
            f"the stored clocks describe the present, so nothing was recomputed. To see what "
            f"would be recorded by then: flask sla sweep --at {at.isoformat()}")
    ticket_ids = None
    if number is not None:
        ticket_id = parse_number(number)
        if ticket_id is None:
            raise click.BadParameter(f"not a ticket number: {number!r}", param_hint="--ticket")
        ticket_ids = [ticket_id]
    now = at or now_utc()
    after, count = 0, 0
    while batch := recompute_batch(now=now, after_id=after, ticket_ids=ticket_ids):
        db.session.commit()
        db.session.expunge_all()
        after, count = batch[-1], count + len(batch)
    if number is not None and count == 0:
        raise click.ClickException(f"No ticket {number}.")
    click.echo(f"Recomputed the clocks of {count} ticket(s) as of {now.isoformat()}.")


@sla_cli.command("sweep")
@click.option("--at", callback=instant_option,
              help="Sweep as of this ISO 8601 instant instead of now. Past: catch up or audit, "
                   "recording at the instants the rules give. Future: a preview that prints what "
                   "would be recorded and who would be told, and writes and sends nothing.")
def sweep_command(at: datetime | None) -> None:
    """Record the thresholds and breaches due, and queue their notifications."""
    app = current_app._get_current_object()
    if is_future(at):
        click.echo(preview_notice(at))
        summary, recorded = preview_sweep(app, now=at)
        for threshold in recorded:
            breach = " (breach)" if threshold.is_breach else ""
            told = (f"; would tell {', '.join(threshold.recipients)}"
                    if threshold.recipients else "")
            click.echo(f"  would record: {threshold.ticket_number} "
                       f"{threshold.metric.value.upper()} {threshold.level} %{breach} at "
                       f"{threshold.at.isoformat()}{told}")
        click.echo(f"Would sweep as of {at.isoformat()}: {summary.tickets} ticket(s), "
                   f"{summary.thresholds} threshold(s) crossed, {summary.breaches} breach(es) "
                   f"recorded, {summary.notifications} notification(s) queued.")
        return
    summary = run_sweep(app, now=at, name="cli")
    for line in summary.crossed:
        click.echo(f"  crossed: {line}")
    click.echo(f"Swept as of {(at or now_utc()).isoformat()}: {summary.tickets} ticket(s), "
               f"{summary.thresholds} threshold(s) crossed, {summary.breaches} breach(es) "
               f"recorded, {summary.notifications} notification(s) queued.")


@sla_cli.command("send-mail")
def send_mail_command() -> None:
    """Send the notifications due now (the scheduler does this on its own)."""
    sent, failed = run_sender(current_app._get_current_object())
    click.echo(f"{sent} mail(s) sent, {failed} failed and will be retried.")


@sla_cli.command("scheduler")
def scheduler_command() -> None:
    """Run the scheduler in the foreground: sweeps and mail, until stopped."""
    app = current_app._get_current_object()
    click.echo(f"Scheduler {process_name()}: sweep every {app.config['SWEEP_INTERVAL_SECONDS']} s, "
               f"mail every {app.config['MAIL_INTERVAL_SECONDS']} s. Stop with Ctrl+C.")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # APScheduler logs every run at INFO; what the jobs did is logged by the jobs themselves.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # What the process holds once started (the app, its mappers, the holidays) lives as long as
    # it does. Frozen out of the collector, a full collection falling into a sweep scans only
    # what the sweep made: at 1,000 thresholds due, 5 ms instead of 90.
    gc.collect()
    gc.freeze()
    try:
        build_scheduler(app).start()
    except (KeyboardInterrupt, SystemExit):
        click.echo("Scheduler stopped.")
