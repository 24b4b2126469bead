"""Every model, imported in one place so Alembic and the app see the whole schema."""
from helpdesk.accounts.models import ApiToken, Organisation, User, UserSession
from helpdesk.audit.models import AuditEntry
from helpdesk.contracts.models import (
    AvailabilityTier,
    Calendar,
    Contract,
    ContractVersion,
    EscalationThreshold,
    PenaltyRule,
    Priority,
)
from helpdesk.tickets.models import Attachment, IdempotencyKey, Ticket, TicketEvent, TicketMessage

__all__ = [
    "ApiToken", "Attachment", "AuditEntry", "AvailabilityTier", "Calendar", "Contract",
    "ContractVersion", "EscalationThreshold", "IdempotencyKey", "Organisation", "PenaltyRule",
    "Priority", "Ticket", "TicketEvent", "TicketMessage", "User", "UserSession",
]
