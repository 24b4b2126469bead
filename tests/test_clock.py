"""The app's one clock: the system's, or a stand-in frozen at an instant or running from one."""
from datetime import UTC, datetime, timedelta, timezone

import pytest

from helpdesk.clock import Clock, now_utc

NEW_YEARS_EVE = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)


def test_a_frozen_clock_stands_still_until_moved():
    clock = Clock()
    clock.freeze(NEW_YEARS_EVE)
    assert clock.now() == clock.now() == NEW_YEARS_EVE
    assert clock.advance(timedelta(hours=1)) == NEW_YEARS_EVE + timedelta(hours=1)


def test_a_running_clock_starts_at_its_instant_and_moves_at_the_real_pace():
    clock = Clock()
    clock.start_at(NEW_YEARS_EVE)
    first, second = clock.now(), clock.now()
    assert NEW_YEARS_EVE <= first <= second < NEW_YEARS_EVE + timedelta(seconds=5)


def test_instants_are_read_in_utc_whatever_zone_they_were_given_in():
    clock = Clock()
    clock.freeze(datetime(2027, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))))
    assert clock.now() == NEW_YEARS_EVE and clock.now().tzinfo is UTC


def test_a_naive_instant_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        Clock().freeze(datetime(2026, 12, 31, 23, 30))


def test_the_system_clock_cannot_be_moved_and_reset_gives_it_back():
    clock = Clock()
    with pytest.raises(RuntimeError):
        clock.advance(timedelta(seconds=1))
    clock.freeze(NEW_YEARS_EVE)
    clock.reset()
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)


def test_every_test_reads_the_fixture_clock_whatever_todays_date(clock):
    clock.freeze(NEW_YEARS_EVE)
    assert now_utc() == NEW_YEARS_EVE
