"""Every model, imported in one place so Alembic and the app see the whole schema."""
from helpdesk.accounts.models import (
    ApiToken,
    Organisation,
    RecoveryCode,
    User,
    UserSession,
)
from helpdesk.audit.models import AuditEntry
from helpdesk.billing.models import CreditNote, CreditNoteCounter, CreditNoteLine
from helpdesk.contracts.models import (
    AvailabilityTier,
    Calendar,
    Contract,
    ContractVersion,
    EscalationThreshold,
    PenaltyRule,
    Priority,
)
from helpdesk.escalation.models import (
    Breach,
    EscalationEvent,
    Notification,
    SchedulerHeartbeat,
)
from helpdesk.tickets.models import (
    Attachment,
    IdempotencyKey,
    Outage,
    SlaClock,
    Ticket,
    TicketEvent,
    TicketMessage,
)

__all__ = [
    "ApiToken", "Attachment", "AuditEntry", "AvailabilityTier", "Breach", "Calendar", "Contract",
    "ContractVersion", "CreditNote", "CreditNoteCounter", "CreditNoteLine", "EscalationEvent", "EscalationThreshold", "IdempotencyKey",
    "Notification", "Organisation", "Outage", "PenaltyRule", "Priority", "RecoveryCode", "SchedulerHeartbeat", "SlaClock",
    "Ticket", "TicketEvent", "TicketMessage", "User", "UserSession",
]
