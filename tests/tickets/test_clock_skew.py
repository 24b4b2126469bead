"""Hosts whose clocks differ by a second: a ticket read, or acted on, by a host slightly behind
the one that opened it. Its clocks read as not started yet, a warning is logged, nothing fails."""
import logging
from datetime import UTC, datetime, timedelta

from helpdesk.extensions import db
from helpdesk.tickets.clocks import ticket_clocks
from helpdesk.tickets.models import SlaStatus, Ticket, parse_number
from tests.api.helpers import act, api_token, bearer, open_ticket, sign_in

OPENED = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # Monday, 10:00 in Paris
BEHIND = OPENED - timedelta(seconds=1)


def test_a_clock_read_before_its_start_has_not_started_yet(app, world, caplog):
    number = open_ticket(app, requester=world.client, priority="P1", now=OPENED)
    with app.app_context(), caplog.at_level(logging.WARNING, logger="helpdesk.tickets.clocks"):
        clocks = ticket_clocks(db.session.get(Ticket, parse_number(number)), now=BEHIND)
    assert clocks["gti"].status == SlaStatus.RUNNING
    assert clocks["gti"].elapsed == timedelta(0)
    assert clocks["gti"].due_at == OPENED + timedelta(hours=2)
    assert clocks["gtr"].due_at == OPENED + timedelta(hours=8)
    assert number in caplog.text and "not started yet" in caplog.text


def test_ticket_page_of_a_host_a_second_behind_answers(app, client, world, clock):
    number = open_ticket(app, requester=world.client, priority="P1", now=OPENED)
    clock.freeze(BEHIND)
    sign_in(app, client, world.tech)
    response = client.get(f"/tickets/{number}")
    assert response.status_code == 200
    assert "Monday 30 November 2026, 12:00 (Europe/Paris)" in response.get_data(as_text=True)


def test_api_reads_a_ticket_opened_a_second_ahead(app, client, world, clock):
    number = open_ticket(app, requester=world.client, priority="P1", now=OPENED)
    clock.freeze(BEHIND)
    response = client.get(f"/api/v1/tickets/{number}",
                          headers=bearer(api_token(app, world.client)))
    assert response.status_code == 200
    gti = response.get_json()["sla"]["gti"]
    assert gti["status"] == "running"
    assert gti["elapsed_seconds"] == 0
    assert gti["due_at"].startswith("2026-11-30T11:00:00")


def test_taking_a_ticket_a_second_before_it_was_opened_stops_the_gti_at_once(app, world):
    number = open_ticket(app, requester=world.client, priority="P1", now=OPENED)
    act(app, number, "take", actor=world.tech, now=BEHIND)
    with app.app_context():
        clocks = ticket_clocks(db.session.get(Ticket, parse_number(number)), now=OPENED)
    assert clocks["gti"].status == SlaStatus.MET
    assert clocks["gti"].elapsed == timedelta(0)
    assert clocks["gtr"].status == SlaStatus.RUNNING
