"""A ticket's SLA clocks: replayed from its events with the pure engine, and stored as a cache.

The stored rows (`SlaClock`) and the ticket's queue position are refreshed by every use case that
adds an event, and can be rebuilt at any time (`flask sla recompute`): the events are the truth.
"""
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from helpdesk.contracts.models import Metric, Priority
from helpdesk.extensions import db
from helpdesk.sla.clock import ClockEvent, ClockState, Segment, replay
from helpdesk.tickets.events import LateClockStopped, announce
from helpdesk.tickets.models import (
    OPEN_STATUSES,
    EventKind,
    QueueRank,
    SlaClock,
    SlaStatus,
    Status,
    Ticket,
    TicketEvent,
)

BREACH_LEVEL = 100

logger = logging.getLogger(__name__)


def _gti_kind(event: TicketEvent) -> str | None:
    if event.kind == EventKind.CREATED:
        return "start"
    if event.kind in (EventKind.TAKEN, EventKind.CANCELLED) or (
            event.kind == EventKind.REPLIED and event.data.get("by_staff")):
        return "stop"
    return None


GTR_KINDS = {
    EventKind.CREATED: "start",
    EventKind.WAITING: "pause",
    EventKind.RESUMED: "resume",
    EventKind.RESOLVED: "stop",
    EventKind.REOPENED: "reopen",
    # A cancelled ticket's clocks stop counting; their status says "cancelled".
    EventKind.CANCELLED: "stop",
}


def _gtr_kind(event: TicketEvent) -> str | None:
    return GTR_KINDS.get(event.kind)


def clock_events(events: list[TicketEvent], metric: Metric) -> list[ClockEvent]:
    """The engine's events for one metric; only the first intervention stops the GTI.

    An event a host stamped before the opening (its clock a little behind the opener's) happened
    at the opening as far as the clock is concerned."""
    kind_of = _gti_kind if metric == Metric.GTI else _gtr_kind
    opened = _opened_at(events)
    result: list[ClockEvent] = []
    for event in events:
        kind = kind_of(event)
        if kind is None:
            continue
        if metric == Metric.GTI and kind == "stop" and any(e.kind == "stop" for e in result):
            continue
        result.append(ClockEvent(max(event.at, opened) if opened else event.at, kind))
    return result


def _opened_at(events: list[TicketEvent]) -> datetime | None:
    return next((event.at for event in events if event.kind == EventKind.CREATED), None)


def _read_at(ticket: Ticket, now: datetime) -> datetime:
    """`now`, or the opening when a host whose clock is behind the opener's reads the ticket:
    its clocks have not started yet."""
    opened = _opened_at(ticket.events)
    if opened is not None and now < opened:
        logger.warning("Ticket %s read as of %s, before its opening at %s (clock skew between "
                       "hosts?): its clocks are read as not started yet.",
                       ticket.number, now.isoformat(), opened.isoformat())
        return opened
    return now


@dataclass(frozen=True)
class TicketClock:
    metric: Metric
    status: SlaStatus
    state: ClockState

    @property
    def target(self) -> timedelta:
        return self.state.target

    @property
    def due_at(self) -> datetime | None:
        return self.state.due_at

    @property
    def breached_at(self) -> datetime | None:
        return self.state.breached_at

    @property
    def elapsed(self) -> timedelta:
        return self.state.elapsed

    @property
    def delay(self) -> timedelta:
        return self.state.delay

    @property
    def segments(self) -> tuple[Segment, ...]:
        return self.state.segments

    @property
    def remaining(self) -> timedelta:
        return self.state.remaining


def ticket_clocks(ticket: Ticket, *, now: datetime,
                  metrics: Iterable[Metric] = tuple(Metric)) -> dict[str, TicketClock]:
    """One clock per metric of the ticket's current priority (or of those of `metrics` it has),
    re-targeted from the opening."""
    priority = ticket.priority
    calendar = priority.calendar.engine()
    now = _read_at(ticket, now)
    clocks = {}
    for metric in Metric:
        target = priority.target(metric)
        if target is None or metric not in metrics:
            continue
        state = replay(target=target, calendar=calendar,
                       events=clock_events(ticket.events, metric), now=now)
        status = SlaStatus.CANCELLED if ticket.status == Status.CANCELLED else SlaStatus(state.status)
        clocks[metric.value] = TicketClock(metric=metric, status=status, state=state)
    return clocks


def threshold_levels(priority: Priority) -> list[int]:
    """The escalation levels of a priority, in percent of the target; 100 is the breach."""
    return sorted({t.at_percent for t in priority.escalations} | {BREACH_LEVEL})


def next_check(clock: TicketClock, levels: list[int], recorded_level: int) -> datetime | None:
    """When the next threshold not yet recorded is (or was) crossed; None if it never will be.

    Thresholds are instants of counted service time, so a warning never lands outside service
    hours or during a pause.
    """
    if clock.status == SlaStatus.CANCELLED:
        return None
    for level in levels:
        if level <= recorded_level:
            continue
        if level == BREACH_LEVEL and not breach_reached(clock):
            return None
        return clock.state.instant_for(clock.target * level / 100)
    return None


