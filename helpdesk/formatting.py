"""Plain values as people read them, in the reader's language: instants, durations, money,
numbers, percentages, months and sizes.

The core of every face: pages register these as template filters (`helpdesk.web.filters`), mail
wording calls them under the recipient's locale and zone. Nothing here knows a domain.
"""
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.core import Locale
from babel.dates import format_date, format_datetime
from flask_babel import format_currency, format_decimal, get_locale, pgettext
from flask_babel import gettext as _
from flask_login import current_user

from helpdesk.money import to_cent
from helpdesk.month import Month
from helpdesk.sla.durations import largest_units

DEFAULT_ZONE = "Europe/Paris"

# Babel patterns, so month and day names follow the reader's language; True where the zone's
# abbreviation follows (Babel has none for zoneinfo zones: "+0100" rather than "CET").
INSTANT_FORMATS = {
    "datetime": ("d MMM y, HH:mm", True),
    "seconds": ("d MMM y, HH:mm:ss", True),
    "date": ("d MMM y", False),
    "weekday": ("EEE HH:mm", True),
    "time": ("HH:mm", False),
}


def person_zone(name: str | None) -> ZoneInfo:
    """The zone a person chose; Paris when none was, or the chosen one no longer exists."""
    try:
        return ZoneInfo(name or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def viewer_zone() -> ZoneInfo:
    """The signed-in reader's zone (anyone else's is Paris)."""
    return person_zone(getattr(current_user, "timezone", None))


def format_instant(value: datetime, fmt: str, *, zone: ZoneInfo, locale: Locale | str | None
                   ) -> str:
    pattern, with_zone = INSTANT_FORMATS.get(fmt, (fmt, False))
    local = value.astimezone(zone)
    text = format_datetime(local, pattern, tzinfo=zone, locale=locale)
    return f"{text} {local.tzname()}" if with_zone else text


def in_zone(at: datetime | None, timezone: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An instant as a document prints it: in the contract's zone, whoever reads it."""
    if at is None:
        return "—"
    local = at.astimezone(ZoneInfo(timezone))
    return f"{local.strftime(fmt)} {local.tzname()}"


def localtime(value: datetime | None, fmt: str = "datetime") -> str:
    """An instant in the reader's zone and language."""
    if value is None:
        return "—"
    return format_instant(value, fmt, zone=viewer_zone(), locale=get_locale())


def unit_symbols() -> dict[str, str]:
    """Unit symbols in the reader's language: "2 h 30 min", "3 j 4 h" in French."""
    return {"d": pgettext("duration unit symbol", "d"), "h": pgettext("duration unit symbol", "h"),
            "min": pgettext("duration unit symbol", "min"),
            "s": pgettext("duration unit symbol", "s")}


def duration(value: timedelta | int | None) -> str:
    if value is None:
        return "—"
    if not isinstance(value, timedelta):
        value = timedelta(seconds=value)
    symbols = unit_symbols()
    sign = "-" if value < timedelta(0) else ""
    return sign + " ".join(f"{amount}\N{NO-BREAK SPACE}{symbols[unit]}"
                           for amount, unit in largest_units(value))


def money(amount: Decimal | None, currency: str = "") -> str:
    """1234.5, "EUR" → "1 234,50 €" in French, "€1,234.50" in English.

    Rounded to the cent by the one rule (`helpdesk.money`, half-up) before Babel, which would
    round half-even, writes it in the reader's locale: the page shows the cent the API, the CSV
    and the PDF show."""
    if amount is None:
        return "—"
    if currency:
        return str(format_currency(to_cent(amount), currency))
    return str(format_decimal(to_cent(amount), format="#,##0.00"))


def number(value: Decimal | float | int, places: int = 0) -> str:
    pattern = "#,##0" + ("." + "0" * places if places else "")
    return str(format_decimal(value, format=pattern))


def percent(value: Decimal | float | int, places: int = 2) -> str:
    """99.731543 → "99.73 %" ("99,73 %" in French); whole numbers lose their decimals."""
    pattern = "#,##0" + ("." + "#" * places if places else "")
    return _("%(number)s %%", number=format_decimal(value, format=pattern))


def month_label(month: Month | str) -> str:
    """A month, or a stored one ("2026-10"), by its name: "October 2026" ("octobre 2026" in
    French)."""
    if not isinstance(month, Month):
        month = Month.parse(month)
    return str(format_date(month.first_day, "LLLL y", locale=get_locale()))


def filesize(size_bytes: int) -> str:
    if size_bytes < 1024:
        return f"{size_bytes} bytes"
    if size_bytes >= 1024 * 1024:
        return f"{size_bytes / (1024 * 1024):.3g} MB"
    return f"{size_bytes / 1024:.3g} KB"
