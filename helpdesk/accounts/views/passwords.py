"""A forgotten password reset by mail, a first password chosen through an invitation, and a
password changed by its owner."""

from datetime import timedelta

from flask import (
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from helpdesk.accounts.forms import (
    ChangePasswordForm,
    ForgotPasswordForm,
    NewPasswordForm,
)
from helpdesk.accounts.services import (
    TooManyAttempts,
    accept_invitation,
    change_password,
    request_password_reset,
    reset_password,
    user_for_invitation,
    user_for_reset,
)
from helpdesk.accounts.views.blueprint import (
    begin_session,
    bp,
    wait_message,
)
from helpdesk.clock import now_utc
from helpdesk.errors import DomainError
from helpdesk.extensions import db
from helpdesk.web.errors import error_message


def _reset_lifetime() -> timedelta:
    return timedelta(minutes=current_app.config["PASSWORD_RESET_MINUTES"])


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


def _invitation_lifetime() -> timedelta:
    return timedelta(days=current_app.config["INVITATION_DAYS"])


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation_page(token: str) -> ResponseReturnValue:
    secret_key = current_app.config["SECRET_KEY"]
    try:
        user = user_for_invitation(token, now=now_utc(), secret_key=secret_key,
                                   max_age=_invitation_lifetime())
    except DomainError as error:
        flash(error_message(error), "error")
        return redirect(url_for("accounts.login"))
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            accept_invitation(token, form.new_password.data, now=now_utc(),
                              secret_key=secret_key, max_age=_invitation_lifetime())
        except DomainError as error:
            form.new_password.errors.append(error_message(error))
        else:
            db.session.commit()
            flash(_("Your password is chosen. Sign in with it."), "info")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/accept_invitation.html", form=form, invited=user)


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
            begin_session(user)
            flash(_("Your password is changed. Your other sessions and your API tokens have "
                    "been ended."), "info")
            return redirect(url_for("accounts.account"))
    return render_template("accounts/change_password.html", form=form)
