import re
from datetime import datetime
from enum import IntEnum, StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.accounts.models import Organisation, User
from helpdesk.clock import now_utc
from helpdesk.contracts.models import Contract, ContractVersion, Metric, Priority
from helpdesk.db import MAX_ROW_ID, str_enum
from helpdesk.extensions import db

NUMBER_PATTERN = re.compile(r"^T-(\d{6,12})$")


class Status(StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    WAITING_ON_CLIENT = "waiting_on_client"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"
    CANCELLED = "cancelled"


OPEN_STATUSES = frozenset(
    {Status.NEW, Status.IN_PROGRESS, Status.WAITING_ON_CLIENT, Status.REOPENED}
)


class EventKind(StrEnum):
    """What happened to a ticket; the SLA clocks are replayed from these."""

    CREATED = "created"
    TAKEN = "taken"
    REPLIED = "replied"
    NOTED = "noted"
    WAITING = "waiting"
    RESUMED = "resumed"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"
    CANCELLED = "cancelled"
    REPRIORITISED = "reprioritised"
    ASSIGNED = "assigned"


def format_number(ticket_id: int) -> str:
    return f"T-{ticket_id:06d}"


def parse_number(number: str) -> int | None:
    """The id behind a ticket number, or None when the text is not a ticket number."""
    match = NUMBER_PATTERN.match(number.strip().upper())
    if not match or not 0 < int(match.group(1)) <= MAX_ROW_ID:
        return None
    return int(match.group(1))


class Ticket(db.Model):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    contract_id: Mapped[int] = mapped_column(sa.ForeignKey("contracts.id"), index=True)
    contract_version_id: Mapped[int] = mapped_column(sa.ForeignKey("contract_versions.id"))
    priority_id: Mapped[int] = mapped_column(sa.ForeignKey("priorities.id"))
    requester_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    assignee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    status: Mapped[Status] = mapped_column(str_enum(Status, 24), default=Status.NEW)
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    taken_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # The queue's order, kept with the clocks: rank (see QueueRank), then the earliest due instant.
    sla_rank: Mapped[int] = mapped_column(sa.SmallInteger, default=0, server_default="0")
    sla_due_at: Mapped[datetime | None]

    organisation: Mapped[Organisation] = relationship()
    contract: Mapped[Contract] = relationship()
    contract_version: Mapped[ContractVersion] = relationship()
    priority: Mapped[Priority] = relationship()
    requester: Mapped[User] = relationship(foreign_keys=[requester_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    messages: Mapped[list["TicketMessage"]] = relationship(
        back_populates="ticket", order_by="TicketMessage.id"
    )
    attachments: Mapped[list["Attachment"]] = relationship(
        back_populates="ticket", order_by="Attachment.id"
    )
    events: Mapped[list["TicketEvent"]] = relationship(order_by="TicketEvent.id")
    clocks: Mapped[list["SlaClock"]] = relationship(
        back_populates="ticket", order_by="SlaClock.metric", cascade="all, delete-orphan")

    __table_args__ = (
        sa.Index("ix_tickets_organisation_id_id", "organisation_id", "id"),
        sa.Index("ix_tickets_status_id", "status", "id"),
        sa.Index("ix_tickets_queue", "sla_rank", "sla_due_at", "id"),
        # Trigrams find a word anywhere in a title without reading every open ticket; a
        # PostgreSQL index (pg_trgm), which the migration creates with the extension.
        sa.Index("ix_tickets_title_trgm", "title", postgresql_using="gin",
                 postgresql_ops={"title": "gin_trgm_ops"}).ddl_if(dialect="postgresql"),
    )

    @property
    def number(self) -> str:
        return format_number(self.id)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class QueueRank(IntEnum):
    """Where an open ticket stands in the queue; within a rank, the earliest due comes first."""

    COUNTING = 0  # a clock runs (or ran past its due instant without being stopped)
    PAUSED = 1  # waiting on the client
    NO_CLOCK = 2  # open, but every clock of its priority is stopped
    NOT_OPEN = 9  # resolved, closed or cancelled: not in the queue


class SlaStatus(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    MET = "met"
    BREACHED = "breached"
    CANCELLED = "cancelled"  # ticket cancelled by staff as invalid or duplicate: no breach counts


class SlaClock(db.Model):
    """The stored state of one clock of a ticket: a cache of the replay of its events."""

    __tablename__ = "sla_clocks"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id"))
    metric: Mapped[Metric] = mapped_column(str_enum(Metric, 8))
    status: Mapped[SlaStatus] = mapped_column(str_enum(SlaStatus, 16))
    target_seconds: Mapped[int]
    due_at: Mapped[datetime | None]
    breached_at: Mapped[datetime | None]
    stopped_at: Mapped[datetime | None]
    elapsed_seconds: Mapped[int]
    delay_seconds: Mapped[int]
    # Highest escalation threshold (percent of the target) already recorded; 100 is the breach.
    escalation_level: Mapped[int] = mapped_column(default=0)
    next_check_at: Mapped[datetime | None] = mapped_column(index=True)
    computed_at: Mapped[datetime]

    ticket: Mapped[Ticket] = relationship(back_populates="clocks")

    __table_args__ = (sa.UniqueConstraint("ticket_id", "metric"),)


class TicketMessage(db.Model):
    __tablename__ = "ticket_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id"), index=True)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    is_internal: Mapped[bool] = mapped_column(default=False)
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime]

    ticket: Mapped[Ticket] = relationship(back_populates="messages")
    author: Mapped[User] = relationship()
    attachments: Mapped[list["Attachment"]] = relationship(back_populates="message")


class Attachment(db.Model):
    """Metadata of an uploaded file; the bytes live outside `static/` under a random name."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ticket_messages.id"))
    uploader_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    filename: Mapped[str] = mapped_column(sa.String(255))
    content_type: Mapped[str] = mapped_column(sa.String(128))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    storage_name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime]

    ticket: Mapped[Ticket] = relationship(back_populates="attachments")
    message: Mapped[TicketMessage | None] = relationship(back_populates="attachments")
    uploader: Mapped[User] = relationship()


class TicketEvent(db.Model):
    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id"), index=True)
    at: Mapped[datetime]
    kind: Mapped[EventKind] = mapped_column(str_enum(EventKind, 24))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    data: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    actor: Mapped[User | None] = relationship()


class IdempotencyKey(db.Model):
    """A client's retry key for ticket submission: the same key returns the same ticket."""

    __tablename__ = "idempotency_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(255))
    request_digest: Mapped[str] = mapped_column(sa.String(64))
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id"))
    created_at: Mapped[datetime] = mapped_column(default=now_utc)

    __table_args__ = (sa.UniqueConstraint("user_id", "key"),)


class Outage(db.Model):
    """A service outage a technician marked on a ticket; `ended_at` is empty while it lasts.

    The contract is copied from the ticket so that a month's availability reads one index."""

    __tablename__ = "outages"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id"), index=True)
    contract_id: Mapped[int] = mapped_column(sa.ForeignKey("contracts.id"))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    recorded_at: Mapped[datetime]

    ticket: Mapped[Ticket] = relationship()
    recorded_by: Mapped[User] = relationship()

    __table_args__ = (
        sa.Index("ix_outages_contract_id_started_at", "contract_id", "started_at"),
        sa.CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="ends_after_start"),
    )
