"""Contract versioning: contracts and calendars created or brought up to date by key.

Versioned things are never edited: a changed calendar gets a new version row, and changed contract
terms get a new `ContractVersion`, so tickets opened earlier keep the terms they were opened under.
Contract terms are compared through a digest of their canonical JSON, which names calendars by the
id of their version: a new calendar version therefore gives every contract using it a new version.

Every function flushes, never commits.
"""
import hashlib
import json
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from helpdesk.accounts.models import Organisation, User
from helpdesk.audit.services import Outcome, diff, record_audit
from helpdesk.contracts import queries
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
from helpdesk.money import plain
from helpdesk.sla.calendar import Calendar as EngineCalendar

PERCENT_STEP = Decimal("0.001")

# Terms in canonical form: JSON-ready values, amounts and percentages as fixed-point strings.
Terms = dict[str, Any]


def _percent(value: Decimal) -> str:
    return str(Decimal(value).quantize(PERCENT_STEP))


@dataclass(frozen=True)
class AvailabilityTerms:
    target_percent: Decimal
    calendar_id: int | None
    tiers: Iterable[tuple[Decimal, Decimal]]  # (below_percent, credit_percent)


@dataclass(frozen=True)
class PriorityTerms:
    code: str
    label: str
    calendar_id: int
    gti_seconds: int
    gtr_seconds: int | None
    escalations: Iterable[tuple[int, str]]  # (at_percent, notify)
    penalties: Mapping[str, tuple[Decimal, Decimal]]  # metric: (fixed, percent_per_started_hour)


@dataclass(frozen=True)
class ContractTerms:
    """The terms of one contract version, calendars named by the id of their version."""

    monthly_fee: Decimal
    currency: str
    vat_rate: Decimal
    credit_cap_percent: Decimal
    credits_subject_to_vat: bool
    availability: AvailabilityTerms | None
    priorities: Sequence[PriorityTerms]

    def canonical(self) -> Terms:
        availability = None
        if self.availability is not None:
            given = self.availability
            availability = {
                "target_percent": _percent(given.target_percent),
                "calendar_id": given.calendar_id,
                "tiers": [{"below_percent": _percent(below), "credit_percent": _percent(credit)}
                          for below, credit in sorted(given.tiers, key=lambda pair: pair[0],
                                                      reverse=True)],
            }
        return {
            "monthly_fee": plain(self.monthly_fee),
            "currency": self.currency,
            "vat_rate": _percent(self.vat_rate),
            "credit_cap_percent": _percent(self.credit_cap_percent),
            "credits_subject_to_vat": self.credits_subject_to_vat,
            "availability": availability,
            "priorities": [
                {
                    "code": priority.code,
                    "label": priority.label,
                    "calendar_id": priority.calendar_id,
                    "gti_seconds": priority.gti_seconds,
                    "gtr_seconds": priority.gtr_seconds,
                    "escalations": [{"at_percent": at, "notify": notify}
                                    for at, notify in sorted(priority.escalations)],
                    "penalties": {
                        metric: {"fixed": plain(fixed),
                                 "percent_per_started_hour": _percent(per_hour)}
                        for metric, (fixed, per_hour) in priority.penalties.items()
                    },
                }
                for priority in self.priorities
            ],
        }


