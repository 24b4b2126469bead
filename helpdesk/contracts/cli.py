"""`flask helpdesk import FILE.json` and `flask helpdesk export FILE.json` (registered in
helpdesk/cli.py)."""
import json
from pathlib import Path

import click
from flask.cli import with_appcontext

from helpdesk.clock import now_utc
from helpdesk.contracts.exporter import export_document
from helpdesk.contracts.importer import apply_import
from helpdesk.contracts.schema import UnreadableDocument, parse_document, validate_import
from helpdesk.extensions import db


def _read_document(path: Path) -> object:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise click.ClickException(f"{path}: cannot be read ({error.strerror})") from None
    try:
        return parse_document(raw)
    except UnreadableDocument as error:
        raise click.ClickException(f"{path}: {error}") from None


@click.command("import")
@click.argument("path", metavar="FILE.json",
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def import_command(path: Path) -> None:
    """Create or update calendars, organisations, users and contracts from FILE.json.

    The whole file is checked first; when anything is wrong, every error is printed as
    `path: message` and nothing is written.
    """
    plan, errors = validate_import(_read_document(path))
    if plan is None:
        for error in errors:
            click.echo(error, err=True)
        click.echo(f"{len(errors)} error(s); nothing was imported.", err=True)
        raise click.exceptions.Exit(1)
    report = apply_import(plan, now=now_utc())
    db.session.commit()
    for line in report.lines():
        click.echo(line)



@click.command("export")
@click.argument("path", metavar="FILE.json", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def export_command(path: Path) -> None:
    """Write calendars, organisations, users (without passwords) and contracts with their
    current terms to FILE.json, in the import format: importing it back changes nothing."""
    document = export_document()
    try:
        path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n",
                        encoding="utf-8")
    except OSError as error:
        raise click.ClickException(f"{path}: cannot be written ({error.strerror})") from None
    click.echo(", ".join(f"{len(items)} {name}" for name, items in document.items())
               + f" written to {path}")
