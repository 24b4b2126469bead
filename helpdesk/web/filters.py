"""Template filters: instants in the viewer's zone, durations for people."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask
from flask_login import current_user

from helpdesk.sla.durations import humanize
from helpdesk.tickets.attachments import format_size
from helpdesk.tickets.workflow import STATUS_LABELS

DEFAULT_ZONE = "Europe/Paris"


def viewer_zone() -> ZoneInfo:
    name = getattr(current_user, "timezone", None) or DEFAULT_ZONE
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def localtime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return "—"
    local = value.astimezone(viewer_zone())
    return f"{local.strftime(fmt)} {local.tzname()}"


def duration(value: timedelta | int | None) -> str:
    if value is None:
        return "—"
    return humanize(value if isinstance(value, timedelta) else timedelta(seconds=value))


def status_label(value) -> str:
    return STATUS_LABELS.get(value, value)


def init_app(app: Flask) -> None:
    app.add_template_filter(localtime)
    app.add_template_filter(duration)
    app.add_template_filter(status_label)
    app.add_template_filter(format_size, name="filesize")
