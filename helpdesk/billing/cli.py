"""`flask billing …`: close a month into draft credit notes, issue them, export the issued ones."""
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from helpdesk.billing import exports
from helpdesk.billing.inputs import active_contracts_query
from helpdesk.billing.queries import issued_at
from helpdesk.billing.services import (
    InvoiceReference,
    Outcome,
    close_month,
    drafts_of,
    issue_month,
)
from helpdesk.billing.settings import billing_settings
from helpdesk.cli_options import instant_option
from helpdesk.clock import is_future, now_utc, preview_notice
from helpdesk.errors import DomainError
from helpdesk.extensions import db
from helpdesk.month import Month, MonthError

billing_cli = AppGroup("billing", help="Credit notes: close a month, issue the drafts, export.")

PROGRESS_OVER = 50  # contracts or notes: fewer are done before a bar would be worth drawing
# The renderer of each document format, and what its file names add to the note's number.
DOCUMENTS = {"pdf": (exports.render_pdf, ""), "facturx": (exports.render_facturx, "-factur-x")}


def month_option(_ctx: click.Context, _param: click.Parameter, value: str) -> Month:
    try:
        return Month.parse(value.strip())
    except MonthError as error:
        raise click.BadParameter(f"{error}.") from None


@contextmanager
def progress_bar(total: int, label: str) -> Iterator:
    """A progress callback drawing a bar on stderr when there is enough work to watch, else
    None. stdout keeps what the command reports (or the CSV)."""
    if total <= PROGRESS_OVER:
        yield None
        return
    with click.progressbar(length=total, label=label, show_pos=True,
                           file=sys.stderr) as bar:
        yield bar.update


@billing_cli.command("close")
@click.option("--month", required=True, callback=month_option, help="The month, YYYY-MM.")
@click.option("--contract", "reference", help="Only this contract (its reference).")
@click.option("--at", callback=instant_option,
              help="Close as of this ISO 8601 instant instead of now. Future: a preview that "
                   "prints what would be drafted and writes nothing. Either way a month is "
                   "closed only once it has ended by the real clock, whatever --at says.")
@click.option("--invoice-number", help="The invoice the credit note relates to (with --contract).")
@click.option("--invoice-date", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="That invoice's date, YYYY-MM-DD.")
def close_command(month: Month, reference: str | None, at: datetime | None,
                  invoice_number: str | None, invoice_date: datetime | None) -> None:
    """Close a month into draft credit notes.

    One draft for each contract owed credits; a contract whose note is issued keeps it.
    """
    if (invoice_number or invoice_date) and reference is None:
        raise click.UsageError("--invoice-number and --invoice-date need --contract: each "
                               "contract's credit note relates to its own invoice.")
    preview = is_future(at)
    if preview:
        click.echo(preview_notice(at))
    # The month must have ended by the real clock: a past --at is held to its own instant, a
    # future one (a preview, rolled back) to the present.
    now = now_utc() if at is None or preview else at
    invoice = InvoiceReference(invoice_number, invoice_date.date() if invoice_date else None)
    total = 1 if reference else db.session.scalar(
        sa.select(sa.func.count()).select_from(active_contracts_query(str(month)).subquery()))
    try:
        with progress_bar(total, f"Closing {month.label}") as progress:
            # Each batch is committed as it is done; a preview's are rolled back below.
            summary = close_month(str(month), at=now, actor=None, contract_reference=reference,
                                  seller=billing_settings(current_app.config).seller,
                                  invoice=invoice, progress=progress,
                                  on_batch=None if preview else db.session.commit)
    except DomainError as error:
        raise click.ClickException(error.message) from error
    finally:
        if preview:
            db.session.rollback()
    for result in summary.results:
        if preview and result.outcome == Outcome.DRAFTED:
            click.echo(f"{result.contract_reference}: would draft a credit note of "
                       f"{result.total_excl_vat} {result.currency} excl. VAT for "
                       f"{month.label}.")
        else:
            click.echo(result.message)
    counts = [f"{summary.count(Outcome.DRAFTED)} drafted",
              f"{summary.count(Outcome.NOTHING_OWED)} with nothing owed",
              f"{summary.count(Outcome.ALREADY_ISSUED)} already issued"]
    if not_ended := summary.count(Outcome.NOT_ENDED):
        counts.append(f"{not_ended} whose month has not ended in their zone")
    if preview:
        click.echo(f"Would close {month.label} as of {at.isoformat()}: "
                   f"{len(summary.results)} contract(s), {', '.join(counts)}.")
        return
    click.echo(f"Closed {month.label} as of {now.isoformat()}: "
               f"{len(summary.results)} contract(s), {', '.join(counts)}.")
    if summary.count(Outcome.DRAFTED):
        click.echo(f"Check the drafts, then issue them: flask billing issue --month {month}")


@billing_cli.command("issue")
@click.option("--month", required=True, callback=month_option, help="The month, YYYY-MM.")
@click.option("--at", callback=instant_option,
              help="Issue as of this ISO 8601 instant instead of now: it gives the issue date "
                   "(in BILLING_TIMEZONE), and so the year of the numbers. Future: a preview "
                   "that prints which draft would get which number (as the sequence stands "
                   "now) and writes nothing.")
