"""Calendar: examples that must hold, validation, and a minute-by-minute brute-force reference."""

import functools
import pickle
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpdesk.sla.calendar import Calendar

PARIS = ZoneInfo("Europe/Paris")
H = timedelta(hours=1)
MIN = timedelta(minutes=1)
WORKDAYS = {day: [("08:00", "18:00")] for day in range(5)}
BUSINESS = Calendar("Europe/Paris", WORKDAYS, holidays_country="FR")
ALWAYS = Calendar.always(timezone="Europe/Paris")


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# -- examples that must hold ----------------------------------------------------------------------


def test_add_starts_counting_at_next_opening_when_opened_on_saturday():
    assert BUSINESS.add(paris(2026, 11, 28, 10), H) == utc(2026, 11, 30, 8)


def test_elapsed_counts_only_service_hours_over_a_weekend():
    assert BUSINESS.elapsed(paris(2026, 11, 27, 17), paris(2026, 11, 30, 9)) == 2 * H


def test_add_on_always_is_absolute_time_across_spring_forward():
    assert ALWAYS.add(paris(2026, 3, 28, 22), 4 * H) == utc(2026, 3, 29, 1)


def test_add_due_falls_at_end_of_window_not_at_next_opening():
    assert BUSINESS.add(paris(2026, 11, 27, 16), 2 * H) == paris(2026, 11, 27, 18)


def test_add_zero_returns_start_even_when_closed():
    saturday = paris(2026, 11, 28, 10)
    assert BUSINESS.add(saturday, timedelta(0)) == saturday


def test_add_crosses_a_public_holiday():
    # Thursday 2026-12-24 17:00 + 2 h: Christmas Friday is closed, so Monday 2026-12-28 09:00.
    assert BUSINESS.add(paris(2026, 12, 24, 17), 2 * H) == paris(2026, 12, 28, 9)


def test_add_crosses_a_closure_date():
    closing = Calendar("Europe/Paris", WORKDAYS, holidays_country="FR", closures=[date(2026, 12, 24)])
    assert closing.add(paris(2026, 12, 23, 17), 2 * H) == paris(2026, 12, 28, 9)


def test_add_returns_utc():
    assert BUSINESS.add(paris(2026, 11, 27, 9), H).tzinfo is UTC


@pytest.mark.parametrize(
    ("night_start", "night_end", "expected"),
    [
        (paris(2026, 3, 29, 0), paris(2026, 3, 30, 0), 5 * H),  # spring forward
        (paris(2026, 10, 25, 0), paris(2026, 10, 26, 0), 7 * H),  # fall back
        (paris(2026, 6, 14, 0), paris(2026, 6, 15, 0), 6 * H),
    ],
)
def test_elapsed_of_night_window_is_real_time_across_dst(night_start, night_end, expected):
    night = Calendar("Europe/Paris", {6: [("00:00", "06:00")]})
    assert night.elapsed(night_start, night_end) == expected


def test_elapsed_window_starting_in_skipped_hour_starts_at_transition():
    # 02:30 does not exist on 2026-03-29 in Paris; the window covers 03:00–04:00 CEST.
    late = Calendar("Europe/Paris", {6: [("02:30", "04:00")]})
    assert late.elapsed(paris(2026, 3, 29), paris(2026, 3, 30)) == H
    assert late.next_open(paris(2026, 3, 29)) == utc(2026, 3, 29, 1)


def test_window_boundary_in_repeated_hour_counts_wall_clock_readings_inside_window():
    # On 2026-10-25 Paris shows 02:00–03:00 twice. A 02:30–06:00 window counts while the wall
    # clock reads 02:30–06:00: 02:30–03:00 CEST, then 02:30–06:00 CET (not 02:00–02:30 CET).
    early = Calendar("Europe/Paris", {6: [("02:30", "06:00")]})
    assert early.elapsed(paris(2026, 10, 25), paris(2026, 10, 26)) == 4 * H
    assert early.is_open(utc(2026, 10, 25, 0, 45))  # 02:45 CEST
    assert not early.is_open(utc(2026, 10, 25, 1, 15))  # 02:15 CET
    assert early.is_open(utc(2026, 10, 25, 1, 45))  # 02:45 CET


