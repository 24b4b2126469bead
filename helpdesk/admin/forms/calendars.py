"""The calendar form: weekly windows, zone, public holidays and closures, in rows added and
removed by submit buttons, so that it works without JavaScript.

The form only gathers what was typed into a calendar of the import format (`document`); the
import's validation (`contracts.schema.validate_import`) judges it, and each of its
`path: message` errors is put back under the field it names, in the reader's language.
"""
import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

import holidays as holidays_package
from babel import Locale
from babel.dates import get_day_names
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, FieldList, Form, FormField, SelectField, StringField
from wtforms.validators import ValidationError

from helpdesk.admin.forms.import_errors import translated
from helpdesk.contracts.models import WEEKDAYS, Calendar
from helpdesk.contracts.schema import CalendarIn, validate_import
from helpdesk.sla.calendar import Calendar as EngineCalendar

BLANK_ROWS = 2
MAX_ROWS = 60
MAX_CLOSURE_DAYS = 366
MAX_SAMPLE_HOURS = Decimal(8760)
PREFIX = "calendars[0]"
NEW_WEEK = [(day, "08:00", "18:00") for day in WEEKDAYS[:5]]


# -- choices ------------------------------------------------------------------------------------


@functools.cache
def available_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def zone_choices(current: str | None) -> list[tuple[str, str]]:
    """The zones by area ("Europe/Paris"), and UTC; a stored zone outside them stays offered."""
    zones = {zone for zone in available_zones() if "/" in zone and not zone.startswith("Etc/")}
    zones.add("UTC")
    if current in available_zones():
        zones.add(current)
    return [(zone, zone) for zone in sorted(zones)]


@functools.cache
def _countries() -> tuple[str, ...]:
    return tuple(holidays_package.list_supported_countries(include_aliases=False))


def country_choices() -> list[tuple[str, str]]:
    """The countries the `holidays` package knows, by their name in the reader's language."""
    names = Locale.parse(str(get_locale())).territories
    named = sorted(((code, f"{names.get(code, code)} ({code})") for code in _countries()),
                   key=lambda pair: pair[1].casefold())
    return [("", _("— no public holidays —")), *named]


@functools.cache
def subdivisions(country: str) -> tuple[tuple[str, str], ...]:
    """A country's subdivisions as (code, label): "57 — Moselle"."""
    if country not in _countries():
        return ()
    known = holidays_package.country_holidays(country)
    aliases = known.get_subdivision_aliases()
    result = []
    for code in known.subdivisions:
        names = [alias for alias in aliases.get(code, []) if not alias.isupper()]
        result.append((code, f"{code} — {names[-1]}" if names else code))
    return tuple(result)


def subdivision_choices(country: str) -> list[tuple[str, str]]:
    return [("", _("— the whole country —")), *subdivisions(country)]


def all_subdivisions() -> dict[str, list[tuple[str, str]]]:
    """Every country's subdivisions, for the script that refreshes the choices."""
    return {country: list(subdivisions(country)) for country in _countries()
            if subdivisions(country)}


def day_choices() -> list[tuple[str, str]]:
    names = get_day_names("wide", locale=get_locale())
    return [(day, names[index].capitalize()) for index, day in enumerate(WEEKDAYS)]


# -- the form -----------------------------------------------------------------------------------


