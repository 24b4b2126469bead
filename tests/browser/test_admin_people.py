"""An administrator onboards a client's organisation and invites one of its people, who
chooses a password from the mail and signs in, all in the browser; the administration's
organisation and user pages fit 1366 px without a horizontal scroll (screenshots in
test-artifacts/)."""
import re

import pytest
from playwright.sync_api import expect

from helpdesk.clock import now_utc
from helpdesk.escalation.jobs import run_sender
from tests.browser.helpers import fits_the_width, sign_in, sign_out

pytestmark = pytest.mark.browser
BASE_URL = "https://helpdesk.example.test"
LINK = re.compile(re.escape(BASE_URL) + r"(/invitation/[A-Za-z0-9_.-]+)")
WIDE = {"width": 1366, "height": 900}


@pytest.fixture
def app_config(mailbox):
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": mailbox.port, "SMTP_STARTTLS": False,
            "BASE_URL": BASE_URL}


def test_an_admin_creates_a_client_and_invites_someone_who_signs_in(app, world, page, snap,
                                                                    mailbox, page_errors):
    page_errors.expect(r"status of 422 .* at .*/admin/users/new$")
    page.set_viewport_size(WIDE)
    sign_in(page, world.admin)
    page.goto("/admin/")
    page.get_by_role("link", name="Organisations", exact=True).click()
    expect(page.get_by_role("link", name="New organisation")).to_be_visible()
    assert fits_the_width(page)
    snap("organisations")
    page.get_by_role("link", name="New organisation").click()
    page.get_by_label("Code").fill("acme")
    page.get_by_label("Name").fill("ACME Industries SA")
    page.get_by_label("Address").fill("1 avenue du Port\n44000 Nantes")
    page.get_by_label("Company identifier").fill("RCS Nantes 123 456 789")
    page.get_by_label("VAT number").fill("FR12123456789")
    assert fits_the_width(page)
    snap("new-organisation")
    page.get_by_role("button", name="Create the organisation").click()
    expect(page.get_by_role("link", name="acme", exact=True)).to_be_visible()

    page.goto("/admin/users")
    assert fits_the_width(page)
    snap("users")
    page.get_by_role("link", name="Invite a user").click()
    page.get_by_label("E-mail").fill("nina@acme.example")
    page.get_by_label("Name").fill("Nina New")
    page.get_by_label("Organisation").select_option("acme")
    page.locator("#language").select_option("en")
    # the form refuses a client without a name, with the message at the field
    page.get_by_label("Name").fill("")
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.locator("#name-errors")).to_be_visible()
    assert fits_the_width(page)
    snap("invitation-refused")
    page.get_by_label("Name").fill("Nina New")
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.get_by_text("nina@acme.example is invited")).to_be_visible()
    expect(page.get_by_text("invited, no password yet")).to_be_visible()
    page.get_by_role("link", name="Nina New").click()
    expect(page.locator("#name")).to_have_value("Nina New")
    assert fits_the_width(page)
    snap("invited-user")
    sign_out(page)

    run_sender(app, now=now_utc())
    [mail] = mailbox.messages()
    link = LINK.search(mail.get_content()).group(1)
    page.goto(link)
    expect(page.get_by_text("Welcome, Nina New.")).to_be_visible()
    snap("choose-password")
    page.locator("#new_password").fill("my very own passphrase")
    page.locator("#confirm").fill("my very own passphrase")
    page.get_by_role("button", name="Set the password").click()
    sign_in(page, "nina@acme.example", "my very own passphrase")
    snap("signed-in")
