"""What a contract credits for a month: breach penalties, availability shortfall, the cap, VAT.

Pure: plain values in, plain values out; no Flask, no SQLAlchemy, no clock, no database (the
standard library, the SLA engine and `helpdesk.month` only). The services build the inputs from
the models and persist the result.

Rules (DESIGN §3.4):

- Money is `Decimal`, never float. Each line is rounded half-up to the cent once, after its own
  arithmetic; the cap and VAT are rounded half-up to the cent too. Percentages are plain numbers
  (`Decimal("20")` is 20 %).
- A month is a calendar month in the contract's time zone, `[start, end)` as UTC instants
  (`helpdesk.month.Month.bounds`).
- A breach belongs to the month of its due instant. Its delay is the service time, on the breach's
  calendar and outside its pauses, from the due instant up to the clock's stop or, when the clock
  still runs at the end of the month, up to the end of the month. The delay is counted in whole
  seconds (as `Breach.delay_seconds` stores it), and its started hours from that.
- A breach's penalty is its rule's fixed amount plus the fee × its percentage per started hour of
  delay. A waived breach credits nothing.
- Downtime is the union of the outages (overlaps merged), clipped to the month, counted on the
  availability calendar (24/7 in the contract's zone by default). Availability is
  1 − downtime / scheduled time of the month on that calendar, which on a 24/7 calendar is the
  length of the month (745 h for October 2026 in Europe/Paris). It is kept at full precision;
  rounding it for display is the caller's business.
- The lowest tier whose threshold the availability falls strictly below gives the availability
  credit: the fee × that tier's percentage. Only a contract with an availability target has one.
- The credits are capped at the fee × the cap percentage; the cap is its own, negative, line.
- VAT is the total excl. VAT × the VAT rate, or zero when credits are not subject to VAT.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Context, Decimal, localcontext
from enum import StrEnum
from typing import ClassVar, NamedTuple

from helpdesk.money import to_cent
from helpdesk.month import Month, time_zone
from helpdesk.sla.calendar import Calendar

ZERO = Decimal("0.00")
HUNDRED = Decimal(100)

_ONE_US = timedelta(microseconds=1)
_HOUR_SECONDS = 3600
# Wide enough that money and availability arithmetic is exact or correctly rounded whatever the
# caller's decimal context: availability needs ~16 significant digits to decide a tier exactly.
_EXACT = Context(prec=50)


class LineKind(StrEnum):
    BREACH = "breach"
    AVAILABILITY = "availability"
    CAP = "cap"


# -- inputs --------------------------------------------------------------------------------------


class Tier(NamedTuple):
    """Below `below_percent` of availability, `credit_percent` of the fee is credited."""

    below_percent: Decimal
    credit_percent: Decimal


@dataclass(frozen=True, slots=True)
class PenaltyRule:
    """What one breach of a priority's metric costs: a fixed amount and/or a percentage of the fee
    per started hour of delay."""

    fixed: Decimal = ZERO
    percent_per_started_hour: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        _set(self, "fixed", _non_negative(self.fixed, "fixed"))
        _set(self, "percent_per_started_hour",
             _non_negative(self.percent_per_started_hour, "percent_per_started_hour"))


@dataclass(frozen=True, slots=True)
class Terms:
    """The terms of a contract version that matter for credits."""

    monthly_fee: Decimal
    vat_rate: Decimal
    credit_cap_percent: Decimal
    timezone: str
    currency: str = "EUR"
    credits_subject_to_vat: bool = True
    availability_target_percent: Decimal | None = None
    tiers: tuple[Tier, ...] = ()
    availability_calendar: Calendar | None = None  # None: 24/7 in `timezone`

    def __post_init__(self) -> None:
        _set(self, "monthly_fee", _non_negative(self.monthly_fee, "monthly_fee"))
        _set(self, "vat_rate", _non_negative(self.vat_rate, "vat_rate"))
        _set(self, "credit_cap_percent", _non_negative(self.credit_cap_percent, "credit_cap_percent"))
        time_zone(self.timezone)
        if not isinstance(self.credits_subject_to_vat, bool):
            raise TypeError("credits_subject_to_vat must be a bool")
        if self.availability_target_percent is not None:
            _set(self, "availability_target_percent",
                 _non_negative(self.availability_target_percent, "availability_target_percent"))
        tiers = tuple(
            Tier(_non_negative(below, f"tiers[{i}].below_percent"),
                 _non_negative(credit, f"tiers[{i}].credit_percent"))
            for i, (below, credit) in enumerate(self.tiers)
        )
        if len({tier.below_percent for tier in tiers}) != len(tiers):
            raise ValueError("two availability tiers have the same threshold")
        if tiers and self.availability_target_percent is None:
            raise ValueError("availability tiers need an availability target")
        _set(self, "tiers", tiers)
        if self.availability_calendar is not None and not isinstance(self.availability_calendar,
                                                                     Calendar):
            raise TypeError("availability_calendar must be a helpdesk.sla Calendar or None")

    @property
    def calendar(self) -> Calendar:
        """The calendar availability is measured on."""
        return self.availability_calendar or Calendar.always(self.timezone)

    @property
    def cap(self) -> Decimal:
        """The most the credits of one month may total, excl. VAT."""
        return _percent_of(self.monthly_fee, self.credit_cap_percent)


@dataclass(frozen=True, slots=True)
class BreachInput:
    """One recorded breach, with what is needed to price it."""

    reference: str  # e.g. the ticket number
    metric: str  # "gti" or "gtr"
    priority_code: str
    due_at: datetime
    stopped_at: datetime | None  # None: the clock still runs
    calendar: Calendar  # the priority's service hours, on which the delay is counted
    rule: PenaltyRule
    waived: bool = False
    # Intervals after the due instant when the clock did not count (paused): not delay.
    pauses: tuple[tuple[datetime, datetime], ...] = ()

    def __post_init__(self) -> None:
        _set(self, "due_at", _utc(self.due_at, "due_at"))
        if self.stopped_at is not None:
            _set(self, "stopped_at", _utc(self.stopped_at, "stopped_at"))
        if not isinstance(self.calendar, Calendar):
            raise TypeError("calendar must be a helpdesk.sla Calendar")
        if not isinstance(self.rule, PenaltyRule):
            raise TypeError("rule must be a PenaltyRule")
        pauses = tuple(_interval(start, end, "pause") for start, end in self.pauses)
        _set(self, "pauses", pauses)


@dataclass(frozen=True, slots=True)
class Outage:
    """A service outage marked on a ticket; `end` None while it lasts."""

    start: datetime
    end: datetime | None = None

    def __post_init__(self) -> None:
        if self.end is None:
            _set(self, "start", _utc(self.start, "outage start"))
        else:
            start, end = _interval(self.start, self.end, "outage")
            _set(self, "start", start)
            _set(self, "end", end)


# -- outputs -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BreachLine:
    reference: str
    metric: str
    priority_code: str
    due_at: datetime
    stopped_at: datetime | None  # the clock's stop, even after the month
    counted_until: datetime  # the stop, or the end of the month when later or still running
    delay: timedelta
    started_hours: int
    rule: PenaltyRule
    amount: Decimal
    kind: ClassVar[LineKind] = LineKind.BREACH


@dataclass(frozen=True, slots=True)
class AvailabilityLine:
    downtime: timedelta
    scheduled: timedelta  # the month's length on a 24/7 calendar
    availability_percent: Decimal  # full precision
    target_percent: Decimal
    credit_percent: Decimal
    amount: Decimal
    kind: ClassVar[LineKind] = LineKind.AVAILABILITY


@dataclass(frozen=True, slots=True)
class CapLine:
    cap: Decimal
    credits_before_cap: Decimal
    amount: Decimal  # cap − credits before cap: negative
    kind: ClassVar[LineKind] = LineKind.CAP


CreditLine = BreachLine | AvailabilityLine | CapLine


@dataclass(frozen=True, slots=True)
class CreditComputation:
    """A month's credit for one contract, line by line, with its totals."""

    month: str
    period_start: datetime
    period_end: datetime
    currency: str
    lines: tuple[CreditLine, ...]
    waived: tuple[BreachLine, ...]  # what the waived breaches would have credited
    downtime: timedelta
    availability_percent: Decimal  # full precision
    vat_rate: Decimal  # the contract's rate; no VAT is charged when not subject to VAT
    credits_subject_to_vat: bool
    total_excl_vat: Decimal
    vat: Decimal
    total_incl_vat: Decimal

    @property
    def is_empty(self) -> bool:
        """Nothing is owed: no credit note is due."""
        return self.total_excl_vat == 0


