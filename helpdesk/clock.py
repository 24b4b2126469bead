"""The only place that reads the system clock; everything else receives `now`."""
from datetime import UTC, datetime


def now_utc() -> datetime:
    return datetime.now(UTC)


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant with its offset, in UTC; a naive time is ambiguous, so refused."""
    try:
        instant = datetime.fromisoformat(text.strip())
    except ValueError as error:
        raise ValueError(f"not an ISO 8601 instant: {text!r}") from error
    if instant.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone offset; write e.g. {text.strip()}Z or "
                         f"{text.strip()}+01:00")
    return instant.astimezone(UTC)
