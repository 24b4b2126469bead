"""Contract terms as people read them in their language: service hours in short, whom a threshold
notifies. Documents keep their own English wording (`helpdesk.billing.wording`)."""
import re

from babel.dates import get_day_names
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from helpdesk.contracts.models import Calendar, NotifyTarget
from helpdesk.sla.calendar import WEEKDAY_LABELS

NOTIFY_LABELS = {NotifyTarget.ASSIGNEE: _l("assignee"), NotifyTarget.TEAM_LEADS: _l("team leads"),
                 NotifyTarget.CLIENT: _l("client")}
_WEEKDAY = re.compile(r"\b(" + "|".join(WEEKDAY_LABELS) + r")\b")


def service_hours(calendar: Calendar) -> str:
    """A calendar's short description with the weekdays in the reader's language."""
    if calendar.is_always:
        return _("24/7")
    names = get_day_names("abbreviated", locale=get_locale())
    return _WEEKDAY.sub(lambda match: names[WEEKDAY_LABELS.index(match.group(1))],
                        calendar.describe())


def notify_label(target: NotifyTarget) -> str:
    return str(NOTIFY_LABELS.get(target, target))
