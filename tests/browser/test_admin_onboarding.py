"""Issue 15's Monday: an admin signs a new client up entirely in the browser (organisation,
invited client user, calendar, contract), then that client opens a ticket, and its GTI is due
at the very instant the calendar's preview announced. The clock stands still at a working
Monday morning in Paris, so the preview's start is the ticket's opening."""
import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from helpdesk.clock import now_utc
from helpdesk.escalation.jobs import run_sender
from tests.browser.helpers import sign_in, sign_out

pytestmark = pytest.mark.browser
BASE_URL = "https://helpdesk.example.test"
INVITATION = re.compile(re.escape(BASE_URL) + r"(/invitation/[A-Za-z0-9_.-]+)")
MONDAY_MORNING = datetime(2026, 11, 30, 9, 15, tzinfo=UTC)  # 10:15 in Paris


@pytest.fixture
def app_config(mailbox):
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": mailbox.port, "SMTP_STARTTLS": False,
            "BASE_URL": BASE_URL}


def test_a_client_set_up_in_the_browser_gets_the_due_instant_the_preview_announced(
        app, world, page, snap, mailbox, clock):
    clock.freeze(MONDAY_MORNING)
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, world.admin)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Administration").click()
    snap("administration")

    page.goto("/admin/organisations/new")
    page.get_by_label("Code").fill("acme")
    page.get_by_label("Name").fill("ACME Industries SA")
    page.get_by_label("Address").fill("1 avenue du Port\n44000 Nantes")
    page.get_by_role("button", name="Create the organisation").click()
    expect(page.get_by_role("link", name="acme", exact=True)).to_be_visible()

    page.goto("/admin/users/new")
    page.get_by_label("E-mail").fill("nina@acme.example")
    page.get_by_label("Name").fill("Nina New")
    page.get_by_label("Organisation").select_option("acme")
    page.locator("#language").select_option("en")
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.get_by_text("nina@acme.example is invited")).to_be_visible()

    # Monday to Friday, 08:00 to 18:00 in Paris, French public holidays: the new form's week.
    page.goto("/admin/calendars/new")
    page.locator("#code").fill("acme-hours")
    page.locator("#timezone").select_option("Europe/Paris")
    page.locator("#country").select_option("FR")
    page.get_by_role("button", name="Preview without saving").click()
    announced = page.locator("time[data-clock='GTI']")
    expect(announced).to_be_visible()
    snap("calendar-preview")
    gti_due = announced.get_attribute("datetime")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("heading", name="Calendar acme-hours")).to_be_visible()

    page.goto("/admin/contracts/new")
    page.locator("#reference").fill("CT-ACME")
    page.locator("#organisation").select_option("acme")
    page.locator("#title").fill("Support")
    page.locator("#starts_on").fill("2026-11-01")
    page.locator("#monthly_fee").fill("900.00")
    page.locator("#currency").fill("EUR")
    page.locator("#vat_rate").fill("20")
    page.locator("#credit_cap_percent").fill("30")
    page.locator("#priorities-0-code").fill("P1")
    page.locator("#priorities-0-label").fill("Urgent")
    page.locator("#priorities-0-calendar").select_option("acme-hours")
    page.locator("#priorities-0-gti").fill("4:00")
    page.locator("#priorities-0-gtr").fill("8:00")
    snap("contract-form")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("CT-ACME")).not_to_have_count(0)
    snap("contract-saved")
    sign_out(page)

    run_sender(app, now=now_utc())
    [mail] = [m for m in mailbox.messages() if m["To"] == "nina@acme.example"]
    page.goto(INVITATION.search(mail.get_content()).group(1))
    page.locator("#new_password").fill("my very own passphrase")
    page.locator("#confirm").fill("my very own passphrase")
    page.get_by_role("button", name="Set the password").click()
    sign_in(page, "nina@acme.example", "my very own passphrase")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="New incident").click()
    page.get_by_label("Contract").select_option(label="CT-ACME — Support")
    page.get_by_label("Priority").select_option(index=1)  # its only priority, P1
    page.get_by_label("Title").fill("Invoices are not sent")
    page.get_by_label("Description").fill("Since this morning no invoice leaves the ERP.")
    page.get_by_role("button", name="Submit the incident").click()
    expect(page.get_by_role("heading", name="Invoices are not sent")).to_be_visible()
    snap("ticket")
    # 10:15 + 4 h of service time the same Monday: 14:15 in Paris, as announced.
    assert gti_due == "2026-11-30T13:15:00+00:00"
    expect(page.locator("#clock-gti time")).to_have_attribute("datetime", gti_due)
