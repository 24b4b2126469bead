"""Service-hour calendars: when the service is open, and how much service time lies between instants.

Definition. An instant is *in service* when the calendar's local wall clock, at that instant, shows
a time inside one of the opening windows of the local date it shows, and that date is neither a
public holiday (from the `holidays` package) nor a closure date. Service time between two instants
is the real time spent in service. Hence:

- a window 00:00–06:00 holds 5 h on the spring-forward night and 7 h on the fall-back night;
- a window boundary skipped by a spring-forward (02:30 in Paris on the last Sunday of March) falls
  on the transition instant, so the window covers exactly the real instants whose wall time lies
  between its boundaries;
- a 24/7 calendar (`Calendar.always`) is always in service, ignores holidays and closures, and its
  durations are absolute (UTC) durations.

`add(start, d)` returns the earliest instant `t` such that the service time in `[start, t]` is `d`:
`add(start, 0)` is `start` itself, even when the calendar is closed then, and a due instant can fall
at the end of a window (18:00), never later than needed.

Cost. The UTC time line is cut into fixed spans of 52 weeks. The service intervals of a span are
computed once, from per-year cached holidays, and kept as sorted integer arrays (microseconds since
the epoch) with cumulated service time. `add`, `elapsed`, `is_open` and `next_open` are then binary
searches, whatever the duration; durations longer than a span step over whole spans by their totals.
Spans are shared by equal calendars, so rebuilding a `Calendar` from stored settings stays cheap.
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_package

WEEKDAY_LABELS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

_DAY_KEYS = {label.lower(): index for index, label in enumerate(WEEKDAY_LABELS)}
_HHMM = re.compile(r"([0-9]{2}):([0-9]{2})")
_ONE_US = timedelta(microseconds=1)
_ONE_SECOND = timedelta(seconds=1)
_US = 1_000_000  # microseconds per second
_DAY = 86_400  # seconds per (UTC or local wall-clock) day
_SPAN = 364 * _DAY  # seconds in a span: 52 weeks
_SPAN_US = _SPAN * _US
# A span's open intervals: their starts and ends (µs), the service time counted by each end, and
# the span's total; and a calendar's identity: zone, week, holidays' country and subdivision,
# closures, 24/7.
_Span = tuple[list[int], list[int], list[int], int]
_Week = tuple[tuple[tuple[int, int], ...], ...]
_Key = tuple[str, _Week, str | None, str | None, frozenset[date], bool]
_PROBE = 6 * 3600  # seconds between two probes of the UTC offset when looking for transitions
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_MIN_AT = datetime(1900, 1, 1, tzinfo=UTC)
_MAX_AT = datetime(9000, 1, 1, tzinfo=UTC)
_MIN_US = (_MIN_AT - _EPOCH) // _ONE_US
_MAX_US = (_MAX_AT - _EPOCH) // _ONE_US


class Calendar:
    """A time zone, weekly opening windows, public holidays and closure dates; or 24/7.

    Immutable and hashable: two calendars with the same definition are equal.
    """

    __slots__ = (
        "_timezone", "_zone", "_weekly", "_country", "_subdiv", "_closures", "_always",
        "_key", "_hash", "_closed", "_spans",
    )
    _timezone: str
    _zone: ZoneInfo
    _weekly: _Week  # per weekday, [start, end) in seconds
    _country: str | None
    _subdiv: str | None
    _closures: frozenset[date]
    _always: bool
    _key: _Key
    _hash: int
    _closed: frozenset[int]  # ordinals of the closure dates
    _spans: dict[int, _Span]

    def __init__(
        self,
        timezone: str,
        weekly: Mapping[int | str, Iterable[tuple[str, str]]] | None = None,
        *,
        holidays_country: str | None = None,
        holidays_subdiv: str | None = None,
        closures: Iterable[date | str] = (),
        always: bool = False,
    ) -> None:
        zone = _zone(timezone)
        closures = _normalise_closures(closures)
        if always:
            if weekly or holidays_country is not None or holidays_subdiv is not None or closures:
                raise ValueError(
                    "a 24/7 calendar takes no weekly windows, holidays or closures"
                )
            week: _Week = (((0, 24 * 60),),) * 7
        else:
            if weekly is None:
                raise ValueError("weekly windows are required (or use Calendar.always() for 24/7)")
            week = _normalise_weekly(weekly)
            if not any(week):
                raise ValueError(
                    "weekly has no opening window: the service would never open "
                    "(use Calendar.always() for 24/7)"
                )
            _check_holidays(holidays_country, holidays_subdiv)
        key = (zone.key, week, holidays_country, holidays_subdiv, closures, bool(always))
        init = object.__setattr__
        init(self, "_timezone", zone.key)
        init(self, "_zone", zone)
        init(self, "_weekly", tuple(tuple((s * 60, e * 60) for s, e in day) for day in week))
        init(self, "_country", holidays_country)
        init(self, "_subdiv", holidays_subdiv)
        init(self, "_closures", closures)
        init(self, "_always", bool(always))
        init(self, "_key", key)
        init(self, "_hash", hash(key))
        init(self, "_closed", frozenset(day.toordinal() for day in closures))
        init(self, "_spans", _shared_spans(key))

    @classmethod
    def always(cls, timezone: str = "UTC") -> Calendar:
        """A 24/7 calendar; the time zone only matters for display."""
        return cls(timezone, always=True)

    # -- identity --------------------------------------------------------------------------------

    @property
    def timezone(self) -> str:
        """IANA name of the calendar's time zone."""
        return self._timezone

    @property
    def zone(self) -> ZoneInfo:
        return self._zone

    @property
    def is_always(self) -> bool:
        return self._always

    @property
    def weekly(self) -> dict[int, tuple[tuple[str, str], ...]]:
        """Opening windows by weekday (Monday = 0), only open days, as the constructor takes them."""
        return {
            day: tuple((_format_clock(s // 60), _format_clock(e // 60)) for s, e in windows)
            for day, windows in enumerate(self._weekly)
            if windows
        }

    @property
    def holidays_country(self) -> str | None:
        return self._country

    @property
    def holidays_subdiv(self) -> str | None:
        return self._subdiv

    @property
    def closures(self) -> tuple[date, ...]:
        return tuple(sorted(self._closures))

    def describe(self) -> str:
        """A short label for the UI (holidays and closures are not mentioned).

        "24/7", "Mon–Fri 08:00–18:00", "Mon–Fri 08:00–12:00, 14:00–18:00; Sat 09:00–12:00".
        """
        if self._always:
            return "24/7"
        labels = [
            ", ".join(f"{_format_clock(s // 60)}–{_format_clock(e // 60)}" for s, e in windows)
            for windows in self._weekly
        ]
        runs: list[tuple[int, int, str]] = []
        for day, label in enumerate(labels):
            if not label:
                continue
            if runs and runs[-1][1] == day - 1 and runs[-1][2] == label:
                runs[-1] = (runs[-1][0], day, label)
            else:
                runs.append((day, day, label))
        groups: dict[str, list[str]] = {}
        for first, last, label in runs:
            name = WEEKDAY_LABELS[first] if first == last else (
                f"{WEEKDAY_LABELS[first]}–{WEEKDAY_LABELS[last]}"
            )
            groups.setdefault(label, []).append(name)
        return "; ".join(f"{', '.join(days)} {label}" for label, days in groups.items())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Calendar):
            return NotImplemented
        return self._key == other._key

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        if self._always:
            return f"Calendar.always(timezone={self._timezone!r})"
        return (
            f"Calendar(timezone={self._timezone!r}, weekly={self.weekly!r}, "
            f"holidays_country={self._country!r}, holidays_subdiv={self._subdiv!r}, "
            f"closures={list(self.closures)!r})"
        )

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Calendar is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Calendar is immutable")

    def __reduce__(self) -> tuple[Callable[..., Calendar], tuple[object, ...]]:
        return (_rebuild, (self._timezone, self.weekly if not self._always else None,
                           self._country, self._subdiv, self.closures, self._always))

    # -- queries ---------------------------------------------------------------------------------

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The earliest instant `t` (UTC) such that the service time in `[start, t]` is `duration`."""
        t = _to_us(start, "start")
        d = _duration_to_us(duration)
        if d == 0 or self._always:
            return _from_us(t + d)
        k = t // _SPAN_US
        spans = self._spans
        span = spans.get(k) or self._fill(k)
        remaining = d + _service_before(span, t)
        while remaining > span[3]:
            remaining -= span[3]
            k += 1
            span = spans.get(k) or self._fill(k)
        cumend = span[2]
        i = bisect_left(cumend, remaining)
        return _from_us(span[1][i] - (cumend[i] - remaining))

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Service time in `[start, end]`; `end` before `start` is a ValueError."""
        a = _to_us(start, "start")
        b = _to_us(end, "end")
        if b < a:
            raise ValueError(f"end {end.isoformat()} is before start {start.isoformat()}")
        if self._always:
            return timedelta(0, 0, b - a)
        return timedelta(0, 0, self._service_us(a, b))

    def is_open(self, at: datetime) -> bool:
        """Whether `at` is in service (windows are `[start, end)`: 18:00 is closed for 08:00–18:00)."""
        t = _to_us(at, "at")
        if self._always:
            return True
        k = t // _SPAN_US
        starts, ends, _, _ = self._spans.get(k) or self._fill(k)
        i = bisect_right(starts, t) - 1
        return i >= 0 and t < ends[i]

    def next_open(self, at: datetime) -> datetime:
        """`at` itself (in UTC) when open, else the next opening instant."""
        t = _to_us(at, "at")
        if self._always:
            return _from_us(t)
        k = t // _SPAN_US
        starts, ends, _, _ = self._spans.get(k) or self._fill(k)
        i = bisect_right(starts, t) - 1
        if i >= 0 and t < ends[i]:
            return _from_us(t)
        i += 1
        while i == len(starts):
            k += 1
            starts = (self._spans.get(k) or self._fill(k))[0]
            i = 0
        return _from_us(starts[i])

    def open_intervals(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """The in-service parts of `[start, end)`, as `(start, end)` UTC pairs in order."""
        a = _to_us(start, "start")
        b = _to_us(end, "end")
        if b < a:
            raise ValueError(f"end {end.isoformat()} is before start {start.isoformat()}")
        if a == b:
            return []
        if self._always:
            return [(_from_us(a), _from_us(b))]
        pieces: list[list[int]] = []
        for k in range(a // _SPAN_US, (b - 1) // _SPAN_US + 1):
            starts, ends, _, _ = self._spans.get(k) or self._fill(k)
            i = max(bisect_right(starts, a) - 1, 0)
            while i < len(starts) and starts[i] < b:
                s, e = max(starts[i], a), min(ends[i], b)
                if s < e:
                    if pieces and pieces[-1][1] == s:  # split at a span boundary
                        pieces[-1][1] = e
                    else:
                        pieces.append([s, e])
                i += 1
        return [(_from_us(s), _from_us(e)) for s, e in pieces]

    # -- internals -------------------------------------------------------------------------------

    def _service_us(self, a: int, b: int) -> int:
        ka, kb = a // _SPAN_US, b // _SPAN_US
        spans = self._spans
        span = spans.get(ka) or self._fill(ka)
        if ka == kb:
            return _service_before(span, b) - _service_before(span, a)
        total = span[3] - _service_before(span, a)
        for k in range(ka + 1, kb):
            total += (spans.get(k) or self._fill(k))[3]
        return total + _service_before(spans.get(kb) or self._fill(kb), b)

    def _fill(self, k: int) -> tuple[list[int], list[int], list[int], int]:
        if not _MIN_US // _SPAN_US - 1 <= k <= _MAX_US // _SPAN_US:
            raise ValueError(
                f"outside the supported range {_MIN_AT.date()} to {_MAX_AT.date()}"
            )
        span = self._spans[k] = self._compute_span(k)
        return span

    def _compute_span(self, k: int) -> tuple[list[int], list[int], list[int], int]:
        lo, hi = k * _SPAN, (k + 1) * _SPAN
        starts: list[int] = []
        ends: list[int] = []
        for a, b, offset in _offset_pieces(self._zone, lo, hi):
            for day in range((a + offset) // _DAY, (b + offset - 1) // _DAY + 1):
                ordinal = _EPOCH_ORDINAL + day
                windows = self._weekly[(ordinal + 6) % 7]
                if not windows or self._is_closed(ordinal):
                    continue
                midnight = day * _DAY - offset  # UTC second at which the wall clock would show 00:00
                for s, e in windows:
                    ws = max(midnight + s, a)
                    we = min(midnight + e, b)
                    if ws >= we:
                        continue
                    if ends and ws <= ends[-1]:
                        ends[-1] = max(ends[-1], we)
                    else:
                        starts.append(ws)
                        ends.append(we)
        cumend: list[int] = []
        total = 0
        for s, e in zip(starts, ends, strict=True):
            total += (e - s) * _US
            cumend.append(total)
        return ([s * _US for s in starts], [e * _US for e in ends], cumend, total)

    def _is_closed(self, ordinal: int) -> bool:
        if ordinal in self._closed:
            return True
        if self._country is None:
            return False
        year = date.fromordinal(ordinal).year
        return ordinal in _holiday_ordinals(self._country, self._subdiv, year)


# -- helpers -------------------------------------------------------------------------------------


def _rebuild(timezone: str, weekly: Mapping[int | str, Iterable[tuple[str, str]]] | None,
             country: str | None, subdiv: str | None, closures: Iterable[date],
             always: bool) -> Calendar:
    if always:
        return Calendar.always(timezone)
    return Calendar(timezone, weekly, holidays_country=country, holidays_subdiv=subdiv,
                    closures=closures)


@functools.lru_cache(maxsize=256)
def _shared_spans(key: _Key) -> dict[int, _Span]:
    """Computed spans, shared by all calendars with the same definition."""
    return {}


@functools.lru_cache(maxsize=4096)
def _holiday_ordinals(country: str, subdiv: str | None, year: int) -> frozenset[int]:
    days = holidays_package.country_holidays(country, subdiv=subdiv, years=year)
    return frozenset(day.toordinal() for day in days)


@functools.lru_cache(maxsize=256)
def _check_holidays(country: str | None, subdiv: str | None) -> None:
    if country is None:
        if subdiv is not None:
            raise ValueError("holidays_subdiv needs holidays_country")
        return
    if not isinstance(country, str) or (subdiv is not None and not isinstance(subdiv, str)):
        raise TypeError("holidays_country and holidays_subdiv are strings such as 'FR' and '57'")
    try:
        base = holidays_package.country_holidays(country)
    except NotImplementedError:
        raise ValueError(f"unknown holidays country {country!r}") from None
    aliases = getattr(base, "subdivisions_aliases", {})
    if subdiv is not None and subdiv not in base.subdivisions and subdiv not in aliases:
        known = ", ".join([*base.subdivisions, *aliases]) or "none"
        raise ValueError(
            f"unknown holidays subdivision {subdiv!r} for {country}; known: {known}"
        )


def _zone(name: object) -> ZoneInfo:
    if isinstance(name, ZoneInfo) and name.key:
        name = name.key
    if not isinstance(name, str):
        raise TypeError(f"timezone must be an IANA name such as 'Europe/Paris', got {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"unknown time zone {name!r}") from None


def _normalise_closures(closures: Iterable[date | str]) -> frozenset[date]:
    if closures is None:
        return frozenset()
    if isinstance(closures, (str, bytes)):
        raise TypeError("closures is a list of dates")
    days = set()
    for item in closures:
        if isinstance(item, str):
            try:
                item = date.fromisoformat(item)
            except ValueError:
                raise ValueError(f"closure {item!r} is not an ISO date (YYYY-MM-DD)") from None
        elif isinstance(item, datetime) or not isinstance(item, date):
            raise TypeError(f"closure {item!r} is not a date")
        days.add(item)
    return frozenset(days)


def _day_index(key: object) -> int:
    if isinstance(key, int) and not isinstance(key, bool) and 0 <= key <= 6:
        return key
    if isinstance(key, str) and key.lower() in _DAY_KEYS:
        return _DAY_KEYS[key.lower()]
    raise ValueError(f"unknown weekday {key!r}: use 0 (Monday) to 6 (Sunday), or 'mon' to 'sun'")


def _parse_clock(text: object, day: str, *, is_end: bool) -> int:
    """Minutes since local midnight for "HH:MM"; "24:00" only as an end."""
    if not isinstance(text, str):
        raise TypeError(f"{day}: window times are 'HH:MM' strings, got {text!r}")
    match = _HHMM.fullmatch(text)
    if match is None:
        raise ValueError(f"{day}: malformed time {text!r}, expected 'HH:MM'")
    hours, minutes = int(match[1]), int(match[2])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ValueError(f"{day}: {text!r} is not a time of day")
    if hours == 24 and not is_end:
        raise ValueError(f"{day}: a window cannot start at 24:00")
    return hours * 60 + minutes


def _normalise_weekly(weekly: object) -> tuple[tuple[tuple[int, int], ...], ...]:
    """Seven tuples (Monday first) of sorted `(start, end)` minutes; touching windows merged."""
    if not isinstance(weekly, Mapping):
        raise TypeError("weekly maps weekdays (0 = Monday) to lists of ('HH:MM', 'HH:MM') windows")
    week: list[tuple[tuple[int, int], ...]] = [()] * 7
    seen: set[int] = set()
    for key, windows in weekly.items():
        day = _day_index(key)
        name = WEEKDAY_LABELS[day]
        if day in seen:
            raise ValueError(f"{name} is given twice in weekly")
        seen.add(day)
        if isinstance(windows, (str, bytes)) or not isinstance(windows, Iterable):
            raise TypeError(f"{name}: expected a list of ('HH:MM', 'HH:MM') windows, got {windows!r}")
        parsed = []
        for window in windows:
            if isinstance(window, (str, bytes)) or not isinstance(window, Iterable):
                raise ValueError(f"{name}: a window is a ('HH:MM', 'HH:MM') pair, got {window!r}")
            pair = tuple(window)
            if len(pair) != 2:
                raise ValueError(f"{name}: a window is a ('HH:MM', 'HH:MM') pair, got {window!r}")
            start = _parse_clock(pair[0], name, is_end=False)
            end = _parse_clock(pair[1], name, is_end=True)
            if start >= end:
                raise ValueError(
                    f"{name}: window {pair[0]}–{pair[1]} must start before it ends "
                    "(windows do not cross midnight: split them, and use 24:00 as an end)"
                )
            parsed.append((start, end, f"{pair[0]}–{pair[1]}"))
        parsed.sort()
        merged: list[tuple[int, int]] = []
        for index, (start, end, label) in enumerate(parsed):
            if merged and start < merged[-1][1]:
                raise ValueError(f"{name}: windows {parsed[index - 1][2]} and {label} overlap")
            if merged and start == merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
            else:
                merged.append((start, end))
        week[day] = tuple(merged)
    return tuple(week)


def _format_clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _to_us(value: object, name: str) -> int:
    """Microseconds since the epoch of an aware datetime; naive ones are refused."""
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    try:
        us = (value - _EPOCH) // _ONE_US  # refuses naive datetimes (or whose tzinfo gives no offset)
    except TypeError:
        raise ValueError(
            f"{name} is a naive datetime ({value.isoformat()}); "
            "pass a timezone-aware datetime, e.g. with tzinfo=timezone.utc"
        ) from None
    if not _MIN_US <= us < _MAX_US:
        raise ValueError(
            f"{name} {value.isoformat()} is outside the supported range "
            f"{_MIN_AT.date()} to {_MAX_AT.date()}"
        )
    return us


def _from_us(us: int) -> datetime:
    if not _MIN_US <= us < _MAX_US:
        raise ValueError(f"result outside the supported range {_MIN_AT.date()} to {_MAX_AT.date()}")
    return _EPOCH + timedelta(0, 0, us)  # positional: twice as fast as microseconds=us


def _duration_to_us(duration: object) -> int:
    if not isinstance(duration, timedelta):
        raise TypeError(f"duration must be a timedelta, got {type(duration).__name__}")
    us = duration // _ONE_US
    if us < 0:
        raise ValueError(f"duration must not be negative, got {duration}")
    return us


def _service_before(span: tuple[list[int], list[int], list[int], int], t: int) -> int:
    """Service time (µs) from the start of `span` up to `t`, `t` inside the span."""
    starts, ends, cumend, _ = span
    i = bisect_right(starts, t) - 1
    if i < 0:
        return 0
    end = ends[i]
    return cumend[i] - (end - t) if t < end else cumend[i]


def _offset_at(zone: ZoneInfo, second: int) -> int:
    """UTC offset, in seconds, of `zone` at a UTC instant given in seconds since the epoch."""
    offset = cast(timedelta, (_EPOCH + timedelta(seconds=second)).astimezone(zone).utcoffset())
    return offset // _ONE_SECOND


def _offset_pieces(zone: ZoneInfo, lo: int, hi: int) -> list[tuple[int, int, int]]:
    """`[lo, hi)` (UTC seconds) cut where the offset changes: `(start, end, offset)` pieces.

    The offset is probed every few hours and transitions are found by bisection to the second
    (tzdata transitions fall on whole seconds).
    """
    pieces = []
    start = probe = lo
    offset = _offset_at(zone, lo)
    while probe < hi:
        following = min(probe + _PROBE, hi)
        while _offset_at(zone, following) != offset:
            low, high = probe, following  # offset at low is `offset`, at high it differs
            while high - low > 1:
                middle = (low + high) // 2
                if _offset_at(zone, middle) == offset:
                    low = middle
                else:
                    high = middle
            pieces.append((start, high, offset))
            start = probe = high
            offset = _offset_at(zone, high)
        probe = following
    if start < hi:
        pieces.append((start, hi, offset))
    return pieces
