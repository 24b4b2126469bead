"""Reads of contracts, scoped to what the viewer may see."""
import sqlalchemy as sa

from helpdesk.accounts.models import Role, User
from helpdesk.contracts.models import Contract
from helpdesk.extensions import db


def contracts_for(viewer: User) -> list[Contract]:
    query = sa.select(Contract).order_by(Contract.reference)
    if viewer.role == Role.CLIENT:
        query = query.where(Contract.organisation_id == viewer.organisation_id)
    return list(db.session.scalars(query))


def get_contract(viewer: User, reference: str) -> Contract | None:
    query = sa.select(Contract).where(Contract.reference == reference)
    if viewer.role == Role.CLIENT:
        query = query.where(Contract.organisation_id == viewer.organisation_id)
    return db.session.scalar(query)
