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
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from helpdesk.accounts.models import Role, User
from helpdesk.audit.services import record_audit
from helpdesk.contracts.models import ContractVersion, Metric, NotifyTarget, Priority
from helpdesk.errors import Conflict, DomainError
from helpdesk.escalation.messages import render_notification
from helpdesk.escalation.models import (
    Breach,
    EscalationEvent,
    Notification,
    NotificationState,
    SchedulerHeartbeat,
)
from helpdesk.extensions import db
from helpdesk.tickets.clocks import (
    BREACH_LEVEL,
    TicketClock,
    breach_reached,
    close_breaches,
    queue_position,
    stored_values,
    threshold_levels,
    ticket_clocks,
)
from helpdesk.tickets.models import SlaClock, SlaStatus, Ticket

logger = logging.getLogger(__name__)

REASON_MAX = 1_000


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


def _lock_due_tickets(now: datetime, limit: int) -> tuple[list[Ticket], list[User]]:
    """The due tickets, locked, with what their replay reads; and their assignees, which the
    caller keeps referenced so that `ticket.assignee` finds them in the session without SQL (a
    selectinload of that many-to-one costs several times more)."""
    query = (
        sa.select(Ticket)
        .join(SlaClock, SlaClock.ticket_id == Ticket.id)
        .where(SlaClock.next_check_at <= now)
        .order_by(SlaClock.next_check_at, Ticket.id)
        .limit(limit)
        # Everything a clock's replay reads, in a few queries for the whole batch.
        .options(selectinload(Ticket.events), selectinload(Ticket.clocks),
                 selectinload(Ticket.organisation),
                 selectinload(Ticket.contract_version).selectinload(
                     ContractVersion.availability_calendar),
                 selectinload(Ticket.priority).selectinload(Priority.escalations),
                 selectinload(Ticket.priority).selectinload(Priority.calendar))
    )
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Ticket, skip_locked=True)
    unique: dict[int, Ticket] = {}
    for ticket in db.session.scalars(query):
        unique.setdefault(ticket.id, ticket)
    tickets = list(unique.values())
    assignee_ids = {t.assignee_id for t in tickets if t.assignee_id is not None}
    assignees = list(db.session.scalars(sa.select(User).where(User.id.in_(assignee_ids))))
    return tickets, assignees


class _Recipients:
    """Who hears of a threshold, looked up once per batch rather than once per ticket."""

    def __init__(self):
        self._cache: dict[object, list[User]] = {}

    def _users(self, key: object, *conditions) -> list[User]:
        if key not in self._cache:
            self._cache[key] = list(db.session.scalars(
                sa.select(User).where(User.is_active_account, *conditions).order_by(User.id)))
        return self._cache[key]

    def __call__(self, ticket: Ticket, audience: NotifyTarget) -> list[User]:
        if audience == NotifyTarget.ASSIGNEE:
            if ticket.assignee is not None and ticket.assignee.is_active:
                return [ticket.assignee]
            return self._users("technicians", User.role.in_([Role.TECHNICIAN, Role.TEAM_LEAD]))
        if audience == NotifyTarget.TEAM_LEADS:
            return self._users("team leads", User.role == Role.TEAM_LEAD)
        return self._users(("client", ticket.organisation_id), User.role == Role.CLIENT,
                           User.organisation_id == ticket.organisation_id)


def _audiences(ticket: Ticket, level: int) -> list[NotifyTarget]:
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
    tickets: list[dict] = field(default_factory=list)

    def flush(self) -> None:
        if self.events:
            inserted = db.session.execute(
                sa.insert(EscalationEvent).returning(
                    EscalationEvent.id, EscalationEvent.ticket_id, EscalationEvent.metric,
                    EscalationEvent.level, sort_by_parameter_order=True),
                self.events)
            ids = {(ticket_id, metric, level): event_id
                   for event_id, ticket_id, metric, level in inserted}
            if self.breaches:
                db.session.execute(sa.insert(Breach), self.breaches)
            if self.notices:
                db.session.execute(sa.insert(Notification),
                                   [{**row, "event_id": ids[key]} for key, row in self.notices])
        # The session is expired after the batch anyway: no need to mirror the rows in it.
        unsynchronised = {"synchronize_session": False}
        if self.clocks:
            db.session.execute(sa.update(SlaClock), self.clocks,
                               execution_options=unsynchronised)
        if self.tickets:
            db.session.execute(sa.update(Ticket), self.tickets,
                               execution_options=unsynchronised)


