"""Benchmark of `Calendar.add` on a business calendar with French holidays (DESIGN §6).

Budget: 100,000 `add` < 1 s, and adding 2,000 service hours costs < 2× adding 2 hours.

    python bench/sla_calendar.py
"""

import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helpdesk.sla.calendar import Calendar  # noqa: E402

CALLS = 100_000
RATIO_RUNS = 51
RATIO_CALLS = 2_000


def business_calendar() -> Calendar:
    return Calendar(
        "Europe/Paris",
        {day: [("08:00", "18:00")] for day in range(5)},
        holidays_country="FR",
    )


def random_starts(rng: random.Random, count: int) -> list[datetime]:
    first = datetime(2026, 1, 1, tzinfo=UTC)
    seconds = 2 * 365 * 86_400
    return [first + timedelta(seconds=rng.randrange(seconds)) for _ in range(count)]


def time_adds(calendar: Calendar, starts: list[datetime], durations: list[timedelta]) -> float:
    add = calendar.add
    began = time.perf_counter()
    for start, duration in zip(starts, durations, strict=True):
        add(start, duration)
    return time.perf_counter() - began


def main() -> None:
    rng = random.Random(20261127)
    starts = random_starts(rng, CALLS)
    durations = [timedelta(minutes=rng.randrange(1, 8 * 60)) for _ in range(CALLS)]

    cold = time_adds(business_calendar(), starts, durations)
    warm = time_adds(business_calendar(), starts, durations)  # equal calendars share computed spans
    print(f"{CALLS:,} add() of 1 min–8 h from random starts in 2026–2027, Mon–Fri 08:00–18:00 + FR holidays")
    print(f"  first pass (spans and holidays computed): {cold:.3f} s  ({cold / CALLS * 1e6:.2f} µs/add)")
    print(f"  warm:                                     {warm:.3f} s  ({warm / CALLS * 1e6:.2f} µs/add)")
    print(f"  budget < 1 s: {'OK' if max(cold, warm) < 1 else 'OVER'}")

    calendar = business_calendar()
    sample = random_starts(rng, RATIO_CALLS)
    short, long = [timedelta(hours=2)] * RATIO_CALLS, [timedelta(hours=2000)] * RATIO_CALLS
    time_adds(calendar, sample, long)  # compute the spans 2,000 h ahead once
    short_runs, long_runs = [], []
    for _ in range(RATIO_RUNS):
        short_runs.append(time_adds(calendar, sample, short))
        long_runs.append(time_adds(calendar, sample, long))
    short_median = statistics.median(short_runs) / RATIO_CALLS * 1e6
    long_median = statistics.median(long_runs) / RATIO_CALLS * 1e6
    ratio = long_median / short_median
    print(f"add(2 h) vs add(2,000 h), median of {RATIO_RUNS} runs of {RATIO_CALLS:,} calls")
    print(f"  add(2 h):     {short_median:.2f} µs")
    print(f"  add(2,000 h): {long_median:.2f} µs")
    print(f"  ratio: {ratio:.2f}×  (budget < 2×: {'OK' if ratio < 2 else 'OVER'})")


if __name__ == "__main__":
    main()
