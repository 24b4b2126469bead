"""Error pages for people and problem documents for the API, never a stack trace."""
import logging

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from helpdesk.api.problems import problem
from helpdesk.tickets.attachments import format_size

logger = logging.getLogger(__name__)


def _wants_problem() -> bool:
    return request.path.startswith("/api/")


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        message = "The form expired or was not sent by this site. Reload the page and try again."
        if _wants_problem():
            return problem(400, "CSRF check failed", message)
        return render_template("errors/error.html", code=400, title="Form refused",
                               message=message), 400

    @app.errorhandler(413)
    def too_large(error):
        limit = format_size(app.config["MAX_ATTACHMENT_BYTES"])
        message = f"The upload is too large: attachments may be at most {limit}. Nothing was saved."
        if _wants_problem():
            return problem(413, "Payload Too Large", message)
        return render_template("errors/error.html", code=413, title="Upload too large",
                               message=message), 413

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        # Keep what the exception says beside its page, e.g. the Allow header of a 405.
        headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
        if _wants_problem():
            response = problem(error.code or 500, error.name, error.description)
            response.headers.extend(headers)
            return response
        return render_template("errors/error.html", code=error.code, title=error.name,
                               message=error.description), error.code, headers

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        logger.exception("unhandled error on %s %s", request.method, request.path)
        if _wants_problem():
            return problem(500, "Internal Server Error", "Something went wrong on our side.")
        return render_template("errors/error.html", code=500, title="Something went wrong",
                               message=InternalServerError.description), 500
