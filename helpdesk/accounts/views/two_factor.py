"""Two-factor sign-in: the code step after the password, enrolment, turning it off, new
recovery codes."""
from collections.abc import Callable
from datetime import datetime

from flask import (
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
from flask_login import current_user, login_required
from werkzeug.wrappers import Response
from wtforms import Field

from helpdesk.accounts.forms import (
    TwoFactorCodeForm,
)
from helpdesk.accounts.models import User
from helpdesk.accounts.roles import Role
from helpdesk.accounts.services import (
    TooManyAttempts,
    record_failure,
    refuse_if_throttled,
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
from helpdesk.accounts.views.blueprint import (
    begin_session,
    bp,
    home_for,
    wait_message,
)
from helpdesk.clock import now_utc
from helpdesk.errors import DomainError
from helpdesk.extensions import db
from helpdesk.web.errors import error_message

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


def second_step(user: User, next_url: str | None) -> Response | None:
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
    begin_session(user)
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
