"""The administration's lists of organisations and users, filtered."""
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from helpdesk.accounts.models import Organisation, User
from helpdesk.accounts.roles import Role
from helpdesk.extensions import db


class Standing(StrEnum):
    """Which rows a list shows: the current ones by default."""

    CURRENT = "current"
    FORMER = "former"
    ALL = "all"


def organisations(*, search: str = "", standing: Standing = Standing.CURRENT
                  ) -> list[Organisation]:
    """By code; `search` is found in the code or the name, `FORMER` are the archived."""
    query = sa.select(Organisation).order_by(Organisation.code)
    if standing == Standing.CURRENT:
        query = query.where(Organisation.archived_at.is_(None))
    elif standing == Standing.FORMER:
        query = query.where(Organisation.archived_at.is_not(None))
    if search.strip():
        words = search.strip()
        query = query.where(sa.or_(Organisation.code.icontains(words, autoescape=True),
                                   Organisation.name.icontains(words, autoescape=True)))
    return list(db.session.scalars(query))


def organisations_to_choose(*, keeping: Organisation | None = None) -> list[Organisation]:
    """Those a user may be put in: not archived, but the one they are already in is kept."""
    query = sa.select(Organisation).order_by(Organisation.name, Organisation.code)
    if keeping is None:
        query = query.where(Organisation.archived_at.is_(None))
    else:
        query = query.where(sa.or_(Organisation.archived_at.is_(None),
                                   Organisation.id == keeping.id))
    return list(db.session.scalars(query))


def users(*, search: str = "", role: Role | None = None, organisation: Organisation | None = None,
          standing: Standing = Standing.CURRENT) -> list[User]:
    """By name; `search` is found in the name or the e-mail, `FORMER` are the deactivated."""
    query = (sa.select(User).options(joinedload(User.organisation))
             .order_by(User.name, User.email))
    if standing == Standing.CURRENT:
        query = query.where(User.is_active_account.is_(True))
    elif standing == Standing.FORMER:
        query = query.where(User.is_active_account.is_(False))
    if role is not None:
        query = query.where(User.role == role)
    if organisation is not None:
        query = query.where(User.organisation_id == organisation.id)
    if search.strip():
        words = search.strip()
        query = query.where(sa.or_(User.name.icontains(words, autoescape=True),
                                   User.email.icontains(words, autoescape=True)))
    return list(db.session.scalars(query))
