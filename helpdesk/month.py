"""A calendar month, the unit billing, escalation and reporting count in: one value, one rule.

`Month.parse("2026-10")` reads the only way a month is written (ASCII `YYYY-MM`, the way the
database stores it, e.g. a breach's `billing_month`); `str(month)` writes it back. A month is a
calendar month in a time zone: `month.bounds("Europe/Paris")` gives `[start, end)` as aware UTC
instants, and `Month.of(instant, zone)` the month an instant falls in there.

The helpdesk handles the months from `FIRST` (2000-01) to `LAST` (2099-12): anything else is a
typing slip, not a month anyone bills, and would overflow Python's dates at the far ends. Instants
are held to the same bounds, a day inside them (`EARLIEST`, `LATEST`), so that every zone on Earth
agrees the instant falls in a month the helpdesk handles.

Core layer: the standard library only.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

FIRST_YEAR, LAST_YEAR = 2000, 2099
_WRITTEN = re.compile(r"([0-9]{4})-([0-9]{2})", re.ASCII)
_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")


class MonthError(ValueError):
    """Text that is not a month, or a month out of the helpdesk's bounds; the message says which
    and how to write one."""


class MonthOutOfRange(MonthError):
    """A well-formed month, or an instant, outside 2000-01 … 2099-12."""


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month: `Month(2026, 10)` is October 2026; ordered, hashable, immutable."""

    year: int
    number: int  # 1 = January … 12 = December

    def __post_init__(self) -> None:
        for name in ("year", "number"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"a month's {name} is an int, got {value!r}")
        if not 1 <= self.number <= 12:
            raise MonthError(f"{self.number} is not a month number: they go from 1 to 12")
        if not FIRST_YEAR <= self.year <= LAST_YEAR:
            raise MonthOutOfRange(f"{self.year:04d}-{self.number:02d} is outside the months "
                                  f"this helpdesk handles, {FIRST_YEAR}-01 to {LAST_YEAR}-12")

    # -- reading and writing ---------------------------------------------------------------------

    @classmethod
    def parse(cls, text: object) -> Month:
        """`"2026-10"` → `Month(2026, 10)`; anything but ASCII `YYYY-MM` within the bounds is a
        `MonthError` (no surrounding spaces: callers strip what people type)."""
        if not isinstance(text, str) or (match := _WRITTEN.fullmatch(text)) is None:
            raise MonthError(f"{text!r} is not a month: write it YYYY-MM, e.g. 2026-10, in "
                             f"ASCII digits")
        year, number = int(match[1]), int(match[2])
        if not 1 <= number <= 12:
            raise MonthError(f"{text!r} is not a month: write it YYYY-MM, e.g. 2026-10, with a "
                             f"month number from 01 to 12")
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise MonthOutOfRange(f"{text!r} is outside the months this helpdesk handles, "
                                  f"{FIRST_YEAR}-01 to {LAST_YEAR}-12")
        return cls(year, number)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.number:02d}"

    @property
    def label(self) -> str:
        """The month's English name, as documents and the command line print it: "June 2025"."""
        return f"{_NAMES[self.number - 1]} {self.year}"

    # -- time ------------------------------------------------------------------------------------

    @classmethod
    def of(cls, instant: datetime, zone: str | tzinfo) -> Month:
        """The month an aware instant falls in, in a zone (an IANA name or a tzinfo)."""
        if not isinstance(instant, datetime) or instant.utcoffset() is None:
            raise ValueError(f"the month of an instant needs an aware datetime, got {instant!r}")
        try:
            local = instant.astimezone(time_zone(zone))
        except OverflowError:
            raise MonthOutOfRange(f"{instant.isoformat()} is outside the months this helpdesk "
                                  f"handles, {FIRST_YEAR}-01 to {LAST_YEAR}-12") from None
        if not FIRST_YEAR <= local.year <= LAST_YEAR:
            raise MonthOutOfRange(f"{instant.isoformat()} is outside the months this helpdesk "
                                  f"handles, {FIRST_YEAR}-01 to {LAST_YEAR}-12")
        return cls(local.year, local.month)

    def bounds(self, zone: str | tzinfo) -> tuple[datetime, datetime]:
        """`[start, end)`: the local midnights that start this month and the next, in `zone`, as
        aware UTC instants. One month's end is the next one's start."""
        local = time_zone(zone)
        following = self._following()
        start = datetime(self.year, self.number, 1, tzinfo=local).astimezone(UTC)
        end = datetime(following[0], following[1], 1, tzinfo=local).astimezone(UTC)
        return start, end

    @property
    def first_day(self) -> date:
        return date(self.year, self.number, 1)

    @property
    def last_day(self) -> date:
        return date(*self._following(), 1) - timedelta(days=1)

    def days(self) -> Iterator[date]:
        """Every day of the month, in order."""
        day = self.first_day
        while day.month == self.number:
            yield day
            day += timedelta(days=1)

    # -- arithmetic ------------------------------------------------------------------------------

    def plus(self, count: int) -> Month:
        """The month `count` months later (earlier when negative)."""
        index = self._index + count
        return Month(index // 12, index % 12 + 1)

    def next(self) -> Month:
        return self.plus(1)

    def previous(self) -> Month:
        return self.plus(-1)

    def months_to(self, other: Month) -> int:
        """How many months from this one to `other`: 0 for the same month, negative when `other`
        comes first."""
        return other._index - self._index

    def through(self, last: Month) -> tuple[Month, ...]:
        """The months from this one to `last`, both included; none when `last` comes first."""
        return tuple(self.plus(offset) for offset in range(self.months_to(last) + 1))

    @property
    def _index(self) -> int:
        return self.year * 12 + self.number - 1

    def _following(self) -> tuple[int, int]:
        """(year, number) of the next month, even after `LAST`, for the bounds."""
        return (self.year + 1, 1) if self.number == 12 else (self.year, self.number + 1)


FIRST = Month(FIRST_YEAR, 1)
LAST = Month(LAST_YEAR, 12)
# A day inside the months' bounds in UTC: no zone (offsets stay within ±14 h) moves an instant
# between them out of FIRST … LAST.
EARLIEST = datetime(FIRST_YEAR, 1, 2, tzinfo=UTC)
LATEST = datetime(LAST_YEAR, 12, 31, tzinfo=UTC)


def check_instant(instant: datetime, text: str | None = None) -> datetime:
    """`instant` (aware) in UTC when it lies within `[EARLIEST, LATEST)`; else `MonthOutOfRange`
    naming `text` (what was typed) or the instant."""
    shown = repr(text) if text is not None else instant.isoformat()
    try:
        utc = instant.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST <= utc < LATEST:
        raise MonthOutOfRange(f"{shown} is outside the instants this helpdesk handles, "
                              f"{EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d} UTC")
    return utc


def time_zone(zone: object) -> tzinfo:
    """A zone given by its IANA name (or already a zone); a clear error for anything else."""
    if isinstance(zone, tzinfo):
        return zone
    if not isinstance(zone, str):
        raise TypeError(f"a time zone is an IANA name such as 'Europe/Paris', got {zone!r}")
    try:
        return ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {zone!r}") from None
