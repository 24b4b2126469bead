"""Template filters: instants in the viewer's zone and language, durations and money for people."""
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import Flask
from flask_babel import format_currency, format_decimal, get_locale, pgettext
from flask_babel import lazy_gettext as _l

from helpdesk.accounts.models import Role
from helpdesk.money import to_cent
from helpdesk.sla.durations import largest_units
from helpdesk.tickets.attachments import format_size
from helpdesk.tickets.workflow import STATUS_LABELS
from helpdesk.web.i18n import viewer_zone

# Babel patterns, so month and day names follow the viewer's language; True where the zone's
# abbreviation follows (Babel has none for zoneinfo zones: "+0100" rather than "CET").
INSTANT_FORMATS = {
    "datetime": ("d MMM y, HH:mm", True),
    "seconds": ("d MMM y, HH:mm:ss", True),
    "date": ("d MMM y", False),
    "weekday": ("EEE HH:mm", True),
    "time": ("HH:mm", False),
}


def format_instant(value: datetime, fmt: str, *, zone: ZoneInfo, locale) -> str:
    pattern, with_zone = INSTANT_FORMATS.get(fmt, (fmt, False))
    local = value.astimezone(zone)
    text = format_datetime(local, pattern, tzinfo=zone, locale=locale)
    return f"{text} {local.tzname()}" if with_zone else text


def localtime(value: datetime | None, fmt: str = "datetime") -> str:
    """An instant in the viewer's zone and language."""
    if value is None:
        return "—"
    return format_instant(value, fmt, zone=viewer_zone(), locale=get_locale())


def unit_symbols() -> dict[str, str]:
    """Unit symbols in the viewer's language: "2 h 30 min", "3 j 4 h" in French."""
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
    round half-even, writes it in the viewer's locale: the page shows the cent the API, the CSV
    and the PDF show."""
    if amount is None:
        return "—"
    if currency:
        return format_currency(to_cent(amount), currency)
    return format_decimal(to_cent(amount), format="#,##0.00")


def number(value, places: int = 0) -> str:
    pattern = "#,##0" + ("." + "0" * places if places else "")
    return format_decimal(value, format=pattern)


ROLE_LABELS = {Role.CLIENT: _l("client"), Role.TECHNICIAN: _l("technician"),
               Role.TEAM_LEAD: _l("team lead"), Role.FINANCE: _l("finance"),
               Role.ADMIN: _l("administrator")}


def role_label(role: Role) -> str:
    return str(ROLE_LABELS[role])


def status_label(value) -> str | None:
    label = STATUS_LABELS.get(value, value)
    return None if label is None else str(label)


def init_app(app: Flask) -> None:
    app.add_template_filter(localtime)
    app.add_template_filter(duration)
    app.add_template_filter(money)
    app.add_template_filter(number)
    app.add_template_filter(status_label)
    app.add_template_filter(format_size, name="filesize")
    app.add_template_global(money)
    app.add_template_global(role_label)
    app.add_template_global(get_locale)