def breach_reached(clock: TicketClock) -> bool:
    """Breached, or still counting towards it. A clock stopped or paused exactly at its due
    instant is in time: its counted time equals the target, yet it never breaches."""
    return clock.breached_at is not None or (clock.state.stopped_at is None
                                             and clock.status != SlaStatus.PAUSED)


def _queue_position(ticket: Ticket, clocks: dict[str, TicketClock]) -> tuple[QueueRank, datetime | None]:
    if ticket.status not in OPEN_STATUSES:
        return QueueRank.NOT_OPEN, None
    counting = [c.due_at for c in clocks.values()
                if c.status in (SlaStatus.RUNNING, SlaStatus.BREACHED) and c.state.stopped_at is None
                and c.due_at is not None]
    if counting:
        return QueueRank.COUNTING, min(counting)
    if any(c.status == SlaStatus.PAUSED for c in clocks.values()):
        return QueueRank.PAUSED, None
    return QueueRank.NO_CLOCK, None


def lock_ticket(ticket: Ticket) -> None:
    """Serialise writers of a ticket's clocks (web requests, schedulers) on the ticket row.

    Every writer locks the ticket first, then reads its clock rows afresh, so none works on a
    stale `escalation_level` and no two lock the same rows in different orders. SQLite
    serialises write transactions already (BEGIN IMMEDIATE).
    """
    if ticket.id is None or db.session.get_bind().dialect.name != "postgresql":
        return
    db.session.execute(sa.select(Ticket.id).where(Ticket.id == ticket.id).with_for_update())
    db.session.scalars(sa.select(SlaClock).where(SlaClock.ticket_id == ticket.id)
                       .execution_options(populate_existing=True)).all()


def stored_values(clock: TicketClock, *, levels: list[int], escalation_level: int,
                  now: datetime) -> dict:
    """The columns of a clock's stored row, as a replay gives them."""
    return {
        "status": clock.status,
        "target_seconds": int(clock.target.total_seconds()),
        "due_at": clock.due_at,
        "breached_at": clock.breached_at,
        "stopped_at": clock.state.stopped_at,
        "elapsed_seconds": int(clock.elapsed.total_seconds()),
        "delay_seconds": int(clock.delay.total_seconds()),
        "escalation_level": escalation_level,
        "next_check_at": next_check(clock, levels, escalation_level),
        "computed_at": now,
    }


def announce_late_stops(ticket: Ticket, clocks: dict[str, TicketClock]) -> None:
    for clock in clocks.values():
        if clock.status == SlaStatus.BREACHED and clock.state.stopped_at is not None:
            announce(LateClockStopped(ticket_id=ticket.id, metric=clock.metric,
                                      stopped_at=clock.state.stopped_at,
                                      delay_seconds=int(clock.delay.total_seconds())))


def queue_position(ticket: Ticket, clocks: dict[str, TicketClock]) -> dict:
    rank, due = _queue_position(ticket, clocks)
    return {"sla_rank": rank, "sla_due_at": due}


def refresh_clocks(ticket: Ticket, *, now: datetime,
                   clocks: dict[str, TicketClock] | None = None,
                   lock: bool = True) -> dict[str, TicketClock]:
    """Store the replayed state of the ticket's clocks and its place in the queue.

    `clocks` may be passed when the caller has just replayed them as of the same `now`;
    `lock=False` when the caller already holds the ticket's lock.
    """
    if lock:
        lock_ticket(ticket)
    if clocks is None:
        clocks = ticket_clocks(ticket, now=now)
    levels = threshold_levels(ticket.priority)
    stored = {row.metric.value: row for row in ticket.clocks}
    for metric, row in stored.items():
        if metric not in clocks:  # the new priority has no such metric
            ticket.clocks.remove(row)
    for metric, clock in clocks.items():
        row = stored.get(metric)
        if row is None:
            row = SlaClock(metric=clock.metric, escalation_level=0)
            ticket.clocks.append(row)
        for column, value in stored_values(clock, levels=levels,
                                           escalation_level=row.escalation_level or 0,
                                           now=now).items():
            setattr(row, column, value)
    announce_late_stops(ticket, clocks)
    for column, value in queue_position(ticket, clocks).items():
        setattr(ticket, column, value)
    return clocks


def recompute_batch(*, now: datetime, after_id: int = 0, limit: int = 500,
                    ticket_ids: list[int] | None = None) -> list[int]:
    """Rebuild the stored clocks of the next `limit` tickets after `after_id` from their events.

    Returns the ids done, empty when nothing is left; the caller commits between batches, so a
    rebuild of a million tickets holds neither one long transaction nor all of them in memory.
    """
    query = sa.select(Ticket).where(Ticket.id > after_id).order_by(Ticket.id).limit(limit)
    if ticket_ids is not None:
        query = query.where(Ticket.id.in_(ticket_ids))
    tickets = list(db.session.scalars(query))
    for ticket in tickets:
        refresh_clocks(ticket, now=now)
    db.session.flush()
    return [ticket.id for ticket in tickets]