def _notify(ticket: Ticket, clock: TicketClock, level: int, at: datetime, *,
            recipients: _Recipients, now: datetime, base_url: str, writes: _Writes) -> int:
    queued = 0
    seen: set[int] = set()
    for audience in _audiences(ticket, level):
        for user in recipients(ticket, audience):
            if user.id in seen:
                continue
            seen.add(user.id)
            subject, body = render_notification(ticket, clock, level=level, at=at,
                                                recipient=user, now=now, base_url=base_url)
            writes.notices.append(((ticket.id, clock.metric, level), {
                "recipient_id": user.id, "audience": audience, "subject": subject,
                "body": body, "created_at": now, "state": NotificationState.PENDING,
                "attempts": 0, "next_attempt_at": now}))
            queued += 1
    return queued


def _billing_month(ticket: Ticket, instant: datetime) -> str:
    return instant.astimezone(ZoneInfo(ticket.contract_version.timezone)).strftime("%Y-%m")


def _record(ticket: Ticket, clock: TicketClock, recorded_level: int, *, already: set[int],
            now: datetime, recipients: _Recipients, base_url: str, summary: SweepSummary,
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
    level, at = crossed[-1]
    # A warning about a clock already stopped helps nobody; a breach is always told.
    if clock.state.stopped_at is None or level == BREACH_LEVEL:
        summary.notifications += _notify(ticket, clock, level, at, recipients=recipients,
                                         now=now, base_url=base_url, writes=writes)
    return max(recorded_level, level)


def _breach(ticket: Ticket, clock: TicketClock, instant: datetime, *, now: datetime) -> dict:
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


def _changed(row, values: dict, *, ignore: str = "") -> bool:
    """Rows whose stored values a sweep leaves as they were are not written at all."""
    return any(getattr(row, column) != value for column, value in values.items()
               if column != ignore)


def sweep_batch(*, now: datetime, limit: int = 200, base_url: str = "") -> SweepSummary:
    """Process up to `limit` due tickets; the caller commits after each batch."""
    summary = SweepSummary()
    tickets, _assignees = _lock_due_tickets(now, limit)
    if not tickets:
        return summary
    already: dict[tuple[int, Metric], set[int]] = {}
    for ticket_id, metric, level in db.session.execute(
            sa.select(EscalationEvent.ticket_id, EscalationEvent.metric, EscalationEvent.level)
            .where(EscalationEvent.ticket_id.in_([t.id for t in tickets]))):
        already.setdefault((ticket_id, metric), set()).add(level)
    recipients = _Recipients()
    writes = _Writes()
    for ticket in tickets:
        summary.tickets += 1
        summary.ticket_ids.append(ticket.id)
        clocks = ticket_clocks(ticket, now=now)
        rows = {row.metric: row for row in ticket.clocks}
        levels = threshold_levels(ticket.priority)
        for clock in clocks.values():
            row = rows.get(clock.metric)
            if row is None:  # not stored yet: `flask sla recompute` builds it
                continue
            level = row.escalation_level
            if clock.status != SlaStatus.CANCELLED:
                level = _record(ticket, clock, level,
                                already=already.get((ticket.id, clock.metric), set()),
                                now=now, recipients=recipients, base_url=base_url,
                                summary=summary, writes=writes)
            values = stored_values(clock, levels=levels, escalation_level=level, now=now)
            if _changed(row, values, ignore="computed_at"):
                writes.clocks.append({"id": row.id, **values})
        close_breaches(ticket, clocks)
        position = queue_position(ticket, clocks)
        if _changed(ticket, position):
            writes.tickets.append({"id": ticket.id, **position})
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


def waive_breach(breach: Breach, *, actor: User, reason: str, now: datetime) -> Breach:
    if actor.role not in (Role.FINANCE, Role.ADMIN):
        raise DomainError("Only finance and admins may waive a breach.")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Say why the breach is waived.", field="reason")
    if len(reason) > REASON_MAX:
        raise DomainError(f"The reason must be at most {REASON_MAX} characters.", field="reason")
    # Conditional on "not yet waived", so two waivers sent at once cannot both win.
    done = db.session.execute(
        sa.update(Breach).where(Breach.id == breach.id, Breach.waived_at.is_(None))
        .values(waived_at=now, waived_by_id=actor.id, waiver_reason=reason)
        .execution_options(synchronize_session=False))
    db.session.refresh(breach)
    if done.rowcount != 1:
        raise Conflict(f"This breach was already waived on {breach.waived_at:%Y-%m-%d}.")
    record_audit(actor=actor, now=now, entity="breach", entity_id=breach.id, action="waive",
                 changes={"waived": [False, True]}, reason=reason)
    return breach
