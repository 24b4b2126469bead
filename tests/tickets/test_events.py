"""Tickets announce a late clock's stop; the layers above act on it without tickets importing them."""
from datetime import UTC, datetime

from helpdesk.contracts.models import Metric
from helpdesk.tickets import events

STOP = events.LateClockStopped(ticket_id=7, metric=Metric.GTI,
                               stopped_at=datetime(2026, 11, 30, 11, 15, tzinfo=UTC),
                               delay_seconds=4500)


def test_a_handler_subscribed_twice_hears_each_announcement_once(monkeypatch):
    monkeypatch.setattr(events, "_handlers", [])
    heard = []
    events.subscribe(heard.append)
    events.subscribe(heard.append)
    events.announce(STOP)
    assert heard == [STOP]
