"""Import calendars, organisations, users and contracts from a JSON document (DESIGN §5).

Two steps, so nothing is written unless everything is right:

- `validate_import(data)` checks the whole document — shapes and values with strict pydantic models,
  then rules that span fields and references to the file or the database — and returns a plan or
  every error as one `path: message` line (`contracts[0].priorities[1].gti: ...`).
- `apply_import(plan, now=...)` creates or updates by key (calendars and organisations by code,
  users by e-mail, contracts by reference). It flushes, never commits.

Versioned things are never edited: a changed calendar gets a new version row, and changed contract
terms get a new `ContractVersion`, so tickets opened earlier keep the terms they were opened under.
Contract terms are compared through a digest of their canonical JSON, which names calendars by the
id of their version: a new calendar version therefore gives every contract using it a new version.
"""
from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, NoReturn
from zoneinfo import available_timezones

import holidays as holidays_package
import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainValidator, ValidationError
from pydantic_core import PydanticCustomError

from helpdesk.accounts.models import Organisation, OrganisationKind, Role, User
from helpdesk.audit.services import diff, record_audit
from helpdesk.contracts.models import (
    WEEKDAYS,
    AvailabilityTier,
    Calendar,
    Contract,
    ContractVersion,
    EscalationThreshold,
    Metric,
    NotifyTarget,
    PenaltyRule,
    Priority,
)
from helpdesk.extensions import db
from helpdesk.sla.calendar import WEEKDAY_LABELS
from helpdesk.sla.calendar import Calendar as EngineCalendar
from helpdesk.sla.durations import parse_iso_duration

SECTIONS = ("calendars", "organisations", "users", "contracts")
LANGUAGES = ("fr", "en")
PASSWORD_MIN = 8
PASSWORD_MAX = 1024
CENT = Decimal("0.01")
PERCENT_STEP = Decimal("0.001")

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


def _decimal(places: int, example: str, *, maximum: Decimal) -> Callable[[object], Decimal]:
    def validate(value: object) -> Decimal:
        if not isinstance(value, str) or not _DECIMAL.fullmatch(value):
            _fail(f'must be a decimal string such as "{example}"')
        number = Decimal(value)
        if number < 0:
            _fail("must not be negative")
        if -number.as_tuple().exponent > places:
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
    if len(value) < PASSWORD_MIN:
        _fail(f"must be at least {PASSWORD_MIN} characters")
    if len(value) > PASSWORD_MAX:
        _fail(f"must be at most {PASSWORD_MAX} characters")
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

    def windows(self) -> dict[str, list[tuple[str, str]]]:
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
    name: Annotated[str, PlainValidator(_text(200))]
    kind: Annotated[str, PlainValidator(_choice(k.value for k in OrganisationKind))]
    address: Annotated[str, PlainValidator(_text(1000, required=False))] = ""
    company_id: Annotated[str, PlainValidator(_text(64, required=False))] = ""
    vat_number: Annotated[str, PlainValidator(_text(64, required=False))] = ""


class UserIn(_Input):
    email: Email
    name: Annotated[str, PlainValidator(_text(200))]
    role: Annotated[str, PlainValidator(_choice(r.value for r in Role))]
    organisation: OrganisationCode | None = None
    password: Password | None = None
    timezone: TimeZone = "Europe/Paris"
    language: Annotated[str, PlainValidator(_choice(LANGUAGES))] = "fr"
    active: bool = True


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
    title: Annotated[str, PlainValidator(_text(200))]
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


def _message(error: dict) -> str:
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

    def __init__(self, raw: dict[str, list]):
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
    sections: dict[str, list] = {}
    for name in SECTIONS:
        value = data.get(name, [])
        if not isinstance(value, list):
            errors.append(f"{name}: must be a list")
        else:
            sections[name] = value
    known = _Known(sections)
    checks = {"calendars": _check_calendar, "users": _check_user, "contracts": _check_contract}
    parsed: dict[str, list] = {name: [] for name in SECTIONS}
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
    existing = db.session.scalar(sa.select(User).where(User.email == user.email))
    if user.organisation is not None and not known.organisation(user.organisation):
        errors.append(f"{prefix}.organisation: unknown organisation '{user.organisation}'")
    if "organisation" in user.model_fields_set or existing is None:
        has_organisation = user.organisation is not None
    else:
        has_organisation = existing.organisation_id is not None
    if user.role == Role.CLIENT and not has_organisation:
        errors.append(f"{prefix}.organisation: required for a client user")
    if existing is None and user.password is None:
        errors.append(f"{prefix}.password: required for a new user")
    return errors


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
        seen_tiers: set[Decimal] = set()
        for index, tier in enumerate(availability.tiers):
            if tier.below_percent in seen_tiers:
                errors.append(f"{prefix}.availability.tiers[{index}].below_percent: duplicate "
                              f"tier {tier.below_percent}")
            seen_tiers.add(tier.below_percent)
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
        thresholds: set[int] = set()
        for position, escalation in enumerate(priority.escalations):
            if escalation.at_percent in thresholds:
                errors.append(f"{where}.escalations[{position}].at_percent: duplicate "
                              f"threshold {escalation.at_percent}")
            thresholds.add(escalation.at_percent)
    return errors


