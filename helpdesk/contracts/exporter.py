"""The database as an import document (DESIGN §5): calendars, organisations, users and contracts
with their current terms, in the shape `schema.validate_import` reads, so that importing an export
changes nothing. A pure read: it never writes.

Passwords (and their hashes) are never written: the import keeps the password of a user it
finds, and creates a user it does not find without one (they choose theirs through the
password reset link).
"""
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from helpdesk.accounts.models import Organisation, User
from helpdesk.contracts.models import (
    WEEKDAYS,
    Calendar,
    Contract,
    ContractVersion,
    Metric,
    NotifyTarget,
    Priority,
)
from helpdesk.contracts.queries import current_calendars
from helpdesk.extensions import db
from helpdesk.money import plain

Document = dict[str, list[dict[str, Any]]]


def export_document() -> Document:
    """Everything the import sets, as it stands now, each section sorted by its key."""
    return {
        "calendars": [_calendar(row) for row in current_calendars()],
        "organisations": [_organisation(row) for row in db.session.scalars(
            sa.select(Organisation).order_by(Organisation.code))],
        "users": [_user(row) for row in db.session.scalars(
            sa.select(User).options(selectinload(User.organisation)).order_by(User.email))],
        "contracts": [_contract(row) for row in db.session.scalars(
            sa.select(Contract).options(
                selectinload(Contract.organisation),
                selectinload(Contract.versions).options(
                    selectinload(ContractVersion.availability_calendar),
                    selectinload(ContractVersion.availability_tiers),
                    selectinload(ContractVersion.priorities).options(
                        selectinload(Priority.calendar), selectinload(Priority.escalations),
                        selectinload(Priority.penalties))))
            .order_by(Contract.reference))],
    }


def _percent(value: Decimal) -> str:
    """"20", "99.9": the stored 20.000 without its padding (and never "1E+2")."""
    return f"{Decimal(value).normalize():f}"


def _duration(seconds: int) -> str:
    """ISO 8601, in the largest whole units: 7200 → "PT2H", 5400 → "PT1H30M", 86400 → "P1D"."""
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    time = "".join(f"{amount}{unit}" for amount, unit in
                   ((hours, "H"), (minutes, "M"), (seconds, "S")) if amount)
    return "P" + (f"{days}D" if days else "") + (f"T{time}" if time else "")


def _calendar(row: Calendar) -> dict[str, Any]:
    if row.is_always:
        return {"code": row.code, "timezone": row.timezone, "always": True}
    return {
        "code": row.code,
        "timezone": row.timezone,
        "weekly": {day: [list(window) for window in row.weekly[day]]
                   for day in WEEKDAYS if row.weekly.get(day)},
        "holidays": ({"country": row.holidays_country, "subdiv": row.holidays_subdiv}
                     if row.holidays_country else None),
        "closures": sorted(row.closures),
    }


def _organisation(row: Organisation) -> dict[str, Any]:
    return {"code": row.code, "name": row.name, "kind": row.kind.value, "address": row.address,
            "company_id": row.company_id, "vat_number": row.vat_number}


def _user(row: User) -> dict[str, Any]:
    return {"email": row.email, "name": row.name, "role": row.role.value,
            "organisation": row.organisation.code if row.organisation else None,
            "timezone": row.timezone, "language": row.language,
            "active": row.is_active_account}


def _contract(row: Contract) -> dict[str, Any]:
    terms = row.current_version
    availability = None
    if terms.availability_target_percent is not None:
        availability = {
            "target_percent": _percent(terms.availability_target_percent),
            "calendar": (terms.availability_calendar.code
                         if terms.availability_calendar is not None else None),
            "tiers": [{"below_percent": _percent(tier.below_percent),
                       "credit_percent": _percent(tier.credit_percent)}
                      for tier in terms.availability_tiers],
        }
    return {
        "reference": row.reference,
        "organisation": row.organisation.code,
        "title": row.title,
        "starts_on": row.starts_on.isoformat(),
        "ends_on": row.ends_on.isoformat() if row.ends_on else None,
        "monthly_fee": plain(terms.monthly_fee),
        "currency": terms.currency,
        "vat_rate": _percent(terms.vat_rate),
        "credit_cap_percent": _percent(terms.credit_cap_percent),
        "credits_subject_to_vat": bool(terms.credits_subject_to_vat),
        "availability": availability,
        "priorities": [_priority(p) for p in sorted(terms.priorities, key=lambda p: p.position)],
    }


def _priority(row: Priority) -> dict[str, Any]:
    penalties = {Metric(rule.metric).value: rule for rule in row.penalties}
    return {
        "code": row.code,
        "label": row.label,
        "calendar": row.calendar.code,
        "gti": _duration(row.gti_seconds),
        "gtr": None if row.gtr_seconds is None else _duration(row.gtr_seconds),
        "escalations": [{"at_percent": e.at_percent, "notify": NotifyTarget(e.notify).value}
                        for e in row.escalations],
        "penalties": {metric: {"fixed": plain(penalties[metric].fixed_amount),
                               "percent_per_started_hour":
                                   _percent(penalties[metric].percent_per_started_hour)}
                      for metric in (Metric.GTI.value, Metric.GTR.value) if metric in penalties},
    }
