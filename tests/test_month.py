"""The month: how it is written and read, where it starts and ends in a zone, what comes next.

Plain values, no fixtures; properties over every month the helpdesk handles.
"""
import sys
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpdesk import month as month_module
from helpdesk.month import (
    EARLIEST,
    FIRST,
    LAST,
    LATEST,
    Month,
    MonthError,
    MonthOutOfRange,
    check_instant,
)
from tests.imports import imported_modules

PARIS = ZoneInfo("Europe/Paris")
H = timedelta(hours=1)
# What people and programs type that is not a month the helpdesk handles.
NOT_MONTHS = ["0000-01", "9999-12", "2026-13", "2026-00", "２０２６-１０", "٢٠٢٦-١٠", "2026-1", "",
              "26-10", "2026/10", "2026-10-01", " 2026-10", "2026-10\n", "october", "1999-12",
              "2100-01"]

months = st.builds(Month, st.integers(FIRST.year, LAST.year), st.integers(1, 12))


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


# -- writing and reading --------------------------------------------------------------------------


def test_a_month_is_written_yyyy_mm():
    assert str(Month(2026, 10)) == "2026-10"
    assert str(Month(2026, 1)) == "2026-01"


def test_parse_reads_what_str_writes():
    assert Month.parse("2026-10") == Month(2026, 10)


@given(months)
def test_parse_and_str_are_inverse(month):
    assert Month.parse(str(month)) == month


@pytest.mark.parametrize("text", NOT_MONTHS)
def test_parse_refuses_anything_but_ascii_yyyy_mm_within_the_bounds(text):
    with pytest.raises(MonthError):
        Month.parse(text)


@pytest.mark.parametrize("text", ["２０２６-１０", "٢٠٢٦-١٠"])
def test_parse_refuses_digits_that_int_would_accept(text):
    assert int(text[:4]) == 2026  # what a `\d` pattern and `int()` would have let through
    with pytest.raises(MonthError, match="ASCII digits"):
        Month.parse(text)


@pytest.mark.parametrize("text", [None, 202610, b"2026-10"])
def test_parse_refuses_what_is_not_text(text):
    with pytest.raises(MonthError, match="YYYY-MM"):
        Month.parse(text)


@pytest.mark.parametrize("text", ["0000-01", "9999-12", "1999-12", "2100-01"])
def test_months_out_of_the_bounds_say_the_bounds(text):
    with pytest.raises(MonthOutOfRange, match="2000-01 to 2099-12"):
        Month.parse(text)


@pytest.mark.parametrize("text", ["2026-13", "2026-00"])
def test_a_month_number_out_of_1_to_12_is_not_a_month(text):
    with pytest.raises(MonthError, match="01 to 12") as refused:
        Month.parse(text)
    assert not isinstance(refused.value, MonthOutOfRange)


def test_the_message_names_what_was_typed_and_how_to_write_a_month():
    with pytest.raises(MonthError) as refused:
        Month.parse("2026-1")
    assert str(refused.value) == ("'2026-1' is not a month: write it YYYY-MM, e.g. 2026-10, in "
                                  "ASCII digits")


def test_a_month_error_is_a_value_error():
    assert issubclass(MonthError, ValueError) and issubclass(MonthOutOfRange, MonthError)


def test_the_bounds_are_the_first_and_last_months_handled():
    assert (Month(2000, 1), Month(2099, 12)) == (FIRST, LAST)
    assert Month.parse("2000-01") == FIRST and Month.parse("2099-12") == LAST


@pytest.mark.parametrize("year, number", [(2026, 0), (2026, 13), (1999, 12), (2100, 1)])
def test_a_month_cannot_be_built_out_of_bounds(year, number):
    with pytest.raises(MonthError):
        Month(year, number)


@pytest.mark.parametrize("year, number", [("2026", 10), (2026, 10.0), (2026, True)])
def test_a_month_is_built_from_ints(year, number):
    with pytest.raises(TypeError):
        Month(year, number)


@pytest.mark.parametrize("month, label", [(Month(2025, 6), "June 2025"),
                                          (Month(2026, 1), "January 2026"),
                                          (Month(2026, 12), "December 2026")])
def test_the_label_is_the_english_name(month, label):
    assert month.label == label


# -- a plain value --------------------------------------------------------------------------------


