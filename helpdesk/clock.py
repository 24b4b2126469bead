"""The only place that reads the system clock; everything else receives `now`.

`now_utc()` reads the process's one `clock`. Tests and tools set that clock once, for the whole
app: `clock.freeze(at)` stops time at an instant, `clock.start_at(at)` lets it run on from an
instant at the real pace, `clock.advance(delta)` moves it, `clock.reset()` gives the system clock
back. Nobody patches `now_utc` where it was imported.
"""
import time
from datetime import UTC, datetime, timedelta

from helpdesk.month import check_instant


class Clock:
    """The system clock, or a stand-in for it: frozen at an instant or running from one."""

    def __init__(self) -> None:
        self._origin: datetime | None = None
        self._since: float | None = None  # monotonic reading when a running stand-in started

    def now(self) -> datetime:
        if self._origin is None:
            return datetime.now(UTC)
        if self._since is None:
            return self._origin
        return self._origin + timedelta(seconds=time.monotonic() - self._since)

    def freeze(self, at: datetime) -> datetime:
        """Stop time at `at` until the clock is moved again."""
        self._origin, self._since = _aware(at), None
        return self._origin

    def start_at(self, at: datetime) -> datetime:
        """Let time run from `at` at the real pace, whatever the system's date."""
        self._origin, self._since = _aware(at), time.monotonic()
        return self._origin

    def advance(self, delta: timedelta) -> datetime:
        """Move a stand-in clock by `delta`, frozen or running as it was."""
        if self._origin is None:
            raise RuntimeError("the system clock cannot be moved; freeze or start_at first")
        self._origin += delta
        return self.now()

    def reset(self) -> None:
        self._origin = self._since = None


clock = Clock()


def now_utc() -> datetime:
    return clock.now()


def is_future(at: datetime | None) -> bool:
    """Whether `at` is later than the present. A command run as of a future instant only
    previews: it writes and sends nothing, since what it would record has not happened yet."""
    return at is not None and at > now_utc()


def preview_notice(at: datetime) -> str:
    """The first line a command prints when it only previews what would happen at `at`."""
    return (f"Preview only, nothing is written and nothing is sent: {at.isoformat()} is later "
            f"than now ({now_utc().isoformat(timespec='seconds')}).")


def _aware(at: datetime) -> datetime:
    if not isinstance(at, datetime) or at.utcoffset() is None:
        raise ValueError(f"the clock needs a timezone-aware instant, got {at!r}")
    return at.astimezone(UTC)


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant with its offset, in UTC; a naive time is ambiguous, so refused, and so
    is one outside the years the helpdesk handles (`helpdesk.month.EARLIEST` … `LATEST`)."""
    try:
        instant = datetime.fromisoformat(text.strip())
    except ValueError as error:
        raise ValueError(f"not an ISO 8601 instant: {text!r}") from error
    if instant.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone offset; write e.g. {text.strip()}Z or "
                         f"{text.strip()}+01:00")
    return check_instant(instant, text.strip())
