"""Credits: hand-computed tables that must hold to the cent, and properties over random months."""

import dataclasses
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpdesk.billing import credits
from helpdesk.billing.credits import (
    AvailabilityLine,
    BreachInput,
    BreachLine,
    CapLine,
    LineKind,
    Outage,
    PenaltyRule,
    Terms,
    Tier,
    availability,
    availability_credit_percent,
    breach_amount,
    breach_delay,
    compute_credit,
    downtime,
    started_hours,
)
from helpdesk.month import Month
from helpdesk.sla.calendar import Calendar
from tests.imports import imported_modules

D = Decimal
H = timedelta(hours=1)
MIN = timedelta(minutes=1)
S = timedelta(seconds=1)
PARIS = ZoneInfo("Europe/Paris")
ALWAYS = Calendar.always("Europe/Paris")
BUSINESS = Calendar("Europe/Paris", {day: [("08:00", "18:00")] for day in range(5)},
                    holidays_country="FR")
TIERS = (Tier(D("99.9"), D("10")), Tier(D("99.5"), D("25")))
GTI = PenaltyRule(fixed=D("100.00"))
GTR = PenaltyRule(percent_per_started_hour=D("2"))


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def terms(**overrides) -> Terms:
    """The contract of issue 5's worked example, unless overridden."""
    values = dict(monthly_fee=D("1000.00"), vat_rate=D("20"), credit_cap_percent=D("30"),
                  timezone="Europe/Paris", availability_target_percent=D("99.9"), tiers=TIERS)
    return Terms(**(values | overrides))


DUE = paris(2026, 10, 5, 10)


def breach(reference="T-1", *, due=DUE, delay=H, stopped=True,
           metric="gti", rule=GTI, calendar=ALWAYS, waived=False, pauses=()) -> BreachInput:
    """A P1 breach due at `due`, stopped after `delay` of real time (or still running)."""
    return BreachInput(reference=reference, metric=metric, priority_code="P1", due_at=due,
                       stopped_at=due + delay if stopped else None, calendar=calendar, rule=rule,
                       waived=waived, pauses=pauses)


def amounts(computation) -> list[tuple[str, Decimal]]:
    return [(line.kind.value, line.amount) for line in computation.lines]


# -- the worked example of issue 5 ----------------------------------------------------------------


def test_worked_example_of_issue_5_holds_exactly():
    result = compute_credit(
        terms(),
        [breach("T-1"), breach("T-2", due=paris(2026, 10, 12, 9)),
         breach("T-3", due=paris(2026, 10, 20, 14), delay=2 * H + 30 * MIN, metric="gtr",
                rule=GTR)],
        [Outage(paris(2026, 10, 15, 3), paris(2026, 10, 15, 5))],
        "2026-10",
    )
    assert amounts(result) == [("breach", D("100.00")), ("breach", D("100.00")),
                               ("breach", D("60.00")), ("availability", D("100.00")),
                               ("cap", D("-60.00"))]
    gtr_line = result.lines[2]
    assert (gtr_line.metric, gtr_line.priority_code, gtr_line.delay, gtr_line.started_hours) == (
        "gtr", "P1", 2 * H + 30 * MIN, 3)
    shortfall = result.lines[3]
    assert shortfall.downtime == 2 * H
    assert shortfall.scheduled == 745 * H
    assert shortfall.availability_percent.quantize(D("0.01")) == D("99.73")
    assert (shortfall.target_percent, shortfall.credit_percent) == (D("99.9"), D("10"))
    cap = result.lines[4]
    assert (cap.cap, cap.credits_before_cap) == (D("300.00"), D("360.00"))
    assert (result.total_excl_vat, result.vat, result.total_incl_vat) == (
        D("300.00"), D("60.00"), D("360.00"))
    assert not result.is_empty


# -- breaches: delay, started hours, amount --------------------------------------------------------


@pytest.mark.parametrize(
    ("delay", "hours"),
    [(timedelta(0), 0), (timedelta(microseconds=1), 1), (H, 1), (H + S, 2), (2 * H, 2),
     (2 * H + 30 * MIN, 3), (25 * H, 25)],
)
def test_started_hours(delay, hours):
    assert started_hours(delay) == hours


