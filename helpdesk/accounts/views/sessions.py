"""The account page and "Your sessions": each browser signed in, signed out one by one or
everywhere."""
from datetime import timedelta

from flask import (
    current_app,
    flash,
    redirect,
    render_template,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from helpdesk.accounts.models import token_digest
from helpdesk.accounts.services import (
    end_every_session,
    end_other_session,
    sessions_of,
)
from helpdesk.accounts.views.blueprint import (
    bp,
)
from helpdesk.errors import DomainError
from helpdesk.extensions import db
from helpdesk.formatting import duration
from helpdesk.web.errors import error_message
from helpdesk.web.forms import ConfirmForm
from helpdesk.web.i18n import SESSION_KEY


@bp.get("/account")
@login_required
def account() -> ResponseReturnValue:
    return render_template("accounts/account.html")


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
