"""Clock replay: DESIGN §3.2 examples, refusals, and a minute-by-minute reference."""

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpdesk.sla.calendar import Calendar
from helpdesk.sla.clock import ClockEvent, replay

PARIS = ZoneInfo("Europe/Paris")
H = timedelta(hours=1)
MIN = timedelta(minutes=1)
ZERO = timedelta(0)
BUSINESS = Calendar("Europe/Paris", {day: [("08:00", "18:00")] for day in range(5)},
                    holidays_country="FR")
ALWAYS = Calendar.always(timezone="Europe/Paris")


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def clock(target, *events, now, calendar=BUSINESS):
    return replay(target=target, calendar=calendar,
                  events=[ClockEvent(at, kind) for at, kind in events], now=now)


MONDAY_9 = paris(2026, 11, 30, 9)


# -- examples that must hold ----------------------------------------------------------------------


def test_unattended_gti_is_breached_at_due_instant_with_delay():
    state = clock(4 * H, (paris(2026, 11, 27, 15), "start"), now=paris(2026, 11, 30, 10))
    assert state.status == "breached"
    assert state.breached_at == utc(2026, 11, 30, 8)
    assert state.due_at == utc(2026, 11, 30, 8)
    assert state.elapsed == 5 * H
    assert state.delay == H


def test_gtr_pause_moves_due_instant_and_stops_counting():
    state = clock(8 * H, (MONDAY_9, "start"), (paris(2026, 11, 30, 10), "pause"),
                  (paris(2026, 11, 30, 14), "resume"), now=paris(2026, 11, 30, 15))
    assert state.status == "running"
    assert state.elapsed == 2 * H
    assert state.due_at == utc(2026, 12, 1, 10)
    assert state.breached_at is None
    assert state.delay == ZERO


def test_running_clock_due_is_add_of_target_from_start():
    state = clock(2 * H, (MONDAY_9, "start"), now=paris(2026, 11, 30, 9, 30))
    assert (state.status, state.due_at, state.elapsed) == ("running", utc(2026, 11, 30, 10), 30 * MIN)
    assert state.remaining == 90 * MIN


def test_clock_is_met_when_stopped_before_due():
    state = clock(2 * H, (MONDAY_9, "start"), (paris(2026, 11, 30, 10), "stop"),
                  now=paris(2026, 12, 3, 12))
    assert state.status == "met"
    assert state.elapsed == H
    assert state.due_at == utc(2026, 11, 30, 10)
    assert state.breached_at is None
    assert state.delay == ZERO
    assert state.stopped_at == utc(2026, 11, 30, 9)


def test_clock_is_met_when_stopped_exactly_at_due():
    state = clock(2 * H, (MONDAY_9, "start"), (paris(2026, 11, 30, 11), "stop"),
                  now=paris(2026, 11, 30, 12))
    assert state.status == "met"
    assert state.due_at == utc(2026, 11, 30, 10)


def test_late_stop_is_breached_at_due_instant_with_delay_until_stop():
    state = clock(2 * H, (MONDAY_9, "start"), (paris(2026, 11, 30, 12, 30), "stop"),
                  now=paris(2026, 12, 10, 12))
    assert state.status == "breached"
    assert state.breached_at == utc(2026, 11, 30, 10)
    assert state.elapsed == 210 * MIN
    assert state.delay == 90 * MIN


def test_stop_outside_hours_after_due_is_breached_without_delay():
    # Due Friday 18:00; the intervention lands on Saturday: late, but no service time past due.
    state = clock(2 * H, (paris(2026, 11, 27, 16), "start"), (paris(2026, 11, 28, 10), "stop"),
                  now=paris(2026, 11, 30, 12))
    assert state.status == "breached"
    assert state.breached_at == paris(2026, 11, 27, 18)
    assert state.delay == ZERO


def test_breach_is_recorded_when_now_reaches_due_instant():
    state = clock(2 * H, (MONDAY_9, "start"), now=paris(2026, 11, 30, 11))
    assert (state.status, state.breached_at, state.delay) == ("breached", utc(2026, 11, 30, 10), ZERO)


