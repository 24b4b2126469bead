"""Roles as people read them in their language."""
from flask_babel import lazy_gettext as _l

from helpdesk.accounts.roles import Role

ROLE_LABELS = {Role.CLIENT: _l("client"), Role.TECHNICIAN: _l("technician"),
               Role.TEAM_LEAD: _l("team lead"), Role.FINANCE: _l("finance"),
               Role.ADMIN: _l("administrator")}


def role_label(role: Role) -> str:
    return str(ROLE_LABELS[role])
