"""`flask helpdesk token EMAIL`: the token is the last line printed and only its hash is kept."""
import hashlib

import sqlalchemy as sa

from helpdesk.accounts.models import ApiToken
from helpdesk.audit.models import AuditEntry
from helpdesk.extensions import db
from tests.api.helpers import bearer


def _token_command(runner, email):
    return runner.invoke(args=["helpdesk", "token", email])


def _last_line(output: str) -> str:
    return output.strip().splitlines()[-1]


def _token_rows(app) -> list[dict]:
    with app.app_context():
        return [dict(row._mapping) for row in db.session.execute(sa.select(ApiToken.__table__))]


def test_token_command_prints_a_working_token_as_last_line(runner, client, world):
    result = _token_command(runner, world.tech)
    assert result.exit_code == 0, result.output
    token = _last_line(result.output)
    assert token.startswith("hd_") and len(token) >= 40
    assert client.get("/api/v1/tickets", headers=bearer(token)).status_code == 200


def test_token_is_stored_only_as_a_hash(app, runner, world):
    token = _last_line(_token_command(runner, world.client).output)
    rows = _token_rows(app)
    assert len(rows) == 1
    assert rows[0]["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert all(token not in str(value) for value in rows[0].values())


def test_token_is_not_written_to_the_audit_trail(app, runner, world):
    token = _last_line(_token_command(runner, world.client).output)
    with app.app_context():
        entries = db.session.scalars(sa.select(AuditEntry)).all()
        assert [e.action for e in entries] == ["api_token"]
        assert token not in str(entries[0].changes)


def test_token_command_accepts_the_email_in_any_case(app, runner, world):
    assert _token_command(runner, world.client.upper()).exit_code == 0
    assert len(_token_rows(app)) == 1


def test_each_run_makes_a_new_token(app, runner, world):
    first = _last_line(_token_command(runner, world.client).output)
    second = _last_line(_token_command(runner, world.client).output)
    assert first != second
    assert len(_token_rows(app)) == 2


def test_token_command_for_an_unknown_email_fails_clearly(app, runner, world):
    result = _token_command(runner, "nobody@example.com")
    assert result.exit_code != 0
    assert "No user with e-mail 'nobody@example.com'" in result.output
    assert _token_rows(app) == []