def test_paused_clock_has_no_due_instant():
    state = clock(8 * H, (MONDAY_9, "start"), (paris(2026, 11, 30, 10), "pause"),
                  now=paris(2026, 12, 2, 10))
    assert (state.status, state.due_at, state.elapsed) == ("paused", None, H)


def test_pause_after_breach_keeps_clock_breached():
    state = clock(2 * H, (MONDAY_9, "start"), (paris(2026, 11, 30, 12), "pause"),
                  now=paris(2026, 12, 2, 10))
    assert (state.status, state.breached_at, state.delay) == ("breached", utc(2026, 11, 30, 10), H)


def test_reopen_keeps_counted_time():
    state = clock(8 * H, (MONDAY_9, "start"), (paris(2026, 11, 30, 12), "stop"),
                  (paris(2026, 12, 1, 9), "reopen"), now=paris(2026, 12, 1, 10))
    assert state.status == "running"
    assert state.elapsed == 4 * H
    # 3 h counted on Monday, so 5 h left from the reopening on Tuesday 09:00.
    assert state.due_at == paris(2026, 12, 1, 14)


def test_reopen_after_late_stop_stays_breached():
    state = clock(2 * H, (MONDAY_9, "start"), (paris(2026, 11, 30, 12), "stop"),
                  (paris(2026, 12, 1, 9), "reopen"), now=paris(2026, 12, 1, 10))
    assert state.status == "breached"
    assert state.breached_at == utc(2026, 11, 30, 10)
    assert state.delay == 2 * H


def test_reopen_after_met_stop_can_breach_later():
    state = clock(4 * H, (MONDAY_9, "start"), (paris(2026, 11, 30, 11), "stop"),
                  (paris(2026, 12, 1, 9), "reopen"), now=paris(2026, 12, 1, 12))
    assert state.status == "breached"
    assert state.breached_at == paris(2026, 12, 1, 11)
    assert state.delay == H


def test_always_clock_counts_real_time_across_spring_forward():
    state = clock(4 * H, (paris(2026, 3, 28, 22), "start"), now=paris(2026, 3, 29, 3, 30),
                  calendar=ALWAYS)
    assert state.status == "breached"
    assert state.breached_at == utc(2026, 3, 29, 1)
    assert state.elapsed == 270 * MIN
    assert state.delay == 30 * MIN


def test_events_after_now_are_ignored():
    state = clock(2 * H, (MONDAY_9, "start"), (paris(2026, 11, 30, 9, 30), "stop"),
                  now=paris(2026, 11, 30, 9, 15))
    assert (state.status, state.elapsed) == ("running", 15 * MIN)


def test_events_are_replayed_in_time_order():
    events = [(paris(2026, 11, 30, 14), "resume"), (paris(2026, 11, 30, 10), "pause"), (MONDAY_9, "start")]
    state = clock(8 * H, *events, now=paris(2026, 11, 30, 15))
    assert state.elapsed == 2 * H


def test_redundant_events_are_ignored():
    state = clock(8 * H, (MONDAY_9, "start"), (paris(2026, 11, 30, 9, 30), "resume"),
                  (paris(2026, 11, 30, 10), "pause"), (paris(2026, 11, 30, 11), "pause"),
                  (paris(2026, 11, 30, 12), "reopen"), (paris(2026, 11, 30, 14), "resume"),
                  now=paris(2026, 11, 30, 15))
    assert (state.status, state.elapsed) == ("running", 2 * H)


def test_zero_target_is_breached_at_start_unless_stopped_then():
    assert clock(ZERO, (MONDAY_9, "start"), now=MONDAY_9).breached_at == MONDAY_9
    assert clock(ZERO, (MONDAY_9, "start"), (MONDAY_9, "stop"), now=MONDAY_9).status == "met"


def test_results_are_utc():
    state = clock(2 * H, (MONDAY_9, "start"), now=paris(2026, 11, 30, 9, 30))
    assert state.due_at.tzinfo is UTC
    assert all(segment.start.tzinfo is UTC for segment in state.segments)


