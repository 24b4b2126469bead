"""The accounts blueprint and what its pages share: who is signed in, starting a session, where
someone goes after signing in, how long to wait after too many attempts."""
from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    request,
    session,
    url_for,
)
from flask.blueprints import BlueprintSetupState
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_user

from helpdesk.accounts.access import (
    works_tickets,
)
from helpdesk.accounts.models import User
from helpdesk.accounts.passwords import MIN_LENGTH
from helpdesk.accounts.services import (
    SessionLimits,
    TooManyAttempts,
    start_session,
    user_for_session,
)
from helpdesk.accounts.wording import role_label, scope_labels, token_state_label
from helpdesk.clock import now_utc
from helpdesk.errors import N_
from helpdesk.extensions import db, login_manager
from helpdesk.formatting import localtime
from helpdesk.web.i18n import SESSION_KEY

bp = Blueprint("accounts", __name__)
bp.add_app_template_global(role_label)
bp.add_app_template_global(scope_labels)
bp.add_app_template_global(token_state_label)


@bp.context_processor
def _password_rules() -> dict[str, int]:
    return {"password_min_length": MIN_LENGTH}


@bp.record_once
def _sign_in_through_this_blueprint(state: BlueprintSetupState) -> None:
    login_manager.login_view = "accounts.login"
    login_manager.login_message = N_("Please sign in to continue.")
    login_manager.localize_callback = _
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.user_loader(_signed_in_user)


def _signed_in_user(token: str) -> User | None:
    config = current_app.config
    limits = SessionLimits(idle=timedelta(minutes=config["SESSION_IDLE_MINUTES"]),
                           absolute=timedelta(days=config["SESSION_MAX_DAYS"]))
    return user_for_session(token, now=now_utc(), limits=limits)


@bp.before_app_request
def _load_the_signed_in_user_first() -> None:
    """Loading the session may write its last use and commit: done before any view runs, that
    commit can never carry a view's half-made changes with it."""
    if request.endpoint != "static":
        current_user._get_current_object()


def wait_message(error: TooManyAttempts) -> str:
    """When to try again, the way a person reads it: seconds for a delay, a time for a lock."""
    if error.seconds < 120:
        return ngettext("Too many attempts. Try again in %(num)s second.",
                        "Too many attempts. Try again in %(num)s seconds.", error.seconds)
    return _("Too many attempts. Try again after %(time)s.",
             time=localtime(error.until, "datetime"))


def begin_session(user: User) -> None:
    """A fresh session id on every sign-in, so one planted before it is worth nothing."""
    language = session.get(SESSION_KEY)
    session.clear()
    if language:
        session[SESSION_KEY] = language
    start_session(user, now=now_utc(), user_agent=request.user_agent.string,
                  address=request.remote_addr or "")
    db.session.commit()
    login_user(user)


def home_for(user: User) -> str:
    return url_for("tickets.queue") if works_tickets(user) else url_for("tickets.index")


def safe_next(target: str | None) -> str | None:
    """Only same-site paths, so the sign-in page cannot bounce users elsewhere.

    Browsers drop tabs and newlines and read a backslash as a slash, so those are refused
    before judging the path: `/\t/evil.example` would otherwise become `//evil.example`.
    """
    if not target or any(ord(ch) < 32 or ord(ch) == 127 or ch == "\\" for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target