def test_elapsed_window_ending_at_midnight_joins_next_day_window():
    overnight = Calendar("Europe/Paris", {0: [("22:00", "24:00")], 1: [("00:00", "06:00")]})
    assert overnight.add(paris(2026, 11, 30, 23), 3 * H) == paris(2026, 12, 1, 2)
    assert overnight.elapsed(paris(2026, 11, 30), paris(2026, 12, 2)) == 8 * H


def test_elapsed_of_midnight_spring_forward_day_in_santiago():
    # On 2026-09-06 Santiago jumps from 00:00 to 01:00: the 24 h day window holds 23 h.
    sunday = Calendar("America/Santiago", {6: [("00:00", "24:00")]})
    zone = ZoneInfo("America/Santiago")
    day = datetime(2026, 9, 6, 12, tzinfo=zone)
    assert sunday.elapsed(day - timedelta(days=2), day + timedelta(days=2)) == 23 * H


def test_elapsed_of_midnight_fall_back_day_in_santiago():
    # On 2026-04-04 at 24:00 Santiago goes back to 23:00: Saturday lasts 25 h.
    saturday = Calendar("America/Santiago", {5: [("00:00", "24:00")]})
    zone = ZoneInfo("America/Santiago")
    day = datetime(2026, 4, 4, 12, tzinfo=zone)
    assert saturday.elapsed(day - timedelta(days=2), day + timedelta(days=2)) == 25 * H


def test_elapsed_uses_subdivision_holidays_for_alsace():
    # Good Friday 2026-04-03 is a holiday in Alsace-Moselle, not in the rest of France.
    alsace = Calendar("Europe/Paris", WORKDAYS, holidays_country="FR", holidays_subdiv="Alsace")
    friday = (paris(2026, 4, 3), paris(2026, 4, 4))
    assert alsace.elapsed(*friday) == timedelta(0)
    assert BUSINESS.elapsed(*friday) == 10 * H


def test_always_ignores_holidays():
    assert ALWAYS.elapsed(paris(2026, 12, 25), paris(2026, 12, 26)) == 24 * H
    assert ALWAYS.is_open(paris(2026, 12, 25, 3))


def test_elapsed_of_full_days_calendar_is_real_time_over_years():
    # Crosses the engine's internal spans and several years.
    every_day = Calendar("UTC", {day: [("00:00", "24:00")] for day in range(7)})
    start, end = utc(2025, 3, 1, 5, 17), utc(2029, 7, 2, 3, 1)
    assert every_day.elapsed(start, end) == end - start
    assert every_day.add(start, end - start) == end


def test_add_of_long_duration_matches_elapsed():
    start = paris(2026, 2, 3, 11, 27)
    due = BUSINESS.add(start, 20_000 * H)
    assert BUSINESS.elapsed(start, due) == 20_000 * H
    assert BUSINESS.elapsed(start, due - timedelta(microseconds=1)) < 20_000 * H


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (paris(2026, 11, 30, 8), True),
        (paris(2026, 11, 30, 17, 59), True),
        (paris(2026, 11, 30, 18), False),
        (paris(2026, 11, 30, 7, 59), False),
        (paris(2026, 11, 28, 10), False),  # Saturday
        (paris(2026, 12, 25, 10), False),  # Christmas
    ],
)
def test_is_open_follows_half_open_windows(at, expected):
    assert BUSINESS.is_open(at) is expected


def test_next_open_returns_same_instant_in_utc_when_open():
    at = paris(2026, 11, 30, 9, 30)
    assert BUSINESS.next_open(at) == at
    assert BUSINESS.next_open(at).tzinfo is UTC


def test_next_open_skips_weekend_and_christmas():
    assert BUSINESS.next_open(paris(2026, 12, 24, 18)) == paris(2026, 12, 28, 8)


