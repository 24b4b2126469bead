from flask import Blueprint, abort, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user

from helpdesk.accounts.access import EVERYONE, role_required
from helpdesk.clock import now_utc
from helpdesk.contracts import queries
from helpdesk.contracts.wording import notify_label, service_hours

bp = Blueprint("contracts", __name__)
bp.add_app_template_global(service_hours)
bp.add_app_template_global(notify_label)


@bp.get("/contracts")
@role_required(*EVERYONE)
def index() -> ResponseReturnValue:
    return render_template("contracts/index.html", contracts=queries.contracts_for(current_user),
                           now=now_utc())


@bp.get("/contracts/<reference>")
@role_required(*EVERYONE)
def show(reference: str) -> ResponseReturnValue:
    contract = queries.get_contract(current_user, reference)
    if contract is None:
        abort(404)
    return render_template("contracts/contract.html", contract=contract,
                           terms=contract.current_version, now=now_utc())