def test_months_are_ordered_by_time():
    assert Month(2025, 12) < Month(2026, 1) < Month(2026, 2)
    assert sorted([Month(2026, 3), Month(2025, 11), Month(2026, 1)]) == [
        Month(2025, 11), Month(2026, 1), Month(2026, 3)]


def test_equal_months_are_one_key():
    assert {Month(2026, 10), Month.parse("2026-10")} == {Month(2026, 10)}


def test_a_month_cannot_change():
    with pytest.raises(AttributeError):
        Month(2026, 10).number = 11


# -- in a zone ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("month", "zone", "hours"),
    [
        ("2026-10", "Europe/Paris", 745),  # ends with the fall-back night
        ("2026-03", "Europe/Paris", 743),  # holds the spring-forward night
        ("2026-02", "Europe/Paris", 672),
        ("2026-12", "Europe/Paris", 744),
        ("2026-10", "UTC", 744),
        ("2026-11", "America/New_York", 721),  # fall back on 1 November
    ],
)
def test_the_length_of_a_month_follows_the_zone(month, zone, hours):
    start, end = Month.parse(month).bounds(zone)
    assert end - start == hours * H


def test_bounds_are_local_midnights_as_utc_instants():
    start, end = Month(2026, 12).bounds("Europe/Paris")
    assert (start, end) == (paris(2026, 12, 1), paris(2027, 1, 1))
    assert start.tzinfo is UTC and end.tzinfo is UTC


def test_bounds_take_a_tzinfo_too():
    assert Month(2026, 10).bounds(PARIS) == Month(2026, 10).bounds("Europe/Paris")


def test_bounds_of_the_last_month_end_on_the_first_day_after_it():
    assert Month(2099, 12).bounds("UTC")[1] == datetime(2100, 1, 1, tzinfo=UTC)


def test_bounds_refuse_unknown_zones():
    with pytest.raises(ValueError, match="unknown time zone"):
        Month(2026, 10).bounds("Europe/Atlantis")


@given(months.filter(lambda month: month < LAST))
def test_bounds_are_contiguous_across_daylight_saving_time_in_paris(month):
    start, end = month.bounds("Europe/Paris")
    assert start < end
    assert end == month.next().bounds("Europe/Paris")[0]
    assert start.astimezone(PARIS).timetuple()[2:6] == (1, 0, 0, 0)  # the 1st, at midnight


@pytest.mark.parametrize(
    ("at", "month"),
    [
        (datetime(2026, 10, 31, 22, 59, tzinfo=UTC), "2026-10"),  # 23:59 in Paris
        (datetime(2026, 10, 31, 23, 0, tzinfo=UTC), "2026-11"),  # midnight in Paris
        (datetime(2026, 3, 31, 21, 59, tzinfo=UTC), "2026-03"),  # 23:59 CEST
        (datetime(2026, 3, 31, 22, 0, tzinfo=UTC), "2026-04"),
        (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "2027-01"),  # New Year's Day in Paris
    ],
)
def test_the_month_of_an_instant_is_counted_in_the_zone(at, month):
    assert Month.of(at, "Europe/Paris") == Month.parse(month)


def test_the_month_of_an_instant_takes_a_tzinfo_too():
    assert Month.of(datetime(2026, 12, 31, 23, 30, tzinfo=UTC), PARIS) == Month(2027, 1)


def test_the_month_of_a_naive_instant_is_refused():
    with pytest.raises(ValueError, match="aware"):
        Month.of(datetime(2026, 10, 1), "Europe/Paris")


@pytest.mark.parametrize("at", [datetime(1999, 12, 31, 12, tzinfo=UTC),
                                datetime(2100, 1, 1, 12, tzinfo=UTC),
                                datetime.min.replace(tzinfo=UTC)])
def test_the_month_of_an_instant_out_of_bounds_is_refused(at):
    with pytest.raises(MonthOutOfRange):
        Month.of(at, "Europe/Paris")


@given(months, st.sampled_from(["Europe/Paris", "America/New_York", "Pacific/Kiritimati",
                                "Pacific/Pago_Pago", "UTC"]))
def test_a_month_holds_the_instants_of_its_bounds(month, zone):
    start, end = month.bounds(zone)
    assert Month.of(start, zone) == month
    assert Month.of(end - timedelta(microseconds=1), zone) == month