# -- segments and thresholds ----------------------------------------------------------------------


def test_segments_explain_counted_paused_and_outside_hours():
    state = clock(8 * H, (paris(2026, 11, 27, 17), "start"), (paris(2026, 11, 30, 9), "pause"),
                  (paris(2026, 11, 30, 10), "resume"), now=paris(2026, 11, 30, 11))
    assert [(s.start, s.end, s.kind) for s in state.segments] == [
        (paris(2026, 11, 27, 17), paris(2026, 11, 27, 18), "counted"),
        (paris(2026, 11, 27, 18), paris(2026, 11, 30, 8), "outside_hours"),
        (paris(2026, 11, 30, 8), paris(2026, 11, 30, 9), "counted"),
        (paris(2026, 11, 30, 9), paris(2026, 11, 30, 10), "paused"),
        (paris(2026, 11, 30, 10), paris(2026, 11, 30, 11), "counted"),
    ]


def test_segments_mark_time_between_stop_and_reopen_and_end_at_stop():
    reopened = clock(8 * H, (MONDAY_9, "start"), (paris(2026, 11, 30, 10), "stop"),
                     (paris(2026, 11, 30, 11), "reopen"), now=paris(2026, 11, 30, 12))
    assert [s.kind for s in reopened.segments] == ["counted", "stopped", "counted"]
    stopped = clock(8 * H, (MONDAY_9, "start"), (paris(2026, 11, 30, 10), "stop"),
                    now=paris(2026, 12, 5))
    assert stopped.segments[-1].end == paris(2026, 11, 30, 10)


def test_threshold_instant_is_in_service_time():
    # 50 % of a 4 h business GTI opened Friday 17:00 falls on Monday 09:00, not Friday 19:00.
    state = clock(4 * H, (paris(2026, 11, 27, 17), "start"), now=paris(2026, 11, 27, 17, 5))
    assert state.instant_for(2 * H) == paris(2026, 11, 30, 9)
    assert state.instant_for(4 * H) == state.due_at


def test_threshold_instant_already_reached_is_in_the_past():
    state = clock(4 * H, (MONDAY_9, "start"), (paris(2026, 11, 30, 10), "pause"),
                  (paris(2026, 11, 30, 14), "resume"), now=paris(2026, 11, 30, 15, 30))
    assert state.instant_for(2 * H) == paris(2026, 11, 30, 15)
    assert state.instant_for(3 * H) == paris(2026, 11, 30, 16)


def test_threshold_instant_is_none_while_paused_and_not_reached():
    state = clock(4 * H, (MONDAY_9, "start"), (paris(2026, 11, 30, 10), "pause"),
                  now=paris(2026, 11, 30, 15))
    assert state.instant_for(2 * H) is None
    assert state.instant_for(30 * MIN) == paris(2026, 11, 30, 9, 30)


# -- refusals ---------------------------------------------------------------------------------------


def test_naive_now_is_refused():
    with pytest.raises(ValueError, match="naive"):
        clock(H, (MONDAY_9, "start"), now=datetime(2026, 11, 30, 10))


def test_naive_event_is_refused():
    with pytest.raises(ValueError, match="naive"):
        ClockEvent(datetime(2026, 11, 30, 10), "start")


def test_unknown_event_kind_is_refused():
    with pytest.raises(ValueError, match="unknown clock event kind"):
        ClockEvent(MONDAY_9, "restart")


@pytest.mark.parametrize(
    ("events", "message"),
    [
        ([], "no start"),
        ([(MONDAY_9, "start"), (paris(2026, 11, 30, 10), "start")], "2 start events"),
        ([(paris(2026, 11, 30, 8), "pause"), (MONDAY_9, "start")], "before the start"),
        ([(paris(2026, 11, 30, 12), "start")], "after now"),
    ],
)
def test_malformed_histories_are_refused(events, message):
    with pytest.raises(ValueError, match=message):
        clock(H, *events, now=paris(2026, 11, 30, 11))


