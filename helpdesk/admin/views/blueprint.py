"""The administration blueprint: every route under it is for admins only, checked once here so
that no page can forget it (others signed in get 404, the signed-out the sign-in page)."""
from flask import Blueprint

from helpdesk.accounts.access import ADMINS, role_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@role_required(*ADMINS)
def _admins_only() -> None:
    return None