# -- terms: canonical form and digest ---------------------------------------------------------


def _money(value: Decimal) -> str:
    return str(Decimal(value).quantize(CENT))


def _percent(value: Decimal) -> str:
    return str(Decimal(value).quantize(PERCENT_STEP))


def terms_digest(terms: dict) -> str:
    """sha256 of the canonical JSON of a terms dict (see `version_terms`)."""
    text = json.dumps(terms, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def version_terms(version: ContractVersion,
                  calendar_id: Callable[[Calendar], int] | None = None) -> dict:
    """The terms of a stored version as canonical JSON-ready values.

    Calendars appear as the ids of their versions; `calendar_id` may map each calendar to another
    version (the current one of its code) to see what the terms would be with today's calendars.
    """
    calendar_id = calendar_id or (lambda calendar: calendar.id)
    availability = None
    if version.availability_target_percent is not None:
        availability = {
            "target_percent": _percent(version.availability_target_percent),
            "calendar_id": (calendar_id(version.availability_calendar)
                            if version.availability_calendar is not None else None),
            "tiers": _tiers((t.below_percent, t.credit_percent)
                            for t in version.availability_tiers),
        }
    return {
        "monthly_fee": _money(version.monthly_fee),
        "currency": version.currency,
        "vat_rate": _percent(version.vat_rate),
        "credit_cap_percent": _percent(version.credit_cap_percent),
        "credits_subject_to_vat": bool(version.credits_subject_to_vat),
        "availability": availability,
        "priorities": [
            {
                "code": priority.code,
                "label": priority.label,
                "calendar_id": calendar_id(priority.calendar),
                "gti_seconds": priority.gti_seconds,
                "gtr_seconds": priority.gtr_seconds,
                "escalations": _escalations((e.at_percent, NotifyTarget(e.notify).value)
                                            for e in priority.escalations),
                "penalties": {
                    Metric(rule.metric).value: {
                        "fixed": _money(rule.fixed_amount),
                        "percent_per_started_hour": _percent(rule.percent_per_started_hour),
                    }
                    for rule in priority.penalties
                },
            }
            for priority in sorted(version.priorities, key=lambda p: p.position)
        ],
    }


def _input_terms(contract: ContractIn, calendar_id: Callable[[str], int]) -> dict:
    availability = None
    if contract.availability is not None:
        given = contract.availability
        availability = {
            "target_percent": _percent(given.target_percent),
            "calendar_id": calendar_id(given.calendar) if given.calendar is not None else None,
            "tiers": _tiers((t.below_percent, t.credit_percent) for t in given.tiers),
        }
    return {
        "monthly_fee": _money(contract.monthly_fee),
        "currency": contract.currency,
        "vat_rate": _percent(contract.vat_rate),
        "credit_cap_percent": _percent(contract.credit_cap_percent),
        "credits_subject_to_vat": contract.credits_subject_to_vat,
        "availability": availability,
        "priorities": [
            {
                "code": priority.code,
                "label": priority.label,
                "calendar_id": calendar_id(priority.calendar),
                "gti_seconds": int(priority.gti.total_seconds()),
                "gtr_seconds": None if priority.gtr is None else int(priority.gtr.total_seconds()),
                "escalations": _escalations((e.at_percent, e.notify) for e in priority.escalations),
                "penalties": {
                    metric: {"fixed": _money(rule.fixed),
                             "percent_per_started_hour": _percent(rule.percent_per_started_hour)}
                    for metric in (Metric.GTI.value, Metric.GTR.value)
                    if (rule := getattr(priority.penalties, metric)) is not None
                },
            }
            for priority in contract.priorities
        ],
    }


def _tiers(pairs: Iterable[tuple[Decimal, Decimal]]) -> list[dict]:
    return [{"below_percent": _percent(below), "credit_percent": _percent(credit)}
            for below, credit in sorted(pairs, key=lambda pair: pair[0], reverse=True)]


def _escalations(pairs: Iterable[tuple[int, str]]) -> list[dict]:
    return [{"at_percent": at, "notify": notify} for at, notify in sorted(pairs)]


def _same_terms(version: ContractVersion, terms: dict) -> bool:
    """Whether a stored version already has these terms: by its stored digest, or by its rows
    (versions written elsewhere may carry another digest)."""
    digest = terms_digest(terms)
    return version.terms_digest == digest or terms_digest(version_terms(version)) == digest


def _new_version(contract: Contract, terms: dict, *, number: int, now: datetime) -> ContractVersion:
    availability = terms["availability"]
    version = ContractVersion(
        contract=contract,
        version=number,
        effective_at=now,
        monthly_fee=Decimal(terms["monthly_fee"]),
        currency=terms["currency"],
        vat_rate=Decimal(terms["vat_rate"]),
        credit_cap_percent=Decimal(terms["credit_cap_percent"]),
        credits_subject_to_vat=terms["credits_subject_to_vat"],
        availability_target_percent=(Decimal(availability["target_percent"])
                                     if availability else None),
        availability_calendar_id=availability["calendar_id"] if availability else None,
        terms_digest=terms_digest(terms),
    )
    version.availability_tiers = [
        AvailabilityTier(below_percent=Decimal(t["below_percent"]),
                         credit_percent=Decimal(t["credit_percent"]))
        for t in (availability["tiers"] if availability else [])
    ]
    for position, given in enumerate(terms["priorities"]):
        priority = Priority(code=given["code"], label=given["label"], position=position,
                            calendar_id=given["calendar_id"], gti_seconds=given["gti_seconds"],
                            gtr_seconds=given["gtr_seconds"])
        priority.escalations = [EscalationThreshold(at_percent=e["at_percent"],
                                                    notify=NotifyTarget(e["notify"]))
                                for e in given["escalations"]]
        priority.penalties = [
            PenaltyRule(metric=Metric(metric), fixed_amount=Decimal(rule["fixed"]),
                        percent_per_started_hour=Decimal(rule["percent_per_started_hour"]))
            for metric, rule in given["penalties"].items()
        ]
        version.priorities.append(priority)
    db.session.add(version)
    return version


# -- applying ---------------------------------------------------------------------------------


@dataclass
class KindCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass(frozen=True)
class NewVersion:
    key: str
    version: int
    reason: str


@dataclass
class ImportReport:
    """What an import did, for printing."""

    counts: dict[str, KindCounts] = field(
        default_factory=lambda: {name: KindCounts() for name in SECTIONS})
    calendar_versions: list[NewVersion] = field(default_factory=list)
    contract_versions: list[NewVersion] = field(default_factory=list)

    def count(self, kind: str, outcome: str) -> None:
        counts = self.counts[kind]
        setattr(counts, outcome, getattr(counts, outcome) + 1)

    @property
    def changed(self) -> bool:
        return any(c.created or c.updated for c in self.counts.values())

    def lines(self) -> list[str]:
        lines = [f"{kind}: {c.created} created, {c.updated} updated, {c.unchanged} unchanged"
                 for kind, c in self.counts.items()]
        lines += [f"new calendar version: {v.key} v{v.version} ({v.reason})"
                  for v in self.calendar_versions]
        lines += [f"new contract version: {v.key} v{v.version} ({v.reason})"
                  for v in self.contract_versions]
        return lines


class _Calendars:
    """The current (newest) version of each calendar code, as the import changes them."""

    def __init__(self) -> None:
        self._current: dict[str, Calendar | None] = {}

    def current(self, code: str) -> Calendar | None:
        if code not in self._current:
            self._current[code] = db.session.scalar(
                sa.select(Calendar).where(Calendar.code == code)
                .order_by(Calendar.version.desc()).limit(1))
        return self._current[code]

    def set(self, row: Calendar) -> None:
        self._current[row.code] = row

    def current_id(self, code: str) -> int:
        return self.current(code).id


def _calendar_fields(engine: EngineCalendar) -> dict:
    if engine.is_always:
        return {"timezone": engine.timezone, "is_always": True, "weekly": {},
                "holidays_country": None, "holidays_subdiv": None, "closures": []}
    return {
        "timezone": engine.timezone,
        "is_always": False,
        "weekly": {WEEKDAYS[day]: [list(window) for window in windows]
                   for day, windows in engine.weekly.items()},
        "holidays_country": engine.holidays_country,
        "holidays_subdiv": engine.holidays_subdiv,
        "closures": [day.isoformat() for day in engine.closures],
    }


def _apply_calendars(plan: ImportPlan, calendars: _Calendars, report: ImportReport, *,
                     now: datetime, actor: User | None) -> set[str]:
    changed: set[str] = set()
    for given in plan.calendars:
        engine = given.engine()
        current = calendars.current(given.code)
        if current is not None and current.engine() == engine:
            report.count("calendars", "unchanged")
            continue
        row = Calendar(code=given.code, version=1 if current is None else current.version + 1,
                       created_at=now, **_calendar_fields(engine))
        db.session.add(row)
        db.session.flush()
        changes = diff(current.definition() if current else {}, row.definition())
        changes["version"] = [current.version if current else None, row.version]
        record_audit(actor=actor, now=now, entity="calendar", entity_id=row.code,
                     action="import", changes=changes)
        calendars.set(row)
        if current is None:
            report.count("calendars", "created")
        else:
            changed.add(row.code)
            report.count("calendars", "updated")
            report.calendar_versions.append(NewVersion(row.code, row.version, "definition changed"))
    return changed


def _apply_organisations(plan: ImportPlan, report: ImportReport, *, now: datetime,
                         actor: User | None) -> None:
    editable = ("name", "kind", "address", "company_id", "vat_number")
    for given in plan.organisations:
        row = db.session.scalar(sa.select(Organisation).where(Organisation.code == given.code))
        before = {} if row is None else {name: getattr(row, name) for name in editable}
        after = {name: getattr(given, name) for name in editable
                 if row is None or name in given.model_fields_set}
        after["kind"] = OrganisationKind(given.kind)
        after = {**before, **after}
        changes = diff(before, after)
        if row is None:
            row = Organisation(code=given.code, created_at=now, **after)
            db.session.add(row)
        elif not changes:
            report.count("organisations", "unchanged")
            continue
        else:
            for name, value in after.items():
                setattr(row, name, value)
        db.session.flush()
        record_audit(actor=actor, now=now, entity="organisation", entity_id=row.code,
                     action="import", changes=changes)
        report.count("organisations", "created" if not before else "updated")


def _user_fields(user: User) -> dict:
    return {
        "name": user.name,
        "role": user.role,
        "organisation": user.organisation.code if user.organisation else None,
        "timezone": user.timezone,
        "language": user.language,
        "active": user.is_active_account,
    }


def _apply_users(plan: ImportPlan, report: ImportReport, *, now: datetime,
                 actor: User | None) -> None:
    editable = ("name", "role", "organisation", "timezone", "language", "active")
    for given in plan.users:
        row = db.session.scalar(sa.select(User).where(User.email == given.email))
        before = {} if row is None else _user_fields(row)
        after = {name: getattr(given, name) for name in editable
                 if row is None or name in given.model_fields_set}
        after["role"] = Role(given.role)
        after = {**before, **after}
        changes = diff(before, after)
        created = row is None
        if given.password is not None and (created or not row.check_password(given.password)):
            changes["password"] = [None, "(set)"] if created else ["(hidden)", "(changed)"]
        if not changes:
            report.count("users", "unchanged")
            continue
        organisation = None
        if after["organisation"] is not None:
            organisation = db.session.scalar(
                sa.select(Organisation).where(Organisation.code == after["organisation"]))
        if created:
            row = User(email=given.email, created_at=now)
        if "password" in changes:
            row.set_password(given.password)
        row.name = after["name"]
        row.role = after["role"]
        row.organisation = organisation
        row.timezone = after["timezone"]
        row.language = after["language"]
        row.is_active_account = after["active"]
        db.session.add(row)
        db.session.flush()
        record_audit(actor=actor, now=now, entity="user", entity_id=row.email, action="import",
                     changes=changes)
        report.count("users", "created" if created else "updated")


def _apply_contracts(plan: ImportPlan, calendars: _Calendars, report: ImportReport, *,
                     now: datetime, actor: User | None) -> None:
    for given in plan.contracts:
        organisation = db.session.scalar(
            sa.select(Organisation).where(Organisation.code == given.organisation))
        row = db.session.scalar(sa.select(Contract).where(Contract.reference == given.reference))
        after = {"organisation": given.organisation, "title": given.title,
                 "starts_on": given.starts_on,
                 "ends_on": (given.ends_on if row is None or "ends_on" in given.model_fields_set
                             else row.ends_on)}
        created = row is None
        if created:
            row = Contract(reference=given.reference, organisation=organisation,
                           title=given.title, starts_on=given.starts_on,
                           ends_on=after["ends_on"], created_at=now)
            db.session.add(row)
            changes = diff({}, after)
        else:
            before = {"organisation": row.organisation.code, "title": row.title,
                      "starts_on": row.starts_on, "ends_on": row.ends_on}
            changes = diff(before, after)
            if changes:
                row.organisation = organisation
                row.title, row.starts_on, row.ends_on = (after["title"], after["starts_on"],
                                                         after["ends_on"])
        terms = _input_terms(given, calendars.current_id)
        latest = row.versions[-1] if row.versions else None
        new_version = None
        if latest is None or not _same_terms(latest, terms):
            number = 1 if latest is None else latest.version + 1
            new_version = _new_version(row, terms, number=number, now=now)
            changes.update(diff(version_terms(latest) if latest else {}, terms))
            changes["version"] = [latest.version if latest else None, number]
            report.contract_versions.append(NewVersion(
                row.reference, number, "new contract" if created else "terms changed"))
        if not changes and new_version is None:
            report.count("contracts", "unchanged")
            continue
        db.session.flush()
        record_audit(actor=actor, now=now, entity="contract", entity_id=row.reference,
                     action="import", changes=changes)
        report.count("contracts", "created" if created else "updated")


def _refresh_contracts(changed: set[str], calendars: _Calendars, report: ImportReport, *,
                       skip: set[str], now: datetime, actor: User | None) -> None:
    """Contracts outside the file whose current terms use a calendar that just got a new version
    get a new version with the current calendars, for tickets opened from now on."""
    if not changed:
        return
    by_priority = (sa.select(ContractVersion.contract_id)
                   .join(Priority, Priority.contract_version_id == ContractVersion.id)
                   .join(Calendar, Priority.calendar_id == Calendar.id)
                   .where(Calendar.code.in_(changed)))
    by_availability = (sa.select(ContractVersion.contract_id)
                       .join(Calendar, ContractVersion.availability_calendar_id == Calendar.id)
                       .where(Calendar.code.in_(changed)))
    contracts = db.session.scalars(
        sa.select(Contract)
        .where(Contract.id.in_(by_priority.union(by_availability)),
               Contract.reference.not_in(skip))
        .order_by(Contract.reference)).all()
    for contract in contracts:
        latest = contract.versions[-1]
        terms = version_terms(latest, lambda calendar: calendars.current_id(calendar.code))
        if _same_terms(latest, terms):
            continue
        used = {p.calendar.code for p in latest.priorities}
        if latest.availability_calendar is not None:
            used.add(latest.availability_calendar.code)
        codes = sorted(used & changed)
        _new_version(contract, terms, number=latest.version + 1, now=now)
        db.session.flush()
        record_audit(actor=actor, now=now, entity="contract", entity_id=contract.reference,
                     action="import", changes={"version": [latest.version, latest.version + 1],
                                               "calendars": [None, codes]})
        report.count("contracts", "updated")
        reason = "calendar " + ", ".join(
            f"{code} now v{calendars.current(code).version}" for code in codes)
        report.contract_versions.append(NewVersion(contract.reference, latest.version + 1, reason))


def apply_import(plan: ImportPlan, *, now: datetime, actor: User | None = None) -> ImportReport:
    """Write a validated plan: create or update by key; new versions for changed terms. Flushes."""
    report = ImportReport()
    calendars = _Calendars()
    changed = _apply_calendars(plan, calendars, report, now=now, actor=actor)
    _apply_organisations(plan, report, now=now, actor=actor)
    _apply_users(plan, report, now=now, actor=actor)
    _apply_contracts(plan, calendars, report, now=now, actor=actor)
    _refresh_contracts(changed, calendars, report, skip={c.reference for c in plan.contracts},
                       now=now, actor=actor)
    db.session.flush()
    return report