@pytest.mark.parametrize(
    ("fixed", "percent", "delay", "fee", "amount"),
    [
        ("100.00", "0", 2 * H + 30 * MIN, "1000.00", "100.00"),
        ("0", "2", 2 * H + 30 * MIN, "1000.00", "60.00"),
        ("0", "2", 2 * H, "1000.00", "40.00"),
        ("0", "2", timedelta(0), "1000.00", "0.00"),
        ("10.00", "1", H + S, "250.00", "15.00"),  # fixed plus 2 started hours of 2.50
        ("0", "2", H, "333.33", "6.67"),  # 6.6666
        ("0", "2", 3 * H, "333.33", "20.00"),  # 19.9998, rounded once per line (not 3 × 6.67)
        ("0", "0.5", H, "1.00", "0.01"),  # 0.005: half-up
        ("0", "0.5", H, "5.00", "0.03"),  # 0.025: half-up, where half-even would give 0.02
        ("0", "1.5", H, "0.33", "0.00"),  # 0.00495
        ("0.01", "0.125", H, "1.00", "0.01"),  # 0.01125
        ("12.34", "0", 40 * H, "99999.99", "12.34"),
    ],
)
def test_breach_amount(fixed, percent, delay, fee, amount):
    rule = PenaltyRule(fixed=D(fixed), percent_per_started_hour=D(percent))
    result = breach_amount(rule, delay, D(fee))
    assert result == D(amount)
    assert result.as_tuple().exponent == -2


MONTH_END = paris(2026, 11, 1)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        (breach(delay=2 * H + 30 * MIN), 2 * H + 30 * MIN),
        (breach(delay=timedelta(0)), timedelta(0)),
        (breach(delay=2 * H + timedelta(milliseconds=400)), 2 * H),  # whole seconds
        # stopped after the month: counted up to the end of the month (Paris midnight)
        (breach(due=paris(2026, 10, 31, 22), delay=5 * H), 2 * H),
        # still running at the end of the month, 24/7 (the fall-back night holds 25 h)
        (breach(due=paris(2026, 10, 24, 0), stopped=False), 193 * H),
        # still running, business hours: Thu 29 Oct 17:00 → Fri 18:00, Sat 31 is closed
        (breach(due=paris(2026, 10, 29, 17), stopped=False, calendar=BUSINESS), 11 * H),
        # stopped on Monday 2 Nov, business hours: counts to the month's end only
        (breach(due=paris(2026, 10, 30, 17), delay=3 * 24 * H, calendar=BUSINESS), H),
        # business hours: a stop on Saturday counts Friday's hours only
        (breach(due=paris(2026, 10, 23, 16), delay=24 * H, calendar=BUSINESS), 2 * H),
        # a pause after the due instant is no delay
        (breach(due=paris(2026, 10, 5, 10), delay=4 * H,
                pauses=((paris(2026, 10, 5, 11), paris(2026, 10, 5, 12)),)), 3 * H),
        # overlapping pauses, one starting before the due instant, one running past the stop
        (breach(due=paris(2026, 10, 5, 10), delay=4 * H,
                pauses=((paris(2026, 10, 5, 9), paris(2026, 10, 5, 11)),
                        (paris(2026, 10, 5, 10, 30), paris(2026, 10, 5, 11, 30)),
                        (paris(2026, 10, 5, 13), paris(2026, 10, 5, 20)))), 90 * MIN),
    ],
)
def test_breach_delay(case, expected):
    assert breach_delay(case, MONTH_END) == expected


def test_breach_delay_is_zero_when_stopped_before_due():
    case = BreachInput("T-1", "gti", "P1", paris(2026, 10, 5, 10), paris(2026, 10, 5, 9), ALWAYS,
                       GTI)
    assert breach_delay(case, MONTH_END) == timedelta(0)


def test_breach_still_open_at_month_end_is_priced_to_the_month_end_in_service_time():
    # 11 h of business hours late at the end of October: 11 started hours × 1 % of 400.00.
    late = breach(due=paris(2026, 10, 29, 17), stopped=False, calendar=BUSINESS, metric="gtr",
                  rule=PenaltyRule(percent_per_started_hour=D("1")))
    result = compute_credit(terms(monthly_fee=D("400.00"), credit_cap_percent=D("100")), [late],
                            [], "2026-10")
    (line,) = result.lines
    assert (line.stopped_at, line.counted_until) == (None, MONTH_END)
    assert (line.delay, line.started_hours, line.amount) == (11 * H, 11, D("44.00"))


def test_breach_due_outside_the_month_is_refused():
    early = breach(due=paris(2026, 9, 30, 23, 59))
    with pytest.raises(ValueError, match="outside 2026-10"):
        compute_credit(terms(), [early], [], "2026-10")


