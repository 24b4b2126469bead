"""The sweep: record crossed thresholds and breaches once, at their true instants, with their mail.

A sweep takes the tickets whose clocks have a `next_check_at` in the past, a batch at a time,
locking each ticket (on PostgreSQL with SKIP LOCKED, so several schedulers share the work). For
every clock it records each threshold crossed — unique per (ticket, metric, level) — and at 100 %
a breach, unique per (ticket, metric), and queues the notifications in the same transaction. A
clock that crossed several thresholds since the last sweep notifies once, for the highest.
"""
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, selectinload
from sqlalchemy.orm.interfaces import LoaderOption

from helpdesk.accounts.access import ASSIGNABLE, manages_billing
from helpdesk.accounts.models import User
from helpdesk.accounts.roles import Role
from helpdesk.audit.services import record_audit
from helpdesk.bulk import among, insert_rows, update_rows
from helpdesk.contracts.models import ContractVersion, Metric, NotifyTarget, Priority
from helpdesk.errors import Conflict, DomainError
from helpdesk.escalation.models import (
    Breach,
    EscalationEvent,
    Notification,
    NotificationState,
    SchedulerHeartbeat,
)
from helpdesk.extensions import db
from helpdesk.month import Month
from helpdesk.tickets.clocks import (
    BREACH_LEVEL,
    TicketClock,
    breach_reached,
    stored_values,
    threshold_levels,
    ticket_clocks,
)
from helpdesk.tickets.events import LateClockStopped
from helpdesk.tickets.models import (
    SlaClock,
    SlaStatus,
    Status,
    Ticket,
    TicketEvent,
    format_number,
)

logger = logging.getLogger(__name__)

REASON_MAX = 1_000
# Tickets per transaction: large enough that the terms they share are read about once per
# sweep, small enough that a crash loses little, technicians' writes to a locked ticket wait
# well under a second, and several schedulers still share the work.
BATCH_SIZE = 1_000


@dataclass
class SweepSummary:
    tickets: int = 0
    thresholds: int = 0
    breaches: int = 0
    notifications: int = 0
    crossed: list[str] = field(default_factory=list)
    ticket_ids: list[int] = field(default_factory=list)

    def add(self, other: "SweepSummary") -> None:
        self.ticket_ids.extend(other.ticket_ids)
        self.tickets += other.tickets
        self.thresholds += other.thresholds
        self.breaches += other.breaches
        self.notifications += other.notifications
        self.crossed.extend(other.crossed)

    def as_dict(self) -> dict:
        return {"tickets": self.tickets, "thresholds": self.thresholds,
                "breaches": self.breaches, "notifications": self.notifications}


@dataclass
class _DueTicket:
    """What the sweep reads of a locked due ticket. The many rows (the ticket, its events and
    clock rows) are plain rows, cheap to load; the few terms they share are mapped objects.
    It reads like a Ticket to `ticket_clocks` and the mail's wording."""

    id: int
    title: str
    status: Status
    organisation_id: int
    contract_id: int
    contract_version_id: int
    priority_id: int
    assignee_id: int | None
    events: list = field(default_factory=list)
    clocks: list = field(default_factory=list)
    priority: Priority | None = None
    contract_timezone: str = "UTC"
    assignee: User | None = None

    @property
    def number(self) -> str:
        return format_number(self.id)


_TICKET_COLUMNS = (Ticket.id, Ticket.title, Ticket.status, Ticket.organisation_id,
                   Ticket.contract_id, Ticket.contract_version_id, Ticket.priority_id,
                   Ticket.assignee_id)
_CLOCK_COLUMNS = (SlaClock.ticket_id, SlaClock.id, SlaClock.metric, SlaClock.status,
                  SlaClock.target_seconds, SlaClock.due_at, SlaClock.breached_at,
                  SlaClock.stopped_at, SlaClock.elapsed_seconds, SlaClock.delay_seconds,
                  SlaClock.escalation_level, SlaClock.next_check_at)


# A mapped class: Flask-SQLAlchemy builds db.Model beside helpdesk.db.Base, not from it.
_Model = TypeVar("_Model", bound=DeclarativeBase)


