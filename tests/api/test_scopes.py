"""A token's scopes narrow what its owner may do through the API, never widen it: `read` reads,
`write` creates and changes (and reads), `finance` reads breaches and credit notes. A call beyond
the scopes is a 403 naming the scope it needs; an expired or revoked token is a 401."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from helpdesk.accounts.models import ApiToken
from helpdesk.accounts.scopes import Scope
from helpdesk.accounts.tokens import revoke_api_token
from helpdesk.api.scopes import scope_needed
from helpdesk.clock import now_utc
from helpdesk.extensions import db
from tests.api.helpers import api_token, assert_problem, bearer, open_ticket, row_counts
from tests.conftest import TEST_START

NEW = {"contract": "CT-SHOP", "priority": "P1", "title": "Site down", "description": "500s."}
# (method, path, body) of a call of each kind; {ticket} is the shop's ticket.
CALLS = {
    "list tickets": ("GET", "/api/v1/tickets", None),
    "show a ticket": ("GET", "/api/v1/tickets/{ticket}", None),
    "list outages": ("GET", "/api/v1/tickets/{ticket}/outages", None),
    "open a ticket": ("POST", "/api/v1/tickets", NEW),
    "act on a ticket": ("POST", "/api/v1/tickets/{ticket}/actions", {"action": "take"}),
    "record an outage": ("POST", "/api/v1/tickets/{ticket}/outages",
                         {"started_at": "2026-11-30T09:00:00Z"}),
    "list breaches": ("GET", "/api/v1/breaches?month=2026-11", None),
    "list credit notes": ("GET", "/api/v1/credit-notes?month=2026-11", None),
}
READS = {"list tickets", "show a ticket", "list outages"}
WRITES = {"open a ticket", "act on a ticket", "record an outage"}
FINANCE_DATA = {"list breaches", "list credit notes"}


@pytest.fixture
def ticket(app, world, clock):
    """The shop's ticket, opened at the instant the clock stands still at, when outages start."""
    clock.freeze(TEST_START)
    return open_ticket(app, requester=world.client)


def _outcomes(client, token, ticket) -> dict[str, int]:
    outcomes = {}
    for name, (method, path, body) in CALLS.items():
        response = client.open(path.format(ticket=ticket), method=method, json=body,
                               headers=bearer(token))
        outcomes[name] = response.status_code
    return outcomes


def _allowed(status: int) -> bool:
    return status in (200, 201)


@pytest.mark.parametrize(("scopes", "allowed"), [
    ({Scope.READ}, READS),
    ({Scope.WRITE}, READS | WRITES),
    ({Scope.FINANCE}, FINANCE_DATA),
    ({Scope.READ, Scope.FINANCE}, READS | FINANCE_DATA),
    (set(Scope), READS | WRITES | FINANCE_DATA),
], ids=["read", "write", "finance", "read+finance", "all"])
def test_an_admins_token_opens_the_calls_its_scopes_allow(app, client, world, ticket, scopes,
                                                          allowed):
    token = api_token(app, world.admin, scopes=scopes)
    outcomes = _outcomes(client, token, ticket)
    assert {name for name, status in outcomes.items() if _allowed(status)} == allowed
    assert {name: status for name, status in outcomes.items() if name not in allowed} == {
        name: 403 for name in set(CALLS) - allowed}


def test_missing_scope_is_a_403_problem_naming_the_scope(app, client, world, ticket):
    token = api_token(app, world.tech, scopes={Scope.READ})
    before = row_counts(app)
    response = client.post(f"/api/v1/tickets/{ticket}/actions", json={"action": "take"},
                           headers=bearer(token))
    problem = assert_problem(response, 403)
    assert "'write' scope" in problem["detail"]
    assert response.headers["WWW-Authenticate"] == (
        'Bearer realm="helpdesk", error="insufficient_scope", scope="write"')
    assert row_counts(app) == before


def test_finance_scope_does_not_give_a_client_the_finance_data(app, client, world):
    token = api_token(app, world.client, scopes=set(Scope))
    assert client.get("/api/v1/credit-notes?month=2026-11",
                      headers=bearer(token)).status_code == 404


def test_write_scope_does_not_let_finance_open_tickets(app, client, world):
    token = api_token(app, world.finance, scopes={Scope.WRITE})
    response = client.post("/api/v1/tickets", json=NEW, headers=bearer(token))
    assert response.status_code == 403
    assert "scope" not in response.get_json()["detail"]  # refused by the role, not the token


def test_expired_token_is_401(app, client, world, clock):
    token = api_token(app, world.client, expires_at=now_utc() + timedelta(days=30))
    assert client.get("/api/v1/tickets", headers=bearer(token)).status_code == 200
    clock.advance(timedelta(days=30))
    response = client.get("/api/v1/tickets", headers=bearer(token))
    problem = assert_problem(response, 401)
    assert "expired" in problem["detail"]
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_revoked_token_is_401(app, client, world):
    token = api_token(app, world.client)
    assert client.get("/api/v1/tickets", headers=bearer(token)).status_code == 200
    with app.app_context():
        revoke_api_token(db.session.scalar(sa.select(ApiToken)), actor=None, now=now_utc())
        db.session.commit()
    assert_problem(client.get("/api/v1/tickets", headers=bearer(token)), 401)


# A deactivated user's token: tests/api/test_auth.py.


def test_last_use_is_recorded_to_the_minute(app, client, world, clock):
    token = api_token(app, world.client)
    start = clock.freeze(now_utc())
    client.get("/api/v1/tickets", headers=bearer(token))
    clock.advance(timedelta(seconds=59))
    client.get("/api/v1/tickets", headers=bearer(token))
    with app.app_context():
        assert db.session.scalar(sa.select(ApiToken.last_used_at)) == start
    clock.advance(timedelta(seconds=1))
    client.get("/api/v1/tickets", headers=bearer(token))
    with app.app_context():
        assert db.session.scalar(sa.select(ApiToken.last_used_at)) == start + timedelta(minutes=1)


def test_openapi_states_the_scope_each_operation_needs_as_enforced(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert set(spec["components"]["securitySchemes"]["bearer"]["x-scopes"]) == set(Scope)
    documented, enforced = {}, {}
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api.") or rule.endpoint == "api.openapi":
            continue
        path = rule.rule.removeprefix("/api/v1").replace("<number>", "{number}").replace(
            "<int:outage_id>", "{id}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operation = spec["paths"][path][method.lower()]
            documented[(path, method)] = operation["security"]
            enforced[(path, method)] = [{"bearer": [str(scope_needed(rule.endpoint, method))]}]
            assert "403" in operation["responses"], (path, method)
    assert documented == enforced