def test_breach_due_at_local_midnight_belongs_to_the_new_month():
    result = compute_credit(terms(), [breach(due=paris(2026, 11, 1))], [], "2026-11")
    assert amounts(result) == [("breach", D("100.00"))]


# -- outages, downtime, availability --------------------------------------------------------------

OCT_START, OCT_END = Month(2026, 10).bounds("Europe/Paris")


@pytest.mark.parametrize(
    ("outages", "expected"),
    [
        ([], timedelta(0)),
        ([(paris(2026, 10, 15, 3), paris(2026, 10, 15, 5))], 2 * H),
        # overlapping, contained, duplicated and touching outages are merged
        ([(paris(2026, 10, 15, 10), paris(2026, 10, 15, 12)),
          (paris(2026, 10, 15, 11), paris(2026, 10, 15, 13))], 3 * H),
        ([(paris(2026, 10, 15, 10), paris(2026, 10, 15, 18)),
          (paris(2026, 10, 15, 11), paris(2026, 10, 15, 12))], 8 * H),
        ([(paris(2026, 10, 15, 10), paris(2026, 10, 15, 12))] * 3, 2 * H),
        ([(paris(2026, 10, 15, 12), paris(2026, 10, 15, 13)),
          (paris(2026, 10, 15, 10), paris(2026, 10, 15, 12))], 3 * H),
        # disjoint outages add up
        ([(paris(2026, 10, 1), paris(2026, 10, 1, 1)),
          (paris(2026, 10, 31, 23), paris(2026, 11, 1))], 2 * H),
        # crossing the month's boundaries: only the part inside the month
        ([(paris(2026, 9, 30, 23), paris(2026, 10, 1, 1))], H),
        ([(paris(2026, 10, 31, 23), paris(2026, 11, 1, 1))], H),
        ([(paris(2026, 9, 30), paris(2026, 11, 2))], 745 * H),
        # outside the month, or empty
        ([(paris(2026, 11, 1), paris(2026, 11, 1, 5))], timedelta(0)),
        ([(paris(2026, 10, 15, 10), paris(2026, 10, 15, 10))], timedelta(0)),
        # the fall-back night: 00:00–06:00 local is 7 real hours
        ([(paris(2026, 10, 25), paris(2026, 10, 25, 6))], 7 * H),
        # still going: up to the end of the month
        ([(paris(2026, 10, 31, 20), None)], 4 * H),
    ],
)
def test_downtime_on_a_24_7_calendar(outages, expected):
    assert downtime([Outage(*pair) for pair in outages], OCT_START, OCT_END, ALWAYS) == expected


def test_downtime_counts_only_service_hours_on_a_business_calendar():
    outages = [Outage(paris(2026, 10, 16, 17), paris(2026, 10, 19, 9)),  # Fri 17:00 → Mon 09:00
               Outage(paris(2026, 10, 17, 10), paris(2026, 10, 17, 12))]  # Saturday
    assert downtime(outages, OCT_START, OCT_END, BUSINESS) == 2 * H


def test_outage_crossing_a_month_boundary_counts_its_part_in_each_month():
    crossing = Outage(paris(2026, 10, 31, 22, 30), paris(2026, 11, 1, 2))
    nov_start, nov_end = Month(2026, 11).bounds("Europe/Paris")
    assert downtime([crossing], OCT_START, OCT_END, ALWAYS) == 90 * MIN
    assert downtime([crossing], nov_start, nov_end, ALWAYS) == 2 * H


@pytest.mark.parametrize(
    ("down", "scheduled", "rounded"),
    [
        (2 * H, 745 * H, "99.7315"),
        (2 * H, 743 * H, "99.7308"),
        (2 * H, 744 * H, "99.7312"),
        (timedelta(0), 745 * H, "100.0000"),
        (745 * H, 745 * H, "0.0000"),
        (timedelta(0), timedelta(0), "100.0000"),
    ],
)
def test_availability(down, scheduled, rounded):
    result = availability(down, scheduled)
    assert isinstance(result, Decimal)
    assert result.quantize(D("0.0001")) == D(rounded)


def test_availability_keeps_full_precision():
    # 1 − 2/745 = 99.7315436241610738255033557046979865771812080536912751677852348993…
    assert str(availability(2 * H, 745 * H)).startswith("99.73154362416107382550335570469798")


def test_availability_refuses_more_downtime_than_scheduled():
    with pytest.raises(ValueError, match="downtime"):
        availability(3 * H, 2 * H)


