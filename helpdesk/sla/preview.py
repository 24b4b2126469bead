"""A calendar's coming service hours, day by day, and the due instant of a sample clock: what an
administrator checks before any ticket depends on a calendar.

The hours are the engine's own open intervals and the due instant is `clock.replay` of a clock
started at the sample start, read at that start: the computation a ticket opened then makes.
Holiday names are the `holidays` package's, in the reader's language where it has them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import holidays as holidays_package

from helpdesk.sla.calendar import Calendar
from helpdesk.sla.clock import ClockEvent, EventKind, replay

PREVIEW_DAYS = 28


@dataclass(frozen=True)
class DayHours:
    """One local day: its service windows as wall-clock times ("24:00" ends at midnight), the
    service time they hold, and why it is shut when it is (a public holiday, a closure)."""

    day: date
    windows: tuple[tuple[str, str], ...]
    service: timedelta
    holiday: str | None
    is_closure: bool


def due_at(calendar: Calendar, start: datetime, target: timedelta) -> datetime:
    """When a clock of `target` service time started at `start` is due."""
    state = replay(target=target, calendar=calendar,
                   events=[ClockEvent(start, EventKind.START)], now=start)
    assert state.due_at is not None  # a counting clock always has one
    return state.due_at


def service_days(calendar: Calendar, start: datetime, *, days: int = PREVIEW_DAYS,
                 language: str | None = None) -> list[DayHours]:
    """The `days` local days from the one `start` falls on, in the calendar's zone."""
    zone = calendar.zone
    first = start.astimezone(zone).date()
    names = _holiday_names(calendar, first, first + timedelta(days=days), language)
    closures = set(calendar.closures)
    result = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        begin = datetime.combine(day, time(0), tzinfo=zone)
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
        intervals = calendar.open_intervals(begin, end)
        windows = tuple((_wall_clock(a, day, calendar), _wall_clock(b, day, calendar))
                        for a, b in intervals)
        result.append(DayHours(
            day=day, windows=windows, service=sum((b - a for a, b in intervals), timedelta(0)),
            holiday=None if calendar.is_always else names.get(day),
            is_closure=day in closures))
    return result


def _wall_clock(at: datetime, day: date, calendar: Calendar) -> str:
    local = at.astimezone(calendar.zone)
    if local.date() > day:
        return "24:00"
    return local.strftime("%H:%M")


def _holiday_names(calendar: Calendar, first: date, last: date,
                   language: str | None) -> dict[date, str]:
    if calendar.holidays_country is None:
        return {}
    years = list(range(first.year, last.year + 1))
    base = holidays_package.country_holidays(calendar.holidays_country,
                                             subdiv=calendar.holidays_subdiv)
    found = holidays_package.country_holidays(
        calendar.holidays_country, subdiv=calendar.holidays_subdiv, years=years,
        language=holiday_language(base.supported_languages, language))
    return {day: str(name) for day, name in found.items() if first <= day < last}


def holiday_language(supported: tuple[str, ...], language: str | None) -> str | None:
    """The package's language closest to the reader's ("en" finds "en_US"); None: its default."""
    if not language:
        return None
    for candidate in supported:
        if candidate == language or candidate.startswith(f"{language}_"):
            return candidate
    return None
