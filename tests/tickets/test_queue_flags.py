"""The technician's queue flags urgency in words: "breached", "at risk", "paused".

P1 tickets (24/7, GTI 2 h, GTR 8 h, warnings at 50 % and 80 %) opened at various times before
NOW, swept as of NOW; the queue page is read as of NOW too (the app's clock is frozen there).
"""
import html
import re
from datetime import UTC, datetime, timedelta

import pytest

from helpdesk.escalation.jobs import run_sweep
from tests.api.helpers import act, open_ticket, sign_in

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


@pytest.fixture
def queue(app, client, world, clock):
    """The queue's clock cell of each ticket, by title, as Tom the technician reads it."""
    clock.freeze(NOW)

    def ticket(title, opened_minutes_ago):
        return open_ticket(app, requester=world.client, title=title,
                           now=NOW - opened_minutes_ago * MINUTE)

    ticket("Overdue", 180)  # GTI due an hour ago
    ticket("Nearly due", 100)  # GTI 80 % four minutes ago, due in 20 minutes
    ticket("Half used", 70)  # GTI 50 % ten minutes ago: a warning, not yet at risk
    ticket("Fresh", 10)  # GTI 50 % in 50 minutes
    paused = ticket("On hold", 30)
    act(app, paused, "take", actor=world.tech, now=NOW - 25 * MINUTE)
    act(app, paused, "wait", actor=world.tech, now=NOW - 20 * MINUTE)
    restoring = ticket("Restoring", 420)  # GTR 80 % 36 minutes ago, due in an hour
    act(app, restoring, "take", actor=world.tech, now=NOW - 415 * MINUTE)
    run_sweep(app, now=NOW, name="test")

    sign_in(app, client, world.tech)
    response = client.get("/queue")
    assert response.status_code == 200
    return clock_cells(response.get_data(as_text=True))


def text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def clock_cells(page: str) -> dict[str, str]:
    body = re.search(r"<tbody>(.*?)</tbody>", page, re.S).group(1)
    cells = {}
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        texts = [text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        cells[texts[3]] = texts[-1]  # title -> clock
    return cells


def test_ticket_past_its_due_instant_is_flagged_breached_with_the_delay(queue):
    assert queue["Overdue"] == "breached · overdue by 1 h"


def test_ticket_past_its_last_warning_is_flagged_at_risk_after_a_sweep(queue):
    assert queue["Nearly due"].startswith("at risk · 20 min left")
    assert "breached" not in queue["Nearly due"]


def test_at_risk_follows_the_running_gtr_once_the_gti_is_met(queue):
    assert queue["Restoring"].startswith("at risk · 1 h left")


@pytest.mark.parametrize("title, left", [("Fresh", "1 h 50 min left"),
                                         ("Half used", "50 min left")])
def test_ticket_before_its_last_warning_has_no_flag(queue, title, left):
    assert queue[title].startswith(left)
    assert "at risk" not in queue[title] and "breached" not in queue[title]


def test_paused_ticket_says_it_waits_on_the_client(queue):
    assert queue["On hold"] == "paused (waiting on client)"


def test_queue_lists_the_overdue_ticket_first(queue):
    assert list(queue) == ["Overdue", "Nearly due", "Half used", "Restoring", "Fresh",
                           "On hold"]
