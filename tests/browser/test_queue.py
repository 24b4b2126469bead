"""The technician's queue in Chromium: live countdowns, filters and the self-refreshing list.

The queue refreshes every second here (QUEUE_REFRESH_SECONDS), so a ticket opened meanwhile
shows without waiting half a minute. Screenshots of the queue at desktop and phone widths, in
English and French, go to test-artifacts/screenshots/.
"""
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from helpdesk.accounts.services import find_user
from helpdesk.clock import now_utc
from helpdesk.contracts.models import Contract
from helpdesk.escalation.jobs import run_sweep
from helpdesk.extensions import db
from helpdesk.tickets import services
from helpdesk.tickets.models import Ticket, parse_number
from helpdesk.tickets.workflow import Action
from tests.browser.helpers import sign_in

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def app_config():
    return {"QUEUE_REFRESH_SECONDS": 1}


def open_ticket(app, *, requester: str, title: str, ago: timedelta, contract: str = "CT-SHOP",
                priority: str = "P1", at: datetime | None = None) -> str:
    with app.app_context():
        ticket = services.open_ticket(
            actor=find_user(requester),
            contract=db.session.scalar(sa.select(Contract).where(Contract.reference == contract)),
            priority_code=priority, title=title, description="As seen in the browser.",
            now=(at or now_utc()) - ago)
        db.session.commit()
        return ticket.number


def act(app, number: str, action: str, *, actor: str, **arguments) -> None:
    with app.app_context():
        ticket = db.session.get(Ticket, parse_number(number))
        services.ACTIONS[Action(action)](ticket, actor=find_user(actor), now=now_utc(),
                                         **arguments)
        db.session.commit()


@pytest.fixture
def busy_queue(app, world):
    """A Monday-morning queue: one of each colour, a paused one and another organisation's."""
    minute = timedelta(minutes=1)
    open_ticket(app, requester=world.client, title="Checkout returns 500", ago=150 * minute)
    open_ticket(app, requester=world.client, title="Payment page slow", ago=105 * minute)
    open_ticket(app, requester=world.client, title="Images missing on product pages",
                ago=75 * minute)
    open_ticket(app, requester=world.other_client, contract="CT-OTHER",
                title="VPN refuses new certificates", ago=5 * minute)
    open_ticket(app, requester=world.client, title="Invoice template typo", priority="P3",
                ago=20 * minute)
    waiting = open_ticket(app, requester=world.client, title="Newsletter bounced",
                          ago=30 * minute)
    act(app, waiting, "take", actor=world.tech2)
    act(app, waiting, "wait", actor=world.tech2)
    run_sweep(app, now=now_utc(), name="test")


def row(page, title: str):
    return page.locator("main tbody tr").filter(has_text=title)


def test_countdown_ticks_every_second_without_a_reload(app, world, page, snap):
    open_ticket(app, requester=world.client, title="Ticking", ago=timedelta(minutes=90))
    sign_in(page, world.tech)
    page.goto("/queue")
    clock = row(page, "Ticking").locator("td.countdown .countdown-time")
    first = clock.inner_text()
    assert re.fullmatch(r"29\s+min\s+\d+\s+s left", first), first
    expect(clock).not_to_have_text(first, timeout=2_000)
    page.wait_for_timeout(50)
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1  # no reload


def test_countdown_turns_breached_and_says_overdue_when_due_passes(app, world, page, snap):
    sign_in(page, world.tech)
    open_ticket(app, requester=world.client, title="About to breach",
                ago=timedelta(hours=2) - timedelta(seconds=6))
    page.goto("/queue")
    cell = row(page, "About to breach").locator("td.countdown")
    expect(cell).to_have_class(re.compile(r"countdown-at_risk"))
    expect(cell).to_contain_text("at risk")
    expect(cell).to_have_class(re.compile(r"countdown-breached"), timeout=9_000)
    expect(cell).to_contain_text(re.compile(r"breached\s+·\s+overdue by \d+\s+s"))
    expect(cell.locator(".countdown-due")).to_have_text("")