# -- days -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("month, first, last", [
    (Month(2026, 2), date(2026, 2, 1), date(2026, 2, 28)),
    (Month(2028, 2), date(2028, 2, 1), date(2028, 2, 29)),
    (Month(2026, 12), date(2026, 12, 1), date(2026, 12, 31)),
    (Month(2099, 12), date(2099, 12, 1), date(2099, 12, 31)),
])
def test_first_and_last_days(month, first, last):
    assert (month.first_day, month.last_day) == (first, last)


@given(months)
def test_the_days_run_from_the_first_to_the_last(month):
    days = list(month.days())
    assert (days[0], days[-1]) == (month.first_day, month.last_day)
    assert all(later - earlier == timedelta(days=1) for earlier, later in pairwise(days))


# -- previous, next, between ----------------------------------------------------------------------


@pytest.mark.parametrize("month, previous, following", [
    (Month(2026, 10), Month(2026, 9), Month(2026, 11)),
    (Month(2026, 1), Month(2025, 12), Month(2026, 2)),
    (Month(2026, 12), Month(2026, 11), Month(2027, 1)),
])
def test_previous_and_next(month, previous, following):
    assert (month.previous(), month.next()) == (previous, following)


@given(months.filter(lambda month: FIRST < month < LAST))
def test_next_and_previous_are_inverse(month):
    assert month.next().previous() == month == month.previous().next()


@given(months, st.integers(-24, 24))
def test_plus_moves_by_whole_months(month, count):
    try:
        moved = month.plus(count)
    except MonthOutOfRange:
        return
    assert month.months_to(moved) == count
    assert moved.plus(-count) == month


def test_plus_past_the_bounds_is_refused():
    with pytest.raises(MonthOutOfRange):
        LAST.next()
    with pytest.raises(MonthOutOfRange):
        FIRST.previous()


def test_plus_crosses_years():
    assert Month(2026, 2).plus(-5) == Month(2025, 9)
    assert Month(2026, 11).plus(14) == Month(2028, 1)


def test_through_lists_the_months_both_included():
    assert Month(2025, 11).through(Month(2026, 2)) == (
        Month(2025, 11), Month(2025, 12), Month(2026, 1), Month(2026, 2))
    assert Month(2026, 2).through(Month(2026, 2)) == (Month(2026, 2),)


def test_through_a_month_that_comes_first_is_empty():
    assert Month(2026, 2).through(Month(2026, 1)) == ()


@given(months, months)
def test_months_to_counts_the_steps(first, last):
    assert first.months_to(last) == -last.months_to(first)
    assert len(first.through(last)) == max(first.months_to(last) + 1, 0)


# -- instants -------------------------------------------------------------------------------------


@pytest.mark.parametrize("at", [datetime(2026, 11, 30, 9, tzinfo=UTC), EARLIEST,
                                LATEST - timedelta(microseconds=1)])
def test_instants_within_the_bounds_pass_in_utc(at):
    assert check_instant(at.astimezone(PARIS)) == at
    assert check_instant(at).tzinfo is UTC


@pytest.mark.parametrize("at", [EARLIEST - timedelta(microseconds=1), LATEST,
                                datetime.min.replace(tzinfo=ZoneInfo("Europe/Paris")),
                                datetime.max.replace(tzinfo=ZoneInfo("America/New_York"))])
def test_instants_out_of_the_bounds_are_refused_without_overflowing(at):
    with pytest.raises(MonthOutOfRange, match="2000-01-02 to 2099-12-31 UTC"):
        check_instant(at, "typed")


@given(st.datetimes(min_value=EARLIEST.replace(tzinfo=None),
                    max_value=(LATEST - timedelta(microseconds=1)).replace(tzinfo=None)),
       st.sampled_from(["Pacific/Kiritimati", "Pacific/Pago_Pago", "Europe/Paris"]))
def test_every_zone_agrees_an_instant_within_the_bounds_has_a_month(naive, zone):
    Month.of(naive.replace(tzinfo=UTC), zone)


# -- layering -------------------------------------------------------------------------------------


def test_the_month_module_imports_only_the_standard_library():
    imported = imported_modules(month_module.__file__)
    assert [name for name in imported if name.split(".")[0] not in sys.stdlib_module_names] == []