def terms_digest(terms: Terms) -> str:
    """sha256 of the canonical JSON of a terms dict (see `ContractTerms.canonical`)."""
    text = json.dumps(terms, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def version_terms(version: ContractVersion,
                  calendar_id: Callable[[Calendar], int] | None = None) -> Terms:
    """The terms of a stored version in canonical form.

    Calendars appear as the ids of their versions; `calendar_id` may map each calendar to another
    version (the current one of its code) to see what the terms would be with today's calendars.
    """
    calendar_id = calendar_id or (lambda calendar: calendar.id)
    availability = None
    if version.availability_target_percent is not None:
        availability = AvailabilityTerms(
            version.availability_target_percent,
            (calendar_id(version.availability_calendar)
             if version.availability_calendar is not None else None),
            [(tier.below_percent, tier.credit_percent) for tier in version.availability_tiers])
    priorities = [
        PriorityTerms(p.code, p.label, calendar_id(p.calendar), p.gti_seconds, p.gtr_seconds,
                      [(e.at_percent, NotifyTarget(e.notify).value) for e in p.escalations],
                      {Metric(rule.metric).value: (rule.fixed_amount, rule.percent_per_started_hour)
                       for rule in p.penalties})
        for p in sorted(version.priorities, key=lambda p: p.position)
    ]
    return ContractTerms(version.monthly_fee, version.currency, version.vat_rate,
                         version.credit_cap_percent, bool(version.credits_subject_to_vat),
                         availability, priorities).canonical()


def _same_terms(version: ContractVersion, terms: Terms) -> bool:
    """Whether a stored version already has these terms: by its stored digest, or by its rows
    (versions written elsewhere may carry another digest)."""
    digest = terms_digest(terms)
    return version.terms_digest == digest or terms_digest(version_terms(version)) == digest


def _add_version(contract: Contract, terms: Terms, *, number: int,
                 now: datetime) -> ContractVersion:
    # Built from the canonical form, so the rows hold exactly the values the digest was taken of.
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


@dataclass(frozen=True)
class ContractUpsert:
    """What `upsert_contract` did, and the number of the version it added, if any."""

    outcome: Outcome
    new_version: int | None = None


def upsert_contract(reference: str, *, organisation: Organisation, title: str, starts_on: date,
                    ends_on: date | None, keep_ends_on: bool = False, terms: ContractTerms,
                    now: datetime, actor: User | None, action: str) -> ContractUpsert:
    """Create the contract `reference` or bring it up to date; terms that differ from its latest
    version become a new version. `keep_ends_on`: an existing contract keeps its end date."""
    row = db.session.scalar(sa.select(Contract).where(Contract.reference == reference))
    after = {"organisation": organisation.code, "title": title, "starts_on": starts_on,
             "ends_on": row.ends_on if row is not None and keep_ends_on else ends_on}
    created = row is None
    if row is None:
        row = Contract(reference=reference, organisation=organisation, title=title,
                       starts_on=starts_on, ends_on=after["ends_on"], created_at=now)
        db.session.add(row)
        changes = diff({}, after)
    else:
        before = {"organisation": row.organisation.code, "title": row.title,
                  "starts_on": row.starts_on, "ends_on": row.ends_on}
        changes = diff(before, after)
        if changes:
            row.organisation = organisation
            row.title, row.starts_on, row.ends_on = title, starts_on, after["ends_on"]
    canonical = terms.canonical()
    latest = row.versions[-1] if row.versions else None
    number = None
    if latest is None or not _same_terms(latest, canonical):
        number = 1 if latest is None else latest.version + 1
        _add_version(row, canonical, number=number, now=now)
        changes.update(diff(version_terms(latest) if latest else {}, canonical))
        changes["version"] = [latest.version if latest else None, number]
    if not changes:
        return ContractUpsert(Outcome.UNCHANGED)
    db.session.flush()
    record_audit(actor=actor, now=now, entity="contract", entity_id=reference, action=action,
                 changes=changes)
    return ContractUpsert(Outcome.CREATED if created else Outcome.UPDATED, number)


@dataclass(frozen=True)
class Refreshed:
    """A contract given a new version because calendars it uses got one."""

    reference: str
    version: int
    calendars: list[str]


def refresh_contracts(changed: Collection[str], *, current_calendar: Callable[[str], Calendar],
                      skip: Collection[str], now: datetime, actor: User | None,
                      action: str) -> list[Refreshed]:
    """Contracts (but those in `skip`) whose current terms use a calendar code in `changed` get a
    new version with the current calendars, for tickets opened from now on."""
    if not changed:
        return []
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
    refreshed = []
    for contract in contracts:
        latest = contract.versions[-1]
        terms = version_terms(latest, lambda calendar: current_calendar(calendar.code).id)
        if _same_terms(latest, terms):
            continue
        used = {p.calendar.code for p in latest.priorities}
        if latest.availability_calendar is not None:
            used.add(latest.availability_calendar.code)
        codes = sorted(used & set(changed))
        _add_version(contract, terms, number=latest.version + 1, now=now)
        db.session.flush()
        record_audit(actor=actor, now=now, entity="contract", entity_id=contract.reference,
                     action=action, changes={"version": [latest.version, latest.version + 1],
                                             "calendars": [None, codes]})
        refreshed.append(Refreshed(contract.reference, latest.version + 1, codes))
    return refreshed


def _calendar_fields(engine: EngineCalendar) -> dict[str, Any]:
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


def add_calendar_version(code: str, engine: EngineCalendar, *, current: Calendar | None,
                         now: datetime, actor: User | None, action: str) -> Calendar | None:
    """A new version of calendar `code` (the first when `current` is None) unless `current`
    already defines these hours; None when nothing changed."""
    if current is not None and current.engine() == engine:
        return None
    row = Calendar(code=code, version=1 if current is None else current.version + 1,
                   created_at=now, **_calendar_fields(engine))
    db.session.add(row)
    db.session.flush()
    changes = diff(current.definition() if current else {}, row.definition())
    changes["version"] = [current.version if current else None, row.version]
    record_audit(actor=actor, now=now, entity="calendar", entity_id=row.code, action=action,
                 changes=changes)
    return row


def _stored_calendar(code: str) -> Calendar:
    row = queries.current_calendar(code)
    assert row is not None, code  # contracts only name calendars that exist
    return row


def save_calendar(code: str, engine: EngineCalendar, *, now: datetime, actor: User | None,
                  action: str) -> Calendar | None:
    """Calendar `code` defined as `engine`, as an import applies it: a new version when the hours
    changed, and the contracts using the calendar a new version with it, for tickets opened from
    now on. None when nothing changed."""
    current = queries.current_calendar(code)
    row = add_calendar_version(code, engine, current=current, now=now, actor=actor, action=action)
    if row is not None and current is not None:
        refresh_contracts({code}, current_calendar=_stored_calendar, skip=(), now=now,
                          actor=actor, action=action)
    return row