def test_negative_target_is_refused():
    with pytest.raises(ValueError, match="target"):
        clock(-H, (MONDAY_9, "start"), now=paris(2026, 11, 30, 11))


# -- minute-by-minute reference ---------------------------------------------------------------------

TRANSITIONS = {
    "counting": {"pause": "paused", "stop": "stopped"},
    "paused": {"resume": "counting", "stop": "stopped"},
    "stopped": {"reopen": "counting"},
}


def reference_clock(calendar, target_minutes, start, events, now):
    """Walk minute boundaries: the clock is breached at the first boundary where it counts with
    no budget left (after the events at that boundary)."""
    mode, counted, breached_at = "counting", 0, None
    boundary = start
    while True:
        for at, kind in events:
            if at == boundary:
                mode = TRANSITIONS[mode].get(kind, mode)
        if breached_at is None and mode == "counting" and counted >= target_minutes:
            breached_at = boundary
        if boundary == now:
            break
        if mode == "counting" and calendar.is_open(boundary):
            counted += 1
        boundary += MIN
    if breached_at is not None:
        status = "breached"
    else:
        status = {"counting": "running", "paused": "paused", "stopped": "met"}[mode]
    return status, counted * MIN, breached_at


CLOCK_START = utc(2026, 11, 26, 15)


@st.composite
def histories(draw):
    calendar = draw(st.sampled_from([BUSINESS, ALWAYS]))
    horizon = draw(st.one_of(st.integers(0, 10 * 60), st.integers(24 * 60, 5 * 24 * 60)))
    offsets = draw(st.lists(st.integers(0, horizon), max_size=8))
    kinds = draw(st.lists(st.sampled_from(["pause", "resume", "stop", "reopen"]),
                          min_size=len(offsets), max_size=len(offsets)))
    events = [(CLOCK_START + offset * MIN, kind) for offset, kind in zip(sorted(offsets), kinds, strict=True)]
    target_minutes = draw(st.integers(0, 20 * 60))
    return calendar, target_minutes, events, CLOCK_START + horizon * MIN


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories())
def test_replay_matches_minute_by_minute_reference(history):
    calendar, target_minutes, events, now = history
    state = clock(target_minutes * MIN, (CLOCK_START, "start"), *events, now=now, calendar=calendar)
    status, elapsed, breached_at = reference_clock(calendar, target_minutes, CLOCK_START, events, now)
    assert (state.status, state.elapsed, state.breached_at) == (status, elapsed, breached_at)
    if status == "breached":
        assert state.due_at == breached_at
        assert state.delay == elapsed - target_minutes * MIN
    else:
        assert state.delay == ZERO
    if status == "running":
        assert state.due_at == calendar.add(now, target_minutes * MIN - elapsed)
        assert state.due_at > now


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories())
def test_segments_cover_the_history_and_add_up_to_elapsed(history):
    calendar, target_minutes, events, now = history
    state = clock(target_minutes * MIN, (CLOCK_START, "start"), *events, now=now, calendar=calendar)
    segments = state.segments
    end = state.stopped_at or now
    if segments:
        assert segments[0].start == CLOCK_START
        assert segments[-1].end == end
        assert all(a.end == b.start for a, b in pairwise(segments))
    else:
        assert end == CLOCK_START
    assert sum((s.end - s.start for s in segments if s.kind == "counted"), ZERO) == state.elapsed


@settings(max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories(), later=st.integers(0, 3 * 24 * 60))
def test_breach_never_undone_by_time_passing(history, later):
    calendar, target_minutes, events, now = history
    before = clock(target_minutes * MIN, (CLOCK_START, "start"), *events, now=now, calendar=calendar)
    after = clock(target_minutes * MIN, (CLOCK_START, "start"), *events, now=now + later * MIN,
                  calendar=calendar)
    assert after.elapsed >= before.elapsed
    if before.status == "breached":
        assert (after.status, after.breached_at) == ("breached", before.breached_at)
