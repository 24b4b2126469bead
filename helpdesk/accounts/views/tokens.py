"""API tokens: each user's own page, and every user's for admins."""
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import (
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from helpdesk.accounts.access import (
    TOKEN_ADMINS,
    manages_every_token,
    role_required,
)
from helpdesk.accounts.forms import (
    ApiTokenForm,
)
from helpdesk.accounts.scopes import Scope
from helpdesk.accounts.tokens import (
    active_tokens,
    create_api_token,
    get_api_token,
    revoke_api_token,
    tokens_of,
)
from helpdesk.accounts.views.blueprint import (
    bp,
)
from helpdesk.clock import now_utc
from helpdesk.transaction import committed
from helpdesk.web.errors import error_message

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
