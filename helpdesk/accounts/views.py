from datetime import UTC, datetime, time, timedelta
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from helpdesk.accounts.access import TOKEN_ADMINS, manages_every_token, role_required, works_tickets
from helpdesk.accounts.forms import ApiTokenForm, LanguageForm, LoginForm
from helpdesk.accounts.models import User
from helpdesk.accounts.scopes import Scope
from helpdesk.accounts.services import (
    authenticate,
    end_session,
    start_session,
    user_for_session,
)
from helpdesk.accounts.tokens import (
    active_tokens,
    create_api_token,
    get_api_token,
    revoke_api_token,
    tokens_of,
)
from helpdesk.accounts.wording import role_label, scope_labels, token_state_label
from helpdesk.clock import now_utc
from helpdesk.errors import N_
from helpdesk.extensions import db, login_manager
from helpdesk.transaction import committed
from helpdesk.web.errors import error_message
from helpdesk.web.i18n import SESSION_KEY

bp = Blueprint("accounts", __name__)
bp.add_app_template_global(role_label)
bp.add_app_template_global(scope_labels)
bp.add_app_template_global(token_state_label)


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


# --- API tokens: each user's own, and every user's for admins -------------------------------

def _expires_at(form: ApiTokenForm, now: datetime) -> datetime | None:
    """The instant the chosen expiry ends: a number of days from now, or the end of the chosen
    date in the user's time zone (the token works all that day)."""
    if form.expiry.data == "never":
        return None
    if form.expiry.data == "date":
        end_of_day = datetime.combine(form.expires_on.data, time.max,
                                      ZoneInfo(current_user.timezone))
        return end_of_day.astimezone(UTC)
    return now + timedelta(days=int(form.expiry.data))


def _tokens_page(form: ApiTokenForm, *, status: int = 200,
                 created: str | None = None) -> ResponseReturnValue:
    page = render_template("accounts/tokens.html", form=form, created=created, now=now_utc(),
                           tokens=tokens_of(current_user))
    response = make_response(page, status)
    if created:
        response.headers["Cache-Control"] = "no-store"  # the token is in this page, once
    return response


@bp.get("/account/tokens")
@login_required
def tokens() -> ResponseReturnValue:
    return _tokens_page(ApiTokenForm())


@bp.post("/account/tokens")
@login_required
def create_token() -> ResponseReturnValue:
    form = ApiTokenForm()
    if form.validate_on_submit():
        now = now_utc()
        with committed() as creating:
            token = create_api_token(current_user, name=form.name.data,
                                     scopes={Scope(s) for s in form.scopes.data},
                                     expires_at=_expires_at(form, now), actor=current_user,
                                     now=now)
        if creating.refusal is None:
            # A fresh form: the page shows the new token, not what was typed.
            return _tokens_page(ApiTokenForm(formdata=None), created=token)
        field = getattr(form, creating.refusal.field or "", None)
        errors = field.errors if field is not None else form.form_errors
        errors.append(error_message(creating.refusal))
    return _tokens_page(form, status=400)


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int) -> Response:
    token = get_api_token(token_id)
    own = token is not None and token.user_id == current_user.id
    if token is None or not (own or manages_every_token(current_user)):
        abort(404)
    with committed() as revoking:
        revoke_api_token(token, actor=current_user, now=now_utc())
    if revoking.refusal is None:
        flash(_("Token “%(name)s” (%(prefix)s) revoked: it no longer opens the API.",
                name=token.name, prefix=token.prefix), "success")
    else:
        flash(error_message(revoking.refusal), "error")
    return redirect(url_for("accounts.tokens" if own else "accounts.all_tokens"))


@bp.get("/admin/tokens")
@role_required(*TOKEN_ADMINS)
def all_tokens() -> str:
    now = now_utc()
    return render_template("accounts/all_tokens.html", tokens=active_tokens(now=now), now=now)
