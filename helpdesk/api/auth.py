"""Bearer-token authentication for the API; browser sessions are not accepted here (no CSRF)."""
from flask import Response, g, request

from helpdesk.accounts.services import user_for_api_token
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
    user = user_for_api_token(token.strip())
    if user is None:
        response = problem(401, "Unauthorized", "The API token is unknown or revoked.")
        response.headers["WWW-Authenticate"] = 'Bearer realm="helpdesk", error="invalid_token"'
        return response
    g.api_user = user
    return None
