"""Words of the audit trail page: the kinds of things changed, and stored values as text."""
from typing import Any

from flask_babel import gettext as _

from helpdesk.tickets.wording import audit_action as ticket_action


def entity_label(name: str) -> str:
    """A kind of thing the trail records, in words; unknown kinds are shown as they are."""
    return {
        "ticket": _("ticket"), "contract": _("contract"), "calendar": _("calendar"),
        "organisation": _("organisation"), "user": _("user"), "breach": _("breach"),
        "credit_note": _("credit note"),
    }.get(name, name)


def action_label(name: str) -> str:
    """What an entry records: a ticket's actions as the ticket page words them, and the others'."""
    return {
        "import": _("imported"), "issue": _("issued"), "waive": _("waived"),
        "api_token": _("API token created"), "api_token_revoked": _("API token revoked"),
        "password_changed": _("password changed"), "password_reset": _("password reset"),
        "two_factor_enabled": _("two-factor sign-in turned on"),
        "two_factor_disabled": _("two-factor sign-in turned off"),
        "recovery_code_used": _("recovery code used"),
        "recovery_codes_regenerated": _("recovery codes renewed"),
    }.get(name) or ticket_action(name)


def audit_value(value: Any) -> str:
    """A stored value as text: nothing as a dash, lists and objects flattened onto one line."""
    if value is None:
        return "—"
    if value is True:
        return _("yes")
    if value is False:
        return _("no")
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {audit_value(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(audit_value(item) for item in value) + "]"
    return str(value)
