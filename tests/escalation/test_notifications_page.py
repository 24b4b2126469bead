"""A technician's notifications: the unread count in the header, the list, marking them read.

Three P1 tickets (24/7, GTI 2 h) opened at 08:00 UTC, swept at 09:00 (50 % of the GTI: the
assignee is told): A and C are assigned to Tom, B to Tina. Tom has two notifications, Tina one.
"""
import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from helpdesk.accounts.models import User
from helpdesk.escalation.jobs import run_sweep
from helpdesk.escalation.models import EscalationEvent, Notification
from helpdesk.extensions import db
from helpdesk.tickets.models import Ticket
from tests.api.helpers import act, open_ticket, sign_in
from tests.conftest import csrf_token

OPENED = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
BADGE = re.compile(r'class="badge">(\d+)<')


@pytest.fixture
def inbox(app, world):
    numbers = {}
    for name, assignee in (("a", world.tech), ("b", world.tech2), ("c", world.tech)):
        numbers[name] = open_ticket(app, requester=world.client, title=f"Ticket {name.upper()}",
                                    now=OPENED)
        act(app, numbers[name], "assign", actor=world.lead, assignee=assignee,
            now=OPENED + timedelta(minutes=1))
    run_sweep(app, now=OPENED + timedelta(hours=1), name="test")
    with app.app_context():
        ids = dict(db.session.execute(
            sa.select(Ticket.title, Notification.id)
            .join(EscalationEvent, EscalationEvent.id == Notification.event_id)
            .join(Ticket, Ticket.id == EscalationEvent.ticket_id)).all())
    assert len(ids) == 3
    return SimpleNamespace(**numbers, ids={name: ids[f"Ticket {name.upper()}"] for name in "abc"})


def unread_badge(page: str) -> int:
    match = BADGE.search(page)
    return int(match.group(1)) if match else 0


def notifications_page(client) -> str:
    response = client.get("/notifications")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def mark_read(client, notification=None, *, with_token=True):
    data = {} if notification is None else {"notification": str(notification)}
    if with_token:
        data["csrf_token"] = csrf_token(client, "/notifications")
    return client.post("/notifications/read", data=data)


def unread_of(app, email: str) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(sa.func.count()).select_from(Notification).join(Notification.recipient)
            .where(Notification.read_at.is_(None), User.email == email))


def test_technician_sees_the_unread_count_and_the_list_after_a_sweep(app, client, world, inbox):
    sign_in(app, client, world.tech)
    assert unread_badge(client.get("/queue").get_data(as_text=True)) == 2
    page = notifications_page(client)
    assert f"/tickets/{inbox.a}" in page and f"/tickets/{inbox.c}" in page
    assert "GTI 50 % used" in page
    assert page.count("Mark as read</button>") == 2


def test_a_user_never_sees_another_users_notifications(app, client, world, inbox):
    sign_in(app, client, world.tech2)
    page = notifications_page(client)
    assert unread_badge(page) == 1
    assert f"/tickets/{inbox.b}" in page
    assert f"/tickets/{inbox.a}" not in page and f"/tickets/{inbox.c}" not in page


def test_marking_one_as_read_lowers_the_count(app, client, world, inbox):
    sign_in(app, client, world.tech)
    response = mark_read(client, inbox.ids["a"])
    assert response.status_code == 302
    page = notifications_page(client)
    assert unread_badge(page) == 1
    assert page.count("Mark as read</button>") == 1
    assert f'value="{inbox.ids["c"]}"' in page


def test_marking_all_as_read_clears_the_count(app, client, world, inbox):
    sign_in(app, client, world.tech)
    mark_read(client)
    page = notifications_page(client)
    assert unread_badge(page) == 0
    assert "Mark as read</button>" not in page and "Mark all as read" not in page
    assert f"/tickets/{inbox.a}" in page  # read notifications stay listed
    assert unread_of(app, world.tech2) == 1


def test_marking_another_users_notification_changes_nothing(app, client, world, inbox):
    sign_in(app, client, world.tech)
    mark_read(client, inbox.ids["b"])
    assert unread_of(app, world.tech2) == 1
    assert unread_of(app, world.tech) == 2


def test_marking_as_read_requires_the_csrf_token(app, client, world, inbox):
    sign_in(app, client, world.tech)
    assert mark_read(client, with_token=False).status_code == 400
    assert unread_of(app, world.tech) == 2


@pytest.mark.parametrize("value", ["abc", "9" * 30])
def test_a_malformed_notification_id_changes_nothing(app, client, world, inbox, value):
    sign_in(app, client, world.tech)
    response = mark_read(client, value)
    assert response.status_code in (302, 400)
    assert unread_of(app, world.tech) == 2


@pytest.mark.parametrize("person", ["client", "finance"])
def test_notifications_page_is_hidden_from_clients_and_finance(app, client, world, person):
    sign_in(app, client, getattr(world, person))
    assert client.get("/notifications").status_code == 404
