"""A ticket's SLA clocks, replayed from its events with the pure engine."""
from dataclasses import dataclass
from datetime import datetime, timedelta

from helpdesk.contracts.models import Metric
from helpdesk.sla.clock import ClockEvent, replay
from helpdesk.tickets.models import EventKind, Status, Ticket, TicketEvent

CANCELLED = "cancelled"


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
    """The engine's events for one metric; only the first intervention stops the GTI."""
    kind_of = _gti_kind if metric == Metric.GTI else _gtr_kind
    result: list[ClockEvent] = []
    for event in events:
        kind = kind_of(event)
        if kind is None:
            continue
        if metric == Metric.GTI and kind == "stop" and any(e.kind == "stop" for e in result):
            continue
        result.append(ClockEvent(event.at, kind))
    return result


@dataclass(frozen=True)
class TicketClock:
    metric: Metric
    target: timedelta
    status: str
    due_at: datetime | None
    breached_at: datetime | None
    elapsed: timedelta
    delay: timedelta
    segments: tuple


def ticket_clocks(ticket: Ticket, *, now: datetime) -> dict[str, TicketClock]:
    """One clock per metric of the ticket's current priority, re-targeted from the opening."""
    priority = ticket.priority
    calendar = priority.calendar.engine()
    clocks = {}
    for metric in Metric:
        target = priority.target(metric)
        if target is None:
            continue
        state = replay(target=target, calendar=calendar,
                       events=clock_events(ticket.events, metric), now=now)
        clocks[metric.value] = TicketClock(
            metric=metric, target=target,
            status=CANCELLED if ticket.status == Status.CANCELLED else state.status,
            due_at=state.due_at, breached_at=state.breached_at, elapsed=state.elapsed,
            delay=state.delay, segments=tuple(state.segments))
    return clocks