@pytest.mark.parametrize(
    ("measured", "percent"),
    [("100", "0"), ("99.95", "0"), ("99.9", "0"), ("99.8999999", "10"), ("99.73", "10"),
     ("99.5", "10"), ("99.4999", "25"), ("99.4", "25"), ("0", "25")],
)
def test_availability_credit_percent_takes_the_lowest_tier_it_falls_below(measured, percent):
    assert availability_credit_percent(D(measured), TIERS) == D(percent)
    assert availability_credit_percent(D(measured), tuple(reversed(TIERS))) == D(percent)


def test_availability_credit_percent_without_tiers_is_zero():
    assert availability_credit_percent(D("12.5"), ()) == 0


# 99.9 % of October's 745 h leaves 2,682 s of downtime; of March's 743 h, 2,674.8 s.
@pytest.mark.parametrize(
    ("month", "seconds", "amounts_"),
    [
        ("2026-10", 2682, []),  # exactly 99.9 %: not below
        ("2026-10", 2683, [("availability", D("100.00"))]),
        ("2026-10", 13410, [("availability", D("100.00"))]),  # exactly 99.5 %
        ("2026-10", 13411, [("availability", D("250.00"))]),
        ("2026-03", 2674, []),
        ("2026-03", 2675, [("availability", D("100.00"))]),  # would not be credited in October
        ("2026-03", 13375, [("availability", D("250.00"))]),  # 743 h × 0.5 % = 13,374 s
    ],
)
def test_availability_tiers_at_their_boundaries_follow_the_month_length(month, seconds, amounts_):
    start, _ = Month.parse(month).bounds("Europe/Paris")
    outage = Outage(start + 10 * 24 * H, start + 10 * 24 * H + seconds * S)
    result = compute_credit(terms(credit_cap_percent=D("100")), [], [outage], month)
    assert amounts(result) == amounts_


def test_availability_on_a_business_calendar_is_measured_over_its_service_hours():
    # October 2026 has 22 working days in France (no holiday): 220 h; 1 h down → 99.5455 %.
    result = compute_credit(terms(availability_calendar=BUSINESS), [],
                            [Outage(paris(2026, 10, 15, 9), paris(2026, 10, 15, 10)),
                             Outage(paris(2026, 10, 17, 9), paris(2026, 10, 17, 20))],
                            "2026-10")
    (line,) = result.lines
    assert (line.downtime, line.scheduled, line.credit_percent) == (H, 220 * H, D("10"))
    assert line.availability_percent.quantize(D("0.0001")) == D("99.5455")


def test_no_availability_line_without_a_target():
    outage = Outage(paris(2026, 10, 15), paris(2026, 10, 16))
    result = compute_credit(terms(availability_target_percent=None, tiers=()), [], [outage],
                            "2026-10")
    assert result.lines == ()
    assert result.downtime == 24 * H  # still measured, for reports


# -- cap, waivers, VAT, empty months -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("cap_percent", "fixed", "count", "expected"),
    [
        ("30", "100.00", 2, [("breach", D("100.00"))] * 2),  # 200.00 under a 300.00 cap
        ("30", "100.00", 3, [("breach", D("100.00"))] * 3),  # exactly the cap: no cap line
        ("30", "100.00", 4, [("breach", D("100.00"))] * 4 + [("cap", D("-100.00"))]),
        ("0", "100.00", 1, [("breach", D("100.00")), ("cap", D("-100.00"))]),
        ("33.333", "100.00", 4, [("breach", D("100.00"))] * 4 + [("cap", D("-66.67"))]),
    ],
)
def test_cap(cap_percent, fixed, count, expected):
    breaches = [breach(f"T-{n}", rule=PenaltyRule(fixed=D(fixed))) for n in range(count)]
    result = compute_credit(terms(credit_cap_percent=D(cap_percent)), breaches, [], "2026-10")
    assert amounts(result) == expected
    assert result.total_excl_vat == sum(amount for _, amount in expected)


def test_cap_of_zero_percent_leaves_nothing_owed():
    result = compute_credit(terms(credit_cap_percent=D("0")), [breach()], [], "2026-10")
    assert result.total_excl_vat == D("0.00")
    assert result.is_empty


def test_waived_breach_credits_nothing_but_is_listed_as_waived():
    result = compute_credit(terms(), [breach("T-1"), breach("T-2", waived=True)], [], "2026-10")
    assert [line.reference for line in result.lines] == ["T-1"]
    assert [(line.reference, line.amount) for line in result.waived] == [("T-2", D("100.00"))]
    assert (result.total_excl_vat, result.vat, result.total_incl_vat) == (
        D("100.00"), D("20.00"), D("120.00"))


