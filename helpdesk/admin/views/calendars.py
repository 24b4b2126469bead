"""Calendars: the list, a form to create or edit one (a new version), and a preview of the next
four weeks of service hours with the due instants of a sample GTI and GTR.

The form's rows are added and removed by submit buttons that re-render it; "Preview" checks the
calendar and shows it without saving; "Save" writes it through the import's own apply code.
"""
import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from helpdesk.admin.forms.calendars import (
    NEW_WEEK,
    CalendarForm,
    SampleForm,
    all_subdivisions,
    available_zones,
    closure_ranges,
    subdivisions,
)
from helpdesk.admin.views.blueprint import bp
from helpdesk.clock import now_utc
from helpdesk.contracts import queries
from helpdesk.contracts.queries import current_calendar
from helpdesk.contracts.services import save_calendar
from helpdesk.extensions import db
from helpdesk.formatting import format_instant, person_zone
from helpdesk.sla.calendar import Calendar as EngineCalendar
from helpdesk.sla.preview import due_at, service_days

# What a submit button of the form asks for (the `action` button's value).
SAVE, PREVIEW, REFRESH = "save", "preview", "refresh"
ROW_BUTTONS = {"add_window", "add_closure", "remove_window", "remove_closure"}


@bp.get("/calendars")
def calendars() -> ResponseReturnValue:
    return render_template("admin/calendars/index.html", calendars=queries.current_calendars(),
                           uses=queries.calendar_uses(), **_helpers())


@bp.get("/calendars/<code>")
def calendar(code: str) -> ResponseReturnValue:
    row = current_calendar(code)
    if row is None:
        abort(404)
    engine = row.engine()
    sample = SampleForm(request.args)
    sample.fill(now_utc(), engine.zone)
    preview = _preview(engine, sample) if sample.validate() else None
    status = 200 if preview is not None else 422
    return render_template("admin/calendars/calendar.html", calendar=row, engine=engine,
                           versions=queries.calendar_versions(code), sample=sample,
                           preview=preview, **_helpers()), status


@bp.route("/calendars/new", methods=["GET", "POST"])
def new_calendar() -> ResponseReturnValue:
    if request.method == "GET":
        form = CalendarForm(formdata=None, data={
            "timezone": "Europe/Paris", "country": "FR",
            "windows": [{"day": day, "start": start, "end": end} for day, start, end in NEW_WEEK]})
        return _editor(form)
    return _submitted(CalendarForm())


@bp.route("/calendars/<code>/edit", methods=["GET", "POST"])
def edit_calendar(code: str) -> ResponseReturnValue:
    row = current_calendar(code)
    if row is None:
        abort(404)
    if request.method == "GET":
        return _editor(CalendarForm(formdata=None, data=CalendarForm.data_of(row.engine()),
                                    existing=row))
    return _submitted(CalendarForm(existing=row))


def _submitted(form: CalendarForm) -> ResponseReturnValue:
    action = request.form.get("action", SAVE)
    row_button = next((name for name in ROW_BUTTONS if name in request.form), None)
    if row_button is not None or action == REFRESH:
        return _rows_changed(form, row_button)
    form.sample.form.fill(now_utc(), _zone_of(form))
    form.validate()
    if action != PREVIEW:
        for field in form.sample:  # the sample only matters to a preview
            field.errors = []
    given = form.checked(taken=lambda code: current_calendar(code) is not None)
    if given is None:
        return _editor(form, status=422)
    engine = given.engine()
    if action == PREVIEW:
        if any(field.errors for field in form.sample):
            return _editor(form, status=422)
        return _editor(form, preview=_preview(engine, form.sample.form))
    existing = form.existing
    saved = save_calendar(given.code, engine, now=now_utc(), actor=current_user,
                          action="create" if existing is None else "edit")
    db.session.commit()
    if saved is None:
        flash(_("Nothing changed: calendar %(code)s keeps version %(version)s.",
                code=given.code, version=existing.version if existing else 1), "success")
    elif existing is None:
        flash(_("Calendar %(code)s created.", code=saved.code), "success")
    else:
        flash(_("Calendar %(code)s saved as version %(version)s: tickets opened from now on "
                "follow it.", code=saved.code, version=saved.version), "success")
    return redirect(url_for("admin.calendar", code=given.code))


def _rows_changed(form: CalendarForm, button: str | None) -> ResponseReturnValue:
    """The form again with a row more or less, or the chosen country's subdivisions; nothing
    is checked or saved yet."""
    if button == "add_window":
        form.add_row(form.windows)
    elif button == "add_closure":
        form.add_row(form.closures)
    elif button in ("remove_window", "remove_closure"):
        rows = form.windows if button == "remove_window" else form.closures
        index = request.form.get(button, "")
        if index.isdigit():
            form.remove_row(rows, int(index))
    if form.subdiv.data not in dict(subdivisions(form.country.data or "")):
        form.subdiv.data = ""
    return _editor(form, blank_rows=False)


def _editor(form: CalendarForm, *, status: int = 200, preview: dict[str, Any] | None = None,
            blank_rows: bool = True) -> ResponseReturnValue:
    form.sample.form.fill(now_utc(), _zone_of(form))
    if blank_rows:
        form.top_up_blank_rows()
    return render_template("admin/calendars/form.html", form=form, existing=form.existing,
                           preview=preview, all_subdivisions=json.dumps(all_subdivisions()),
                           **_helpers()), status


def _zone_of(form: CalendarForm) -> ZoneInfo:
    """The zone the sample's start is typed in: the one chosen, else the stored one."""
    if form.timezone.data in available_zones():
        return ZoneInfo(form.timezone.data)
    return form.existing.engine().zone if form.existing is not None else person_zone(None)


def _preview(engine: EngineCalendar, sample: SampleForm) -> dict[str, Any]:
    """The next four weeks of `engine` from the sample's start, and the sample's due instants."""
    given = sample.sample(engine.zone)
    return {"engine": engine, "start": given.start,
            "days": service_days(engine, given.start, language=str(get_locale().language)),
            "targets": [("GTI", given.gti, due_at(engine, given.start, given.gti)),
                        ("GTR", given.gtr, due_at(engine, given.start, given.gtr))]}


def _helpers() -> dict[str, Any]:
    return {"country_name": _country_name, "subdivision_name": _subdivision_name,
            "calendar_time": _calendar_time, "closure_ranges": closure_ranges}


def _calendar_time(at: datetime, zone: str) -> str:
    """An instant on the calendar's wall clock, whoever reads it, with the zone's abbreviation."""
    return format_instant(at, "datetime", zone=ZoneInfo(zone), locale=get_locale())


def _country_name(code: str | None) -> str:
    if not code:
        return ""
    names = get_locale().territories
    return f"{names.get(code, code)} ({code})"


def _subdivision_name(country: str | None, code: str | None) -> str:
    if not country or not code:
        return ""
    return dict(subdivisions(country)).get(code, code)