def issue_command(month: Month, at: datetime | None) -> None:
    """Issue the month's drafts.

    Each gets the next number of the year and is frozen for good.
    """
    preview = is_future(at)
    if preview:
        click.echo(preview_notice(at))
    now = at or now_utc()
    total = len(drafts_of(str(month)))
    if not total:
        click.echo(f"No draft credit note for {month.label}: nothing to issue "
                   f"(close the month first: flask billing close --month {month}).")
        return
    if preview:
        _preview_issue(month, at)
        return
    try:
        with progress_bar(total, f"Issuing {month.label}") as progress:
            numbers = issue_month(str(month), actor=None, now=now,
                                  settings=billing_settings(current_app.config),
                                  progress=progress, on_batch=db.session.commit)
    except DomainError as error:
        raise click.ClickException(error.message) from error
    for number in numbers:
        click.echo(f"Issued {number}.")
    span = f": {numbers[0]} to {numbers[-1]}" if numbers else ""
    meanwhile = (f" ({total - len(numbers)} issued meanwhile by someone else)"
                 if len(numbers) < total else "")
    click.echo(f"Issued {len(numbers)} credit note(s) for {month.label} as of "
               f"{now.isoformat()}{span}{meanwhile}.")


def _preview_issue(month: Month, at: datetime) -> None:
    """Issue the drafts as of `at` in one transaction, read the numbers back, roll it back."""
    try:
        issue_month(str(month), actor=None, now=at, settings=billing_settings(current_app.config))
        issued = issued_at(str(month), at)
    except DomainError as error:
        raise click.ClickException(error.message) from error
    finally:
        db.session.rollback()
    for note in issued:
        click.echo(f"{note.contract_reference}: its draft of {note.total_excl_vat} "
                   f"{note.currency} excl. VAT would be issued as {note.number}.")
    span = f": {issued[0].number} to {issued[-1].number}" if issued else ""
    click.echo(f"Would issue {len(issued)} credit note(s) for {month.label} as of "
               f"{at.isoformat()}{span}.")


def _replace_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """Write into a file beside `path`, then rename it: no half-written export is ever seen."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        write(partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _export_csv(month: Month, out: str, total: int) -> None:
    lines = 0

    def counted() -> Iterator:
        nonlocal lines
        with progress_bar(total, "Exporting") as progress:
            for note in exports.notes_of_month(str(month)):
                lines += len(note.lines)
                yield note
                if progress is not None:
                    progress(1)

    if out == "-":
        with click.open_file("-", "w", encoding="utf-8") as stream:
            exports.write_csv(counted(), stream)
    else:
        path = Path(out)
        if path.is_dir():
            raise click.BadParameter(f"{out} is a folder; give the CSV file to write.",
                                     param_hint="--out")

        def write(partial: Path) -> None:
            with partial.open("w", encoding="utf-8", newline="") as stream:
                exports.write_csv(counted(), stream)

        _replace_atomically(path, write)
    where = "standard output" if out == "-" else out
    # With the CSV on standard output, what the command says goes to stderr.
    click.echo(f"Exported {total} credit note(s) of {month.label}, {lines} line(s), "
               f"to {where}.", err=out == "-")


def _export_documents(month: Month, kind: str, out: str, total: int) -> None:
    render, suffix = DOCUMENTS[kind]
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise click.BadParameter(f"{out} is a file; give the folder that receives one "
                                 f"{kind} per credit note.", param_hint="--out")
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    with progress_bar(total, "Exporting") as progress:
        for note in exports.notes_of_month(str(month)):
            name = f"{note.number}{suffix}.pdf"
            if Path(name).name != name:
                raise click.ClickException(f"Credit note number {note.number!r} is not a "
                                           f"file name.")
            data = render(note)
            _replace_atomically(folder / name, lambda partial, data=data: partial.write_bytes(data))
            written.append(folder / name)
            db.session.expunge(note)
            if progress is not None:
                progress(1)
    for path in written:
        click.echo(f"Wrote {path}.")
    click.echo(f"Exported {len(written)} credit note(s) of {month.label} as {kind} "
               f"to {folder}.")


@billing_cli.command("export")
@click.option("--month", required=True, callback=month_option, help="The month, YYYY-MM.")
@click.option("--format", "kind", required=True, type=click.Choice(["csv", *DOCUMENTS]),
              help="csv for accounting; pdf for the client; facturx: the PDF with its "
                   "Factur-X (EN 16931) data.")
@click.option("--out", required=True,
              help="csv: the file to write (- for standard output); pdf, facturx: the folder "
                   "that receives one file per credit note, named after its number.")
def export_command(month: Month, kind: str, out: str) -> None:
    """Export the month's issued credit notes.

    Drafts are not documents: issue them first.
    """
    total = exports.count_of_month(str(month))
    if not total:
        drafts = len(drafts_of(str(month)))
        hint = (f"; {drafts} draft(s) wait to be issued (flask billing issue --month {month})"
                if drafts else "")
        click.echo(f"No issued credit note for {month.label}: nothing exported{hint}.",
                   err=True)
        return
    if kind == "csv":
        _export_csv(month, out, total)
    else:
        _export_documents(month, kind, out, total)
