"""Contracts: the list, one form for the whole of a contract's terms (new or edited), the
consequences of the proposed terms before they are saved, and each contract's version history.

The form's terms are written as the import document's contract, validated by the import and
saved by the import's apply step: changed terms become a new version, open tickets keep theirs.
"""
import hashlib
import json
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from helpdesk.admin.contracts import (
    AUDIT_ACTION,
    contract_history,
    credit_summary,
    organisation_choices,
    what_if,
)
from helpdesk.admin.forms.contracts import ContractForm
from helpdesk.admin.views.blueprint import bp
from helpdesk.clock import now_utc
from helpdesk.contracts import queries
from helpdesk.contracts.importer import apply_import
from helpdesk.contracts.models import Contract
from helpdesk.contracts.schema import validate_import
from helpdesk.transaction import committed
from helpdesk.web.errors import error_message


@bp.get("/contracts")
def contracts() -> ResponseReturnValue:
    return render_template("admin/contracts/index.html",
                           contracts=queries.contracts_for(current_user))


def _contract(reference: str) -> Contract:
    contract = queries.get_contract(current_user, reference)
    if contract is None:
        abort(404)
    return contract


@bp.route("/contracts/new", methods=["GET", "POST"])
def new_contract() -> ResponseReturnValue:
    return _contract_form(None)


@bp.route("/contracts/<reference>/edit", methods=["GET", "POST"])
def edit_contract(reference: str) -> ResponseReturnValue:
    return _contract_form(_contract(reference))


@bp.get("/contracts/<reference>/history")
def contract_versions(reference: str) -> ResponseReturnValue:
    contract = _contract(reference)
    return render_template("admin/contracts/history.html", contract=contract,
                           history=contract_history(contract))


def _choices(form: ContractForm) -> None:
    form.set_choices(organisations=organisation_choices(), calendars=queries.calendar_codes())


def _page(form: ContractForm, contract: Contract | None, *, status: int = 200,
          **context: Any) -> ResponseReturnValue:
    _choices(form)
    return render_template("admin/contracts/form.html", form=form, contract=contract,
                           credit_summary=credit_summary, **context), status


def _checked(document: dict[str, Any], contract: Contract | None) -> str:
    """What the what-if panel was computed for: the document and the version it would follow."""
    version = contract.current_version.version if contract is not None else None
    text = json.dumps([document, version], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _contract_form(contract: Contract | None) -> ResponseReturnValue:
    form = ContractForm()
    if request.method == "GET":
        if contract is not None:
            form.fill(contract)
        else:
            form.currency.data = "EUR"
            form.credits_subject_to_vat.data = True
            form.priorities.append_entry()
        return _page(form, contract)
    if not form.validate():  # the fields are the import's to judge: only the CSRF token here
        return _page(form, contract, status=400)
    if contract is not None:  # the key and the owner of a contract never change
        form.reference.data = contract.reference
        form.organisation.data = contract.organisation.code
    # Rows are added where the page showed them, before ticked rows leave.
    added = form.add_row(request.form.get("add", ""))
    form.drop_removed_rows()
    if added:
        return _page(form, contract)

    document, fields = form.document()
    plan, errors = validate_import({"contracts": [document]})
    if contract is None and form.reference.data and queries.get_contract(
            current_user, form.reference.data) is not None:
        form.reference.errors.append(_("A contract has this reference already: edit it instead."))
        plan = None
    if plan is None:
        form.show_errors(errors, fields)
        return _page(form, contract, status=422)

    now = now_utc()
    checked = _checked(document, contract)
    # Changing a contract is saved once its consequences were shown for these very terms.
    confirmed = contract is None or request.form.get("checked") == checked
    if "save" in request.form and confirmed:
        with committed() as saving:
            report = apply_import(plan, now=now, actor=current_user, action=AUDIT_ACTION)
        if saving.refusal is None:
            reference = plan.contracts[0].reference
            if report.contract_versions:
                flash(_("Contract %(reference)s saved: its terms are now version %(version)s.",
                        reference=reference, version=report.contract_versions[-1].version),
                      "success")
            else:
                flash(_("Contract %(reference)s saved: its terms did not change.",
                        reference=reference), "success")
            return redirect(url_for("admin.contract_versions", reference=reference))
        form.form_errors.append(error_message(saving.refusal))
        return _page(form, contract, status=422)
    return _page(form, contract, consequences=what_if(contract, plan.contracts[0], now=now),
                 checked=checked, unconfirmed="save" in request.form)
