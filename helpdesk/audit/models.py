from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.extensions import db

if TYPE_CHECKING:  # accounts writes the audit trail: audit names its users, never imports them
    from helpdesk.accounts.models import User


class AuditEntry(db.Model):
    """Who changed what, when, from what to what. Written in the transaction of the change."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    entity: Mapped[str] = mapped_column(sa.String(32))
    entity_id: Mapped[str] = mapped_column(sa.String(64))
    action: Mapped[str] = mapped_column(sa.String(32))
    changes: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    reason: Mapped[str] = mapped_column(sa.Text, default="")

    actor: Mapped["User | None"] = relationship("User")

    __table_args__ = (sa.Index("ix_audit_entries_entity", "entity", "entity_id", "id"),)
