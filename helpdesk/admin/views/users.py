"""Users: the list and its filters, inviting someone by mail (they choose their password),
editing an account, deactivating and reactivating it, and sending an invitation again."""
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from helpdesk.accounts import queries
from helpdesk.accounts.models import User
from helpdesk.accounts.roles import Role
from helpdesk.accounts.services import (
    find_organisation,
    invite_user,
    send_invitation,
    set_user_active,
    update_user,
)
from helpdesk.accounts.wording import ROLE_LABELS
from helpdesk.admin.forms.users import UserFilterForm, UserForm
from helpdesk.admin.views.blueprint import bp
from helpdesk.audit.services import Outcome
from helpdesk.clock import now_utc
from helpdesk.errors import DomainError
from helpdesk.extensions import db
from helpdesk.transaction import committed
from helpdesk.web.errors import error_message


def _user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.get("/users")
def users() -> ResponseReturnValue:
    form = UserFilterForm(request.args, organisations=queries.organisations(
        standing=queries.Standing.ALL))
    form.validate()
    role = Role(form.role.data) if form.role.data and not form.role.errors else None
    organisation = (find_organisation(form.organisation.data)
                    if form.organisation.data and not form.organisation.errors else None)
    standing = queries.Standing(form.standing.data if not form.standing.errors
                                else queries.Standing.CURRENT)
    rows = queries.users(search=form.q.data or "", role=role, organisation=organisation,
                         standing=standing)
    filtered = bool(form.q.data or role or organisation) or standing != queries.Standing.CURRENT
    return render_template("admin/users/list.html", form=form, users=rows, filtered=filtered,
                           role_labels=ROLE_LABELS)


@bp.route("/users/new", methods=["GET", "POST"])
def new_user() -> ResponseReturnValue:
    form = UserForm(organisations=queries.organisations_to_choose())
    if form.validate_on_submit() and (checked := form.checked()) is not None:
        email, fields = checked
        try:
            invite_user(email, fields, now=now_utc(), actor=current_user,
                        secret_key=current_app.config["SECRET_KEY"])
        except DomainError as error:
            db.session.rollback()
            form.email.errors.append(error_message(error))
        else:
            db.session.commit()
            flash(_("%(email)s is invited: a mail with a link to choose a password is on its "
                    "way. It works for %(days)s days.", email=email,
                    days=current_app.config["INVITATION_DAYS"]), "success")
            return redirect(url_for("admin.users"))
    status = 422 if form.is_submitted() else 200
    return render_template("admin/users/form.html", form=form, user=None), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def edit_user(user_id: int) -> ResponseReturnValue:
    user = _user(user_id)
    form = UserForm(organisations=queries.organisations_to_choose(keeping=user.organisation),
                    editing=user)
    if form.validate_on_submit() and (checked := form.checked()) is not None:
        _email, fields = checked
        with committed() as saving:
            outcome = update_user(user, fields, now=now_utc(), actor=current_user)
        if saving.refusal is None:
            flash(_("%(email)s saved.", email=user.email) if outcome != Outcome.UNCHANGED
                  else _("Nothing changed."), "success")
            return redirect(url_for("admin.users"))
        form.form_errors.append(error_message(saving.refusal))
    status = 422 if form.is_submitted() else 200
    return render_template("admin/users/form.html", form=form, user=user,
                           role_labels=ROLE_LABELS), status


def _set_active(user_id: int, active: bool) -> ResponseReturnValue:
    user = _user(user_id)
    with committed() as changing:
        set_user_active(user, active, now=now_utc(), actor=current_user)
    if changing.refusal is not None:
        flash(error_message(changing.refusal), "error")
    elif active:
        flash(_("%(email)s is reactivated and may sign in again.", email=user.email), "success")
    else:
        flash(_("%(email)s is deactivated: their sessions and API tokens are ended.",
                email=user.email), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.post("/users/<int:user_id>/deactivate")
def deactivate_user(user_id: int) -> ResponseReturnValue:
    return _set_active(user_id, False)


@bp.post("/users/<int:user_id>/reactivate")
def reactivate_user(user_id: int) -> ResponseReturnValue:
    return _set_active(user_id, True)


@bp.post("/users/<int:user_id>/invitation")
def resend_invitation(user_id: int) -> ResponseReturnValue:
    user = _user(user_id)
    with committed() as sending:
        send_invitation(user, now=now_utc(), actor=current_user,
                        secret_key=current_app.config["SECRET_KEY"])
    if sending.refusal is None:
        flash(_("A new invitation is on its way to %(email)s; the links sent before no longer "
                "work.", email=user.email), "success")
    else:
        flash(error_message(sending.refusal), "error")
    return redirect(url_for("admin.edit_user", user_id=user.id))
