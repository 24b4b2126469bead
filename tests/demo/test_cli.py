"""`flask helpdesk demo`, driven through the CLI runner."""
import sqlalchemy as sa

from helpdesk.accounts.models import User
from helpdesk.contracts.models import Calendar
from helpdesk.demo.cli import demo_command
from helpdesk.demo.load import DEMO_ACCOUNTS
from helpdesk.extensions import db
from tests.contracts.documents import row_counts


def test_demo_command_loads_data_and_prints_every_account(app, runner):
    result = runner.invoke(demo_command)
    assert result.exit_code == 0, result.output
    for email, role, password in DEMO_ACCOUNTS:
        assert any(email in line and role in line and password in line
                   for line in result.stdout.splitlines())
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 6
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Calendar)) == 2


def test_demo_command_run_twice_changes_nothing(app, runner):
    runner.invoke(demo_command)
    with app.app_context():
        before = row_counts()
    result = runner.invoke(demo_command)
    assert result.exit_code == 0
    assert "contracts: 0 created, 0 updated, 2 unchanged" in result.stdout.splitlines()
    with app.app_context():
        assert row_counts() == before
