"""Reads of tickets. Every read takes the viewer, so tenant scoping is in the signature."""
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from helpdesk.accounts.models import TICKET_STAFF, Role, User
from helpdesk.contracts.models import Priority
from helpdesk.db import MAX_ROW_ID
from helpdesk.extensions import db
from helpdesk.tickets.models import (
    OPEN_STATUSES,
    Attachment,
    Outage,
    QueueRank,
    Ticket,
    parse_number,
)

STAFF_READERS = TICKET_STAFF | {Role.FINANCE}


def visible_tickets(viewer: User) -> sa.Select:
    query = sa.select(Ticket)
    if viewer.role == Role.CLIENT:
        return query.where(Ticket.organisation_id == viewer.organisation_id)
    if viewer.role in STAFF_READERS:
        return query
    return query.where(sa.false())


def get_ticket(viewer: User, number: str, *, for_update: bool = False) -> Ticket | None:
    """The ticket with that number if the viewer may see it; None otherwise (shown as 404).

    `for_update` locks it (PostgreSQL) before anything is read, so two people acting on the
    same ticket at once act one after the other, the second on what the first left.
    """
    ticket_id = parse_number(number)
    if ticket_id is None:
        return None
    query = visible_tickets(viewer).where(Ticket.id == ticket_id)
    if for_update:
        query = query.with_for_update(of=Ticket).execution_options(populate_existing=True)
    return db.session.scalar(query)


def get_attachment(viewer: User, ticket: Ticket, attachment_id: int) -> Attachment | None:
    if not 0 < attachment_id <= MAX_ROW_ID:
        return None
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.ticket_id != ticket.id:
        return None
    if not viewer.is_ticket_staff and attachment.message and attachment.message.is_internal:
        return None
    return attachment


# What a list of tickets shows (and the API replays), loaded for the whole page at once.
LISTED = (selectinload(Ticket.organisation), selectinload(Ticket.assignee),
          selectinload(Ticket.requester), selectinload(Ticket.events),
          selectinload(Ticket.contract), selectinload(Ticket.contract_version),
          selectinload(Ticket.priority).selectinload(Priority.calendar))


def ticket_page(viewer: User, *, before_id: int | None, limit: int,
                only_open: bool = False) -> list[Ticket]:
    """Newest first, keyset-paginated by id."""
    query = visible_tickets(viewer).order_by(Ticket.id.desc()).limit(limit).options(*LISTED)
    if before_id is not None:
        query = query.where(Ticket.id < before_id)
    if only_open:
        query = query.where(Ticket.status.in_(OPEN_STATUSES))
    return list(db.session.scalars(query))


def open_queue(viewer: User, *, limit: int = 200) -> list[Ticket]:
    """Open tickets by urgency: overdue first, then least time left, paused clocks after."""
    query = (
        visible_tickets(viewer)
        .where(Ticket.sla_rank < QueueRank.NOT_OPEN)
        .order_by(Ticket.sla_rank, Ticket.sla_due_at, Ticket.id)
        .limit(limit)
        .options(*LISTED, selectinload(Ticket.clocks),
                 selectinload(Ticket.priority).selectinload(Priority.escalations))
    )
    return list(db.session.scalars(query))


def assignable_users() -> list[User]:
    return list(db.session.scalars(
        sa.select(User)
        .where(User.role.in_([Role.TECHNICIAN, Role.TEAM_LEAD]), User.is_active_account)
        .order_by(User.name)
    ))


def get_assignable(email: str | None) -> User | None:
    if not email:
        return None
    return db.session.scalar(
        sa.select(User).where(User.email == email, User.role.in_([Role.TECHNICIAN, Role.TEAM_LEAD]))
    )


def ticket_outages(ticket: Ticket) -> list[Outage]:
    """The outages of a ticket the viewer reached (through `get_ticket`), oldest first."""
    return list(db.session.scalars(
        sa.select(Outage).where(Outage.ticket_id == ticket.id)
        .order_by(Outage.started_at, Outage.id)
        .options(selectinload(Outage.recorded_by))))


def get_outage(ticket: Ticket, outage_id: int) -> Outage | None:
    """That outage if it belongs to `ticket`; None otherwise (shown as 404)."""
    if not 0 < outage_id <= MAX_ROW_ID:
        return None
    outage = db.session.get(Outage, outage_id)
    if outage is None or outage.ticket_id != ticket.id:
        return None
    return outage


def outages_for_contract(contract_id: int, start: datetime,
                         end: datetime) -> list[tuple[datetime, datetime | None]]:
    """(started_at, ended_at) of the contract's outages overlapping `[start, end)`, by start.

    An ongoing outage has `ended_at` None. The index on (contract_id, started_at) bounds the
    scan by contract and `started_at < end`; the end of each outage is then filtered row by row,
    since no longest outage bounds `started_at` from below.
    """
    rows = db.session.execute(
        sa.select(Outage.started_at, Outage.ended_at)
        .where(Outage.contract_id == contract_id, Outage.started_at < end,
               sa.or_(Outage.ended_at.is_(None), Outage.ended_at > start))
        .order_by(Outage.started_at))
    return [(started_at, ended_at) for started_at, ended_at in rows]
