"""Which scope an API call needs of the token it is made with: `finance` for the money side,
`read` to read, `write` to create or change. The owner's role is asked as well, by each call."""
from flask import Response, g, request

from helpdesk.accounts.scopes import Scope, grants
from helpdesk.api.auth import PUBLIC_ENDPOINTS
from helpdesk.web.problems import problem

# Finance data: breaches decide credits, credit notes are money owed.
FINANCE_ENDPOINTS = frozenset({"api.list_breaches", "api.list_credit_notes"})
READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def scope_needed(endpoint: str, method: str) -> Scope:
    if endpoint in FINANCE_ENDPOINTS:
        return Scope.FINANCE
    return Scope.READ if method in READING_METHODS else Scope.WRITE


def check_scope() -> Response | None:
    """Runs after `authenticate_request`: a call beyond the token's scopes is a 403 naming the
    scope it needs (RFC 6750 insufficient_scope)."""
    if request.endpoint is None or request.endpoint in PUBLIC_ENDPOINTS:
        return None
    needed = scope_needed(request.endpoint, request.method)
    if grants(g.api_scopes, needed):
        return None
    response = problem(403, "Forbidden",
                       f"This API token lacks the '{needed}' scope this call needs. Make a token "
                       "with that scope on the 'API tokens' page of your account.")
    response.headers["WWW-Authenticate"] = (
        f'Bearer realm="helpdesk", error="insufficient_scope", scope="{needed}"')
    return response
