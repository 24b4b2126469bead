"""Bearer-token authentication for the API; browser sessions are not accepted here (no CSRF).

Unknown tokens count against the client's address, like wrong passwords (accounts.throttle):
guessing tokens from one address soon meets 429 with Retry-After, on every worker and host."""
from flask import Response, g, request

from helpdesk.accounts import throttle
from helpdesk.accounts.services import TooManyAttempts
from helpdesk.accounts.tokens import use_api_token
from helpdesk.clock import now_utc
from helpdesk.extensions import db
from helpdesk.web.problems import problem

# Served without a token: the description of the API itself.
PUBLIC_ENDPOINTS = frozenset({"api.openapi"})


def too_many_attempts(refused: TooManyAttempts) -> Response:
    response = problem(429, "Too Many Requests", refused.message)
    response.headers["Retry-After"] = str(refused.seconds)
    return response


def authenticate_request() -> Response | None:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return problem(401, "Unauthorized", "Send an API token: 'Authorization: Bearer TOKEN'.")
    now = now_utc()
    address = throttle.address_key(request.remote_addr)
    until = throttle.refused_until([(address, throttle.ADDRESS)], now=now)
    if until is not None:
        return too_many_attempts(TooManyAttempts(until, now=now))
    used = use_api_token(token.strip(), now=now)
    if used is None:
        throttle.fail(address, throttle.ADDRESS, now=now)
        db.session.commit()
        response = problem(401, "Unauthorized", "The API token is unknown, expired or revoked.")
        response.headers["WWW-Authenticate"] = 'Bearer realm="helpdesk", error="invalid_token"'
        return response
    if db.session.dirty:  # the token's last use, recorded at most once a minute
        db.session.commit()
    g.api_user = used.user
    g.api_scopes = used.scopes
    return None
