"""The notifications inbox: newest first, unread said in words, marked read one by one or all at
once with a clear message, idempotently, paginated by keyset; the header's count follows.

Three P1 tickets (24/7, GTI 2 h) assigned to Tom, opened a minute apart, swept past 50 % of
their GTI: Tom has three notifications, the newest for the last ticket opened.
"""
import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from helpdesk.escalation.jobs import run_sweep
from helpdesk.escalation.models import EscalationEvent, Notification
from helpdesk.extensions import db
from helpdesk.tickets.models import Ticket
from tests.api.helpers import act, open_ticket, sign_in
from tests.conftest import csrf_token

OPENED = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
BADGE = re.compile(r'class="badge">(\d+)<')
LINKED = re.compile(r'<p class="subject"><a href="/tickets/(T-\d+)">')


@pytest.fixture
def inbox(app, client, world):
    numbers = []
    for index in range(3):
        number = open_ticket(app, requester=world.client, title=f"Ticket {index}",
                             now=OPENED + timedelta(minutes=index))
        act(app, number, "assign", actor=world.lead, assignee=world.tech,
            now=OPENED + timedelta(minutes=5))
        numbers.append(number)
    # One sweep per ticket, so the notifications are written oldest ticket first.
    for index in range(3):
        run_sweep(app, now=OPENED + timedelta(hours=1, minutes=index), name="test")
    with app.app_context():
        ids = dict(db.session.execute(
            sa.select(Ticket.title, Notification.id)
            .join(EscalationEvent, EscalationEvent.id == Notification.event_id)
            .join(Ticket, Ticket.id == EscalationEvent.ticket_id)).all())
    sign_in(app, client, world.tech)
    return SimpleNamespace(numbers=numbers, ids=[ids[f"Ticket {i}"] for i in range(3)])


def page(client, path="/notifications") -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def badge(html: str) -> int:
    match = BADGE.search(html)
    return int(match.group(1)) if match else 0


def mark(client, notification=None, **extra):
    data = {"csrf_token": csrf_token(client, "/notifications"), **extra}
    if notification is not None:
        data["notification"] = str(notification)
    return client.post("/notifications/read", data=data, follow_redirects=True)


def read_at(app, notification_id: int):
    with app.app_context():
        return db.session.get(Notification, notification_id).read_at


def test_list_is_newest_first_each_linking_to_its_ticket(client, inbox):
    assert LINKED.findall(page(client)) == list(reversed(inbox.numbers))


def test_unread_ones_are_said_unread_in_words(client, inbox):
    html = page(client)
    assert html.count(">Unread</strong>") == 3
    assert "3 unread notifications." in html


def test_marking_one_read_says_so_and_lowers_the_header_count(app, client, inbox):
    html = mark(client, inbox.ids[0]).get_data(as_text=True)
    assert "Notification marked as read." in html
    assert badge(html) == 2
    assert html.count(">Unread</strong>") == 2 and html.count(">Read</span>") == 1
    assert read_at(app, inbox.ids[0]) is not None


def test_marking_one_read_twice_keeps_the_first_reading_time(app, client, inbox):
    mark(client, inbox.ids[0])
    first = read_at(app, inbox.ids[0])
    html = mark(client, inbox.ids[0]).get_data(as_text=True)
    assert "That notification was already read." in html
    assert read_at(app, inbox.ids[0]) == first
    assert badge(html) == 2


def test_marking_all_read_says_how_many_and_clears_the_count(client, inbox):
    html = mark(client).get_data(as_text=True)
    assert "3 notifications marked as read." in html
    assert badge(html) == 0
    assert "Mark all as read" not in html and "No unread notification." in html
    assert len(LINKED.findall(html)) == 3  # read ones stay listed


def test_marking_all_read_again_changes_nothing_and_says_so(client, inbox):
    mark(client)
    html = mark(client).get_data(as_text=True)
    assert "Every notification was already read." in html


def test_marking_read_without_the_csrf_token_is_refused(app, client, inbox):
    assert client.post("/notifications/read", data={}).status_code == 400
    assert read_at(app, inbox.ids[0]) is None


@pytest.mark.parametrize("value", ["abc", "-1", "9" * 30, ""])
def test_a_malformed_notification_id_is_refused_and_changes_nothing(app, client, inbox, value):
    response = client.post("/notifications/read", data={
        "csrf_token": csrf_token(client, "/notifications"), "notification": value})
    assert response.status_code == 400
    assert all(read_at(app, i) is None for i in inbox.ids)


@pytest.fixture
def two_per_page(monkeypatch):
    monkeypatch.setattr("helpdesk.escalation.views.NOTIFICATION_PAGE_SIZE", 2)


def test_a_long_list_is_paginated_by_keyset(client, inbox, two_per_page):
    first = page(client)
    assert LINKED.findall(first) == [inbox.numbers[2], inbox.numbers[1]]
    older = re.search(r'href="(/notifications\?before=\d+)">Older notifications', first)
    assert older
    second = page(client, older.group(1))
    assert LINKED.findall(second) == [inbox.numbers[0]]
    assert "Older notifications" not in second and "Newest notifications" in second


def test_marking_read_on_an_older_page_returns_to_that_page(client, inbox, two_per_page):
    before = inbox.ids[1]
    response = client.post("/notifications/read", data={
        "csrf_token": csrf_token(client, "/notifications"), "notification": str(inbox.ids[0]),
        "before": str(before)})
    assert response.headers["Location"] == f"/notifications?before={before}"


@pytest.mark.parametrize("before", ["abc", "0", "9" * 30])
def test_a_malformed_page_cursor_shows_the_first_page(client, inbox, before):
    assert len(LINKED.findall(page(client, f"/notifications?before={before}"))) == 3
