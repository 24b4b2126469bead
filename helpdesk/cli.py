"""`flask helpdesk …`: set-up commands for administrators."""
import click
from flask import Flask
from flask.cli import AppGroup

from helpdesk.accounts.services import create_api_token
from helpdesk.billing.cli import billing_cli
from helpdesk.clock import now_utc
from helpdesk.contracts.cli import import_command
from helpdesk.demo.cli import demo_command
from helpdesk.errors import DomainError
from helpdesk.escalation.cli import sla_cli
from helpdesk.extensions import db
from helpdesk.web.translations_cli import translations_cli

helpdesk_cli = AppGroup("helpdesk", help="Set up the helpdesk: import, demo data, API tokens.")


@helpdesk_cli.command("token")
@click.argument("email")
def token_command(email: str) -> None:
    """Create an API token for EMAIL; the token is the last line printed, shown only once."""
    try:
        token = create_api_token(email, now=now_utc())
    except DomainError as error:
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"API token for {email.strip().lower()} (store it now: it is not shown again):")
    click.echo(token)


helpdesk_cli.add_command(import_command)
helpdesk_cli.add_command(demo_command)


def init_app(app: Flask) -> None:
    app.cli.add_command(helpdesk_cli)
    app.cli.add_command(sla_cli)
    app.cli.add_command(billing_cli)
    app.cli.add_command(translations_cli)
