"""Roles, API token scopes and token states as people read them in their language."""
from flask_babel import lazy_gettext as _l

from helpdesk.accounts.models import TokenState
from helpdesk.accounts.roles import Role
from helpdesk.accounts.scopes import Scope

ROLE_LABELS = {Role.CLIENT: _l("client"), Role.TECHNICIAN: _l("technician"),
               Role.TEAM_LEAD: _l("team lead"), Role.FINANCE: _l("finance"),
               Role.ADMIN: _l("administrator")}


def role_label(role: Role) -> str:
    return str(ROLE_LABELS[role])


SCOPE_LABELS = {Scope.READ: _l("read"), Scope.WRITE: _l("write"), Scope.FINANCE: _l("finance")}
TOKEN_STATE_LABELS = {TokenState.ACTIVE: _l("active"), TokenState.EXPIRED: _l("expired"),
                      TokenState.REVOKED: _l("revoked")}


def scope_labels(scopes: frozenset[Scope]) -> str:
    return ", ".join(str(SCOPE_LABELS[scope]) for scope in Scope if scope in scopes)


def token_state_label(state: TokenState) -> str:
    return str(TOKEN_STATE_LABELS[state])
