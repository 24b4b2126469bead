"""`flask helpdesk …`: set-up commands for administrators."""
from datetime import timedelta

import click
from flask import Flask
from flask.cli import AppGroup

from helpdesk.accounts.scopes import ALL_SCOPES, Scope
from helpdesk.accounts.services import find_user
from helpdesk.accounts.tokens import (
    COMMAND_LINE,
    LONGEST_LIFE_DAYS,
    create_api_token,
    revoke_api_token,
    tokens_with_prefix,
)
from helpdesk.billing.cli import billing_cli
from helpdesk.clock import now_utc
from helpdesk.contracts.cli import export_command, import_command
from helpdesk.demo.cli import demo_command
from helpdesk.errors import DomainError
from helpdesk.escalation.cli import sla_cli
from helpdesk.extensions import db
from helpdesk.web.translations_cli import translations_cli

helpdesk_cli = AppGroup("helpdesk", help="Set up the helpdesk: import, export, demo data, API tokens.")


@helpdesk_cli.command("create-api-token")
@click.argument("email")
@click.option("--name", default=COMMAND_LINE, show_default=True,
              help="What the token is for, shown in the lists of tokens.")
@click.option("--scope", "scopes", multiple=True, type=click.Choice([s.value for s in Scope]),
              help="What it may do; repeat for several. Default: all of them.")
@click.option("--expires-days", type=click.IntRange(min=1, max=LONGEST_LIFE_DAYS),
              help="It stops working after this many days. Default: never.")
def create_api_token_command(email: str, name: str, scopes: tuple[str, ...],
                             expires_days: int | None) -> None:
    """Create an API token for EMAIL; the token is the last line printed, shown only once."""
    owner = find_user(email)
    if owner is None:
        raise click.ClickException(f"No user with e-mail {email!r}.")
    now = now_utc()
    try:
        token = create_api_token(
            owner, name=name, scopes={Scope(s) for s in scopes} or ALL_SCOPES, actor=None,
            expires_at=now + timedelta(days=expires_days) if expires_days else None, now=now)
    except DomainError as error:
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"API token for {owner.email} (store it now: it is not shown again):")
    click.echo(token)


@helpdesk_cli.command("revoke-api-token")
@click.argument("prefix")
def revoke_api_token_command(prefix: str) -> None:
    """Revoke the API token beginning with PREFIX (as the lists of tokens show it)."""
    found = tokens_with_prefix(prefix.strip())
    if not found:
        raise click.ClickException(f"No API token begins with {prefix!r}.")
    if len(found) > 1:
        raise click.ClickException(
            f"{len(found)} API tokens begin with {prefix!r}: revoke them from the web page.")
    [token] = found
    try:
        revoke_api_token(token, actor=None, now=now_utc())
    except DomainError as error:
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"Revoked API token {token.prefix} ({token.name}) of {token.user.email}.")


# The command's first name, kept for the scripts that use it.
helpdesk_cli.add_command(create_api_token_command, "token")
helpdesk_cli.add_command(import_command)
helpdesk_cli.add_command(export_command)
helpdesk_cli.add_command(demo_command)


def init_app(app: Flask) -> None:
    app.cli.add_command(helpdesk_cli)
    app.cli.add_command(sla_cli)
    app.cli.add_command(billing_cli)
    app.cli.add_command(translations_cli)