def test_month_with_only_waived_breaches_owes_nothing():
    result = compute_credit(terms(), [breach(waived=True)], [], "2026-10")
    assert result.lines == ()
    assert result.is_empty


def test_credits_not_subject_to_vat_carry_no_vat():
    result = compute_credit(terms(credits_subject_to_vat=False), [breach()], [], "2026-10")
    assert (result.total_excl_vat, result.vat, result.total_incl_vat) == (
        D("100.00"), D("0.00"), D("100.00"))
    assert result.credits_subject_to_vat is False


@pytest.mark.parametrize(
    ("fixed", "vat_rate", "vat"),
    [("33.33", "20", "6.67"),  # 6.666
     ("0.10", "5.5", "0.01"),  # 0.0055
     ("0.25", "10", "0.03"),  # 0.025: half-up
     ("100.00", "0", "0.00")],
)
def test_vat_is_rounded_half_up_on_the_total(fixed, vat_rate, vat):
    result = compute_credit(terms(vat_rate=D(vat_rate)), [breach(rule=PenaltyRule(fixed=D(fixed)))],
                            [], "2026-10")
    assert result.vat == D(vat)
    assert result.total_incl_vat == D(fixed) + D(vat)


def test_month_with_nothing_owed_has_no_lines_and_zero_totals():
    result = compute_credit(terms(), [], [], "2026-10")
    assert result.lines == () and result.waived == ()
    assert (result.total_excl_vat, result.vat, result.total_incl_vat) == (D("0.00"),) * 3
    assert all(amount.as_tuple().exponent == -2
               for amount in (result.total_excl_vat, result.vat, result.total_incl_vat))
    assert result.availability_percent == 100
    assert result.is_empty


def test_lines_are_ordered_breaches_by_due_then_availability_then_cap():
    result = compute_credit(
        terms(),
        [breach("T-9", due=paris(2026, 10, 20)), breach("T-2", due=paris(2026, 10, 3)),
         breach("T-5", due=paris(2026, 10, 3))],
        [Outage(paris(2026, 10, 2), paris(2026, 10, 2, 3))], "2026-10")
    assert [type(line) for line in result.lines] == [BreachLine] * 3 + [AvailabilityLine, CapLine]
    assert [line.reference for line in result.lines[:3]] == ["T-2", "T-5", "T-9"]
    assert [line.kind for line in result.lines] == [LineKind.BREACH] * 3 + [
        LineKind.AVAILABILITY, LineKind.CAP]


# -- inputs are validated ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [{"monthly_fee": 1000.0}, {"vat_rate": 0.2}, {"credit_cap_percent": "30"},
     {"availability_target_percent": 99.9}, {"tiers": ((99.9, D("10")),)}],
)
def test_terms_refuse_floats_and_strings(overrides):
    with pytest.raises(TypeError, match="must be a Decimal"):
        terms(**overrides)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [({"monthly_fee": D("-1")}, "must not be negative"),
     ({"vat_rate": D("NaN")}, "finite"),
     ({"availability_target_percent": None}, "need an availability target"),
     ({"tiers": (Tier(D("99"), D("10")), Tier(D("99"), D("20")))}, "same threshold"),
     ({"timezone": "Mars/Olympus"}, "unknown time zone")],
)
def test_terms_refuse_invalid_values(overrides, message):
    with pytest.raises(ValueError, match=message):
        terms(**overrides)


def test_penalty_rule_refuses_floats():
    with pytest.raises(TypeError, match="must be a Decimal"):
        PenaltyRule(fixed=100.0)


def test_inputs_refuse_naive_datetimes_and_reversed_intervals():
    with pytest.raises(ValueError, match="naive"):
        breach(due=datetime(2026, 10, 5, 10))
    with pytest.raises(ValueError, match="before it starts"):
        Outage(paris(2026, 10, 5, 10), paris(2026, 10, 5, 9))


def test_instants_are_kept_in_utc():
    case = breach(due=paris(2026, 10, 5, 10))
    assert case.due_at.tzinfo is UTC and case.due_at == paris(2026, 10, 5, 10)


# -- properties ----------------------------------------------------------------------------------------

_cents = st.integers(min_value=0, max_value=10_000_000).map(lambda n: D(n).scaleb(-2))
_percent = st.integers(min_value=0, max_value=100_000).map(lambda n: D(n).scaleb(-3))
_rule = st.builds(PenaltyRule, fixed=st.integers(0, 50_000).map(lambda n: D(n).scaleb(-2)),
                  percent_per_started_hour=st.integers(0, 5_000).map(lambda n: D(n).scaleb(-3)))
