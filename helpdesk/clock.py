"""The only place that reads the system clock; everything else receives `now`."""
from datetime import UTC, datetime


def now_utc() -> datetime:
    return datetime.now(UTC)
