"""Error pages for people and problem documents for the API, never a stack trace.

Pages speak the reader's language; problem documents stay in English, a contract with machines.
"""
import logging

from flask import Flask, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, SecurityError

from helpdesk.errors import DomainError, Term
from helpdesk.formatting import filesize, month_label
from helpdesk.month import Month
from helpdesk.web.problems import problem

logger = logging.getLogger(__name__)


def error_message(error: DomainError) -> str:
    """A domain error in the reader's language (its `message` stays English for the API)."""
    return _(error.template, **{name: _shown(value) for name, value in error.params.items()})


def _shown(value: object) -> object:
    if isinstance(value, Term):
        return _(value)
    if isinstance(value, Month):
        return month_label(value)
    return value


def _wants_problem() -> bool:
    return request.path.startswith("/api/")


def _page(code: int, title: str, message: str) -> tuple[str, int]:
    return render_template("errors/error.html", code=code, title=title, message=message), code


# werkzeug's names and descriptions are English; pages use these for the codes people meet.
def _http_texts() -> dict[int, tuple[str, str]]:
    return {
        400: (_("Bad request"), _("The request could not be understood. Go back and try again.")),
        401: (_("Sign-in required"), _("Sign in to see this page.")),
        403: (_("Forbidden"), _("Your account does not give access to this page.")),
        404: (_("Page not found"),
              _("This page does not exist, or it is not yours to see. Check the address or go "
                "back to the helpdesk.")),
        405: (_("Method not allowed"), _("This address does not accept that kind of request.")),
        410: (_("Gone"), _("This page no longer exists.")),
        429: (_("Too many requests"), _("Too many requests in a short time: wait a moment and "
                                        "try again.")),
        503: (_("Service unavailable"), _("The helpdesk is briefly unavailable: try again in a "
                                          "few minutes.")),
    }


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> ResponseReturnValue:
        if _wants_problem():
            return problem(400, "CSRF check failed", "The form expired or was not sent by this "
                           "site. Reload the page and try again.")
        return _page(400, _("Form refused"), _("The form expired or was not sent by this site. "
                                               "Reload the page and try again."))

    @app.errorhandler(413)
    def too_large(error: HTTPException) -> ResponseReturnValue:
        limit = filesize(app.config["MAX_ATTACHMENT_BYTES"])
        if _wants_problem():
            return problem(413, "Payload Too Large", f"The upload is too large: attachments may "
                           f"be at most {limit}. Nothing was saved.")
        return _page(413, _("Upload too large"),
                     _("The upload is too large: attachments may be at most %(limit)s. Nothing "
                       "was saved.", limit=limit))

    @app.errorhandler(SecurityError)
    def untrusted_host(error: SecurityError) -> ResponseReturnValue:
        # Raised before URLs can be built, so no page (whose layout builds them) can be drawn.
        if _wants_problem():
            return problem(400, "Bad Request", "This service does not answer for that host name.")
        return (_("This service does not answer for that host name."), 400,
                {"Content-Type": "text/plain; charset=utf-8"})

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> ResponseReturnValue:
        # Keep what the exception says beside its page, e.g. the Allow header of a 405.
        headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
        if _wants_problem():
            response = problem(error.code or 500, error.name, error.description)
            response.headers.extend(headers)
            return response
        title, message = _http_texts().get(error.code, (error.name, error.description))
        # A view that aborts with its own explanation (abort(400, "…")) keeps it.
        if error.description != type(error).description:
            message = error.description
        return render_template("errors/error.html", code=error.code, title=title,
                               message=message), error.code, headers

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> ResponseReturnValue:
        logger.exception("unhandled error on %s %s", request.method, request.path)
        if _wants_problem():
            return problem(500, "Internal Server Error", "Something went wrong on our side.")
        return _page(500, _("Something went wrong"),
                     _("Something went wrong on our side. Try again in a moment; if it goes on, "
                       "tell your contact at the service desk."))