def test_open_intervals_lists_service_parts_in_utc():
    assert BUSINESS.open_intervals(paris(2026, 11, 27, 17), paris(2026, 11, 30, 9)) == [
        (utc(2026, 11, 27, 16), utc(2026, 11, 27, 17)),
        (utc(2026, 11, 30, 7), utc(2026, 11, 30, 8)),
    ]


# -- refusals and validation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda cal, naive: cal.add(naive, H),
        lambda cal, naive: cal.elapsed(naive, utc(2027, 1, 1)),
        lambda cal, naive: cal.elapsed(utc(2026, 1, 1), naive),
        lambda cal, naive: cal.is_open(naive),
        lambda cal, naive: cal.next_open(naive),
    ],
)
@pytest.mark.parametrize("calendar", [BUSINESS, ALWAYS])
def test_naive_datetimes_are_refused(call, calendar):
    with pytest.raises(ValueError, match="naive"):
        call(calendar, datetime(2026, 11, 30, 9))


def test_non_datetime_is_refused():
    with pytest.raises(TypeError, match="datetime"):
        BUSINESS.add(date(2026, 11, 30), H)


def test_elapsed_refuses_end_before_start():
    with pytest.raises(ValueError, match="before start"):
        BUSINESS.elapsed(utc(2026, 11, 30), utc(2026, 11, 29))


@pytest.mark.parametrize("duration", [timedelta(seconds=-1), 3600])
def test_add_refuses_negative_or_non_timedelta_durations(duration):
    with pytest.raises((ValueError, TypeError), match="duration"):
        BUSINESS.add(utc(2026, 11, 30), duration)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timezone": "Europe/Pariss"}, "unknown time zone"),
        ({"weekly": {0: [("8:00", "18:00")]}}, "malformed time"),
        ({"weekly": {0: [("08:60", "18:00")]}}, "not a time of day"),
        ({"weekly": {0: [("08:00", "24:30")]}}, "not a time of day"),
        ({"weekly": {0: [("24:00", "24:00")]}}, "cannot start at 24:00"),
        ({"weekly": {0: [("18:00", "08:00")]}}, "must start before it ends"),
        ({"weekly": {0: [("08:00", "08:00")]}}, "must start before it ends"),
        ({"weekly": {0: [("08:00", "12:00"), ("11:00", "14:00")]}}, "overlap"),
        ({"weekly": {7: [("08:00", "12:00")]}}, "unknown weekday"),
        ({"weekly": {0: [("08:00", "12:00")], "mon": [("13:00", "14:00")]}}, "twice"),
        ({"weekly": {0: [("08:00",)]}}, "pair"),
        ({"weekly": {}}, "no opening window"),
        ({"holidays_country": "XX"}, "unknown holidays country"),
        ({"holidays_country": "FR", "holidays_subdiv": "ZZ"}, "unknown holidays subdivision"),
        ({"holidays_subdiv": "57"}, "needs holidays_country"),
        ({"closures": ["2026-13-01"]}, "not an ISO date"),
    ],
)
def test_constructor_rejects_invalid_definitions(kwargs, message):
    arguments = {"timezone": "Europe/Paris", "weekly": WORKDAYS, **kwargs}
    with pytest.raises(ValueError, match=message):
        Calendar(**arguments)


def test_constructor_rejects_deprecated_subdivision_without_warning():
    with pytest.raises(ValueError, match="unknown holidays subdivision"):
        Calendar("Europe/Paris", WORKDAYS, holidays_country="FR", holidays_subdiv="Alsace-Moselle")


def test_always_refuses_weekly_windows():
    with pytest.raises(ValueError, match="24/7"):
        Calendar("Europe/Paris", WORKDAYS, always=True)


# -- identity -----------------------------------------------------------------------------------


def test_day_keys_may_be_ints_or_names_and_touching_windows_merge():
    by_name = Calendar("Europe/Paris", {"mon": [("08:00", "12:00"), ("12:00", "18:00")]})
    by_int = Calendar("Europe/Paris", {0: [("08:00", "18:00")]})
    assert by_name == by_int
    assert hash(by_name) == hash(by_int)


