"""Signing in and out, and the interface language."""
from urllib.parse import urlsplit, urlunsplit

from flask import (
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user
from werkzeug.wrappers import Response

from helpdesk.accounts.forms import (
    LanguageForm,
    LoginForm,
)
from helpdesk.accounts.services import (
    TooManyAttempts,
    authenticate,
    end_session,
)
from helpdesk.accounts.views.blueprint import (
    begin_session,
    bp,
    home_for,
    safe_next,
    wait_message,
)
from helpdesk.accounts.views.two_factor import second_step
from helpdesk.clock import now_utc
from helpdesk.extensions import db
from helpdesk.web.i18n import SESSION_KEY


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
            next_url = safe_next(request.args.get("next"))
            next_step = second_step(user, next_url)
            if next_step is not None:
                return next_step
            begin_session(user)
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
    back = (same_site and safe_next(urlunsplit(("", "", referrer.path, referrer.query, "")))
            or url_for("accounts.home"))
    if not form.validate_on_submit():
        flash(_("Choose one of the offered languages."), "error")
        return redirect(back)
    session[SESSION_KEY] = form.language.data
    if current_user.is_authenticated:
        current_user.language = form.language.data
        db.session.commit()
    return redirect(back)
