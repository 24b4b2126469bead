from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    current_app,
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
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response
from wtforms import Field

from helpdesk.accounts.access import (
    TOKEN_ADMINS,
    manages_every_token,
    role_required,
    works_tickets,
)
from helpdesk.accounts.forms import (
    ApiTokenForm,
    ChangePasswordForm,
    ForgotPasswordForm,
    LanguageForm,
    LoginForm,
    NewPasswordForm,
    TwoFactorCodeForm,
)
from helpdesk.accounts.models import User, token_digest
from helpdesk.accounts.passwords import MIN_LENGTH
from helpdesk.accounts.roles import Role
from helpdesk.accounts.scopes import Scope
from helpdesk.accounts.services import (
    SessionLimits,
    TooManyAttempts,
    authenticate,
    change_password,
    end_every_session,
    end_other_session,
    end_session,
    record_failure,
    refuse_if_throttled,
    request_password_reset,
    reset_password,
    sessions_of,
    start_session,
    user_for_reset,
    user_for_session,
)
from helpdesk.accounts.tokens import (
    active_tokens,
    create_api_token,
    get_api_token,
    revoke_api_token,
    tokens_of,
)
from helpdesk.accounts.two_factor import (
    SIGN_IN_STEP_LIFETIME,
    check_can_disable,
    check_can_regenerate,
    disable_two_factor,
    enable_two_factor,
    enrolment_secret,
    must_enrol,
    provisioning_uri,
    qr_code_data_uri,
    recovery_codes_left,
    regenerate_recovery_codes,
    required_roles,
    requires_two_factor,
    verify_second_factor,
    verify_totp,
)
from helpdesk.accounts.wording import role_label, scope_labels, token_state_label
from helpdesk.clock import now_utc
from helpdesk.errors import N_, DomainError
from helpdesk.extensions import db, login_manager
from helpdesk.formatting import duration, localtime
from helpdesk.transaction import committed
from helpdesk.web.errors import error_message
from helpdesk.web.forms import ConfirmForm
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
            next_url = _safe_next(request.args.get("next"))
            second_step = _second_step(user, next_url)
            if second_step is not None:
                return second_step
            _begin_session(user)
            return redirect(next_url or home_for(user))
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
        user_for_reset(token, now=now_utc(), secret_key=secret_key, max_age=_reset_lifetime())
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


# --- Two-factor sign-in (accounts.two_factor) -----------------------------------------------
# Between the password and the code, the Flask session holds a pending sign-in: who, since when,
# and where to go next. It signs nobody in: `current_user` stays anonymous until
# `_begin_session`.

PENDING_SIGN_IN = "two_factor_pending"


@bp.record_once
def _refuse_unknown_required_roles(state: BlueprintSetupState) -> None:
    required_roles(state.app.config["TWO_FACTOR_REQUIRED_ROLES"])


def _required_roles() -> frozenset[Role]:
    return required_roles(current_app.config["TWO_FACTOR_REQUIRED_ROLES"])


def _second_step(user: User, next_url: str | None) -> Response | None:
    """After the password: the code page for a user with two-factor sign-in, the enrolment page
    for one whose role requires it; None when the password is enough."""
    if user.has_two_factor:
        step = "accounts.sign_in_code"
    elif must_enrol(user, _required_roles()):
        step = "accounts.enrol_two_factor"
    else:
        return None
    session[PENDING_SIGN_IN] = {"user_id": user.id, "at": now_utc().isoformat(),
                                "next": next_url}
    return redirect(url_for(step))


def _pending_user() -> User | None:
    """The user whose password was accepted a moment ago, while that step is fresh."""
    pending = session.get(PENDING_SIGN_IN)
    if pending is None:
        return None
    if now_utc() - datetime.fromisoformat(pending["at"]) > SIGN_IN_STEP_LIFETIME:
        return None
    user = db.session.get(User, pending["user_id"])
    return user if user is not None and user.is_active else None


def _back_to_sign_in() -> Response:
    if session.pop(PENDING_SIGN_IN, None) is not None:
        flash(_("Your sign-in expired. Please sign in again."), "info")
    return redirect(url_for("accounts.login"))


def _finish_pending_sign_in(user: User) -> str:
    """Signs the pending user in; where they were going."""
    next_url = session[PENDING_SIGN_IN]["next"]
    _begin_session(user)
    return next_url or home_for(user)


