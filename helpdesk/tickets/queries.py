"""Reads of tickets. Every read takes the viewer, so tenant scoping is in the signature."""
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from helpdesk.accounts.access import ASSIGNABLE, may_see_attachment, sees_every_organisation
from helpdesk.accounts.models import Organisation, User
from helpdesk.contracts.models import (
    Calendar,
    Contract,
    ContractVersion,
    EscalationThreshold,
    Priority,
)
from helpdesk.db import MAX_ROW_ID, UTCDateTime
from helpdesk.extensions import db
from helpdesk.tickets.clocks import BREACH_LEVEL
from helpdesk.tickets.models import (
    OPEN_STATUSES,
    Attachment,
    Outage,
    QueueRank,
    SlaClock,
    SlaStatus,
    Status,
    Ticket,
    format_number,
    parse_number,
)


def visible_tickets(viewer: User) -> sa.Select:
    query = sa.select(Ticket)
    if sees_every_organisation(viewer):
        return query
    return query.where(Ticket.organisation_id == viewer.organisation_id)


def get_ticket(viewer: User, number: str, *, for_update: bool = False) -> Ticket | None:
    """The ticket with that number if the viewer may see it; None otherwise (shown as 404).

    `for_update` locks it (PostgreSQL) before anything is read, so two people acting on the
    same ticket at once act one after the other, the second on what the first left.
    """
    ticket_id = parse_number(number)
    if ticket_id is None:
        return None
    query = visible_tickets(viewer).where(Ticket.id == ticket_id)
    if for_update:
        query = query.with_for_update(of=Ticket).execution_options(populate_existing=True)
    return db.session.scalar(query)


def get_attachment(viewer: User, ticket: Ticket, attachment_id: int) -> Attachment | None:
    if not 0 < attachment_id <= MAX_ROW_ID:
        return None
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.ticket_id != ticket.id:
        return None
    return attachment if may_see_attachment(viewer, attachment) else None


# What a list of tickets shows (and the API replays), loaded for the whole page at once.
LISTED = (selectinload(Ticket.organisation), selectinload(Ticket.assignee),
          selectinload(Ticket.requester), selectinload(Ticket.events),
          selectinload(Ticket.contract), selectinload(Ticket.contract_version),
          selectinload(Ticket.priority).selectinload(Priority.calendar))


def ticket_page(viewer: User, *, before_id: int | None, limit: int,
                only_open: bool = False) -> list[Ticket]:
    """Newest first, keyset-paginated by id."""
    query = visible_tickets(viewer).order_by(Ticket.id.desc()).limit(limit).options(*LISTED)
    if before_id is not None:
        query = query.where(Ticket.id < before_id)
    if only_open:
        query = query.where(Ticket.status.in_(OPEN_STATUSES))
    return list(db.session.scalars(query))


class QueueState(StrEnum):
    """What the queue can be narrowed to, by the state of a ticket's running clock."""

    RUNNING = "running"  # counting and not past due (at risk included)
    PAUSED = "paused"  # waiting on the client
    AT_RISK = "at_risk"  # past the last warning before the breach, as the sweep recorded it
    BREACHED = "breached"  # past due and still counting


@dataclass(frozen=True)
class QueueFilter:
    """What a technician narrows the queue to; every part is optional and they combine."""

    assignee_id: int | None = None
    unassigned: bool = False
    organisation_id: int | None = None
    priority_code: str | None = None
    state: QueueState | None = None
    text: str | None = None


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
CURSOR_PATTERN = re.compile(r"^([0-8])\.(\d{1,18})?\.(\d{1,10})$")
QUEUE_NUMBER = re.compile(r"^(#|T-?)?0*(\d{1,10})$", re.IGNORECASE)


