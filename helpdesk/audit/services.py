from datetime import date, datetime
from decimal import Decimal
from enum import Enum, StrEnum
from typing import TYPE_CHECKING, Any

from helpdesk.audit.models import AuditEntry
from helpdesk.extensions import db

if TYPE_CHECKING:  # accounts writes the audit trail: audit names its users, never imports them
    from helpdesk.accounts.models import User


def _plain(value: Any) -> Any:
    """Audit values are stored as JSON: keep them readable and exact (money as strings)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


class Outcome(StrEnum):
    """What creating or updating a row by its key did, as an import reports it."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """Changed fields as {field: [before, after]}."""
    return {
        key: [_plain(before.get(key)), _plain(after.get(key))]
        for key in sorted(set(before) | set(after))
        if _plain(before.get(key)) != _plain(after.get(key))
    }


def record_audit(
    *,
    actor: "User | None",
    now: datetime,
    entity: str,
    entity_id: object,
    action: str,
    changes: dict[str, list[Any]] | None = None,
    reason: str = "",
) -> AuditEntry:
    entry = AuditEntry(
        at=now,
        actor_id=actor.id if actor else None,
        entity=entity,
        entity_id=str(entity_id),
        action=action,
        changes=changes or {},
        reason=reason,
    )
    db.session.add(entry)
    return entry
