"""RFC 9457 problem details: the one error shape of the API."""
from typing import Any

from flask import Response, json

PROBLEM_TYPE = "application/problem+json"


def problem(status: int, title: str, detail: str | None = None,
            **extra: Any) -> Response:
    body = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_TYPE)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="helpdesk"'
    return response