def _by_id(model: type[_Model], ids: set[int], *options: LoaderOption) -> dict[int, _Model]:
    if not ids:
        return {}
    return {row.id: row for row in db.session.scalars(
        sa.select(model).where(among(model.id, ids)).options(*options))}


def _lock_due_tickets(now: datetime, limit: int) -> list[_DueTicket]:
    """The due tickets, locked (on PostgreSQL, skipping those another sweep holds), with what
    their replay and their mail read, in a fixed number of queries."""
    query = (sa.select(*_TICKET_COLUMNS)
             .join(SlaClock, SlaClock.ticket_id == Ticket.id)
             .where(SlaClock.next_check_at <= now)
             .order_by(SlaClock.next_check_at, Ticket.id)
             .limit(limit))
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Ticket, skip_locked=True)
    tickets: dict[int, _DueTicket] = {}
    for row in db.session.execute(query):
        if row.id not in tickets:
            tickets[row.id] = _DueTicket(*row)
    if not tickets:
        return []
    ids = list(tickets)
    # Read after the lock, so no writer of these tickets has anything left to commit.
    for event in db.session.execute(
            sa.select(TicketEvent.ticket_id, TicketEvent.at, TicketEvent.kind, TicketEvent.data)
            .where(among(TicketEvent.ticket_id, ids)).order_by(TicketEvent.id)):
        tickets[event.ticket_id].events.append(event)
    for clock in db.session.execute(sa.select(*_CLOCK_COLUMNS)
                                    .where(among(SlaClock.ticket_id, ids))
                                    .order_by(SlaClock.metric)):
        tickets[clock.ticket_id].clocks.append(clock)
    due = tickets.values()
    priorities = _by_id(Priority, {t.priority_id for t in due},
                        selectinload(Priority.escalations), selectinload(Priority.calendar))
    timezones = dict(db.session.execute(
        sa.select(ContractVersion.id, ContractVersion.timezone)
        .where(among(ContractVersion.id, {t.contract_version_id for t in due}))).all())
    assignees = _by_id(User, {t.assignee_id for t in due if t.assignee_id is not None})
    for ticket in due:
        ticket.priority = priorities[ticket.priority_id]
        ticket.contract_timezone = timezones[ticket.contract_version_id]
        ticket.assignee = assignees.get(ticket.assignee_id)
    return list(due)


class _Recipients:
    """Who hears of a threshold, looked up once per batch rather than once per ticket."""

    def __init__(self) -> None:
        self._cache: dict[object, list[User]] = {}

    def _users(self, key: object, *conditions: sa.ColumnElement[bool]) -> list[User]:
        if key not in self._cache:
            self._cache[key] = list(db.session.scalars(
                sa.select(User).where(User.is_active_account, *conditions).order_by(User.id)))
        return self._cache[key]

    def __call__(self, ticket: _DueTicket, audience: NotifyTarget) -> list[User]:
        if audience == NotifyTarget.ASSIGNEE:
            if ticket.assignee is not None and ticket.assignee.is_active:
                return [ticket.assignee]
            return self._users("technicians", User.role.in_(sorted(ASSIGNABLE)))
        if audience == NotifyTarget.TEAM_LEADS:
            return self._users("team leads", User.role == Role.TEAM_LEAD)
        return self._users(("client", ticket.organisation_id), User.role == Role.CLIENT,
                           User.organisation_id == ticket.organisation_id)


def _audiences(ticket: _DueTicket, level: int) -> list[NotifyTarget]:
    if level == BREACH_LEVEL:
        return [NotifyTarget.TEAM_LEADS, NotifyTarget.CLIENT]
    return sorted({t.notify for t in ticket.priority.escalations if t.at_percent == level})


