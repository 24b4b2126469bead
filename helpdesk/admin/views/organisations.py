"""Organisations: the list and its search, creating and editing one (a client's legal details
are printed on its credit notes), archiving a client that left and restoring it."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from helpdesk.accounts import queries
from helpdesk.accounts.models import Organisation
from helpdesk.accounts.services import (
    archive_organisation,
    find_organisation,
    restore_organisation,
    upsert_organisation,
)
from helpdesk.admin.forms.organisations import KIND_LABELS, OrganisationForm, OrganisationSearchForm
from helpdesk.admin.views.blueprint import bp
from helpdesk.audit.services import Outcome
from helpdesk.clock import now_utc
from helpdesk.extensions import db
from helpdesk.transaction import committed
from helpdesk.web.errors import error_message


def _organisation(code: str) -> Organisation:
    organisation = find_organisation(code)
    if organisation is None:
        abort(404)
    return organisation


@bp.get("/organisations")
def organisations() -> ResponseReturnValue:
    form = OrganisationSearchForm(request.args)
    form.validate()
    standing = queries.Standing(form.standing.data if not form.standing.errors
                                else queries.Standing.CURRENT)
    rows = queries.organisations(search=form.q.data or "", standing=standing)
    return render_template("admin/organisations/list.html", form=form, organisations=rows,
                           kind_labels=KIND_LABELS,
                           filtered=bool(form.q.data) or standing != queries.Standing.CURRENT)


@bp.route("/organisations/new", methods=["GET", "POST"])
def new_organisation() -> ResponseReturnValue:
    form = OrganisationForm()
    if form.validate_on_submit():
        given = form.checked()
        if given is not None:
            upsert_organisation(given.code, given.fields(), given=given.model_fields_set,
                                now=now_utc(), actor=current_user, action="create")
            db.session.commit()
            flash(_("Organisation %(code)s created.", code=given.code), "success")
            return redirect(url_for("admin.organisations"))
    status = 422 if form.is_submitted() else 200
    return render_template("admin/organisations/form.html", form=form, organisation=None), status


@bp.route("/organisations/<code>", methods=["GET", "POST"])
def edit_organisation(code: str) -> ResponseReturnValue:
    organisation = _organisation(code)
    form = OrganisationForm(obj=organisation, editing=organisation)
    if form.validate_on_submit():
        given = form.checked()
        if given is not None:
            outcome = upsert_organisation(organisation.code, given.fields(),
                                          given=given.model_fields_set, now=now_utc(),
                                          actor=current_user, action="update")
            db.session.commit()
            flash(_("Organisation %(code)s saved.", code=code) if outcome != Outcome.UNCHANGED
                  else _("Nothing changed."), "success")
            return redirect(url_for("admin.organisations"))
    status = 422 if form.is_submitted() else 200
    return render_template("admin/organisations/form.html", form=form,
                           organisation=organisation), status


@bp.post("/organisations/<code>/archive")
def archive_organisation_page(code: str) -> ResponseReturnValue:
    organisation = _organisation(code)
    with committed() as archiving:
        archive_organisation(organisation, now=now_utc(), actor=current_user)
    if archiving.refusal is None:
        flash(_("%(code)s is archived: its people are signed out and can no longer sign in.",
                code=code), "success")
    else:
        flash(error_message(archiving.refusal), "error")
    return redirect(url_for("admin.edit_organisation", code=code))


@bp.post("/organisations/<code>/restore")
def restore_organisation_page(code: str) -> ResponseReturnValue:
    organisation = _organisation(code)
    with committed() as restoring:
        restore_organisation(organisation, now=now_utc(), actor=current_user)
    if restoring.refusal is None:
        flash(_("%(code)s is restored: its active people may sign in again.", code=code),
              "success")
    else:
        flash(error_message(restoring.refusal), "error")
    return redirect(url_for("admin.edit_organisation", code=code))
