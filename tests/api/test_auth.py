"""Bearer tokens, and only bearer tokens, open the API."""
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from helpdesk.accounts.models import ApiToken, User
from helpdesk.extensions import db
from tests.api.helpers import (
    api_token,
    assert_problem,
    bearer,
    open_ticket,
    row_counts,
    sign_in,
)

NEW = {"contract": "CT-SHOP", "priority": "P1", "title": "Site down", "description": "500s."}

# Every API endpoint that needs a caller: (method, path, JSON body).
ENDPOINTS = [
    ("GET", "/api/v1/tickets", None),
    ("POST", "/api/v1/tickets", NEW),
    ("GET", "/api/v1/tickets/T-000001", None),
    ("POST", "/api/v1/tickets/T-000001/actions", {"action": "take"}),
]
ENDPOINT_IDS = [f"{method}-{path}" for method, path, _ in ENDPOINTS]


@pytest.fixture
def ticket(app, world):
    return open_ticket(app, requester=world.client)


def _call(client, method, path, body, headers):
    return client.open(path, method=method, json=body, headers=headers)


def _challenge(response) -> tuple:
    """(status, problem document?, WWW-Authenticate scheme) of a refusal."""
    problem = response.mimetype == "application/problem+json" and response.get_json()["detail"]
    return (response.status_code, bool(problem),
            response.headers.get("WWW-Authenticate", "").split(" ")[0])


def test_request_without_token_is_401_with_www_authenticate(app, client, ticket):
    before = row_counts(app)
    observed = {name: _challenge(_call(client, method, path, body, {}))
                for name, (method, path, body) in zip(ENDPOINT_IDS, ENDPOINTS, strict=True)}
    assert observed == dict.fromkeys(ENDPOINT_IDS, (401, True, "Bearer"))
    assert row_counts(app) == before


GARBAGE = {"unknown": "Bearer hd_not-a-real-token", "empty": "Bearer ", "no-token": "Bearer",
           "basic": "Basic dXNlcjpwYXNz", "other-scheme": "Token abc",
           "no-scheme": "hd_not-a-real-token", "latin-1": "Bearer \u00e9\u00e9",
           "two-tokens": "Bearer a b"}


def test_garbage_authorization_is_401(client, ticket):
    observed = {name: _challenge(client.get("/api/v1/tickets", headers={"Authorization": value}))
                for name, value in GARBAGE.items()}
    assert observed == dict.fromkeys(GARBAGE, (401, True, "Bearer"))


# That a valid token opens every endpoint, for every role: API_ACCESS in
# tests/tickets/test_isolation.py.


def test_scheme_is_case_insensitive(client, tokens):
    response = client.get("/api/v1/tickets", headers={"Authorization": f"bearer {tokens.client}"})
    assert response.status_code == 200


def test_revoked_token_is_401(app, client, tokens, world):
    token = tokens.client
    with app.app_context():
        user_id = db.session.scalar(sa.select(User.id).where(User.email == world.client))
        db.session.execute(sa.update(ApiToken).where(ApiToken.user_id == user_id)
                           .values(revoked_at=datetime(2026, 1, 1, tzinfo=UTC)))
        db.session.commit()
    response = client.get("/api/v1/tickets", headers=bearer(token))
    problem = assert_problem(response, 401)
    assert "revoked" in problem["detail"]
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_token_of_a_deactivated_user_is_401(app, client, tokens, world):
    token = tokens.client
    with app.app_context():
        db.session.execute(sa.update(User).where(User.email == world.client)
                           .values(is_active_account=False))
        db.session.commit()
    assert_problem(client.get("/api/v1/tickets", headers=bearer(token)), 401)


def test_browser_session_alone_is_refused_by_the_api(app, client, world, ticket):
    sign_in(app, client, world.client)
    assert client.get("/tickets").status_code == 200  # the session itself works
    before = row_counts(app)
    observed = {name: _challenge(_call(client, method, path, body, {}))
                for name, (method, path, body) in zip(ENDPOINT_IDS, ENDPOINTS, strict=True)}
    assert observed == dict.fromkeys(ENDPOINT_IDS, (401, True, "Bearer"))
    assert row_counts(app) == before


def test_token_sees_as_its_own_user(app, client, tokens, world, ticket):
    # The tech's token with the client's session cookie: the API acts as the token's owner.
    sign_in(app, client, world.client)
    body = client.post(f"/api/v1/tickets/{ticket}/actions", json={"action": "take"},
                       headers=bearer(tokens.tech)).get_json()
    assert body["assignee"] == world.tech


def test_guessing_tokens_from_one_address_meets_429_with_retry_after(app, client, world, clock):
    clock.freeze(clock.now())
    guesser = {"REMOTE_ADDR": "203.0.113.50"}
    statuses = [client.get("/api/v1/tickets", headers=bearer(f"hd_guess{n}"),
                           environ_base=guesser).status_code for n in range(21)]
    assert statuses == [401] * 21
    refused = client.get("/api/v1/tickets", headers=bearer("hd_guess-again"),
                         environ_base=guesser)
    assert_problem(refused, 429)
    assert refused.headers["Retry-After"] == "1"
    # Another address is not slowed by this one.
    token = api_token(app, world.tech)
    elsewhere = client.get("/api/v1/tickets", headers=bearer(token),
                           environ_base={"REMOTE_ADDR": "198.51.100.60"})
    assert elsewhere.status_code == 200
