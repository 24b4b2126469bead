"""API tokens people manage themselves: made with a name, scopes and an expiry, shown once (only
a digest is kept), listed with their last use, revoked by their owner or an admin; the command
line makes and revokes them too. Every creation and revocation is in the audit trail."""
import hashlib
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from helpdesk import create_app
from helpdesk.accounts.models import ApiToken, TokenState, User
from helpdesk.accounts.scopes import ALL_SCOPES, Scope, grants
from helpdesk.accounts.services import find_user
from helpdesk.accounts.tokens import (
    LAST_USED_PRECISION,
    create_api_token,
    revoke_api_token,
    use_api_token,
)
from helpdesk.audit.models import AuditEntry
from helpdesk.errors import Conflict, DomainError
from helpdesk.extensions import db
from tests.api.helpers import api_token, bearer, sign_in
from tests.conftest import TEST_START, csrf_token

NOW = TEST_START


def _token_rows(app) -> list[dict]:
    with app.app_context():
        return [dict(row._mapping) for row in db.session.execute(
            sa.select(ApiToken.__table__).order_by(ApiToken.id))]


def _audit(app) -> list[tuple]:
    """(action, actor's e-mail, entity id) of each token entry of the audit trail."""
    with app.app_context():
        entries = db.session.scalars(sa.select(AuditEntry).where(
            AuditEntry.action.startswith("api_token")).order_by(AuditEntry.id))
        return [(e.action, e.actor_id and db.session.get(User, e.actor_id).email, e.entity_id)
                for e in entries]


def _make(email, *, name="Monitoring", scopes=frozenset({Scope.READ}), expires_at=None,
          now=NOW, actor=None) -> tuple[str, ApiToken]:
    token = create_api_token(find_user(email), name=name, scopes=scopes, expires_at=expires_at,
                             actor=actor, now=now)
    return token, db.session.scalar(sa.select(ApiToken).where(ApiToken.prefix == token[:10]))


# --- the service ------------------------------------------------------------------------------