class WindowForm(Form):
    day = SelectField(_l("Day"))
    start = StringField(_l("From"))
    end = StringField(_l("To"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.day.choices = day_choices()

    def is_blank(self) -> bool:
        return not (self.start.data or "").strip() and not (self.end.data or "").strip()


class ClosureForm(Form):
    first = StringField(_l("First day"))
    last = StringField(_l("Last day (optional)"))

    def is_blank(self) -> bool:
        return not (self.first.data or "").strip() and not (self.last.data or "").strip()


def _hours(form: Form, field: Field) -> None:
    try:
        hours = Decimal((field.data or "").strip().replace(",", "."))
    except InvalidOperation:
        raise ValidationError(_("Give a number of hours, such as 4 or 1.5.")) from None
    if not hours.is_finite() or hours <= 0 or hours > MAX_SAMPLE_HOURS:
        raise ValidationError(_("Give a number of hours above 0 and at most %(most)s.",
                                most=MAX_SAMPLE_HOURS))


def _local_instant(form: Form, field: Field) -> None:
    if parse_local((field.data or "").strip()) is None:
        raise ValidationError(_("Give a date and time such as 2026-03-27T16:00."))


def parse_local(text: str) -> datetime | None:
    for pattern in ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"):
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    return None


class SampleForm(Form):
    """The sample of a preview: a start, in the calendar's zone, and two targets in hours."""

    start = StringField(_l("Start"), validators=[_local_instant])
    gti = StringField(_l("GTI (hours)"), validators=[_hours])
    gtr = StringField(_l("GTR (hours)"), validators=[_hours])

    def fill(self, now: datetime, zone: ZoneInfo) -> None:
        """Defaults for an empty sample: now in the calendar's zone, 4 h and 8 h."""
        if not self.start.data:
            self.start.data = now.astimezone(zone).strftime("%Y-%m-%dT%H:%M")
        self.gti.data = self.gti.data or "4"
        self.gtr.data = self.gtr.data or "8"

    def sample(self, zone: ZoneInfo) -> "Sample":
        local = parse_local(self.start.data.strip())
        assert local is not None  # validated
        return Sample(local.replace(tzinfo=zone), _duration(self.gti.data),
                      _duration(self.gtr.data))


def _duration(text: str) -> timedelta:
    hours = Decimal(text.strip().replace(",", "."))
    return timedelta(seconds=int((hours * 3600).to_integral_value()))


@dataclass(frozen=True)
class Sample:
    start: datetime
    gti: timedelta
    gtr: timedelta


class CalendarForm(FlaskForm):
    code = StringField(_l("Code"))
    timezone = SelectField(_l("Time zone"), validate_choice=False)
    always = BooleanField(_l("Open 24 hours a day, 7 days a week (24/7)"))
    windows = FieldList(FormField(WindowForm), min_entries=0, max_entries=MAX_ROWS)
    country = SelectField(_l("Public holidays of"), validate_choice=False)
    subdiv = SelectField(_l("Subdivision"), validate_choice=False)
    closures = FieldList(FormField(ClosureForm), min_entries=0, max_entries=MAX_ROWS)
    sample = FormField(SampleForm)

    def __init__(self, *args: Any, existing: Calendar | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.existing = existing
        self.timezone.choices = zone_choices(self.timezone.data)
        self.country.choices = country_choices()
        self.subdiv.choices = subdivision_choices(self.country.data or "")
        self.window_errors: list[str] = []
        self.closure_errors: list[str] = []

    # -- rows -----------------------------------------------------------------------------------

    def add_row(self, rows: FieldList) -> None:
        if len(rows) < MAX_ROWS:
            rows.append_entry()

    def top_up_blank_rows(self) -> None:
        """Empty rows to type in at the end of each list, as many as a fresh form has: a form
        sent back again and again keeps the same number."""
        for rows in (self.windows, self.closures):
            blank = 0
            for row in reversed(rows.entries):
                if not row.form.is_blank():
                    break
                blank += 1
            for _n in range(BLANK_ROWS - blank):
                self.add_row(rows)

    def remove_row(self, rows: FieldList, index: int) -> None:
        if 0 <= index < len(rows.entries):
            rows.entries.pop(index)

    # -- what was typed, in the import format ---------------------------------------------------

    def document(self) -> tuple[dict[str, Any], "_Targets"]:
        """The calendar typed, as one calendar of the import format, and where each of its
        paths is shown in the form."""
        targets = _Targets(self)
        code = self.existing.code if self.existing is not None else (self.code.data or "").strip()
        calendar: dict[str, Any] = {"code": code, "timezone": self.timezone.data or ""}
        targets.fields["code"] = self.code
        targets.fields["timezone"] = self.timezone
        targets.fields["always"] = self.always
        if self.always.data:
            # 24/7 ignores windows, holidays and closures: the form says so beside the box.
            calendar["always"] = True
            return calendar, targets
        weekly: dict[str, list[list[str]]] = {}
        for row in self.windows:
            form = row.form
            if form.is_blank():
                continue
            day = form.day.data if form.day.data in WEEKDAYS else ""
            window = [(form.start.data or "").strip(), (form.end.data or "").strip()]
            targets.days.setdefault(day, []).append(form)
            targets.fields[f"weekly.{day}[{len(weekly.get(day, []))}]"] = form.start
            weekly.setdefault(day, []).append(window)
        calendar["weekly"] = weekly
        if self.country.data:
            holidays: dict[str, str] = {"country": self.country.data}
            if self.subdiv.data:
                holidays["subdiv"] = self.subdiv.data
            calendar["holidays"] = holidays
            targets.fields["holidays.country"] = self.country
            targets.fields["holidays.subdiv"] = self.subdiv
        closures: list[str] = []
        for row in self.closures:
            form = row.form
            if form.is_blank():
                continue
            for value, field in self._closure_days(form):
                targets.fields[f"closures[{len(closures)}]"] = field
                closures.append(value)
        calendar["closures"] = closures
        return calendar, targets

    def _closure_days(self, form: ClosureForm) -> list[tuple[str, Field]]:
        """A row's days: its first day, or each day of its range when both ends are dates.
        Ends that are not dates go as typed, for the import's validation to refuse."""
        first, last = (form.first.data or "").strip(), (form.last.data or "").strip()
        if not last or last == first:
            return [(first, form.first)]
        try:
            start, end = date.fromisoformat(first), date.fromisoformat(last)
        except ValueError:
            return [(first, form.first), (last, form.last)]
        if end < start:
            form.last.errors.append(_("The last day comes before the first."))
            return [(first, form.first)]
        if (end - start).days >= MAX_CLOSURE_DAYS:
            form.last.errors.append(_("A closure lasts at most %(days)s days.",
                                      days=MAX_CLOSURE_DAYS))
            return [(first, form.first)]
        return [((start + timedelta(days=n)).isoformat(), form.first if n == 0 else form.last)
                for n in range((end - start).days + 1)]

    def checked(self, taken: Callable[[str], bool]) -> CalendarIn | None:
        """The typed calendar once the import's validation accepts it; None after putting each
        error under its field. `taken`: whether a new calendar's code is already used."""
        document, targets = self.document()
        plan, errors = validate_import({"calendars": [document]})
        for line in errors:
            path, _sep, message = line.partition(": ")
            targets.place(path.removeprefix(PREFIX).lstrip("."), message)
        if self.existing is None and not errors and taken(document["code"]):
            self.code.errors.append(_("A calendar with this code exists: edit it instead."))
        if errors or self.has_errors():
            return None
        assert plan is not None
        return plan.calendars[0]

    def has_errors(self) -> bool:
        fields: list[Field] = [self.code, self.timezone, self.always, self.country, self.subdiv]
        if getattr(self, "csrf_token", None) is not None:
            fields.append(self.csrf_token)
        fields += [f for row in self.windows for f in row.form]
        fields += [f for row in self.closures for f in row.form]
        return bool(self.form_errors or self.window_errors or self.closure_errors
                    or any(field.errors for field in fields))

    # -- filled from a stored calendar ----------------------------------------------------------

    @staticmethod
    def data_of(calendar: EngineCalendar) -> dict[str, Any]:
        """Form data showing a calendar: its windows day by day, its closures as ranges."""
        windows = [{"day": WEEKDAYS[day], "start": start, "end": end}
                   for day, pairs in sorted(calendar.weekly.items()) for start, end in pairs]
        if calendar.is_always:
            windows = []
        return {"timezone": calendar.timezone, "always": calendar.is_always,
                "windows": windows, "country": calendar.holidays_country or "",
                "subdiv": calendar.holidays_subdiv or "",
                "closures": [{"first": first.isoformat(),
                              "last": "" if last == first else last.isoformat()}
                             for first, last in closure_ranges(calendar.closures)]}


def closure_ranges(days: tuple[date, ...]) -> list[tuple[date, date]]:
    """Consecutive days gathered into (first, last) ranges."""
    ranges: list[tuple[date, date]] = []
    for day in sorted(days):
        if ranges and ranges[-1][1] + timedelta(days=1) == day:
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges


class _Targets:
    """Where each path of the typed calendar is shown: a field, a row, or the group's errors."""

    def __init__(self, form: CalendarForm) -> None:
        self.form = form
        self.fields: dict[str, Field] = {}
        self.days: dict[str, list[WindowForm]] = {}

    def place(self, path: str, message: str) -> None:
        text = translated(message)
        day = path.removeprefix("weekly.") if path.startswith("weekly.") else None
        if day in self.days:
            for field in self._day_fields(self.days[day], message):
                field.errors.append(text)
        elif path in self.fields:
            self.fields[path].errors.append(text)
        elif path == "weekly" or path.startswith("weekly"):
            self.form.window_errors.append(text)
        elif path.startswith("closures"):
            self.form.closure_errors.append(text)
        else:
            self.form.form_errors.append(text)

    @staticmethod
    def _day_fields(rows: list[WindowForm], message: str) -> list[Field]:
        """The fields a day's error is about: the windows or times it quotes, else the first."""
        found: list[Field] = []
        for row in rows:
            start, end = (row.start.data or "").strip(), (row.end.data or "").strip()
            if f"{start}–{end}" in message or f"'{start}'" in message:
                found.append(row.start)
            elif f"'{end}'" in message:
                found.append(row.end)
        return found or [rows[0].start]
