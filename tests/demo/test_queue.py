"""The demo's open tickets: the queue shows, on the first visit, a ticket in every state."""
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from helpdesk.contracts.models import Priority
from helpdesk.demo.load import load_demo
from helpdesk.demo.queue import OPEN_STORIES, QUEUE_MARKER
from helpdesk.escalation.models import Breach
from helpdesk.extensions import db
from helpdesk.tickets.models import OPEN_STATUSES, QueueRank, Status, Ticket
from helpdesk.tickets.queue import countdown

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)  # a Friday, 10:00 in Paris


def open_tickets() -> dict[str, Ticket]:
    return {ticket.title: ticket for ticket in db.session.scalars(
        sa.select(Ticket).where(Ticket.status.in_(OPEN_STATUSES))
        .options(selectinload(Ticket.clocks), selectinload(Ticket.priority)
                 .selectinload(Priority.escalations), selectinload(Ticket.priority)
                 .selectinload(Priority.calendar)))}


def test_demo_opens_tickets_in_every_queue_state(app):
    with app.app_context():
        report = load_demo(now=NOW)
        db.session.commit()
        tickets = open_tickets()
        assert report.queue.tickets == len(tickets) == len(OPEN_STORIES)
        states = {title: countdown(ticket, now=NOW).state for title, ticket in tickets.items()}
        assert states[QUEUE_MARKER] == "breached"
        assert states["Paiements PayPal refusés"] == "at_risk"
        assert tickets["Factures PDF sans logo"].status == Status.WAITING_ON_CLIENT
        assert tickets["Factures PDF sans logo"].sla_rank == QueueRank.PAUSED
        assert tickets["Base de données saturée"].assignee.email == "tech@example.com"
        assert sum(ticket.assignee is None for ticket in tickets.values()) == 5


def test_demo_records_the_open_tickets_breaches_at_their_due_instant(app):
    with app.app_context():
        load_demo(now=NOW)
        overdue = db.session.scalar(sa.select(Breach).join(Ticket)
                                    .where(Ticket.title == QUEUE_MARKER))
        # P1 is 24/7 with a 2-hour GTI: due two hours after it was opened, 2 h 40 min ago.
        assert overdue.breached_at == NOW - timedelta(minutes=40)


def test_demo_open_tickets_are_loaded_once(app):
    with app.app_context():
        load_demo(now=NOW)
        db.session.commit()
        report = load_demo(now=NOW + timedelta(days=1))
        assert report.queue.skipped and report.queue.tickets == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Ticket)
                                 .where(Ticket.title == QUEUE_MARKER)) == 1