@dataclass
class _Writes:
    """What a batch will write, gathered first and then sent as a few set-based statements."""

    events: list[dict] = field(default_factory=list)
    breaches: list[dict] = field(default_factory=list)
    notices: list[tuple[tuple, dict]] = field(default_factory=list)  # (event key, row)
    clocks: list[dict] = field(default_factory=list)

    def flush(self) -> None:
        event_ids = insert_rows(EscalationEvent, self.events, with_ids=True)
        ids = {(row["ticket_id"], row["metric"], row["level"]): event_id
               for row, event_id in zip(self.events, event_ids, strict=True)}
        insert_rows(Breach, self.breaches)
        insert_rows(Notification, [{**row, "event_id": ids[key]} for key, row in self.notices])
        update_rows(SlaClock, self.clocks)


def _notify(ticket: _DueTicket, clock: TicketClock, level: int, *, recipients: _Recipients,
            now: datetime, writes: _Writes) -> int:
    """Who is to be told; the words are chosen when the mail is sent (escalation/messages.py)."""
    queued = 0
    seen: set[int] = set()
    for audience in _audiences(ticket, level):
        for user in recipients(ticket, audience):
            if user.id in seen:
                continue
            seen.add(user.id)
            writes.notices.append(((ticket.id, clock.metric, level), {
                "recipient_id": user.id, "audience": audience, "created_at": now,
                "state": NotificationState.PENDING, "attempts": 0, "next_attempt_at": now}))
            queued += 1
    return queued


def _billing_month(ticket: _DueTicket, instant: datetime) -> str:
    """The month a breach is billed in: its due instant's, in the contract's zone."""
    return str(Month.of(instant, ticket.contract_timezone))


def _record(ticket: _DueTicket, clock: TicketClock, recorded_level: int, *, already: set[int],
            now: datetime, recipients: _Recipients, summary: SweepSummary,
            writes: _Writes) -> int:
    """Record the thresholds of one clock crossed by `now`, notify for the highest, and
    return the clock's new escalation level."""
    crossed: list[tuple[int, datetime]] = []
    for level in threshold_levels(ticket.priority):
        if level <= recorded_level or level in already:
            continue
        if level == BREACH_LEVEL and not breach_reached(clock):
            break
        instant = clock.state.instant_for(clock.target * level / 100)
        if instant is None or instant > now:
            break
        writes.events.append({"ticket_id": ticket.id, "metric": clock.metric, "level": level,
                              "at": instant, "recorded_at": now})
        crossed.append((level, instant))
        summary.thresholds += 1
        summary.crossed.append(f"{ticket.number} {clock.metric.value.upper()} {level} % "
                               f"at {instant.isoformat()}")
        if level == BREACH_LEVEL:
            writes.breaches.append(_breach(ticket, clock, instant, now=now))
            summary.breaches += 1
    if not crossed:
        return recorded_level
    level = crossed[-1][0]
    # A warning about a clock already stopped helps nobody; a breach is always told.
    if clock.state.stopped_at is None or level == BREACH_LEVEL:
        summary.notifications += _notify(ticket, clock, level, recipients=recipients, now=now,
                                         writes=writes)
    return max(recorded_level, level)


def _breach(ticket: _DueTicket, clock: TicketClock, instant: datetime, *, now: datetime) -> dict:
    stopped = clock.state.stopped_at
    return {
        "ticket_id": ticket.id, "contract_id": ticket.contract_id,
        "contract_version_id": ticket.contract_version_id, "priority_id": ticket.priority_id,
        "metric": clock.metric, "priority_code": ticket.priority.code,
        "target_seconds": int(clock.target.total_seconds()), "breached_at": instant,
        "billing_month": _billing_month(ticket, instant), "recorded_at": now,
        "stopped_at": stopped,
        "delay_seconds": int(clock.delay.total_seconds()) if stopped is not None else None,
        "waived_at": None, "waived_by_id": None, "waiver_reason": None,
    }


def _changed(row: sa.Row[Any], values: dict, *, ignore: str = "") -> bool:
    """Rows whose stored values a sweep leaves as they were are not written at all."""
    return any(getattr(row, column) != value for column, value in values.items()
               if column != ignore)


