"""Reads of the audit trail: one thing's changes, and the whole trail filtered and paged."""
import math
import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from helpdesk.audit.models import AuditEntry
from helpdesk.extensions import db


def trail(entity: str, entity_id: object) -> list[AuditEntry]:
    """The changes of one thing, oldest first."""
    return list(db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.entity == entity,
                                    AuditEntry.entity_id == str(entity_id))
        .order_by(AuditEntry.id)))


SYSTEM = "system"  # the actor of changes made by no one signed in: commands, the scheduler


@dataclass(frozen=True)
class AuditFilters:
    entity: str | None = None  # a kind: "ticket", "contract", ...
    text: str | None = None  # found anywhere in the entity's id (number, code, e-mail), any case
    actor: int | str | None = None  # a user's id, or SYSTEM
    since: datetime | None = None  # from this instant on
    before: datetime | None = None  # up to, not including, this instant


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    number: int  # from 1
    total: int  # entries matching the filters, on every page

    per_page: int = 50

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def _conditions(filters: AuditFilters) -> list[sa.ColumnElement[bool]]:
    conditions = []
    if filters.entity:
        conditions.append(AuditEntry.entity == filters.entity)
    text = (filters.text or "").strip()
    if text:
        pattern = "%" + re.sub(r"([\\%_])", r"\\\1", text) + "%"
        conditions.append(AuditEntry.entity_id.ilike(pattern, escape="\\"))
    if filters.actor == SYSTEM:
        conditions.append(AuditEntry.actor_id.is_(None))
    elif isinstance(filters.actor, int):
        conditions.append(AuditEntry.actor_id == filters.actor)
    if filters.since is not None:
        conditions.append(AuditEntry.at >= filters.since)
    if filters.before is not None:
        conditions.append(AuditEntry.at < filters.before)
    return conditions


def audit_page(filters: AuditFilters, *, number: int = 1, per_page: int = 50) -> AuditPage:
    """The entries matching `filters`, newest first, page `number` of `per_page` entries (past
    the last page: the last page)."""
    conditions = _conditions(filters)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                              .where(*conditions)) or 0
    number = max(1, min(number, math.ceil(total / per_page) or 1))
    entries = list(db.session.scalars(
        sa.select(AuditEntry).where(*conditions).options(selectinload(AuditEntry.actor))
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .offset((number - 1) * per_page).limit(per_page)))
    return AuditPage(entries, number, total, per_page)


def audit_entities() -> list[str]:
    """The kinds of things the trail holds changes of."""
    return list(db.session.scalars(sa.select(AuditEntry.entity).distinct()
                                   .order_by(AuditEntry.entity)))


def audit_actor_ids() -> list[int]:
    """The users who changed something (the trail names them; accounts knows who they are)."""
    return list(db.session.scalars(sa.select(AuditEntry.actor_id).distinct()
                                   .where(AuditEntry.actor_id.is_not(None))))
