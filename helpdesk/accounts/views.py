from urllib.parse import urlsplit, urlunsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from helpdesk.accounts.access import works_tickets
from helpdesk.accounts.forms import LanguageForm, LoginForm
from helpdesk.accounts.models import User
from helpdesk.accounts.services import (
    authenticate,
    end_session,
    start_session,
    user_for_session,
)
from helpdesk.accounts.wording import role_label
from helpdesk.clock import now_utc
from helpdesk.errors import N_
from helpdesk.extensions import db, login_manager
from helpdesk.web.i18n import SESSION_KEY

bp = Blueprint("accounts", __name__)
bp.add_app_template_global(role_label)


@bp.record_once
def _sign_in_through_this_blueprint(state: BlueprintSetupState) -> None:
    login_manager.login_view = "accounts.login"
    login_manager.login_message = N_("Please sign in to continue.")
    login_manager.localize_callback = _
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.user_loader(user_for_session)


def home_for(user: User) -> str:
    return url_for("tickets.queue") if works_tickets(user) else url_for("tickets.index")


def _safe_next(target: str | None) -> str | None:
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


@bp.get("/")
def home() -> Response:
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    return redirect(url_for("accounts.login"))


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is None:
            form.password.errors.append(_("Wrong e-mail or password."))
        else:
            session.clear()
            start_session(user, now=now_utc(), user_agent=request.user_agent.string)
            db.session.commit()
            login_user(user)
            return redirect(_safe_next(request.args.get("next")) or home_for(user))
    return render_template("accounts/login.html", form=form)


@bp.post("/logout")
@login_required
def logout() -> Response:
    end_session(current_user.get_id())
    db.session.commit()
    language = current_user.language
    logout_user()
    session.clear()
    session[SESSION_KEY] = language  # the sign-in page goes on speaking it
    flash(_("You are signed out."), "info")
    return redirect(url_for("accounts.login"))


@bp.post("/language")
def language() -> Response:
    """Switch the interface language: kept on the account when signed in, else in the session.

    Back to the page the switch was made on, read from the Referer (sent same-origin), so that
    pages carry no copy of their own address: a 404 looks the same whatever was asked for."""
    form = LanguageForm()
    referrer = urlsplit(request.referrer or "")
    same_site = referrer.netloc == request.host
    back = (same_site and _safe_next(urlunsplit(("", "", referrer.path, referrer.query, "")))
            or url_for("accounts.home"))
    if not form.validate_on_submit():
        flash(_("Choose one of the offered languages."), "error")
        return redirect(back)
    session[SESSION_KEY] = form.language.data
    if current_user.is_authenticated:
        current_user.language = form.language.data
        db.session.commit()
    return redirect(back)
