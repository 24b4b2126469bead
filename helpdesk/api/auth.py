"""Bearer-token authentication for the API; browser sessions are not accepted here (no CSRF)."""
from flask import Response, g, request

from helpdesk.accounts.tokens import use_api_token
from helpdesk.clock import now_utc
from helpdesk.extensions import db
from helpdesk.web.problems import problem

# Served without a token: the description of the API itself.
PUBLIC_ENDPOINTS = frozenset({"api.openapi"})


def authenticate_request() -> Response | None:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return problem(401, "Unauthorized", "Send an API token: 'Authorization: Bearer TOKEN'.")
    used = use_api_token(token.strip(), now=now_utc())
    if used is None:
        response = problem(401, "Unauthorized", "The API token is unknown, expired or revoked.")
        response.headers["WWW-Authenticate"] = 'Bearer realm="helpdesk", error="invalid_token"'
        return response
    if db.session.dirty:  # the token's last use, recorded at most once a minute
        db.session.commit()
    g.api_user = used.user
    g.api_scopes = used.scopes
    return None
