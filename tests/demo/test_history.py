"""The demo's month of history: tickets, breaches, a waiver and an outage in the previous month,
so that closing that month at once drafts credit notes."""
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from helpdesk.audit.models import AuditEntry
from helpdesk.billing.credits import LineKind
from helpdesk.billing.models import CreditNote, CreditNoteStatus
from helpdesk.billing.services import Outcome, close_month
from helpdesk.contracts.models import Metric
from helpdesk.demo.history import HISTORY_MARKER, STORIES
from helpdesk.demo.load import load_demo
from helpdesk.escalation.models import Breach, EscalationEvent, Notification
from helpdesk.extensions import db
from helpdesk.month import Month
from helpdesk.tickets.models import Outage, SlaClock, Ticket, TicketEvent
from tests.billing.conftest import settings

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")
OCTOBER = Month(2026, 10).bounds("Europe/Paris")
HISTORY_TABLES = (Ticket, TicketEvent, SlaClock, EscalationEvent, Breach, Notification, Outage,
                  AuditEntry)
# The demo also opens today's tickets (tests/demo/test_queue.py): set apart here.
OF_THE_HISTORY = Ticket.title.in_({story.title for story in STORIES})


def loaded(now=NOW):
    report = load_demo(now=now)
    db.session.commit()
    return report


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def breaches() -> list[Breach]:
    return list(db.session.scalars(sa.select(Breach).join(Ticket).where(OF_THE_HISTORY)
                                   .order_by(Breach.breached_at)))


def history_tickets() -> list[Ticket]:
    return list(db.session.scalars(sa.select(Ticket).where(OF_THE_HISTORY).order_by(Ticket.id)))


@pytest.mark.parametrize(("now", "month"), [
    (datetime(2026, 11, 27, 9, 0, tzinfo=UTC), "2026-10"),
    # 00:30 on 1 November in Paris is still 31 October in UTC: the contract's zone decides.
    (datetime(2026, 10, 31, 23, 30, tzinfo=UTC), "2026-10"),
    (datetime(2026, 10, 31, 22, 30, tzinfo=UTC), "2026-09"),
    (datetime(2027, 1, 4, 12, 0, tzinfo=UTC), "2026-12"),
])
def test_previous_month_is_counted_in_the_contracts_zone(now, month):
    assert Month.of(now, "Europe/Paris").previous() == Month.parse(month)


def test_history_opens_a_dozen_tickets_on_business_days_of_the_previous_month(app):
    with app.app_context():
        report = loaded()
        tickets = history_tickets()
        assert report.history.month == "2026-10"
        assert len(tickets) == len(STORIES) == report.history.tickets == 12
        assert tickets[0].title == HISTORY_MARKER
        assert {t.contract.reference for t in tickets} == {"CT-2026-001", "CT-2026-002"}
        for ticket in tickets:
            opened = ticket.created_at.astimezone(PARIS)
            assert OCTOBER[0] <= ticket.created_at < OCTOBER[1]
            assert opened.weekday() < 5 and 8 <= opened.hour < 18, ticket.title
            assert ticket.resolved_at is not None and ticket.resolved_at < OCTOBER[1]


def test_history_records_gti_and_gtr_breaches_at_their_due_instants(app):
    with app.app_context():
        report = loaded()
        recorded = breaches()
        assert report.history.breaches == len(recorded) == 5
        assert {b.metric for b in recorded} == {Metric.GTI, Metric.GTR}
        assert all(b.billing_month == "2026-10" for b in recorded)
        assert all(b.recorded_at == OCTOBER[1] for b in recorded)  # swept as of the month's end
        gtr = next(b for b in recorded if b.metric == Metric.GTR)
        assert gtr.breached_at.astimezone(PARIS).strftime("%H:%M") == "17:30"  # after a 1 h pause
        assert timedelta(hours=2) <= timedelta(seconds=gtr.delay_seconds) < timedelta(hours=3)


def test_history_has_one_breach_waived_by_finance_with_a_reason(app):
    with app.app_context():
        report = loaded()
        waived = [b for b in breaches() if b.is_waived]
        assert report.history.waived == len(waived) == 1
        assert waived[0].waived_by.email == "finance@example.com"
        assert waived[0].waiver_reason and waived[0].waived_at == NOW


def test_history_has_one_outage_of_two_hours_recorded_by_the_technician(app):
    with app.app_context():
        loaded()
        outage = db.session.scalar(sa.select(Outage))
        assert count(Outage) == 1
        assert outage.ended_at - outage.started_at == timedelta(hours=2)
        assert outage.recorded_by.email == "tech@example.com"
        assert outage.ticket.contract.reference == "CT-2026-001"
        assert OCTOBER[0] <= outage.started_at < OCTOBER[1]


def test_history_loaded_twice_adds_nothing_the_second_time(app):
    with app.app_context():
        loaded()
        before = {model.__name__: count(model) for model in HISTORY_TABLES}
        # A month later: the history of the first run is recognised, not loaded for November.
        report = loaded(NOW + timedelta(days=31))
        assert {model.__name__: count(model) for model in HISTORY_TABLES} == before
        assert report.history.skipped and report.history.tickets == 0
        assert any(line.startswith("history: already loaded") for line in report.lines())


def test_history_is_skipped_when_the_contracts_were_not_in_force(app):
    with app.app_context():
        report = loaded(datetime(2026, 1, 15, 9, 0, tzinfo=UTC))  # December 2025: not yet
        assert "not in force in 2025-12" in report.history.skipped
        assert history_tickets() == []


def test_closing_the_previous_month_drafts_breach_and_availability_lines(app):
    with app.app_context():
        loaded()
        waived = next(b for b in breaches() if b.is_waived)
        waived_id, waived_ticket = waived.id, waived.ticket.number  # closing expunges the session
        summary = close_month("2026-10", seller=settings().seller, at=NOW)
        assert {r.contract_reference: r.outcome for r in summary.results} == {
            "CT-2026-001": Outcome.DRAFTED, "CT-2026-002": Outcome.DRAFTED}
        note = db.session.scalar(sa.select(CreditNote).where(
            CreditNote.contract_reference == "CT-2026-001"))
        kinds = [line.kind for line in note.lines]
        assert note.status == CreditNoteStatus.DRAFT
        assert kinds.count(LineKind.BREACH) == 3 and kinds.count(LineKind.AVAILABILITY) == 1
        assert {line.metric for line in note.lines if line.kind == LineKind.BREACH} == {
            Metric.GTI, Metric.GTR}
        assert waived_id not in {line.breach_id for line in note.lines}
        assert waived_ticket not in {line.ticket_number for line in note.lines}
        assert note.total_excl_vat > 0


@pytest.mark.parametrize("now", [
    datetime(2026, 6, 1, 7, 0, tzinfo=UTC),  # May 2026: 17 business days, the fewest
    datetime(2026, 4, 2, 7, 0, tzinfo=UTC),  # March 2026: clocks change on its last Sunday
    datetime(2027, 1, 1, 0, 0, tzinfo=UTC),  # December 2026: 24 December closed, in Paris
])
def test_history_of_any_month_closes_into_drafts(app, now):
    with app.app_context():
        report = loaded(now)
        month = report.history.month
        assert (report.history.tickets, report.history.breaches) == (12, 5)
        assert [b.billing_month for b in breaches()] == [month] * 5
        summary = close_month(month, seller=settings().seller, at=now)
        assert summary.count(Outcome.DRAFTED) == 2