def test_timezone_may_be_given_as_zoneinfo():
    assert Calendar(PARIS, WORKDAYS, holidays_country="FR") == BUSINESS


def test_calendar_is_immutable():
    with pytest.raises(AttributeError):
        BUSINESS.timezone = "UTC"


def test_calendar_survives_pickling_and_weekly_round_trips():
    assert pickle.loads(pickle.dumps(BUSINESS)) == BUSINESS
    assert pickle.loads(pickle.dumps(ALWAYS)) == ALWAYS
    rebuilt = Calendar(BUSINESS.timezone, BUSINESS.weekly, holidays_country="FR")
    assert rebuilt == BUSINESS


def test_calendar_exposes_its_definition():
    assert (BUSINESS.timezone, BUSINESS.is_always, ALWAYS.is_always) == ("Europe/Paris", False, True)
    assert (BUSINESS.holidays_country, BUSINESS.holidays_subdiv, BUSINESS.closures) == ("FR", None, ())


@pytest.mark.parametrize(
    ("calendar", "label"),
    [
        (ALWAYS, "24/7"),
        (BUSINESS, "Mon–Fri 08:00–18:00"),
        (
            Calendar("UTC", {**{d: [("08:00", "12:00"), ("14:00", "18:00")] for d in range(5)},
                             5: [("09:00", "12:00")]}),
            "Mon–Fri 08:00–12:00, 14:00–18:00; Sat 09:00–12:00",
        ),
        (
            Calendar("UTC", {0: [("08:00", "18:00")], 2: [("08:00", "18:00")], 3: [("08:00", "18:00")],
                             6: [("00:00", "24:00")]}),
            "Mon, Wed–Thu 08:00–18:00; Sun 00:00–24:00",
        ),
    ],
)
def test_describe_gives_short_label(calendar, label):
    assert calendar.describe() == label


# -- brute-force reference ----------------------------------------------------------------------
#
# A minute counts when the local wall clock at that minute shows a time inside a window of the
# local date it shows, that date being neither a holiday nor a closure. Every zone used here has
# offsets and transitions on whole minutes and windows are on quarter hours, so a minute is
# either wholly in service or wholly out.

ZONES = [
    "Europe/Paris", "America/New_York", "America/Santiago", "Australia/Lord_Howe",
    "Asia/Kathmandu", "Pacific/Chatham", "Europe/London", "UTC",
]
HOLIDAYS = [None, ("FR", None), ("FR", "Alsace"), ("FR", "974"), ("US", "NY")]
FIRST = utc(2026, 1, 1)
LAST = utc(2028, 1, 1)
MINUTES = int((LAST - FIRST) / MIN)


@functools.cache
def reference_holidays(country: str, subdiv: str | None, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays(country, subdiv=subdiv, years=year))


@functools.cache
def transitions(zone_name: str) -> tuple[datetime, ...]:
    """UTC instants (to the minute) where the zone's offset changes between FIRST and LAST."""
    zone = ZoneInfo(zone_name)
    found = []
    hour = FIRST
    while hour < LAST:
        following = hour + H
        if hour.astimezone(zone).utcoffset() != following.astimezone(zone).utcoffset():
            minute = hour
            while minute.astimezone(zone).utcoffset() == hour.astimezone(zone).utcoffset():
                minute += MIN
            found.append(minute)
        hour = following
    return tuple(found)


def reference_open(spec: dict, minute: datetime) -> bool:
    local = minute.astimezone(spec["zone"])
    if local.date() in spec["closures"]:
        return False
    if spec["holidays"] and local.date() in reference_holidays(*spec["holidays"], local.year):
        return False
    of_day = local.hour * 60 + local.minute
    return any(start <= of_day < end for start, end in spec["windows"][local.weekday()])


def reference_flags(spec: dict, start: datetime, minutes: int) -> list[bool]:
    return [reference_open(spec, start + index * MIN) for index in range(minutes)]


