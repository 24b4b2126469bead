"""What the scheduler records: threshold events, breaches, the notification outbox, its heartbeat."""
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.accounts.models import User
from helpdesk.contracts.models import Contract, Metric, NotifyTarget
from helpdesk.db import str_enum
from helpdesk.extensions import db
from helpdesk.tickets.models import Ticket


class EscalationEvent(db.Model):
    """A threshold of a clock crossed, at its true instant; recorded once."""

    __tablename__ = "escalation_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id"))
    metric: Mapped[Metric] = mapped_column(str_enum(Metric, 8))
    level: Mapped[int]  # percent of the target; 100 is the breach
    at: Mapped[datetime]
    recorded_at: Mapped[datetime]

    ticket: Mapped[Ticket] = relationship()

    __table_args__ = (sa.UniqueConstraint("ticket_id", "metric", "level"),)


class Breach(db.Model):
    """A missed GTI or GTR: the terms it broke are copied, so later edits never change it."""

    __tablename__ = "breaches"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id"))
    contract_id: Mapped[int] = mapped_column(sa.ForeignKey("contracts.id"))
    contract_version_id: Mapped[int] = mapped_column(sa.ForeignKey("contract_versions.id"))
    priority_id: Mapped[int] = mapped_column(sa.ForeignKey("priorities.id"))
    metric: Mapped[Metric] = mapped_column(str_enum(Metric, 8))
    priority_code: Mapped[str] = mapped_column(sa.String(16))
    target_seconds: Mapped[int]
    breached_at: Mapped[datetime]  # the due instant, never when it was noticed
    billing_month: Mapped[str] = mapped_column(sa.String(7))  # YYYY-MM in the contract's zone
    # Known once the clock stops; filled once, then the record no longer changes.
    stopped_at: Mapped[datetime | None]
    delay_seconds: Mapped[int | None]
    recorded_at: Mapped[datetime]
    waived_at: Mapped[datetime | None]
    waived_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    waiver_reason: Mapped[str | None] = mapped_column(sa.Text)

    ticket: Mapped[Ticket] = relationship()
    contract: Mapped[Contract] = relationship()
    waived_by: Mapped[User | None] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("ticket_id", "metric"),
        sa.Index("ix_breaches_billing_month_contract_id", "billing_month", "contract_id"),
    )

    @property
    def is_waived(self) -> bool:
        return self.waived_at is not None


class NotificationState(StrEnum):
    PENDING = "pending"  # retried with backoff until the server accepts it: never dropped
    SENT = "sent"


class Notification(db.Model):
    """The outbox: written with its event, sent after the commit, retried until accepted."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("escalation_events.id"))
    recipient_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    audience: Mapped[NotifyTarget] = mapped_column(str_enum(NotifyTarget, 16))
    created_at: Mapped[datetime]
    state: Mapped[NotificationState] = mapped_column(str_enum(NotificationState, 16),
                                                     default=NotificationState.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    read_at: Mapped[datetime | None]

    event: Mapped[EscalationEvent] = relationship()
    recipient: Mapped[User] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("event_id", "recipient_id"),
        sa.Index("ix_notifications_outbox", "state", "next_attempt_at"),
        sa.Index("ix_notifications_inbox", "recipient_id", "read_at"),
    )


class SchedulerHeartbeat(db.Model):
    """One row per scheduler process name: when it last swept and what it did."""

    __tablename__ = "scheduler_heartbeats"

    name: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    last_sweep_at: Mapped[datetime]
    last_sweep_as_of: Mapped[datetime]
    last_summary: Mapped[dict] = mapped_column(sa.JSON, default=dict)
