"""ISO 8601 durations of fixed length, and short human labels for durations.

Accepted: `PnW`, or `PnDTnHnMnS` with any of its parts (`P1D`, `PT2H`, `PT1H30M`, `P1DT12H`), with a
decimal fraction (`.` or `,`) on the last part given (`PT1.5H`, `PT0.25S`), to the microsecond.
Refused: years and months (their length varies), weeks mixed with other parts, signs, lower case,
spaces, and the alternative `PYYYY-MM-DDThh:mm:ss` format. A day is 24 hours.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

_NUMBER = r"[0-9]+(?:[.,][0-9]+)?"
_DURATION = re.compile(
    rf"P(?:(?P<years>{_NUMBER})Y)?(?:(?P<months>{_NUMBER})M)?(?:(?P<weeks>{_NUMBER})W)?"
    rf"(?:(?P<days>{_NUMBER})D)?"
    rf"(?:T(?:(?P<hours>{_NUMBER})H)?(?:(?P<minutes>{_NUMBER})M)?(?:(?P<seconds>{_NUMBER})S)?)?"
)
_SECONDS = {"weeks": 604_800, "days": 86_400, "hours": 3_600, "minutes": 60, "seconds": 1}
_ONE_US = timedelta(microseconds=1)
_US_PER_SECOND = 1_000_000


def parse_iso_duration(text: str) -> timedelta:
    """`PT2H` → 2 hours. Raises ValueError("not an ISO 8601 duration …") for anything else."""
    if not isinstance(text, str):
        raise TypeError(f"an ISO 8601 duration is a string, got {type(text).__name__}")
    match = _DURATION.fullmatch(text)
    if match is None or text in ("P", "PT") or text.endswith("T"):
        raise ValueError(f"not an ISO 8601 duration: {text!r} (expected e.g. 'PT2H', 'P1DT12H', 'P2W')")
    parts = {name: value for name, value in match.groupdict().items() if value is not None}
    if "years" in parts or "months" in parts:
        raise ValueError(
            f"not an ISO 8601 duration of fixed length: {text!r} "
            "(years and months vary in length; use days, hours, minutes or seconds)"
        )
    if "weeks" in parts and len(parts) > 1:
        raise ValueError(f"not an ISO 8601 duration: {text!r} (weeks cannot be combined with other parts)")
    *leading, _last = parts.values()
    if any(not value.isdigit() for value in leading):
        raise ValueError(f"not an ISO 8601 duration: {text!r} (only the last part may have a fraction)")
    seconds = sum((Decimal(value.replace(",", ".")) * _SECONDS[name] for name, value in parts.items()),
                  Decimal(0))
    microseconds = seconds * _US_PER_SECOND
    if microseconds != microseconds.to_integral_value():
        raise ValueError(f"not an ISO 8601 duration: {text!r} (finer than a microsecond)")
    try:
        return timedelta(microseconds=int(microseconds))
    except OverflowError:
        raise ValueError(f"not an ISO 8601 duration: {text!r} (too long)") from None


def largest_units(duration: timedelta) -> list[tuple[int, str]]:
    """The largest unit of `abs(duration)` and the next one when not zero, as (amount, unit)
    with units "d", "h", "min", "s"; the rest is dropped (not rounded), so a countdown never
    shows more time than is left. Zero is [(0, "min")]."""
    seconds = abs(duration) // timedelta(seconds=1)
    days, seconds = divmod(seconds, 86_400)
    hours, seconds = divmod(seconds, 3_600)
    minutes, seconds = divmod(seconds, 60)
    units = [(days, "d"), (hours, "h"), (minutes, "min"), (seconds, "s")]
    for index, (amount, unit) in enumerate(units):
        if amount:
            following = units[index + 1] if index + 1 < len(units) else (0, "")
            return [(amount, unit)] + ([following] if following[0] else [])
    return [(0, "min")]


def humanize(duration: timedelta) -> str:
    """A short label: "2 h", "2 h 30 min", "45 min", "3 d 4 h", "30 s", "0 min".

    Negative durations get a leading "-".
    """
    if not isinstance(duration, timedelta):
        raise TypeError(f"expected a timedelta, got {type(duration).__name__}")
    sign = "-" if duration < timedelta(0) else ""
    return sign + " ".join(f"{amount} {unit}" for amount, unit in largest_units(duration))