def test_a_token_is_kept_as_its_digest_with_its_name_scopes_and_expiry(app, world):
    with app.app_context():
        token, row = _make(world.tech, name="  Monitoring  ",
                           scopes={Scope.READ, Scope.WRITE}, expires_at=NOW + timedelta(days=30))
        db.session.commit()
    [stored] = _token_rows(app)
    assert token.startswith("hd_") and stored["prefix"] == token[:10]
    assert stored["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert all(token not in str(value) for value in stored.values())
    assert (stored["name"], stored["scopes"]) == ("Monitoring", {Scope.READ, Scope.WRITE})


@pytest.mark.parametrize(("fields", "message"), [
    ({"name": "   "}, "Give the token a name."),
    ({"name": "x" * 101}, "A token's name is at most 100 characters."),
    ({"name": "backup\u202egpj.sh"}, "Name contains Unicode direction controls"),
    ({"scopes": set()}, "Choose at least one scope."),
    ({"expires_at": NOW}, "A token's expiry must be in the future."),
    ({"expires_at": NOW + timedelta(days=1826)}, "A token's expiry is at most 1825 days away."),
], ids=["blank name", "long name", "direction controls in the name", "no scope", "expiry not in the future", "expiry too far"])
def test_a_token_is_refused_with_a_clear_message(app, world, fields, message):
    with app.app_context(), pytest.raises(DomainError, match=message):
        _make(world.tech, **fields)
    assert _token_rows(app) == []


def test_a_token_works_until_its_expiry(app, world):
    with app.app_context():
        token, _ = _make(world.tech, expires_at=NOW + timedelta(days=30))
        assert use_api_token(token, now=NOW + timedelta(days=30, seconds=-1)) is not None
        assert use_api_token(token, now=NOW + timedelta(days=30)) is None


def test_a_revoked_token_no_longer_works(app, world):
    with app.app_context():
        token, row = _make(world.tech)
        revoke_api_token(row, actor=find_user(world.tech), now=NOW)
        assert use_api_token(token, now=NOW) is None
        assert row.state_at(NOW) == TokenState.REVOKED


def test_revoking_twice_is_refused(app, world):
    with app.app_context():
        _, row = _make(world.tech)
        revoke_api_token(row, actor=None, now=NOW)
        with pytest.raises(Conflict, match="already revoked"):
            revoke_api_token(row, actor=None, now=NOW + timedelta(hours=1))
        assert row.revoked_at == NOW


def test_the_token_of_a_deactivated_user_does_not_work(app, world):
    with app.app_context():
        token, _ = _make(world.tech)
        find_user(world.tech).is_active_account = False
        assert use_api_token(token, now=NOW) is None


def test_a_token_unknown_does_not_work(app, world):
    with app.app_context():
        assert use_api_token("hd_" + "x" * 43, now=NOW) is None


def test_last_use_is_recorded_at_most_once_a_minute(app, world):
    with app.app_context():
        token, row = _make(world.tech)
        uses = [NOW, NOW + timedelta(seconds=30), NOW + LAST_USED_PRECISION,
                NOW + timedelta(minutes=1, seconds=59)]
        recorded = []
        for at in uses:
            use_api_token(token, now=at)
            recorded.append(row.last_used_at)
    assert recorded == [NOW, NOW, NOW + LAST_USED_PRECISION, NOW + LAST_USED_PRECISION]


@pytest.mark.parametrize(("scopes", "granted"), [
    ({Scope.READ}, {Scope.READ}),
    ({Scope.WRITE}, {Scope.READ, Scope.WRITE}),
    ({Scope.FINANCE}, {Scope.FINANCE}),
    (ALL_SCOPES, ALL_SCOPES),
])
def test_write_grants_reading_and_no_scope_grants_another(scopes, granted):
    assert {needed for needed in Scope if grants(scopes, needed)} == granted


def test_creation_and_revocation_are_audited_with_who_did_them(app, world):
    with app.app_context():
        _, row = _make(world.tech, actor=find_user(world.tech))
        revoke_api_token(row, actor=find_user(world.admin), now=NOW)
        db.session.commit()
    assert _audit(app) == [("api_token", world.tech, world.tech),
                           ("api_token_revoked", world.admin, world.tech)]


# --- the page ---------------------------------------------------------------------------------


def _create(client, **fields):
    form = {"name": "Monitoring", "scopes": ["read"], "expiry": "never", **fields}
    return client.post("/account/tokens",
                       data={"csrf_token": csrf_token(client, "/account/tokens"), **form})


def _revoke(client, token_id):
    return client.post(f"/account/tokens/{token_id}/revoke",
                       data={"csrf_token": csrf_token(client, "/account/tokens")})


def _token_id(app, email) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(ApiToken.id).join(ApiToken.user)
                                 .where(User.email == email))


def test_a_new_token_is_shown_once_and_works(app, client, world):
    sign_in(app, client, world.client)
    response = _create(client, scopes=["read", "write"])
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    [row] = _token_rows(app)
    page = response.get_data(as_text=True)
    token = page.split('<code id="new-token">')[1].split("</code>")[0]
    assert token.startswith(row["prefix"])
    assert client.get("/api/v1/tickets", headers=bearer(token)).status_code == 200
    again = client.get("/account/tokens").get_data(as_text=True)
    assert token not in again and row["prefix"] in again


def test_the_list_shows_each_token_its_scopes_expiry_last_use_and_state(app, client, world,
                                                                       clock):
    sign_in(app, client, world.client)
    token = api_token(app, world.client, scopes={Scope.READ, Scope.FINANCE},
                      expires_at=TEST_START + timedelta(days=1))
    client.get("/api/v1/tickets", headers=bearer(token))
    page = client.get("/account/tokens").get_data(as_text=True)
    assert "tests" in page and token[:10] in page
    assert "read, finance" in page
    assert ">never<" not in page  # it expires, and it was used
    assert ">active<" in page
    clock.advance(timedelta(days=2))
    sign_in(app, client, world.client)  # the session itself ended after 12 idle hours
    assert ">expired<" in client.get("/account/tokens").get_data(as_text=True)