@dataclass(frozen=True)
class QueueCursor:
    """The position after the last ticket of a page, in the queue's order (rank, due, id)."""

    rank: int
    due_at: datetime | None
    ticket_id: int

    @classmethod
    def after(cls, ticket: Ticket) -> "QueueCursor":
        return cls(ticket.sla_rank, ticket.sla_due_at, ticket.id)

    def encode(self) -> str:
        due = "" if self.due_at is None else str((self.due_at - EPOCH) // MICROSECOND)
        return f"{self.rank}.{due}.{self.ticket_id}"

    @classmethod
    def decode(cls, text: str) -> "QueueCursor | None":
        """The cursor a "next page" link carries; None when the text is not one."""
        match = CURSOR_PATTERN.match(text or "")
        if not match:
            return None
        rank, due, ticket_id = int(match.group(1)), match.group(2), int(match.group(3))
        # Only counting tickets have a due instant in the queue's order, and they all do.
        if (rank == QueueRank.COUNTING) != (due is not None) or not 0 < ticket_id <= MAX_ROW_ID:
            return None
        try:
            due_at = None if due is None else EPOCH + int(due) * MICROSECOND
        except OverflowError:
            return None
        return cls(rank, due_at, ticket_id)


def queue_number(text: str) -> tuple[int, bool] | None:
    """The ticket id a search means by "T-000123", "t-123", "#123" or "123", and whether it can
    only be a number (with its prefix) or might be words of a title too (bare digits)."""
    match = QUEUE_NUMBER.match(text.strip())
    if not match or not 0 < int(match.group(2)) <= MAX_ROW_ID:
        return None
    return int(match.group(2)), match.group(1) is not None


def last_warning_level() -> sa.ScalarSelect:
    """The percent of the ticket's priority's last warning before the breach (NULL when it has
    none): a clock whose recorded escalation level reached it is "at risk". Correlated
    explicitly, so it reads the ticket of whichever enclosing query holds it."""
    return (sa.select(sa.func.max(EscalationThreshold.at_percent))
            .where(EscalationThreshold.priority_id == Ticket.priority_id,
                   EscalationThreshold.at_percent < BREACH_LEVEL)
            .correlate_except(EscalationThreshold)
            .scalar_subquery())


def _at_risk(now: datetime) -> sa.ColumnElement[bool]:
    """A clock still counting, not yet due, whose last warning before the breach the sweep
    has recorded. Both sides are scalar subqueries, which PostgreSQL evaluates per ticket as it
    walks the queue's index in order: the page stops at its limit instead of joining every
    clock first (an EXISTS became a hash join over all of them: 1.3 s at a million tickets)."""
    recorded_level = (sa.select(sa.func.max(SlaClock.escalation_level))
                      .where(SlaClock.ticket_id == Ticket.id, SlaClock.stopped_at.is_(None),
                             SlaClock.status == SlaStatus.RUNNING, SlaClock.due_at > now)
                      .correlate_except(SlaClock)
                      .scalar_subquery())
    return recorded_level >= last_warning_level()


def _queue_conditions(filters: QueueFilter, now: datetime | None) -> list[sa.ColumnElement]:
    conditions = []
    if filters.assignee_id is not None:
        conditions.append(Ticket.assignee_id == filters.assignee_id)
    if filters.unassigned:
        conditions.append(Ticket.assignee_id.is_(None))
    if filters.organisation_id is not None:
        conditions.append(Ticket.organisation_id == filters.organisation_id)
    if filters.priority_code:
        conditions.append(Ticket.priority_id.in_(
            sa.select(Priority.id).where(Priority.code == filters.priority_code)))
    if filters.state is not None:
        if now is None:
            raise ValueError("filtering the queue by state needs `now`")
        counting = Ticket.sla_rank == QueueRank.COUNTING
        conditions.append({
            QueueState.PAUSED: Ticket.sla_rank == QueueRank.PAUSED,
            QueueState.BREACHED: sa.and_(counting, Ticket.sla_due_at <= now),
            QueueState.RUNNING: sa.and_(counting, Ticket.sla_due_at > now),
            QueueState.AT_RISK: sa.and_(counting, Ticket.sla_due_at > now, _at_risk(now)),
        }[filters.state])
    text = (filters.text or "").strip()
    if text:
        pattern = "%" + re.sub(r"([\\%_])", r"\\\1", text) + "%"
        number = queue_number(text)
        if number is not None and number[1]:
            conditions.append(Ticket.id == number[0])  # one index lookup, no scan of titles
        else:
            matches = [Ticket.title.ilike(pattern, escape="\\")]
            if number is not None:
                matches.append(Ticket.id == number[0])
            conditions.append(sa.or_(*matches))
    return conditions


QUEUE_ORDER = (Ticket.sla_rank, Ticket.sla_due_at, Ticket.id)
_QUEUE_COLUMNS = (Ticket.id, Ticket.title, Ticket.status, Ticket.sla_rank, Ticket.sla_due_at,
                  Ticket.priority_id, Organisation.name.label("organisation_name"),
                  User.name.label("assignee_name"))
_QUEUE_CLOCK_COLUMNS = (SlaClock.ticket_id, SlaClock.metric, SlaClock.status,
                        SlaClock.target_seconds, SlaClock.due_at, SlaClock.stopped_at)


@dataclass(frozen=True)
class QueuePriority:
    """What a queue row shows of its priority and its countdown reads: the calendar and the
    warning thresholds (rows with `at_percent`)."""

    id: int
    code: str
    label: str
    calendar: Calendar
    escalations: list = field(default_factory=list)


@dataclass(frozen=True)
class QueueTicket:
    """A queue row: what the page shows of a ticket and what its countdown reads (the stored
    clocks, the priority's calendar and thresholds). Read as plain rows, not mapped tickets
    and priorities: loading fifty of those cost the page more than its queries."""

    id: int
    title: str
    status: Status
    sla_rank: int
    sla_due_at: datetime | None
    organisation_name: str
    assignee_name: str | None
    priority: QueuePriority
    clocks: list = field(default_factory=list)

    @property
    def number(self) -> str:
        return format_number(self.id)


def _queue_priorities(ids: set[int]) -> dict[int, QueuePriority]:
    rows = db.session.execute(
        sa.select(Priority.id, Priority.code, Priority.label, Priority.calendar_id,
                  EscalationThreshold.at_percent)
        .outerjoin(EscalationThreshold, EscalationThreshold.priority_id == Priority.id)
        .where(Priority.id.in_(ids))).all()
    calendars = {calendar.id: calendar for calendar in db.session.scalars(
        sa.select(Calendar).where(Calendar.id.in_({row.calendar_id for row in rows})))}
    priorities: dict[int, QueuePriority] = {}
    for row in rows:
        priority = priorities.get(row.id)
        if priority is None:
            priority = priorities[row.id] = QueuePriority(
                row.id, row.code, row.label, calendars[row.calendar_id])
        if row.at_percent is not None:
            priority.escalations.append(row)
    return priorities


def _queue_tickets(rows: list[sa.Row]) -> list[QueueTicket]:
    """The page's rows with their clocks and priorities, in three more queries."""
    if not rows:
        return []
    priorities = _queue_priorities({row.priority_id for row in rows})
    tickets = {row.id: QueueTicket(
        id=row.id, title=row.title, status=row.status, sla_rank=row.sla_rank,
        sla_due_at=row.sla_due_at, organisation_name=row.organisation_name,
        assignee_name=row.assignee_name, priority=priorities[row.priority_id])
        for row in rows}
    for clock in db.session.execute(sa.select(*_QUEUE_CLOCK_COLUMNS)
                                    .where(SlaClock.ticket_id.in_(tickets))):
        tickets[clock.ticket_id].clocks.append(clock)
    return list(tickets.values())


def open_queue(viewer: User, *, now: datetime | None = None, filters: QueueFilter | None = None,
               after: QueueCursor | None = None, limit: int = 200) -> list[QueueTicket]:
    """Open tickets by urgency: overdue first, then least time left, paused clocks after.

    Keyset-paginated over (rank, due, id), which the index `ix_tickets_queue` holds in that
    order: a deep page costs what the first does. Counting tickets all have a due instant and
    the others none, so after a counting ticket one row comparison continues the order; after a
    paused one, the rest of its rank, then the ranks after it, are two index ranges.
    """
    query = (visible_tickets(viewer).with_only_columns(*_QUEUE_COLUMNS)
             .join(Organisation, Organisation.id == Ticket.organisation_id)
             .outerjoin(User, User.id == Ticket.assignee_id)
             .where(*_queue_conditions(filters or QueueFilter(), now)))
    rank = Ticket.sla_rank
    if after is None:
        ranges = [query.where(rank < QueueRank.NOT_OPEN)]
    elif after.rank == QueueRank.COUNTING:
        ranges = [query.where(sa.tuple_(*QUEUE_ORDER) > sa.tuple_(
            sa.literal(after.rank, sa.SmallInteger), sa.literal(after.due_at, UTCDateTime()),
            sa.literal(after.ticket_id, sa.Integer)), rank < QueueRank.NOT_OPEN)]
    else:
        ranges = [query.where(rank == after.rank, Ticket.sla_due_at.is_(None),
                              Ticket.id > after.ticket_id),
                  query.where(rank > after.rank, rank < QueueRank.NOT_OPEN)]
    rows: list[sa.Row] = []
    for part in ranges:
        rows += db.session.execute(part.order_by(*QUEUE_ORDER).limit(limit - len(rows))).all()
        if len(rows) >= limit:
            break
    return _queue_tickets(rows)


def queue_organisations() -> list[sa.Row]:
    """The organisations a technician can narrow the queue to, by name: (id, code, name) rows,
    since the filter shows every one of them on every page of the queue."""
    return list(db.session.execute(sa.select(Organisation.id, Organisation.code, Organisation.name)
                                   .order_by(Organisation.name)))


def priority_codes() -> list[str]:
    """Every priority code of any contract, for narrowing the queue: P1 means P1 everywhere."""
    return list(db.session.scalars(sa.select(Priority.code).distinct().order_by(Priority.code)))


def assignable_users() -> list[User]:
    return list(db.session.scalars(
        sa.select(User)
        .where(User.role.in_(sorted(ASSIGNABLE)), User.is_active_account)
        .order_by(User.name)
    ))


def get_assignable(email: str | None) -> User | None:
    if not email:
        return None
    return db.session.scalar(
        sa.select(User).where(User.email == email, User.role.in_(sorted(ASSIGNABLE)))
    )


def ticket_outages(ticket: Ticket) -> list[Outage]:
    """The outages of a ticket the viewer reached (through `get_ticket`), oldest first."""
    return list(db.session.scalars(
        sa.select(Outage).where(Outage.ticket_id == ticket.id)
        .order_by(Outage.started_at, Outage.id)
        .options(selectinload(Outage.recorded_by))))


def get_outage(ticket: Ticket, outage_id: int) -> Outage | None:
    """That outage if it belongs to `ticket`; None otherwise (shown as 404)."""
    if not 0 < outage_id <= MAX_ROW_ID:
        return None
    outage = db.session.get(Outage, outage_id)
    if outage is None or outage.ticket_id != ticket.id:
        return None
    return outage


@dataclass(frozen=True)
class OpenTerms:
    """How many open tickets of a contract were opened under one version and priority."""

    version: int
    priority_code: str
    count: int


def open_tickets_by_terms(contract: Contract) -> list[OpenTerms]:
    """The open tickets of one contract, counted by the version and priority they keep; for the
    people who administer contracts (every organisation's)."""
    rows = db.session.execute(
        sa.select(ContractVersion.version, Priority.code, sa.func.count(Ticket.id))
        .join(ContractVersion, Ticket.contract_version_id == ContractVersion.id)
        .join(Priority, Ticket.priority_id == Priority.id)
        .where(Ticket.contract_id == contract.id, Ticket.status.in_(OPEN_STATUSES))
        .group_by(ContractVersion.version, Priority.code, Priority.position)
        .order_by(ContractVersion.version, Priority.position)).all()
    return [OpenTerms(version, code, count) for version, code, count in rows]