def as_clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@st.composite
def calendar_specs(draw, zone_name=None, around=None):
    """A random calendar and its plain description; closures fall within 12 days of `around`."""
    zone_name = zone_name or draw(st.sampled_from(ZONES))
    windows = []
    for _day in range(7):
        if draw(st.booleans()):
            points = draw(st.sets(st.integers(0, 96), min_size=2, max_size=6))
            points = sorted(points)[: len(points) // 2 * 2]
            windows.append([(points[i] * 15, points[i + 1] * 15) for i in range(0, len(points), 2)])
        else:
            windows.append([])
    if not any(windows):
        windows[draw(st.integers(0, 6))] = [(8 * 60, 18 * 60)]
    holiday_rule = draw(st.sampled_from(HOLIDAYS))
    if around is None:
        closures = draw(st.frozensets(st.dates(date(2026, 1, 1), date(2027, 12, 31)), max_size=25))
    else:
        offsets = draw(st.frozensets(st.integers(-1, 12), max_size=5))
        closures = frozenset(around + timedelta(days=offset) for offset in offsets)
    calendar = Calendar(
        zone_name,
        {day: [(as_clock(s), as_clock(e)) for s, e in day_windows]
         for day, day_windows in enumerate(windows) if day_windows},
        holidays_country=holiday_rule[0] if holiday_rule else None,
        holidays_subdiv=holiday_rule[1] if holiday_rule else None,
        closures=closures,
    )
    spec = {"zone": ZoneInfo(zone_name), "windows": windows, "holidays": holiday_rule,
            "closures": closures}
    return calendar, spec


@st.composite
def starts(draw, zone_name: str):
    """Minute-aligned UTC instants over 2026–2027, often close to a DST transition."""
    near = transitions(zone_name)
    if near and draw(st.booleans()):
        return draw(st.sampled_from(near)) + draw(st.integers(-2 * 24 * 60, 60)) * MIN
    return FIRST + draw(st.integers(0, MINUTES - 15 * 24 * 60)) * MIN


def check_against_reference(calendar, spec, start, minutes, counts=(), probes=()):
    """Compare elapsed, add, is_open and next_open with the reference over `minutes` from `start`."""
    flags = reference_flags(spec, start, minutes)
    assert calendar.elapsed(start, start + minutes * MIN) == sum(flags) * MIN

    open_minutes = [index for index, flag in enumerate(flags) if flag]
    for count in {0, 1, len(open_minutes), *counts}:
        if count > len(open_minutes):
            continue
        expected = start if count == 0 else start + (open_minutes[count - 1] + 1) * MIN
        assert calendar.add(start, count * MIN) == expected, count

    changes = [i for i in range(1, minutes) if flags[i] != flags[i - 1]]
    for index in sorted({*changes, *(i - 1 for i in changes), *probes}):
        if not 0 <= index < minutes:
            continue
        at = start + index * MIN
        assert calendar.is_open(at) is flags[index], at
        following = next((i for i in range(index, minutes) if flags[i]), None)
        if following is not None:
            assert calendar.next_open(at) == start + following * MIN, at


REFERENCE = settings(max_examples=100, deadline=None, database=None,
                     suppress_health_check=[HealthCheck.too_slow])


@REFERENCE
@given(data=st.data())
def test_add_elapsed_is_open_match_brute_force_reference(data):
    zone_name = data.draw(st.sampled_from(ZONES))
    start = data.draw(starts(zone_name))
    calendar, spec = data.draw(calendar_specs(zone_name, around=start.date()))
    minutes = data.draw(st.one_of(st.integers(0, 24 * 60), st.integers(3 * 24 * 60, 10 * 24 * 60)))
    counts = data.draw(st.lists(st.integers(1, max(minutes, 1)), max_size=5))
    probes = data.draw(st.lists(st.integers(0, max(minutes - 1, 0)), max_size=10))
    check_against_reference(calendar, spec, start, minutes, counts, probes)


@pytest.mark.parametrize(
    "first_day",
    [date(2026, 4, 1), date(2026, 5, 6), date(2026, 12, 22), date(2027, 3, 24), date(2027, 12, 23)],
)
def test_holidays_and_closures_match_brute_force_reference(first_day):
    windows = [[(8 * 60, 12 * 60), (14 * 60, 18 * 60)]] * 5 + [[(9 * 60, 12 * 60)], []]
    closures = frozenset({first_day + timedelta(days=1), date(2027, 12, 24)})
    calendar = Calendar("Europe/Paris", {day: [(as_clock(s), as_clock(e)) for s, e in w]
                                         for day, w in enumerate(windows) if w},
                        holidays_country="FR", holidays_subdiv="Alsace", closures=closures)
    spec = {"zone": PARIS, "windows": windows, "holidays": ("FR", "Alsace"), "closures": closures}
    start = datetime.combine(first_day, datetime.min.time(), PARIS).astimezone(UTC)
    check_against_reference(calendar, spec, start, 8 * 24 * 60, counts=range(0, 8 * 24 * 60, 30))


TRICKY_WINDOWS = {
    "night": [(0, 6 * 60)],
    "inside transition hours": [(60, 150), (150, 195), (22 * 60, 24 * 60)],
    "around midnight": [(0, 60), (23 * 60, 24 * 60)],
    "whole day": [(0, 24 * 60)],
}


@pytest.mark.parametrize("windows", TRICKY_WINDOWS.values(), ids=TRICKY_WINDOWS.keys())
@pytest.mark.parametrize("zone_name", [zone for zone in ZONES if transitions(zone)])
def test_every_dst_transition_matches_brute_force_reference(zone_name, windows):
    calendar = Calendar(zone_name, {day: [(as_clock(s), as_clock(e)) for s, e in windows]
                                    for day in range(7)})
    spec = {"zone": ZoneInfo(zone_name), "windows": [windows] * 7, "holidays": None,
            "closures": frozenset()}
    for transition in transitions(zone_name):
        check_against_reference(calendar, spec, transition - 24 * H, 2 * 24 * 60,
                                counts=range(0, 2 * 24 * 60, 45))


# -- properties -----------------------------------------------------------------------------------

PROPERTIES = settings(max_examples=150, deadline=None, database=None,
                      suppress_health_check=[HealthCheck.too_slow])
instants = st.integers(0, int((LAST - FIRST) / timedelta(microseconds=1))).map(
    lambda us: FIRST + timedelta(microseconds=us)
)
durations = st.integers(0, 600 * 3600 * 10**6).map(lambda us: timedelta(microseconds=us))


@PROPERTIES
@given(data=st.data(), start=instants, duration=durations)
def test_elapsed_until_add_is_the_duration(data, start, duration):
    calendar, _spec = data.draw(calendar_specs())
    due = calendar.add(start, duration)
    assert due >= start
    assert calendar.elapsed(start, due) == duration


@PROPERTIES
@given(data=st.data(), start=instants, duration=durations)
def test_add_returns_earliest_instant(data, start, duration):
    calendar, _spec = data.draw(calendar_specs())
    due = calendar.add(start, duration)
    if duration and due > start:
        assert calendar.elapsed(start, due - timedelta(microseconds=1)) < duration


@PROPERTIES
@given(data=st.data(), start=instants, first=durations, second=durations)
def test_elapsed_is_additive_and_add_composes(data, start, first, second):
    calendar, _spec = data.draw(calendar_specs())
    middle = calendar.add(start, first)
    end = calendar.add(middle, second)
    assert calendar.elapsed(start, middle) + calendar.elapsed(middle, end) == calendar.elapsed(start, end)
    assert calendar.elapsed(start, end) == first + second


@PROPERTIES
@given(data=st.data(), start=instants, first=durations, second=durations)
def test_add_is_monotonic_in_duration(data, start, first, second):
    calendar, _spec = data.draw(calendar_specs())
    shorter, longer = sorted((first, second))
    assert calendar.add(start, shorter) <= calendar.add(start, longer)


@PROPERTIES
@given(data=st.data(), at=instants)
def test_next_open_is_open_and_nothing_is_open_before_it(data, at):
    calendar, _spec = data.draw(calendar_specs())
    following = calendar.next_open(at)
    assert following >= at
    assert calendar.is_open(following)
    assert calendar.elapsed(at, following) == timedelta(0)