@pytest.mark.parametrize(("choice", "expires_at"), [
    ({"expiry": "30"}, TEST_START + timedelta(days=30)),
    ({"expiry": "365"}, TEST_START + timedelta(days=365)),
    ({"expiry": "never"}, None),
    # the end of 31 December in Paris (UTC+1)
    ({"expiry": "date", "expires_on": "2026-12-31"},
     datetime(2027, 1, 1, tzinfo=UTC) - timedelta(hours=1, microseconds=1)),
])
def test_the_expiry_chosen_is_kept(app, client, world, clock, choice, expires_at):
    clock.freeze(TEST_START)
    sign_in(app, client, world.client)
    assert _create(client, **choice).status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(ApiToken.expires_at)) == expires_at


@pytest.mark.parametrize(("fields", "message"), [
    ({"name": ""}, "Give the token a name."),
    ({"scopes": []}, "Choose at least one scope."),
    ({"expiry": "date"}, "Give the date the token expires."),
    ({"expiry": "date", "expires_on": "2026-11-29"}, "A token&#39;s expiry must be in the future."),
    ({"expiry": "date", "expires_on": "9999-12-31"},
     "A token&#39;s expiry is at most 1825 days away."),
    ({"expiry": "forever"}, "Not a valid choice."),
], ids=["no name", "no scope", "no date", "date past", "date far", "unknown expiry"])
def test_a_bad_form_says_why_and_creates_nothing(app, client, world, fields, message):
    sign_in(app, client, world.client)
    response = _create(client, **fields)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _token_rows(app) == []


def test_a_form_without_its_csrf_token_creates_nothing(app, client, world):
    sign_in(app, client, world.client)
    response = client.post("/account/tokens", data={"name": "Script", "scopes": "read",
                                                    "expiry": "never"})
    assert response.status_code == 400
    assert _token_rows(app) == []


def test_the_owner_revokes_their_token(app, client, world):
    token = api_token(app, world.client)
    sign_in(app, client, world.client)
    response = _revoke(client, _token_id(app, world.client))
    assert response.headers["Location"] == "/account/tokens"
    assert "revoked" in client.get("/account/tokens").get_data(as_text=True)
    assert client.get("/api/v1/tickets", headers=bearer(token)).status_code == 401
    assert _audit(app)[-1] == ("api_token_revoked", world.client, world.client)


def test_revoking_without_the_csrf_token_changes_nothing(app, client, world):
    api_token(app, world.client)
    sign_in(app, client, world.client)
    response = client.post(f"/account/tokens/{_token_id(app, world.client)}/revoke")
    assert response.status_code == 400
    assert _token_rows(app)[0]["revoked_at"] is None


@pytest.mark.parametrize("person", ["other_client", "tech", "lead", "finance"])
def test_another_users_token_is_not_found_for_a_non_admin(app, client, world, person):
    api_token(app, world.client)
    sign_in(app, client, getattr(world, person))
    assert _revoke(client, _token_id(app, world.client)).status_code == 404
    assert _token_rows(app)[0]["revoked_at"] is None
    assert "tests" not in client.get("/account/tokens").get_data(as_text=True)


def test_an_admin_lists_everyones_working_tokens_and_revokes_one(app, client, world):
    token = api_token(app, world.client)
    api_token(app, world.tech)
    with app.app_context():
        _, expired = _make(world.finance, name="Old", expires_at=NOW - timedelta(hours=1),
                           now=NOW - timedelta(days=1))
        db.session.commit()
    sign_in(app, client, world.admin)
    page = client.get("/admin/tokens").get_data(as_text=True)
    assert world.client in page and world.tech in page and world.finance not in page
    response = _revoke(client, _token_id(app, world.client))
    assert response.headers["Location"] == "/admin/tokens"
    assert client.get("/api/v1/tickets", headers=bearer(token)).status_code == 401
    assert world.client not in client.get("/admin/tokens").get_data(as_text=True)
    assert _audit(app)[-1] == ("api_token_revoked", world.admin, world.client)


