from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from helpdesk.accounts.access import works_tickets
from helpdesk.accounts.forms import (
    ChangePasswordForm,
    ForgotPasswordForm,
    LanguageForm,
    LoginForm,
    NewPasswordForm,
)
from helpdesk.accounts.models import User, token_digest
from helpdesk.accounts.passwords import MIN_LENGTH
from helpdesk.accounts.services import (
    SessionLimits,
    TooManyAttempts,
    authenticate,
    change_password,
    end_every_session,
    end_other_session,
    end_session,
    request_password_reset,
    reset_password,
    sessions_of,
    start_session,
    user_for_reset,
    user_for_session,
)
from helpdesk.accounts.wording import role_label
from helpdesk.clock import now_utc
from helpdesk.errors import N_, DomainError
from helpdesk.extensions import db, login_manager
from helpdesk.formatting import duration, localtime
from helpdesk.web.errors import error_message
from helpdesk.web.forms import ConfirmForm
from helpdesk.web.i18n import SESSION_KEY

bp = Blueprint("accounts", __name__)
bp.add_app_template_global(role_label)


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


def _reset_lifetime() -> timedelta:
    return timedelta(minutes=current_app.config["PASSWORD_RESET_MINUTES"])


def wait_message(error: TooManyAttempts) -> str:
    """When to try again, the way a person reads it: seconds for a delay, a time for a lock."""
    if error.seconds < 120:
        return ngettext("Too many attempts. Try again in %(num)s second.",
                        "Too many attempts. Try again in %(num)s seconds.", error.seconds)
    return _("Too many attempts. Try again after %(time)s.",
             time=localtime(error.until, "datetime"))


def _begin_session(user: User) -> None:
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
        try:
            user = authenticate(form.email.data, form.password.data, now=now_utc(),
                                address=request.remote_addr or "")
        except TooManyAttempts as refused:
            form.password.errors.append(wait_message(refused))
            return render_template("accounts/login.html", form=form), 429
        db.session.commit()  # a failure is counted even though nobody signs in
        if user is None:
            form.password.errors.append(_("Wrong e-mail or password."))
        else:
            _begin_session(user)
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


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password() -> ResponseReturnValue:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        try:
            request_password_reset(form.email.data, now=now_utc(),
                                   address=request.remote_addr or "",
                                   secret_key=current_app.config["SECRET_KEY"])
        except TooManyAttempts as refused:
            form.email.errors.append(wait_message(refused))
            return render_template("accounts/forgot_password.html", form=form), 429
        db.session.commit()
        # The same words whether or not the address has an account.
        flash(_("If %(email)s is the address of an account, a link to choose a new password "
                "is on its way. It works for %(minutes)s minutes.", email=form.email.data,
                minutes=current_app.config["PASSWORD_RESET_MINUTES"]), "info")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/forgot_password.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password_page(token: str) -> ResponseReturnValue:
    secret_key = current_app.config["SECRET_KEY"]
    try:
        user_for_reset(token, secret_key=secret_key, max_age=_reset_lifetime())
    except DomainError as error:
        flash(error_message(error), "error")
        return redirect(url_for("accounts.forgot_password"))
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            reset_password(token, form.new_password.data, now=now_utc(), secret_key=secret_key,
                           max_age=_reset_lifetime())
        except DomainError as error:
            form.new_password.errors.append(error_message(error))
        else:
            db.session.commit()
            flash(_("Your password is changed. Sign in with it."), "info")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_password.html", form=form)


@bp.get("/account")
@login_required
def account() -> ResponseReturnValue:
    return render_template("accounts/account.html")


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password_page() -> ResponseReturnValue:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            change_password(user, form.current_password.data, form.new_password.data,
                            now=now_utc())
        except DomainError as error:
            field = form.current_password if error.field == "current_password" else (
                form.new_password)
            field.errors.append(error_message(error))
        else:
            # Every session ended with the old password, this one too: this browser gets a new one.
            _begin_session(user)
            flash(_("Your password is changed. Your other sessions and your API tokens have "
                    "been ended."), "info")
            return redirect(url_for("accounts.account"))
    return render_template("accounts/change_password.html", form=form)


@bp.get("/account/sessions")
@login_required
def sessions() -> ResponseReturnValue:
    return render_template("accounts/sessions.html", sessions=sessions_of(current_user),
                           current=token_digest(current_user.get_id()), form=ConfirmForm(),
                           session_idle=duration(
                               timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])))


@bp.post("/account/sessions/<int:session_id>/end")
@login_required
def end_one_session(session_id: int) -> ResponseReturnValue:
    if ConfirmForm().validate_on_submit():
        try:
            end_other_session(current_user, session_id)
        except DomainError as error:
            flash(error_message(error), "error")
        else:
            db.session.commit()
            flash(_("That session is signed out."), "info")
    return redirect(url_for("accounts.sessions"))


@bp.post("/account/sessions/end-all")
@login_required
def end_all_sessions() -> ResponseReturnValue:
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("accounts.sessions"))
    language = current_user.language
    end_every_session(current_user)
    db.session.commit()
    logout_user()
    session.clear()
    session[SESSION_KEY] = language
    flash(_("You are signed out everywhere."), "info")
    return redirect(url_for("accounts.login"))
