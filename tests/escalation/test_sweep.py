"""The sweep records thresholds and breaches at their true instants, once, with their mail."""
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from helpdesk.escalation.models import Breach, EscalationEvent, Notification
from helpdesk.escalation.services import sweep_batch
from helpdesk.extensions import db
from helpdesk.tickets import services

PARIS = ZoneInfo("Europe/Paris")
SECOND = timedelta(seconds=1)


def paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS).astimezone(UTC)


def open_ticket(desk, priority, at):
    return services.open_ticket(actor=desk["client"], contract=desk["contract"],
                                priority_code=priority, title="Down", description="Down.", now=at)


def sweep(at):
    total = []
    while (summary := sweep_batch(now=at)).tickets:
        total.append(summary)
    return total


def events(ticket):
    return [(e.metric.value, e.level, e.at) for e in db.session.scalars(
        sa.select(EscalationEvent).where(EscalationEvent.ticket_id == ticket.id)
        .order_by(EscalationEvent.metric, EscalationEvent.level))]


def test_breach_is_recorded_at_the_due_instant_not_a_second_before(desk):
    open_ticket(desk, "P1", paris(2026, 11, 30, 9, 0))
    due = paris(2026, 11, 30, 11, 0)
    sweep(due - SECOND)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Breach)) == 0
    sweep(due)
    breach = db.session.scalar(sa.select(Breach))
    assert (breach.metric.value, breach.breached_at, breach.billing_month) == ("gti", due,
                                                                              "2026-11")


@pytest.mark.parametrize("level, instant", [(50, (2026, 11, 30, 10, 0)),
                                            (80, (2026, 11, 30, 10, 36))])
def test_warnings_fire_at_their_exact_instants(desk, level, instant):
    ticket = open_ticket(desk, "P1", paris(2026, 11, 30, 9, 0))
    sweep(paris(*instant) - SECOND)
    assert ("gti", level, paris(*instant)) not in events(ticket)
    sweep(paris(*instant))
    assert ("gti", level, paris(*instant)) in events(ticket)


def test_business_hours_warning_waits_for_monday(desk):
    ticket = open_ticket(desk, "P2", paris(2026, 11, 27, 17, 0))
    sweep(paris(2026, 11, 28, 12, 0))
    assert events(ticket) == []
    sweep(paris(2026, 11, 30, 9, 0))
    assert events(ticket) == [("gti", 50, paris(2026, 11, 30, 9, 0))]


def test_catching_up_records_every_threshold_and_notifies_once_for_the_highest(desk):
    ticket = open_ticket(desk, "P1", paris(2026, 11, 30, 9, 0))
    sweep(paris(2026, 12, 3, 9, 0))  # the scheduler was down for three days
    assert [e[:2] for e in events(ticket)] == [("gti", 50), ("gti", 80), ("gti", 100),
                                               ("gtr", 50), ("gtr", 80), ("gtr", 100)]
    assert [e[2] for e in events(ticket) if e[1] == 100] == [paris(2026, 11, 30, 11, 0),
                                                             paris(2026, 11, 30, 17, 0)]
    levels = db.session.scalars(sa.select(EscalationEvent.level).join(
        Notification, Notification.event_id == EscalationEvent.id).distinct()).all()
    assert levels == [100]


def test_sweeping_twice_records_nothing_more(desk):
    open_ticket(desk, "P1", paris(2026, 11, 30, 9, 0))
    at = paris(2026, 11, 30, 12, 0)
    sweep(at)
    counts = [db.session.scalar(sa.select(sa.func.count()).select_from(model))
              for model in (EscalationEvent, Breach, Notification)]
    assert sweep(at) == []
    assert [db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (EscalationEvent, Breach, Notification)] == counts


def test_breach_recipients_are_team_leads_and_the_client(desk):
    open_ticket(desk, "P1", paris(2026, 11, 30, 9, 0))
    sweep(paris(2026, 11, 30, 11, 0))
    recipients = sorted(n.recipient.email for n in db.session.scalars(sa.select(Notification)))
    assert recipients == ["client@shop.example", "lead@provider.example"]


def test_first_warning_goes_to_every_technician_when_unassigned(desk):
    open_ticket(desk, "P1", paris(2026, 11, 30, 9, 0))
    sweep(paris(2026, 11, 30, 10, 0))
    recipients = sorted(n.recipient.email for n in db.session.scalars(sa.select(Notification)))
    assert recipients == ["lead@provider.example", "tech@provider.example"]


def test_late_stop_is_written_on_the_breach(desk):
    ticket = open_ticket(desk, "P1", paris(2026, 11, 30, 9, 0))
    sweep(paris(2026, 11, 30, 11, 30))
    services.take_ticket(ticket, actor=desk["tech"], now=paris(2026, 11, 30, 12, 15))
    db.session.flush()
    db.session.expire_all()
    breach = db.session.scalar(sa.select(Breach).where(Breach.metric == "gti"))
    assert breach.stopped_at == paris(2026, 11, 30, 12, 15)
    assert breach.delay_seconds == 75 * 60


def test_warning_of_a_clock_stopped_before_the_sweep_is_recorded_without_mail(desk):
    ticket = open_ticket(desk, "P1", paris(2026, 11, 30, 9, 0))
    services.take_ticket(ticket, actor=desk["tech"], now=paris(2026, 11, 30, 10, 30))
    sweep(paris(2026, 11, 30, 10, 45))
    assert ("gti", 50, paris(2026, 11, 30, 10, 0)) in events(ticket)
    gti_mail = db.session.scalars(sa.select(Notification).join(EscalationEvent).where(
        EscalationEvent.metric == "gti")).all()
    assert gti_mail == []
