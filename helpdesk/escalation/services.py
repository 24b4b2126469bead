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
    refresh_clocks,
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


def _lock_due_tickets(now: datetime, limit: int) -> list[Ticket]:
    query = (
        sa.select(Ticket)
        .join(SlaClock, SlaClock.ticket_id == Ticket.id)
        .where(SlaClock.next_check_at <= now)
        .order_by(SlaClock.next_check_at, Ticket.id)
        .limit(limit)
        # Everything a clock's replay reads, in a few queries for the whole batch.
        .options(selectinload(Ticket.events), selectinload(Ticket.clocks),
                 selectinload(Ticket.assignee), selectinload(Ticket.organisation),
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
    return list(unique.values())


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


def _notify(ticket: Ticket, clock: TicketClock, event: EscalationEvent, *,
            recipients: _Recipients, now: datetime, base_url: str) -> int:
    queued = 0
    seen: set[int] = set()
    for audience in _audiences(ticket, event.level):
        for user in recipients(ticket, audience):
            if user.id in seen:
                continue
            seen.add(user.id)
            subject, body = render_notification(ticket, clock, event, recipient=user, now=now,
                                                base_url=base_url)
            db.session.add(Notification(event=event, recipient_id=user.id, audience=audience,
                                        subject=subject, body=body, created_at=now,
                                        state=NotificationState.PENDING, next_attempt_at=now))
            queued += 1
    return queued


def _billing_month(ticket: Ticket, instant: datetime) -> str:
    return instant.astimezone(ZoneInfo(ticket.contract_version.timezone)).strftime("%Y-%m")


def _record(ticket: Ticket, clock: TicketClock, *, already: set[int], now: datetime,
            recipients: _Recipients, base_url: str, summary: SweepSummary) -> None:
    """Record the thresholds of one clock crossed by `now`, then notify for the highest."""
    row = next((r for r in ticket.clocks if r.metric == clock.metric), None)
    if row is None:  # stored clocks not built yet; refresh_clocks creates them for next time
        return
    crossed: list[EscalationEvent] = []
    for level in threshold_levels(ticket.priority):
        if level <= row.escalation_level or level in already:
            continue
        if level == BREACH_LEVEL and not breach_reached(clock):
            break
        instant = clock.state.instant_for(clock.target * level / 100)
        if instant is None or instant > now:
            break
        event = EscalationEvent(ticket_id=ticket.id, metric=clock.metric, level=level,
                                at=instant, recorded_at=now)
        db.session.add(event)
        crossed.append(event)
        summary.thresholds += 1
        summary.crossed.append(f"{ticket.number} {clock.metric.value.upper()} {level} % "
                               f"at {instant.isoformat()}")
        if level == BREACH_LEVEL:
            db.session.add(_breach(ticket, clock, instant, now=now))
            summary.breaches += 1
    if not crossed:
        return
    row.escalation_level = max(row.escalation_level, crossed[-1].level)
    highest = crossed[-1]
    # A warning about a clock already stopped helps nobody; a breach is always told.
    if clock.state.stopped_at is None or highest.level == BREACH_LEVEL:
        summary.notifications += _notify(ticket, clock, highest, recipients=recipients,
                                         now=now, base_url=base_url)


def _breach(ticket: Ticket, clock: TicketClock, instant: datetime, *, now: datetime) -> Breach:
    stopped = clock.state.stopped_at
    return Breach(
        ticket_id=ticket.id, contract_id=ticket.contract_id,
        contract_version_id=ticket.contract_version_id, priority_id=ticket.priority_id,
        metric=clock.metric, priority_code=ticket.priority.code,
        target_seconds=int(clock.target.total_seconds()), breached_at=instant,
        billing_month=_billing_month(ticket, instant), recorded_at=now, stopped_at=stopped,
        delay_seconds=int(clock.delay.total_seconds()) if stopped is not None else None)


def sweep_batch(*, now: datetime, limit: int = 200, base_url: str = "") -> SweepSummary:
    """Process up to `limit` due tickets; the caller commits after each batch."""
    summary = SweepSummary()
    tickets = _lock_due_tickets(now, limit)
    if not tickets:
        return summary
    already: dict[tuple[int, Metric], set[int]] = {}
    for ticket_id, metric, level in db.session.execute(
            sa.select(EscalationEvent.ticket_id, EscalationEvent.metric, EscalationEvent.level)
            .where(EscalationEvent.ticket_id.in_([t.id for t in tickets]))):
        already.setdefault((ticket_id, metric), set()).add(level)
    recipients = _Recipients()
    for ticket in tickets:
        summary.tickets += 1
        summary.ticket_ids.append(ticket.id)
        clocks = ticket_clocks(ticket, now=now)
        for clock in clocks.values():
            if clock.status != SlaStatus.CANCELLED:
                _record(ticket, clock, already=already.get((ticket.id, clock.metric), set()),
                        now=now, recipients=recipients, base_url=base_url, summary=summary)
        refresh_clocks(ticket, now=now, clocks=clocks, lock=False)
    db.session.flush()
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
