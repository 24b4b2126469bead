"""The import document (DESIGN §5): its shape, its values and the rules that span them.

`validate_import(data)` checks the whole document — shapes and values with strict pydantic models,
then rules that span fields and references to the file or the database — and returns a plan or
every error as one `path: message` line (`contracts[0].priorities[1].gti: ...`). It reads the
database, never writes it.
"""
from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated, Any, NoReturn
from zoneinfo import available_timezones

import holidays as holidays_package
import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainValidator, ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError

from helpdesk.accounts.models import Organisation, OrganisationKind
from helpdesk.accounts.passwords import MAX_LENGTH, MIN_LENGTH
from helpdesk.accounts.roles import Role
from helpdesk.accounts.services import OrganisationFields, UserFields, find_user
from helpdesk.contracts.models import WEEKDAYS, Calendar, Contract, NotifyTarget
from helpdesk.extensions import db
from helpdesk.sla.calendar import WEEKDAY_LABELS
from helpdesk.sla.calendar import Calendar as EngineCalendar
from helpdesk.sla.durations import parse_iso_duration
from helpdesk.text import BIDI_REFUSAL, has_bidi_controls

SECTIONS = ("calendars", "organisations", "users", "contracts")
LANGUAGES = ("fr", "en")

# -- value types: each refuses bad input with a short message meant for the author of the file --


def _fail(message: str) -> NoReturn:
    # The message goes through the context so that braces in it are never read as placeholders.
    raise PydanticCustomError("invalid", "{message}", {"message": message})


_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CURRENCY = re.compile(r"[A-Z]{3}")


def _code(max_length: int) -> Callable[[object], str]:
    def validate(value: object) -> str:
        if not isinstance(value, str) or not _CODE.fullmatch(value) or len(value) > max_length:
            _fail(f"must be 1 to {max_length} letters, digits, '.', '_' or '-', "
                  "starting with a letter or digit")
        return value
    return validate


def _text(max_length: int, *, required: bool = True) -> Callable[[object], str]:
    def validate(value: object) -> str:
        if not isinstance(value, str):
            _fail("must be a string")
        text = value.strip()
        if required and not text:
            _fail("must not be empty")
        if len(text) > max_length:
            _fail(f"must be at most {max_length} characters")
        return text
    return validate


def _name(max_length: int) -> Callable[[object], str]:
    """A name or title people read in lists and documents: no direction controls."""
    text = _text(max_length)

    def validate(value: object) -> str:
        name = text(value)
        if has_bidi_controls(name):
            _fail(BIDI_REFUSAL)
        return name
    return validate


def _decimal(places: int, example: str, *, maximum: Decimal) -> Callable[[object], Decimal]:
    def validate(value: object) -> Decimal:
        if not isinstance(value, str) or not _DECIMAL.fullmatch(value):
            _fail(f'must be a decimal string such as "{example}"')
        number = Decimal(value)
        if number < 0:
            _fail("must not be negative")
        exponent = number.as_tuple().exponent
        assert isinstance(exponent, int)  # finite: the pattern admits digits only
        if -exponent > places:
            _fail(f"must have at most {places} decimal places")
        if number > maximum:
            _fail(f"must be at most {maximum}")
        return number
    return validate


def _choice(values: Iterable[str]) -> Callable[[object], str]:
    allowed = tuple(values)

    def validate(value: object) -> str:
        if value not in allowed:
            _fail("must be one of " + ", ".join(allowed))
        return value
    return validate


def _duration(value: object) -> timedelta:
    if not isinstance(value, str):
        _fail('must be an ISO 8601 duration string such as "PT2H"')
    try:
        duration = parse_iso_duration(value)
    except ValueError as exc:
        _fail(str(exc))
    if duration <= timedelta(0):
        _fail("must be longer than zero")
    if duration % timedelta(seconds=1):
        _fail("must be a whole number of seconds")
    return duration


def _iso_date(value: object) -> date:
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    _fail('must be a date such as "2026-01-31"')