def _code_accepted(user: User, field: Field,
                   verify: Callable[..., bool] = verify_second_factor) -> bool:
    """Every code a person types is checked here, so that one guard limits the guessing: wrong
    codes count against the account and the address like wrong passwords."""
    now, address = now_utc(), request.remote_addr or ""
    try:
        refuse_if_throttled(user.email, address=address, now=now)
    except TooManyAttempts as refused:
        field.errors.append(wait_message(refused))
        return False
    if verify(user, field.data, now=now):
        return True
    record_failure(user, user.email, address=address, now=now)
    db.session.commit()
    field.errors.append(_("Wrong code"))
    return False


@bp.route("/login/code", methods=["GET", "POST"])
def sign_in_code() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    user = _pending_user()
    if user is None or not user.has_two_factor:
        return _back_to_sign_in()
    form = TwoFactorCodeForm()
    if form.validate_on_submit() and _code_accepted(user, form.code):
        return redirect(_finish_pending_sign_in(user))
    return render_template("accounts/sign_in_code.html", form=form)


@bp.route("/account/two-factor/enrol", methods=["GET", "POST"])
def enrol_two_factor() -> ResponseReturnValue:
    """Signed in, or during a sign-in when the user's role requires a second factor."""
    signed_in = current_user.is_authenticated
    user = current_user._get_current_object() if signed_in else _pending_user()
    if user is None:
        return _back_to_sign_in()
    if user.has_two_factor:
        flash(_("Two-factor sign-in is already on."), "info")
        return redirect(url_for("accounts.account_two_factor" if signed_in
                                else "accounts.sign_in_code"))
    secret = enrolment_secret(user)
    db.session.commit()  # the same secret while the page is reloaded and the code typed
    form = TwoFactorCodeForm()
    if form.validate_on_submit() and _code_accepted(user, form.code, verify_totp):
        codes = enable_two_factor(user, now=now_utc())
        if signed_in:
            db.session.commit()
            next_url = url_for("accounts.account_two_factor")
        else:
            next_url = _finish_pending_sign_in(user)
        return render_template("accounts/recovery_codes.html", codes=codes, next_url=next_url,
                               enrolled=True)
    uri = provisioning_uri(secret, email=user.email, issuer=current_app.config["SELLER_NAME"])
    return render_template("accounts/enrol_two_factor.html", form=form, secret=secret,
                           qr_code=qr_code_data_uri(uri))


def _account_page(**forms: TwoFactorCodeForm) -> str:
    user = current_user
    return render_template(
        "accounts/two_factor.html",
        required=requires_two_factor(user, _required_roles()),
        codes_left=recovery_codes_left(user) if user.has_two_factor else 0,
        disable_form=forms.get("disable_form") or TwoFactorCodeForm(prefix="disable"),
        codes_form=forms.get("codes_form") or TwoFactorCodeForm(prefix="codes"))


@bp.get("/account/two-factor")
@login_required
def account_two_factor() -> ResponseReturnValue:
    return _account_page()


def _refused(refusal: DomainError) -> Response:
    flash(error_message(refusal), "error")
    return redirect(url_for("accounts.account_two_factor"))


@bp.post("/account/two-factor/disable")
@login_required
def turn_off_two_factor() -> ResponseReturnValue:
    user = current_user._get_current_object()
    roles = _required_roles()
    try:
        check_can_disable(user, roles)
    except DomainError as refusal:
        return _refused(refusal)
    form = TwoFactorCodeForm(prefix="disable")
    if not (form.validate_on_submit() and _code_accepted(user, form.code)):
        return _account_page(disable_form=form)
    disable_two_factor(user, roles=roles, now=now_utc())
    db.session.commit()
    flash(_("Two-factor sign-in is off."), "success")
    return redirect(url_for("accounts.account_two_factor"))


@bp.post("/account/two-factor/recovery-codes")
@login_required
def renew_recovery_codes() -> ResponseReturnValue:
    user = current_user._get_current_object()
    try:
        check_can_regenerate(user)
    except DomainError as refusal:
        return _refused(refusal)
    form = TwoFactorCodeForm(prefix="codes")
    if not (form.validate_on_submit() and _code_accepted(user, form.code)):
        return _account_page(codes_form=form)
    codes = regenerate_recovery_codes(user, now=now_utc())
    db.session.commit()
    return render_template("accounts/recovery_codes.html", codes=codes,
                           next_url=url_for("accounts.account_two_factor"), enrolled=False)


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
