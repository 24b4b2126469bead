"""Reads of contracts, scoped to what the viewer may see."""
from collections.abc import Iterable

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