_MONTH_SECONDS = 745 * 3600


@st.composite
def _breaches(draw):
    due = OCT_START + draw(st.integers(0, _MONTH_SECONDS - 1)) * S
    delay = draw(st.one_of(st.none(), st.integers(0, 3 * 24 * 3600).map(lambda n: n * S)))
    return BreachInput(
        reference=f"T-{draw(st.integers(1, 9999))}", metric=draw(st.sampled_from(["gti", "gtr"])),
        priority_code="P1", due_at=due, stopped_at=None if delay is None else due + delay,
        calendar=draw(st.sampled_from([ALWAYS, BUSINESS])), rule=draw(_rule),
        waived=draw(st.booleans()))


@st.composite
def _outages(draw):
    start = OCT_START + draw(st.integers(-24 * 3600, _MONTH_SECONDS)) * S
    return Outage(start, start + draw(st.integers(0, 48 * 3600)) * S)


@st.composite
def _terms(draw):
    target = draw(st.one_of(st.none(), st.just(D("99.9"))))
    return Terms(monthly_fee=draw(_cents), vat_rate=draw(_percent.filter(lambda p: p <= 30)),
                 credit_cap_percent=draw(_percent), timezone="Europe/Paris",
                 credits_subject_to_vat=draw(st.booleans()),
                 availability_target_percent=target,
                 tiers=() if target is None else TIERS)


def _values(obj):
    """Every leaf value reachable from a computation (dataclasses and tuples walked)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for item in dataclasses.fields(obj):
            yield from _values(getattr(obj, item.name))
    elif isinstance(obj, tuple):
        for item in obj:
            yield from _values(item)
    else:
        yield obj


_PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, database=None,
                              suppress_health_check=[HealthCheck.too_slow])


@_PROPERTY_SETTINGS
@given(_terms(), st.lists(_breaches(), max_size=8), st.lists(_outages(), max_size=4))
def test_properties_of_a_month(contract, breaches, outages):
    result = compute_credit(contract, breaches, outages, "2026-10")
    money = [line.amount for line in result.lines] + [
        result.total_excl_vat, result.vat, result.total_incl_vat]
    # totals never exceed the cap and are the sums of the lines
    assert D(0) <= result.total_excl_vat <= contract.cap
    assert result.total_excl_vat == sum((line.amount for line in result.lines), D("0.00"))
    assert result.total_incl_vat == result.total_excl_vat + result.vat
    if not contract.credits_subject_to_vat:
        assert result.vat == 0
    # amounts are Decimals with exactly two places; no float anywhere
    assert all(isinstance(amount, Decimal) and amount.as_tuple().exponent == -2
               for amount in money)
    assert not any(isinstance(value, float) for value in _values(result))
    # one line per unwaived breach; at most one availability line and one cap line, last
    kinds = [line.kind for line in result.lines]
    assert kinds.count(LineKind.BREACH) == sum(not b.waived for b in breaches)
    assert len(result.waived) == sum(b.waived for b in breaches)
    assert kinds.count(LineKind.AVAILABILITY) <= 1 and kinds.count(LineKind.CAP) <= 1
    assert kinds == sorted(kinds, key=[LineKind.BREACH, LineKind.AVAILABILITY,
                                       LineKind.CAP].index)
    assert result.is_empty == (result.total_excl_vat == 0)


@_PROPERTY_SETTINGS
@given(st.lists(_outages(), max_size=6))
def test_downtime_is_at_most_the_month_and_order_free(outages):
    forward = downtime(outages, OCT_START, OCT_END, ALWAYS)
    assert forward == downtime(list(reversed(outages)), OCT_START, OCT_END, ALWAYS)
    assert timedelta(0) <= forward <= OCT_END - OCT_START
    assert forward <= sum((min(o.end, OCT_END) - max(o.start, OCT_START) for o in outages
                           if o.start < OCT_END and o.end > OCT_START), timedelta(0))


# -- purity --------------------------------------------------------------------------------------------


def test_credits_module_imports_only_the_standard_library_the_sla_engine_month_and_money():
    imported = imported_modules(credits.__file__)
    forbidden = [name for name in imported
                 if name.split(".")[0] not in sys.stdlib_module_names
                 and not (name in ("helpdesk.sla", "helpdesk.month", "helpdesk.money")
                          or name.startswith("helpdesk.sla."))]
    assert forbidden == []
