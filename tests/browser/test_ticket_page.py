"""The ticket page, the incident form and the notifications, in Chromium, at desktop and phone
widths: a client chooses a priority by its guarantees and reads when a technician will
intervene; a technician takes the ticket with a button that says it stops the GTI; the inbox is
read and marked read. Screenshots go to test-artifacts/screenshots/.
"""
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from helpdesk.accounts.services import find_user
from helpdesk.clock import now_utc
from helpdesk.escalation.jobs import run_sweep
from helpdesk.extensions import db
from tests.api.helpers import act, open_ticket
from tests.browser.helpers import fits_the_width, sign_in, sign_out

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
PROMISE = re.compile(r"A technician will intervene by \w+day \d{1,2} \w+ \d{4}, \d\d:\d\d "
                     r"\(America/New_York\)\.")


@pytest.fixture
def new_yorker(app, world):
    with app.app_context():
        find_user(world.client).timezone = "America/New_York"
        db.session.commit()
    return world.client


def test_client_chooses_a_priority_by_its_guarantees_and_reads_when_help_comes(
        world, new_yorker, live_server, page, snap):
    sign_in(page, new_yorker)
    page.goto("/tickets/new")
    guide = page.locator(".guide-table")
    expect(guide).to_be_visible()
    expect(guide).to_contain_text("24 hours a day, 7 days a week")
    expect(guide).to_contain_text("No guaranteed restoration time.")
    page.get_by_label("Contract").select_option(world.contract)
    page.get_by_label("Priority").select_option(f"{world.contract}|P1")
    choice = page.locator("#priority-choice")
    expect(choice).to_be_visible()
    expect(choice).to_contain_text("You chose P1 — Critique.")
    expect(page.locator("tr.chosen")).to_contain_text("your choice")
    page.get_by_label("Title").fill("Checkout down")
    page.get_by_label("Description").fill("Every payment fails since 09:00.")
    snap("form")
    page.set_viewport_size(PHONE)
    assert fits_the_width(page)
    snap("form-phone")
    page.set_viewport_size(DESKTOP)

    page.get_by_role("button", name="Submit the incident").click()
    expect(page).to_have_url(re.compile(r"/tickets/T-\d{6}$"))
    expect(page.locator(".promises")).to_contain_text(PROMISE)
    expect(page.get_by_role("button", name=re.compile("Take in charge"))).to_have_count(0)
    snap("ticket-client")
    page.set_viewport_size(PHONE)
    assert fits_the_width(page)
    snap("ticket-client-phone")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="My tickets").click()
    row = page.get_by_role("row").filter(has_text="Checkout down")
    expect(row).to_contain_text(re.compile(r"GTI\s*: \d+\s*h \d+\s*min left"))
    assert fits_the_width(page)
    snap("my-tickets-phone")
    page.set_viewport_size(DESKTOP)
    snap("my-tickets")


def test_technician_takes_the_ticket_with_the_button_that_stops_the_gti(
        app, world, live_server, page, snap):
    number = open_ticket(app, requester=world.client, now=now_utc() - timedelta(minutes=20))
    act(app, number, "reply", actor=world.client, body="Any news?")
    sign_in(page, world.tech)
    page.goto(f"/tickets/{number}")
    take = page.get_by_role("button", name="Take in charge — stops the GTI")
    expect(take).to_be_visible()
    page.locator("details.explain").first.locator("summary").click()
    expect(page.locator(".timeline").first).to_contain_text("the clock starts")
    snap("staff-before")
    take.click()
    expect(page.get_by_role("status")).to_have_text("You took the ticket in charge.")
    expect(page.locator(".promises")).to_contain_text("A technician intervened on")
    expect(page.get_by_role("button", name="Wait on client — pauses the GTR")).to_be_visible()
    expect(take).to_have_count(0)
    page.get_by_label("Internal note", exact=True).fill("Payment provider says: incident open.")
    page.get_by_role("button", name=re.compile("Add the internal note")).click()
    expect(page.locator("article.message.internal")).to_contain_text(
        "Internal note — not visible to the client")
    snap("staff-after")
    page.set_viewport_size(PHONE)
    assert fits_the_width(page)
    snap("staff-phone")

    sign_out(page)
    page.set_viewport_size(DESKTOP)
    sign_in(page, world.client)
    page.goto(f"/tickets/{number}")
    expect(page.get_by_text("Payment provider says")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("Send the reply"))).to_be_visible()


def test_ticket_page_and_form_read_in_french_after_the_language_switch(
        app, world, live_server, page, snap):
    number = open_ticket(app, requester=world.client, now=now_utc() - timedelta(minutes=20))
    sign_in(page, world.client)
    page.goto(f"/tickets/{number}")
    page.get_by_label("Language").select_option("fr")
    page.get_by_role("button", name="Change").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page).to_have_url(re.compile(rf"/tickets/{number}$"))
    expect(page.get_by_role("heading", name="Conversation")).to_be_visible()
    expect(page.locator(".promises")).to_contain_text(re.compile(r"\d{4}"))
    snap("ticket-fr")
    page.set_viewport_size(PHONE)
    assert fits_the_width(page)
    snap("ticket-fr-phone")
    page.set_viewport_size(DESKTOP)
    page.goto("/tickets/new")
    snap("form-fr")


def test_technician_reads_and_clears_notifications(app, world, live_server, page, snap):
    now = now_utc()
    for minutes in (75, 70):
        number = open_ticket(app, requester=world.client, title=f"Opened {minutes} min ago",
                             now=now - timedelta(minutes=minutes))
        act(app, number, "assign", actor=world.lead, assignee=world.tech,
            now=now - timedelta(minutes=minutes - 1))
    run_sweep(app, now=now, name="test")
    sign_in(page, world.tech)
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name=re.compile("Notifications")).click()
    expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
    expect(page.locator(".notifications li.unread")).to_have_count(2)
    expect(page.locator(".badge")).to_contain_text("2")
    snap("notifications")
    page.set_viewport_size(PHONE)
    assert fits_the_width(page)
    snap("notifications-phone")
    page.set_viewport_size(DESKTOP)

    page.locator(".notifications li.unread").first.get_by_role(
        "button", name=re.compile("Mark as read")).click()
    expect(page.get_by_role("status")).to_have_text("Notification marked as read.")
    expect(page.locator(".badge")).to_contain_text("1")
    page.get_by_role("button", name="Mark all as read").click()
    expect(page.get_by_role("status")).to_have_text("1 notification marked as read.")
    expect(page.locator(".badge")).to_have_count(0)
    expect(page.locator(".notifications li.read")).to_have_count(2)
    snap("notifications-read")
