"""Domain values as people read them in their language: percentages, months, service hours.

Documents (credit notes, CSV, PDF) keep their own English wording in `helpdesk.billing.wording`;
these are for pages only.
"""
import re
from decimal import Decimal

from babel.dates import format_date, get_day_names
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from helpdesk.contracts.models import Calendar, NotifyTarget
from helpdesk.month import Month
from helpdesk.sla.calendar import WEEKDAY_LABELS

NOTIFY_LABELS = {NotifyTarget.ASSIGNEE: _l("assignee"), NotifyTarget.TEAM_LEADS: _l("team leads"),
                 NotifyTarget.CLIENT: _l("client")}
_WEEKDAY = re.compile(r"\b(" + "|".join(WEEKDAY_LABELS) + r")\b")


def percent(value: Decimal | float | int, places: int = 2) -> str:
    """99.731543 → "99.73 %" ("99,73 %" in French); whole numbers lose their decimals."""
    pattern = "#,##0" + ("." + "#" * places if places else "")
    return _("%(number)s %%", number=format_decimal(value, format=pattern))


def month_label(month: Month | str) -> str:
    """A month, or a stored one ("2026-10"), by its name: "October 2026" ("octobre 2026" in
    French)."""
    if not isinstance(month, Month):
        month = Month.parse(month)
    return format_date(month.first_day, "LLLL y", locale=get_locale())


def service_hours(calendar: Calendar) -> str:
    """A calendar's short description with the weekdays in the viewer's language."""
    if calendar.is_always:
        return _("24/7")
    names = get_day_names("abbreviated", locale=get_locale())
    return _WEEKDAY.sub(lambda match: names[WEEKDAY_LABELS.index(match.group(1))],
                        calendar.describe())


def notify_label(target: NotifyTarget) -> str:
    return str(NOTIFY_LABELS.get(target, target))


HELPERS = {"percent": percent, "month_label": month_label, "service_hours": service_hours,
           "notify_label": notify_label}