# -- the rules -----------------------------------------------------------------------------------


def breach_delay(breach: BreachInput, month_end: datetime) -> timedelta:
    """Service time past due, outside pauses, up to the stop or the end of the breach's month,
    whichever comes first; in whole seconds."""
    _aware(month_end, "month_end")
    end = month_end if breach.stopped_at is None else min(breach.stopped_at, month_end)
    if end <= breach.due_at:
        return timedelta(0)
    counted = breach.calendar.elapsed(breach.due_at, end)
    for start, stop in _merge(breach.pauses):
        start, stop = max(start, breach.due_at), min(stop, end)
        if start < stop:
            counted -= breach.calendar.elapsed(start, stop)
    return timedelta(seconds=counted // timedelta(seconds=1))


def started_hours(delay: timedelta) -> int:
    """2 h 30 → 3; exactly 2 h → 2; 0 → 0."""
    if delay < timedelta(0):
        raise ValueError(f"delay must not be negative, got {delay}")
    return -(-(delay // _ONE_US) // (_HOUR_SECONDS * 1_000_000))


def breach_amount(rule: PenaltyRule, delay: timedelta, fee: Decimal) -> Decimal:
    """fixed + fee × percent / 100 × started hours of delay, rounded half-up to the cent."""
    fee = _non_negative(fee, "fee")
    with localcontext(_EXACT):
        return to_cent(rule.fixed + fee * rule.percent_per_started_hour * started_hours(delay) / 100)


def downtime(outages: Iterable[Outage], month_start: datetime, month_end: datetime,
             calendar: Calendar) -> timedelta:
    """Service time, on `calendar`, covered by at least one outage within `[month_start, month_end)`."""
    _interval(month_start, month_end, "month")
    clipped = []
    for outage in outages:
        start = max(outage.start, month_start)
        end = month_end if outage.end is None else min(outage.end, month_end)
        if start < end:
            clipped.append((start, end))
    total = timedelta(0)
    for start, end in _merge(clipped):
        total += calendar.elapsed(start, end)
    return total


def availability(downtime: timedelta, scheduled: timedelta) -> Decimal:
    """1 − downtime / scheduled, as a percentage at full precision (100 when nothing is scheduled)."""
    down_us, scheduled_us = downtime // _ONE_US, scheduled // _ONE_US
    if not 0 <= down_us <= scheduled_us:
        raise ValueError(f"downtime {downtime} must lie between 0 and the scheduled time {scheduled}")
    if scheduled_us == 0:
        return HUNDRED
    with localcontext(_EXACT):
        return Decimal(scheduled_us - down_us) * 100 / scheduled_us


def availability_credit_percent(availability_percent: Decimal, tiers: Iterable[Tier]) -> Decimal:
    """The credit percentage of the lowest tier whose threshold the availability is strictly
    below; 0 when it is below none."""
    availability_percent = _decimal(availability_percent, "availability_percent")
    below = [Tier(*tier) for tier in tiers if availability_percent < tier[0]]
    if not below:
        return Decimal(0)
    return min(below, key=lambda tier: tier.below_percent).credit_percent


def compute_credit(terms: Terms, breaches: Iterable[BreachInput], outages: Iterable[Outage],
                   month: str) -> CreditComputation:
    """The credit a contract owes for a month: one line per unwaived breach, one for an
    availability shortfall, then the cap when it applies; totals excl. VAT, VAT and incl. VAT.

    Every breach must be due within the month (in the contract's zone): a breach belongs to the
    month of its due instant.
    """
    start, end = Month.parse(month).bounds(terms.timezone)
    fee = terms.monthly_fee
    priced: list[tuple[BreachInput, BreachLine]] = []
    for breach in breaches:
        if not start <= breach.due_at < end:
            raise ValueError(
                f"breach {breach.reference} {breach.metric} is due at {breach.due_at.isoformat()}, "
                f"outside {month} in {terms.timezone}"
            )
        delay = breach_delay(breach, end)
        counted_until = end if breach.stopped_at is None else min(breach.stopped_at, end)
        priced.append((breach, BreachLine(
            reference=breach.reference, metric=breach.metric, priority_code=breach.priority_code,
            due_at=breach.due_at, stopped_at=breach.stopped_at,
            counted_until=max(counted_until, breach.due_at), delay=delay,
            started_hours=started_hours(delay), rule=breach.rule,
            amount=breach_amount(breach.rule, delay, fee),
        )))
    priced.sort(key=lambda pair: (pair[1].due_at, pair[1].reference, pair[1].metric))
    lines: list[CreditLine] = [line for breach, line in priced if not breach.waived]
    waived = tuple(line for breach, line in priced if breach.waived)

    calendar = terms.calendar
    down = downtime(outages, start, end, calendar)
    scheduled = calendar.elapsed(start, end)
    measured = availability(down, scheduled)
    if terms.availability_target_percent is not None:
        percent = availability_credit_percent(measured, terms.tiers)
        if percent > 0:
            lines.append(AvailabilityLine(
                downtime=down, scheduled=scheduled,
                availability_percent=measured, target_percent=terms.availability_target_percent,
                credit_percent=percent,
                amount=_percent_of(fee, percent),
            ))

    with localcontext(_EXACT):
        credits = sum((line.amount for line in lines), ZERO)
        cap = terms.cap
        if credits > cap:
            lines.append(CapLine(cap=cap, credits_before_cap=credits, amount=cap - credits))
        total = sum((line.amount for line in lines), ZERO)
        vat = _percent_of(total, terms.vat_rate) if terms.credits_subject_to_vat else ZERO
        total_incl_vat = total + vat
    return CreditComputation(
        month=month, period_start=start, period_end=end, currency=terms.currency,
        lines=tuple(lines), waived=waived, downtime=down, availability_percent=measured,
        vat_rate=terms.vat_rate, credits_subject_to_vat=terms.credits_subject_to_vat,
        total_excl_vat=total, vat=vat, total_incl_vat=total_incl_vat,
    )


# -- helpers -------------------------------------------------------------------------------------


def _percent_of(amount: Decimal, percent: Decimal) -> Decimal:
    """amount × percent / 100, rounded half-up to the cent."""
    with localcontext(_EXACT):
        return to_cent(amount * percent / 100)


def _merge(intervals: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Sorted, with overlapping or touching intervals merged."""
    merged: list[list[datetime]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def _decimal(value: object, name: str) -> Decimal:
    """A finite Decimal; ints are taken as they are; floats (and anything else) are refused."""
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise TypeError(f"{name} must be a Decimal, got {type(value).__name__} {value!r}")
    value = Decimal(value)
    if not value.is_finite():
        raise ValueError(f"{name} must be a finite number, got {value}")
    return value


def _non_negative(value: object, name: str) -> Decimal:
    value = _decimal(value, name)
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {value}")
    return value


def _aware(value: object, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.utcoffset() is None:
        raise ValueError(f"{name} is a naive datetime ({value.isoformat()}); pass an aware one")
    return value


def _utc(value: object, name: str) -> datetime:
    return _aware(value, name).astimezone(UTC)


def _interval(start: object, end: object, name: str) -> tuple[datetime, datetime]:
    """The interval in UTC; one that ends before it starts is refused."""
    start, end = _utc(start, f"{name} start"), _utc(end, f"{name} end")
    if end < start:
        raise ValueError(f"{name} ends ({end.isoformat()}) before it starts ({start.isoformat()})")
    return start, end



def _set(instance: object, name: str, value: object) -> None:
    object.__setattr__(instance, name, value)
