"""Template filters and globals of every page: the core's formatting, in the viewer's zone and
language. Each domain's blueprint registers the filters of its own words (statuses, roles,
service hours)."""
from flask import Flask
from flask_babel import get_locale

from helpdesk.formatting import (
    duration,
    filesize,
    in_zone,
    localtime,
    money,
    month_label,
    number,
    percent,
)


def init_app(app: Flask) -> None:
    app.add_template_filter(localtime)
    app.add_template_filter(duration)
    app.add_template_filter(money)
    app.add_template_filter(number)
    app.add_template_filter(filesize)
    app.add_template_global(money)
    app.add_template_global(percent)
    app.add_template_global(in_zone)
    app.add_template_global(month_label)
    app.add_template_global(get_locale)
