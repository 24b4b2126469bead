"""`flask helpdesk demo` (registered in helpdesk/cli.py)."""
import click
from flask.cli import with_appcontext

from helpdesk.clock import now_utc
from helpdesk.demo.load import DEMO_ACCOUNTS, load_demo
from helpdesk.extensions import db


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Load the demo organisations, calendars, contracts and accounts (safe to run again)."""
    report = load_demo(now=now_utc())
    db.session.commit()
    for line in report.lines():
        click.echo(line)
    click.echo("")
    click.echo("Demo accounts:")
    width = max(len(email) for email, _role, _password in DEMO_ACCOUNTS)
    for email, role, password in DEMO_ACCOUNTS:
        click.echo(f"  {email:<{width}}  {role:<10}  password: {password}")