def sweep_batch(*, now: datetime, limit: int = BATCH_SIZE) -> SweepSummary:
    """Process up to `limit` due tickets; the caller commits after each batch."""
    summary = SweepSummary()
    tickets = _lock_due_tickets(now, limit)
    if not tickets:
        return summary
    already: dict[tuple[int, Metric], set[int]] = {}
    for ticket_id, metric, level in db.session.execute(
            sa.select(EscalationEvent.ticket_id, EscalationEvent.metric, EscalationEvent.level)
            .where(among(EscalationEvent.ticket_id, [t.id for t in tickets]))):
        already.setdefault((ticket_id, metric), set()).add(level)
    recipients = _Recipients()
    writes = _Writes()
    for ticket in tickets:
        summary.tickets += 1
        summary.ticket_ids.append(ticket.id)
        # Only the clocks whose next threshold is due change: the others, the ticket's place in
        # the queue and its breaches' stops change with its events, which refresh them.
        due = {row.metric: row for row in ticket.clocks
               if row.next_check_at is not None and row.next_check_at <= now}
        clocks = ticket_clocks(ticket, now=now, metrics=due)
        levels = threshold_levels(ticket.priority)
        for clock in clocks.values():
            row = due[clock.metric]
            level = row.escalation_level
            if clock.status != SlaStatus.CANCELLED:
                level = _record(ticket, clock, level,
                                already=already.get((ticket.id, clock.metric), set()),
                                now=now, recipients=recipients,
                                summary=summary, writes=writes)
            values = stored_values(clock, levels=levels, escalation_level=level, now=now)
            if _changed(row, values, ignore="computed_at"):
                writes.clocks.append({"id": row.id, **values})
    writes.flush()
    # The rows were written past the session; what it holds of them is stale now.
    db.session.expire_all()
    return summary


def record_heartbeat(*, name: str, swept_at: datetime, as_of: datetime,
                     summary: SweepSummary) -> None:
    row = db.session.get(SchedulerHeartbeat, name)
    if row is None:
        row = SchedulerHeartbeat(name=name)
        db.session.add(row)
    row.last_sweep_at = swept_at
    row.last_sweep_as_of = as_of
    row.last_summary = summary.as_dict()


def close_breach(stop: LateClockStopped) -> None:
    """A breach learns its stop once, when the late clock finally stops."""
    db.session.execute(
        sa.update(Breach)
        .where(Breach.ticket_id == stop.ticket_id, Breach.metric == stop.metric,
               Breach.stopped_at.is_(None))
        .values(stopped_at=stop.stopped_at, delay_seconds=stop.delay_seconds))


def waive_breach(breach: Breach, *, actor: User, reason: str, now: datetime) -> Breach:
    if not manages_billing(actor):
        raise DomainError("Only finance and admins may waive a breach.")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Say why the breach is waived.", field="reason")
    if len(reason) > REASON_MAX:
        raise DomainError("The reason must be at most %(max)d characters.", field="reason",
                          max=REASON_MAX)
    # Conditional on "not yet waived", so two waivers sent at once cannot both win.
    done = db.session.execute(
        sa.update(Breach).where(Breach.id == breach.id, Breach.waived_at.is_(None))
        .values(waived_at=now, waived_by_id=actor.id, waiver_reason=reason)
        .execution_options(synchronize_session=False))
    db.session.refresh(breach)
    if done.rowcount != 1:
        raise Conflict("This breach was already waived on %(date)s.",
                       date=breach.waived_at.date().isoformat())
    record_audit(actor=actor, now=now, entity="breach", entity_id=breach.id, action="waive",
                 changes={"waived": [False, True]}, reason=reason)
    return breach


def mark_notifications_read(user: User, *, now: datetime, notification_id: int | None = None) -> int:
    """Mark the user's unread notifications read (all, or the one given); how many changed.

    Only unread ones change, so repeating it is harmless and keeps the first reading time.
    """
    query = sa.update(Notification).where(Notification.recipient_id == user.id,
                                          Notification.read_at.is_(None))
    if notification_id is not None:
        query = query.where(Notification.id == notification_id)
    return db.session.execute(query.values(read_at=now)).rowcount
