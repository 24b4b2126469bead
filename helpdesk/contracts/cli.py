"""`flask helpdesk import FILE.json` (registered in helpdesk/cli.py)."""
import json
from pathlib import Path

import click
from flask.cli import with_appcontext

from helpdesk.clock import now_utc
from helpdesk.contracts.importer import apply_import
from helpdesk.contracts.schema import validate_import
from helpdesk.extensions import db


def _read_document(path: Path) -> object:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise click.ClickException(f"{path}: not UTF-8 text") from None
    except OSError as error:
        raise click.ClickException(f"{path}: cannot be read ({error.strerror})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise click.ClickException(
            f"{path}: invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}"
        ) from None


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

