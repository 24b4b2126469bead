"""Reads of contracts, scoped to what the viewer may see, and of the calendars they use."""
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from helpdesk.accounts.access import sees_every_organisation
from helpdesk.accounts.models import User
from helpdesk.contracts.models import Calendar, Contract, ContractVersion, Priority
from helpdesk.extensions import db


def contracts_for(viewer: User) -> list[Contract]:
    """With what lists of contracts read of each: its organisation, and the terms whose zone
    says which day it is for the contract (`Contract.is_active_at`)."""
    query = (sa.select(Contract).order_by(Contract.reference)
             .options(selectinload(Contract.organisation),
                      selectinload(Contract.versions).options(
                          selectinload(ContractVersion.availability_calendar),
                          selectinload(ContractVersion.priorities)
                          .selectinload(Priority.calendar))))
    if not sees_every_organisation(viewer):
        query = query.where(Contract.organisation_id == viewer.organisation_id)
    return list(db.session.scalars(query))


def get_contract(viewer: User, reference: str) -> Contract | None:
    query = sa.select(Contract).where(Contract.reference == reference)
    if not sees_every_organisation(viewer):
        query = query.where(Contract.organisation_id == viewer.organisation_id)
    return db.session.scalar(query)


@dataclass(frozen=True)
class CalendarUse:
    """How many contracts, and how many of their priorities, use a calendar in their current
    terms (any version of it: the next edit brings them to the newest)."""

    contracts: int = 0
    priorities: int = 0


def current_calendars() -> list[Calendar]:
    """The newest version of every calendar, by code."""
    newest = (sa.select(Calendar.code, sa.func.max(Calendar.version).label("version"))
              .group_by(Calendar.code).subquery())
    return list(db.session.scalars(
        sa.select(Calendar).join(newest, sa.and_(Calendar.code == newest.c.code,
                                                 Calendar.version == newest.c.version))
        .order_by(Calendar.code)))


def calendar_uses() -> dict[str, CalendarUse]:
    """By calendar code, what uses it in the contracts' current terms."""
    latest = (sa.select(ContractVersion.contract_id,
                        sa.func.max(ContractVersion.version).label("version"))
              .group_by(ContractVersion.contract_id).subquery())
    current = (sa.select(ContractVersion.id, ContractVersion.contract_id,
                         ContractVersion.availability_calendar_id)
               .join(latest, sa.and_(ContractVersion.contract_id == latest.c.contract_id,
                                     ContractVersion.version == latest.c.version))
               .subquery())
    by_priority = db.session.execute(
        sa.select(Calendar.code, current.c.contract_id)
        .select_from(Priority)
        .join(current, Priority.contract_version_id == current.c.id)
        .join(Calendar, Priority.calendar_id == Calendar.id)).all()
    by_availability = db.session.execute(
        sa.select(Calendar.code, current.c.contract_id)
        .join(current, current.c.availability_calendar_id == Calendar.id)).all()
    contracts: dict[str, set[int]] = {}
    priorities: dict[str, int] = {}
    for code, contract_id in by_priority:
        contracts.setdefault(code, set()).add(contract_id)
        priorities[code] = priorities.get(code, 0) + 1
    for code, contract_id in by_availability:
        contracts.setdefault(code, set()).add(contract_id)
    return {code: CalendarUse(len(ids), priorities.get(code, 0)) for code, ids in contracts.items()}


def calendar_versions(code: str) -> list[Calendar]:
    """Every version of a calendar, the newest first."""
    return list(db.session.scalars(sa.select(Calendar).where(Calendar.code == code)
                                   .order_by(Calendar.version.desc())))


def calendar_codes() -> list[str]:
    """Every calendar's code, in order: what a contract's terms may name."""
    return list(db.session.scalars(sa.select(Calendar.code).distinct().order_by(Calendar.code)))


def current_calendar(code: str) -> Calendar | None:
    """The newest version of a calendar: the one terms naming its code use from now on."""
    return db.session.scalar(sa.select(Calendar).where(Calendar.code == code)
                             .order_by(Calendar.version.desc()).limit(1))


def calendars_by_id(ids: Iterable[int]) -> dict[int, Calendar]:
    wanted = set(ids)
    if not wanted:
        return {}
    return {row.id: row for row in db.session.scalars(
        sa.select(Calendar).where(Calendar.id.in_(wanted)))}
