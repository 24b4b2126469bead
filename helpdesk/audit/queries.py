import sqlalchemy as sa

from helpdesk.audit.models import AuditEntry
from helpdesk.extensions import db


def trail(entity: str, entity_id: object) -> list[AuditEntry]:
    """The changes of one thing, oldest first."""
    return list(db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.entity == entity,
                                    AuditEntry.entity_id == str(entity_id))
        .order_by(AuditEntry.id)))
