"""SLA clocks: the state of a GTI or GTR clock, replayed from its events.

A clock is a pure function of a target (service time), a calendar, the clock's events and `now`:

- events are taken in time order (at equal instants, "start" first, then as given); events after
  `now` are ignored; exactly one "start" is required and nothing may come before it;
- "start" begins counting service time; "pause" suspends counting and "resume" continues it (the due
  instant moves by the paused service time); "stop" ends counting; "reopen" after a stop counts
  again, the time already counted staying counted;
- an event that does not change the clock (a pause while paused, a resume while counting, a stop
  while stopped, a reopen while not stopped) is ignored, so callers may pass a ticket's history as
  it is;
- the due instant is the earliest instant at which counted service time reaches the target. When it
  comes while the clock counts — at or before `now` and strictly before a stop or pause — the clock
  is breached, for good: a late stop, a pause or a reopen does not undo it, and the breach instant is
  the due instant, never the time someone noticed. Stopping at the due instant itself is in time;
- statuses: "paused" (not breached, paused: no due instant), "running" (not breached, counting),
  "met" (not breached, stopped), "breached";
- elapsed is the service time counted up to `now` (or up to the stop); delay is the counted service
  time beyond the target (zero unless breached), so it grows until the stop, or until `now` while the
  clock still counts.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from helpdesk.sla.calendar import Calendar

_ZERO = timedelta(0)


class EventKind(StrEnum):
    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"
    REOPEN = "reopen"


class ClockStatus(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    MET = "met"
    BREACHED = "breached"


class SegmentKind(StrEnum):
    COUNTED = "counted"
    PAUSED = "paused"
    OUTSIDE_HOURS = "outside_hours"
    STOPPED = "stopped"  # between a stop and a reopen


class _Mode(StrEnum):
    COUNTING = "counting"
    PAUSED = "paused"
    STOPPED = "stopped"


_TRANSITIONS = {
    _Mode.COUNTING: {EventKind.PAUSE: _Mode.PAUSED, EventKind.STOP: _Mode.STOPPED},
    _Mode.PAUSED: {EventKind.RESUME: _Mode.COUNTING, EventKind.STOP: _Mode.STOPPED},
    _Mode.STOPPED: {EventKind.REOPEN: _Mode.COUNTING},
}


@dataclass(frozen=True, slots=True)
class ClockEvent:
    at: datetime
    kind: EventKind

    def __post_init__(self) -> None:
        _require_aware(self.at, "event instant")
        object.__setattr__(self, "kind", event_kind(self.kind))


def event_kind(kind: EventKind | str) -> EventKind:
    """The kind an event names, as the engine's enum; an unknown name says which are known."""
    try:
        return EventKind(kind)
    except ValueError:
        known = ", ".join(repr(k.value) for k in EventKind)
        raise ValueError(f"unknown clock event kind {kind!r}; expected one of {known}") from None


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of the clock's history, for explaining it: counted, paused, outside hours, stopped."""

    start: datetime
    end: datetime
    kind: SegmentKind


@dataclass(frozen=True, slots=True)
class _Period:
    start: datetime
    end: datetime | None  # None: still going at `now`
    mode: _Mode
    service: timedelta  # service time in [start, end or now]; counted when mode is COUNTING


@dataclass(frozen=True)
class ClockState:
    status: ClockStatus
    due_at: datetime | None
    elapsed: timedelta
    breached_at: datetime | None
    delay: timedelta
    target: timedelta
    stopped_at: datetime | None  # the stop in force, if the clock is stopped now
    calendar: Calendar = field(repr=False)
    now: datetime = field(repr=False)
    _periods: tuple[_Period, ...] = field(repr=False, compare=False)

    @property
    def remaining(self) -> timedelta:
        """Service time left before the due instant (zero once reached)."""
        return max(self.target - self.elapsed, _ZERO)

    @functools.cached_property
    def segments(self) -> tuple[Segment, ...]:
        """The history from the start to `now` (or to the stop in force), cut by what counted."""
        pieces: list[Segment] = []
        for period in self._periods:
            end = self.now if period.end is None else period.end
            if period.mode is _Mode.STOPPED:
                if period.end is not None:
                    _append(pieces, Segment(period.start, end, SegmentKind.STOPPED))
            elif period.mode is _Mode.PAUSED:
                _append(pieces, Segment(period.start, end, SegmentKind.PAUSED))
            else:
                cursor = period.start
                for open_start, open_end in self.calendar.open_intervals(period.start, end):
                    _append(pieces, Segment(cursor, open_start, SegmentKind.OUTSIDE_HOURS))
                    _append(pieces, Segment(open_start, open_end, SegmentKind.COUNTED))
                    cursor = open_end
                _append(pieces, Segment(cursor, end, SegmentKind.OUTSIDE_HOURS))
        return tuple(pieces)

    def instant_for(self, amount: timedelta) -> datetime | None:
        """The instant (UTC) at which counted service time reaches `amount`.

        An amount already counted gives the past instant it was reached; otherwise the instant it
        will be reached if the clock keeps counting from now on; None when it is not counting
        (paused or stopped). Used for escalation thresholds (50 %, 80 % of the target).
        """
        if not isinstance(amount, timedelta):
            raise TypeError(f"amount must be a timedelta, got {type(amount).__name__}")
        if amount < _ZERO:
            raise ValueError(f"amount must not be negative, got {amount}")
        counted = _ZERO
        for period in self._periods:
            if period.mode is not _Mode.COUNTING:
                continue
            if counted + period.service >= amount:
                return self.calendar.add(period.start, amount - counted)
            counted += period.service
        if self._periods[-1].mode is _Mode.COUNTING:
            return self.calendar.add(self.now, amount - counted)
        return None