@pytest.mark.parametrize("app_config", [{"QUEUE_REFRESH_SECONDS": 60}])
def test_business_hours_countdown_stands_still_at_night(app, world, page, clock,
                                                        app_config):
    """Saturday morning for the server: a business-hours clock with half an hour left does
    not count, so the browser must not count it down either."""
    saturday = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    sign_in(page, world.tech)
    clock.freeze(saturday)
    open_ticket(app, requester=world.client, title="Friday request", priority="P3",
                ago=timedelta(0), at=datetime(2026, 11, 27, 9, 30, tzinfo=UTC))  # 10:30 Paris
    page.goto("/queue")
    cell = row(page, "Friday request").locator("td.countdown")
    expect(cell.locator(".countdown-time")).to_have_text(re.compile(r"^30\s+min left$"))
    expect(cell).to_contain_text("not counting outside service hours")
    page.wait_for_timeout(2_500)
    expect(cell.locator(".countdown-time")).to_have_text(re.compile(r"^30\s+min left$"))


@pytest.mark.parametrize("app_config", [{"QUEUE_REFRESH_SECONDS": 60}])
def test_countdown_stops_at_the_evening_closing(app, world, page, clock, app_config):
    """Friday 17:59:58 in Paris for the server: the clock ticks two more seconds, then says it
    no longer counts, without waiting for a refresh."""
    closing = datetime(2026, 11, 27, 16, 59, 58, tzinfo=UTC)
    sign_in(page, world.tech)
    clock.freeze(closing)
    open_ticket(app, requester=world.client, title="Late afternoon", priority="P3",
                ago=timedelta(0), at=closing - timedelta(hours=7, minutes=40))
    page.goto("/queue")
    cell = row(page, "Late afternoon").locator("td.countdown")
    expect(cell.locator(".countdown-note")).to_have_text("")
    expect(cell.locator(".countdown-note")).to_contain_text("not counting outside service hours",
                                                            timeout=4_000)
    stopped = cell.locator(".countdown-time").inner_text()
    assert re.fullmatch(r"(19|20)\s+min\s+\d+\s+s left", stopped), stopped
    page.wait_for_timeout(1_500)
    expect(cell.locator(".countdown-time")).to_have_text(stopped)


def test_filters_narrow_the_queue_and_stay_in_the_url(world, busy_queue, page, snap):
    sign_in(page, world.tech)
    page.goto("/queue")
    expect(page.locator("main tbody tr")).to_have_count(6)
    page.get_by_label("Organisation").select_option(label="Autre Client SA")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("main tbody tr")).to_have_count(1)
    expect(row(page, "VPN refuses new certificates")).to_be_visible()
    assert "organisation=other" in page.url
    page.get_by_label("Organisation").select_option("")
    page.get_by_label("Clock state").select_option(label="Paused (waiting on client)")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("main tbody tr")).to_have_count(1)
    expect(row(page, "Newsletter bounced")).to_contain_text("paused (waiting on client)")
    page.get_by_label("Number or title").fill("checkout")
    page.get_by_label("Clock state").select_option("")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("main tbody tr")).to_have_count(1)
    expect(row(page, "Checkout returns 500")).to_contain_text("breached")
    snap("filtered")


def test_queue_refreshes_to_show_a_ticket_opened_meanwhile_keeping_its_filters(
        app, world, busy_queue, page, snap):
    sign_in(page, world.tech)
    page.goto("/queue?organisation=shop")
    expect(page.locator("main tbody tr")).to_have_count(5)
    # Opened 95 minutes ago (through the API, say): under half an hour left, so seconds show.
    open_ticket(app, requester=world.client, title="Opened while watching",
                ago=timedelta(minutes=95))
    open_ticket(app, requester=world.other_client, contract="CT-OTHER",
                title="Other organisation, filtered out", ago=timedelta(seconds=5))
    expect(row(page, "Opened while watching")).to_be_visible(timeout=4_000)
    expect(page.locator("main tbody tr")).to_have_count(6)
    expect(row(page, "Other organisation, filtered out")).to_have_count(0)
    expect(page.locator("#queue-status")).to_contain_text(re.compile(r"Updated \d\d:\d\d"))
    assert page.url.endswith("/queue?organisation=shop")
    # The swapped-in rows tick too.
    clock = row(page, "Opened while watching").locator(".countdown-time")
    first = clock.inner_text()
    expect(clock).not_to_have_text(first, timeout=2_000)


def test_screenshots_of_the_queue_desktop_and_phone_in_english_and_french(
        world, busy_queue, page, snap):
    sign_in(page, world.tech)
    page.goto("/queue")
    expect(page.locator("main tbody tr")).to_have_count(6)
    snap("desktop-en")
    page.set_viewport_size(PHONE)
    snap("phone-en")
    page.get_by_label("Language").select_option("fr")
    page.get_by_role("button", name="Change").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    snap("phone-fr")
    page.set_viewport_size({"width": 1280, "height": 900})
    snap("desktop-fr")