def test_the_pages_are_linked_from_the_account_page(app, client, world):
    sign_in(app, client, world.client)
    page = client.get("/account").get_data(as_text=True)
    assert 'href="/account/tokens"' in page and 'href="/admin/tokens"' not in page
    sign_in(app, client, world.admin)
    assert 'href="/admin/tokens"' in client.get("/account").get_data(as_text=True)


# --- the command line -------------------------------------------------------------------------


def _last_line(output: str) -> str:
    return output.strip().splitlines()[-1]


def test_command_line_token_has_every_scope_no_expiry_and_a_name_by_default(app, runner, world):
    result = runner.invoke(args=["helpdesk", "create-api-token", world.tech])
    assert result.exit_code == 0, result.output
    [row] = _token_rows(app)
    assert (row["name"], row["scopes"], row["expires_at"]) == (
        "command line", ALL_SCOPES, None)
    assert row["prefix"] == _last_line(result.output)[:10]


def test_command_line_token_takes_a_name_scopes_and_days(app, runner, world, clock):
    clock.freeze(TEST_START)
    result = runner.invoke(args=["helpdesk", "create-api-token", world.tech, "--name", "Backup",
                                 "--scope", "read", "--scope", "finance",
                                 "--expires-days", "7"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        row = db.session.scalar(sa.select(ApiToken))
        assert (row.name, row.scopes, row.expires_at) == (
            "Backup", {Scope.READ, Scope.FINANCE}, TEST_START + timedelta(days=7))


@pytest.mark.parametrize("options", [["--scope", "admin"], ["--expires-days", "0"],
                                     ["--expires-days", "100000000000"], ["--name", " "]])
def test_command_line_refuses_bad_options_and_makes_nothing(app, runner, world, options):
    result = runner.invoke(args=["helpdesk", "create-api-token", world.tech, *options])
    assert result.exit_code != 0
    assert "Error" in result.output
    assert _token_rows(app) == []


def test_command_line_revokes_a_token_by_its_prefix(app, runner, client, world):
    token = api_token(app, world.tech)
    result = runner.invoke(args=["helpdesk", "revoke-api-token", token[:10]])
    assert result.exit_code == 0, result.output
    assert f"Revoked API token {token[:10]} (tests) of {world.tech}" in result.output
    assert client.get("/api/v1/tickets", headers=bearer(token)).status_code == 401
    assert _audit(app)[-1] == ("api_token_revoked", None, world.tech)


def test_command_line_revocation_of_an_unknown_or_revoked_token_fails_clearly(app, runner,
                                                                              world):
    token = api_token(app, world.tech)
    unknown = runner.invoke(args=["helpdesk", "revoke-api-token", "hd_nothing"])
    assert unknown.exit_code != 0 and "No API token begins with 'hd_nothing'" in unknown.output
    runner.invoke(args=["helpdesk", "revoke-api-token", token[:10]])
    again = runner.invoke(args=["helpdesk", "revoke-api-token", token[:10]])
    assert again.exit_code != 0 and "was already revoked" in again.output



# --- the migration ----------------------------------------------------------------------------


def test_tokens_made_before_scopes_keep_working_with_every_scope(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.sqlite3'}",
                      "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x" * 40, "TESTING": True})
    token = "hd_made-on-the-command-line-before-scopes"
    with app.app_context():
        upgrade(revision="d65d06daca67")
        db.session.execute(sa.text(
            "INSERT INTO users (email, name, role, password_hash, timezone, language,"
            " is_active_account, created_at) VALUES ('tech@provider.example', 'Tom', 'technician',"
            " 'x', 'Europe/Paris', 'en', 1, '2026-11-01 09:00:00')"))
        db.session.execute(sa.text(
            "INSERT INTO api_tokens (user_id, token_hash, prefix, created_at)"
            " VALUES (1, :digest, :prefix, '2026-11-01 09:00:00')"),
            {"digest": hashlib.sha256(token.encode()).hexdigest(), "prefix": token[:10]})
        db.session.commit()
        upgrade()
        row = use_api_token(token, now=NOW)
        assert (row.name, row.scopes, row.expires_at) == ("command line", ALL_SCOPES, None)
        db.session.remove()
        db.engine.dispose()