def replay(
    *,
    target: timedelta,
    calendar: Calendar,
    events: Iterable[ClockEvent | tuple[datetime, str]],
    now: datetime,
) -> ClockState:
    """The clock's state at `now` (see the module docstring for the rules)."""
    if not isinstance(target, timedelta):
        raise TypeError(f"target must be a timedelta, got {type(target).__name__}")
    if target < _ZERO:
        raise ValueError(f"target must not be negative, got {target}")
    _require_aware(now, "now")
    now = now.astimezone(UTC)
    ordered = sorted(
        (
            ClockEvent(event.at.astimezone(UTC), event.kind)
            for event in (item if isinstance(item, ClockEvent)
                          else ClockEvent(item[0], event_kind(item[1])) for item in events)
        ),
        key=lambda event: (event.at, event.kind is not EventKind.START),
    )
    starts = [event for event in ordered if event.kind is EventKind.START]
    if not starts:
        raise ValueError("the clock has no start event")
    if len(starts) > 1:
        raise ValueError(f"the clock has {len(starts)} start events; it starts once")
    if ordered[0].kind is not EventKind.START:
        first = ordered[0]
        raise ValueError(f"{first.kind.value!r} at {first.at.isoformat()} comes before the start")
    start = ordered[0].at
    if start > now:
        raise ValueError(
            f"the clock starts at {start.isoformat()}, after now ({now.isoformat()})"
        )

    bounds: list[tuple[datetime, datetime | None, _Mode]] = []
    mode, since = _Mode.COUNTING, start
    for event in ordered[1:]:
        if event.at > now:
            break
        following = _TRANSITIONS[mode].get(event.kind)
        if following is None:
            continue
        bounds.append((since, event.at, mode))
        mode, since = following, event.at
    bounds.append((since, None, mode))

    periods: list[_Period] = []
    counted = _ZERO
    breached_at: datetime | None = None
    for period_start, period_end, period_mode in bounds:
        if period_mode is not _Mode.COUNTING:
            periods.append(_Period(period_start, period_end, period_mode, _ZERO))
            continue
        end = now if period_end is None else period_end
        service = calendar.elapsed(period_start, end)
        periods.append(_Period(period_start, period_end, period_mode, service))
        if breached_at is None and counted + service >= target:
            due = calendar.add(period_start, target - counted)
            # Reached while counting: before the stop or pause that ends the period, or by now.
            if period_end is None or due < period_end:
                breached_at = due
        counted += service

    stopped_at = since if mode is _Mode.STOPPED else None
    if breached_at is not None:
        status, due_at = ClockStatus.BREACHED, breached_at
    elif mode is _Mode.COUNTING:
        status, due_at = ClockStatus.RUNNING, calendar.add(now, target - counted)
    elif mode is _Mode.PAUSED:
        status, due_at = ClockStatus.PAUSED, None
    else:
        status, due_at = ClockStatus.MET, calendar.add(since, target - counted)
    return ClockState(
        status=status,
        due_at=due_at,
        elapsed=counted,
        breached_at=breached_at,
        delay=counted - target if breached_at is not None else _ZERO,
        target=target,
        stopped_at=stopped_at,
        calendar=calendar,
        now=now,
        _periods=tuple(periods),
    )


def _append(pieces: list[Segment], segment: Segment) -> None:
    if segment.end <= segment.start:
        return
    if pieces and pieces[-1].kind is segment.kind and pieces[-1].end == segment.start:
        pieces[-1] = Segment(pieces[-1].start, segment.end, segment.kind)
    else:
        pieces.append(segment)


def _require_aware(value: object, name: str) -> None:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.utcoffset() is None:
        raise ValueError(
            f"{name} is a naive datetime ({value.isoformat()}); pass a timezone-aware datetime"
        )