@functools.cache
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _time_zone(value: object) -> str:
    if not isinstance(value, str):
        _fail('must be an IANA time zone such as "Europe/Paris"')
    if value not in _time_zones():
        _fail(f"unknown time zone '{value}'")
    return value


def _email(value: object) -> str:
    if not isinstance(value, str):
        _fail("must be a string")
    try:
        checked = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError:
        _fail("not a valid e-mail address")
    return checked.normalized.lower()


def _currency(value: object) -> str:
    if not isinstance(value, str) or not _CURRENCY.fullmatch(value):
        _fail('must be 3 capital letters such as "EUR"')
    return value


def _password(value: object) -> str:
    if not isinstance(value, str):
        _fail("must be a string")
    if len(value) < MIN_LENGTH:
        _fail(f"must be at least {MIN_LENGTH} characters")
    if len(value) > MAX_LENGTH:
        _fail(f"must be at most {MAX_LENGTH} characters")
    return value


def _threshold(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100:
        _fail("must be a whole number from 1 to 100")
    return value


def _window(value: object) -> tuple[str, str]:
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
        _fail('a window is ["HH:MM", "HH:MM"]')
    return value[0], value[1]


def _day(windows: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Times, order and overlaps of one day's windows, checked by the engine itself."""
    if windows:
        try:
            EngineCalendar("UTC", {0: windows})
        except (ValueError, TypeError) as exc:
            _fail(str(exc).removeprefix(f"{WEEKDAY_LABELS[0]}: "))
    return windows


CalendarCode = Annotated[str, PlainValidator(_code(64))]
OrganisationCode = Annotated[str, PlainValidator(_code(64))]
Reference = Annotated[str, PlainValidator(_code(64))]
PriorityCode = Annotated[str, PlainValidator(_code(16))]
Money = Annotated[Decimal, PlainValidator(_decimal(2, "1000.00", maximum=Decimal("9999999999.99")))]
Percent = Annotated[Decimal, PlainValidator(_decimal(3, "20", maximum=Decimal(100)))]
Duration = Annotated[timedelta, PlainValidator(_duration)]
IsoDate = Annotated[date, PlainValidator(_iso_date)]
TimeZone = Annotated[str, PlainValidator(_time_zone)]
Email = Annotated[str, PlainValidator(_email)]
Currency = Annotated[str, PlainValidator(_currency)]
Password = Annotated[str, PlainValidator(_password)]
Threshold = Annotated[int, PlainValidator(_threshold)]
Window = Annotated[tuple[str, str], PlainValidator(_window)]
Day = Annotated[list[Window], AfterValidator(_day)]


# -- the document -----------------------------------------------------------------------------


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class WeeklyIn(_Input):
    mon: Day | None = None
    tue: Day | None = None
    wed: Day | None = None
    thu: Day | None = None
    fri: Day | None = None
    sat: Day | None = None
    sun: Day | None = None

    def windows(self) -> dict[int | str, list[tuple[str, str]]]:
        return {day: getattr(self, day) for day in WEEKDAYS if getattr(self, day)}


class HolidaysIn(_Input):
    country: Annotated[str, PlainValidator(_text(8))]
    subdiv: Annotated[str, PlainValidator(_text(16))] | None = None


class CalendarIn(_Input):
    code: CalendarCode
    timezone: TimeZone
    always: bool = False
    weekly: WeeklyIn | None = None
    holidays: HolidaysIn | None = None
    closures: list[IsoDate] = []

    def engine(self) -> EngineCalendar:
        if self.always:
            return EngineCalendar.always(timezone=self.timezone)
        return EngineCalendar(
            self.timezone,
            self.weekly.windows() if self.weekly else {},
            holidays_country=self.holidays.country if self.holidays else None,
            holidays_subdiv=self.holidays.subdiv if self.holidays else None,
            closures=self.closures,
        )


class OrganisationIn(_Input):
    code: OrganisationCode
    name: Annotated[str, PlainValidator(_name(200))]
    kind: Annotated[str, PlainValidator(_choice(k.value for k in OrganisationKind))]
    address: Annotated[str, PlainValidator(_text(1000, required=False))] = ""
    company_id: Annotated[str, PlainValidator(_text(64, required=False))] = ""
    vat_number: Annotated[str, PlainValidator(_text(64, required=False))] = ""

    def fields(self) -> OrganisationFields:
        return {"name": self.name, "kind": OrganisationKind(self.kind), "address": self.address,
                "company_id": self.company_id, "vat_number": self.vat_number}


class UserIn(_Input):
    email: Email
    name: Annotated[str, PlainValidator(_name(200))]
    role: Annotated[str, PlainValidator(_choice(r.value for r in Role))]
    organisation: OrganisationCode | None = None
    password: Password | None = None
    timezone: TimeZone = "Europe/Paris"
    language: Annotated[str, PlainValidator(_choice(LANGUAGES))] = "fr"
    active: bool = True

    def fields(self) -> UserFields:
        return {"name": self.name, "role": Role(self.role), "organisation": self.organisation,
                "timezone": self.timezone, "language": self.language, "active": self.active}


class EscalationIn(_Input):
    at_percent: Threshold
    notify: Annotated[str, PlainValidator(_choice(n.value for n in NotifyTarget))]


class PenaltyIn(_Input):
    fixed: Money = Decimal(0)
    percent_per_started_hour: Percent = Decimal(0)


class PenaltiesIn(_Input):
    gti: PenaltyIn | None = None
    gtr: PenaltyIn | None = None


class PriorityIn(_Input):
    code: PriorityCode
    label: Annotated[str, PlainValidator(_text(100))]
    calendar: CalendarCode
    gti: Duration
    gtr: Duration | None = None
    escalations: list[EscalationIn] = []
    penalties: PenaltiesIn = Field(default_factory=PenaltiesIn)


class TierIn(_Input):
    below_percent: Percent
    credit_percent: Percent


class AvailabilityIn(_Input):
    target_percent: Percent
    calendar: CalendarCode | None = None
    tiers: list[TierIn] = []


class ContractIn(_Input):
    reference: Reference
    organisation: OrganisationCode
    title: Annotated[str, PlainValidator(_name(200))]
    starts_on: IsoDate
    ends_on: IsoDate | None = None
    monthly_fee: Money
    currency: Currency = "EUR"
    vat_rate: Percent
    credit_cap_percent: Percent
    credits_subject_to_vat: bool = True
    availability: AvailabilityIn | None = None
    priorities: list[PriorityIn]


SECTION_MODELS: dict[str, type[_Input]] = {
    "calendars": CalendarIn,
    "organisations": OrganisationIn,
    "users": UserIn,
    "contracts": ContractIn,
}


@dataclass(frozen=True)
class ImportPlan:
    """A validated document, ready for `apply_import`."""

    calendars: tuple[CalendarIn, ...] = ()
    organisations: tuple[OrganisationIn, ...] = ()
    users: tuple[UserIn, ...] = ()
    contracts: tuple[ContractIn, ...] = ()


# -- validation -------------------------------------------------------------------------------

_GENERIC_MESSAGES = {
    "missing": "required",
    "extra_forbidden": "unknown key",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "dict_type": "must be an object",
    "list_type": "must be a list",
    "bool_type": "must be true or false",
    "string_type": "must be a string",
    "int_type": "must be a whole number",
}
_UNKNOWN_KEY_IN = {
    "weekly": "unknown day: use mon, tue, wed, thu, fri, sat or sun",
    "penalties": "unknown metric: penalties are for gti or gtr",
}


def _path(prefix: str, loc: Iterable[object]) -> str:
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else str(part)
    return path or "document"


def _message(error: ErrorDetails) -> str:
    kind = error["type"]
    if kind == "invalid":
        return error["msg"]
    loc = error["loc"]
    if kind == "extra_forbidden" and len(loc) >= 2 and loc[-2] in _UNKNOWN_KEY_IN:
        return _UNKNOWN_KEY_IN[loc[-2]]
    if kind in _GENERIC_MESSAGES:
        return _GENERIC_MESSAGES[kind]
    message = error["msg"]
    return message[:1].lower() + message[1:]


class _Known:
    """Codes a reference may name: those defined in the file (even with errors) or stored."""

    def __init__(self, raw: dict[str, list[Any]]) -> None:
        self._codes = {Calendar: _raw_keys(raw.get("calendars"), "code"),
                       Organisation: _raw_keys(raw.get("organisations"), "code")}
        self._stored: dict[tuple[type, str], bool] = {}

    def _exists(self, model: type[Calendar] | type[Organisation], code: str) -> bool:
        if code in self._codes[model]:
            return True
        if (model, code) not in self._stored:
            self._stored[model, code] = bool(db.session.scalar(
                sa.select(sa.exists().where(model.code == code))))
        return self._stored[model, code]

    def calendar(self, code: str) -> bool:
        return self._exists(Calendar, code)

    def organisation(self, code: str) -> bool:
        return self._exists(Organisation, code)


def _raw_keys(items: object, key: str) -> set[str]:
    if not isinstance(items, list):
        return set()
    return {item[key] for item in items if isinstance(item, dict) and isinstance(item.get(key), str)}


class UnreadableDocument(ValueError):
    """The bytes given are not a JSON document: the message says where and why."""


def parse_document(raw: bytes) -> object:
    """The JSON value of an import file's bytes, before `validate_import` checks it."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UnreadableDocument("not UTF-8 text") from None
    try:
        return json.loads(text)
    except RecursionError:
        raise UnreadableDocument("nested too deeply") from None
    except json.JSONDecodeError as error:
        raise UnreadableDocument(f"invalid JSON at line {error.lineno}, column {error.colno}: "
                                 f"{error.msg}") from None


def validate_import(data: object) -> tuple[ImportPlan | None, list[str]]:
    """Check a whole import document. Returns (plan, []) or (None, ["path: message", ...]).

    Reads the database (existing codes, e-mails), so it runs inside an application context.
    """
    if not isinstance(data, dict):
        return None, ["document: must be a JSON object with calendars, organisations, users "
                      "and/or contracts"]
    errors: list[str] = []
    for key in data:
        if key not in SECTIONS:
            errors.append(f"{_path('', [key])}: unknown section (expected calendars, "
                          "organisations, users or contracts)")
    sections: dict[str, list[Any]] = {}
    for name in SECTIONS:
        value = data.get(name, [])
        if not isinstance(value, list):
            errors.append(f"{name}: must be a list")
        else:
            sections[name] = value
    known = _Known(sections)
    checks: dict[str, Callable[[Any, str, _Known], list[str]]] = {
        "calendars": _check_calendar, "users": _check_user, "contracts": _check_contract}
    # Each list holds the models of its section, as ImportPlan's fields say.
    parsed: dict[str, list[Any]] = {name: [] for name in SECTIONS}
    for name, items in sections.items():
        seen: dict[str, str] = {}
        for index, item in enumerate(items):
            prefix = f"{name}[{index}]"
            try:
                model = SECTION_MODELS[name].model_validate(item)
            except ValidationError as exc:
                errors.extend(f"{_path(prefix, e['loc'])}: {_message(e)}"
                              for e in exc.errors(include_url=False))
                continue
            if name in checks:
                errors.extend(checks[name](model, prefix, known))
            errors.extend(_check_unique(model, prefix, seen))
            parsed[name].append(model)
    if errors:
        return None, errors
    return ImportPlan(**{name: tuple(models) for name, models in parsed.items()}), []


_KEYS = {CalendarIn: ("code", "calendar"), OrganisationIn: ("code", "organisation"),
         UserIn: ("email", "user"), ContractIn: ("reference", "contract")}


def _check_unique(model: _Input, prefix: str, seen: dict[str, str]) -> list[str]:
    attribute, noun = _KEYS[type(model)]
    key = getattr(model, attribute)
    if key in seen:
        return [f"{prefix}.{attribute}: duplicate {noun} '{key}' (also at {seen[key]})"]
    seen[key] = prefix
    return []


def _check_calendar(calendar: CalendarIn, prefix: str, known: _Known) -> list[str]:
    if calendar.always:
        if calendar.weekly or calendar.holidays or calendar.closures:
            return [f"{prefix}.always: a 24/7 calendar takes no weekly windows, holidays "
                    "or closures"]
        return []
    if calendar.weekly is None:
        return [f"{prefix}.weekly: required unless always is true"]
    if not calendar.weekly.windows():
        return [f"{prefix}.weekly: no opening window (use \"always\": true for 24/7)"]
    if calendar.holidays:
        country, subdiv = calendar.holidays.country, calendar.holidays.subdiv
        try:
            known_holidays = holidays_package.country_holidays(country)
        except NotImplementedError:
            return [f"{prefix}.holidays.country: unknown country '{country}' for public holidays"]
        aliases = getattr(known_holidays, "subdivisions_aliases", {})
        if subdiv is not None and subdiv not in known_holidays.subdivisions and subdiv not in aliases:
            return [f"{prefix}.holidays.subdiv: unknown subdivision '{subdiv}' of {country}"]
    try:
        calendar.engine()
    except (ValueError, TypeError) as exc:
        return [f"{prefix}: {exc}"]
    return []


def _check_user(user: UserIn, prefix: str, known: _Known) -> list[str]:
    errors = []
    existing = find_user(user.email)
    if user.organisation is not None and not known.organisation(user.organisation):
        errors.append(f"{prefix}.organisation: unknown organisation '{user.organisation}'")
    if "organisation" in user.model_fields_set or existing is None:
        has_organisation = user.organisation is not None
    else:
        has_organisation = existing.organisation_id is not None
    if user.role == Role.CLIENT and not has_organisation:
        errors.append(f"{prefix}.organisation: required for a client user")
    return errors


def _repeats(values: Iterable[Hashable]) -> Iterator[tuple[int, Hashable]]:
    """Each value already met earlier in `values`, with its index."""
    seen: set[Hashable] = set()
    for index, value in enumerate(values):
        if value in seen:
            yield index, value
        seen.add(value)


def _check_contract(contract: ContractIn, prefix: str, known: _Known) -> list[str]:
    errors = []
    if not known.organisation(contract.organisation):
        errors.append(f"{prefix}.organisation: unknown organisation '{contract.organisation}'")
    existing = db.session.scalar(sa.select(Contract).where(Contract.reference == contract.reference))
    if existing is not None and existing.organisation.code != contract.organisation:
        # Its tickets, reports and credit notes belong to the organisation that signed it.
        errors.append(f"{prefix}.organisation: contract {contract.reference} belongs to "
                      f"'{existing.organisation.code}' and cannot move to another organisation")
    if contract.ends_on is not None and contract.ends_on < contract.starts_on:
        errors.append(f"{prefix}.ends_on: must not be before starts_on")
    if contract.availability is not None:
        availability = contract.availability
        if availability.calendar is not None and not known.calendar(availability.calendar):
            errors.append(f"{prefix}.availability.calendar: unknown calendar "
                          f"'{availability.calendar}'")
        errors.extend(f"{prefix}.availability.tiers[{index}].below_percent: duplicate tier {below}"
                      for index, below in _repeats(t.below_percent for t in availability.tiers))
    if not contract.priorities:
        errors.append(f"{prefix}.priorities: at least one priority is required")
    codes: set[str] = set()
    for index, priority in enumerate(contract.priorities):
        where = f"{prefix}.priorities[{index}]"
        if priority.code in codes:
            errors.append(f"{where}.code: duplicate priority '{priority.code}'")
        codes.add(priority.code)
        if not known.calendar(priority.calendar):
            errors.append(f"{where}.calendar: unknown calendar '{priority.calendar}'")
        if priority.penalties.gtr is not None and priority.gtr is None:
            errors.append(f"{where}.penalties.gtr: the priority has no gtr")
        errors.extend(f"{where}.escalations[{index}].at_percent: duplicate threshold {at}"
                      for index, at in _repeats(e.at_percent for e in priority.escalations))
    return errors
