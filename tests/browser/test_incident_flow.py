"""An incident through the browser: a client opens it, a technician takes it and answers.

Every page runs under the site's Content-Security-Policy; the `page` fixture fails a test on any
console error (CSP refusals included), uncaught exception or server error, and `snap` saves a
screenshot per step to test-artifacts/screenshots/.
"""
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from helpdesk.accounts.models import Organisation, User
from helpdesk.clock import now_utc
from helpdesk.contracts.models import Calendar, Contract
from helpdesk.extensions import db
from helpdesk.tickets import services
from tests import factories
from tests.browser.helpers import sign_in, sign_out

pytestmark = pytest.mark.browser
NUMBER = re.compile(r"T-\d{6}")
CONTROLS = "input:not([type=hidden]), select, textarea"


def _user(email: str) -> User:
    return db.session.scalar(sa.select(User).where(User.email == email))


@pytest.fixture
def second_contract(app, world):
    """A second contract of the client's organisation, with priorities of its own."""
    with app.app_context():
        calendars = {c.code: c for c in db.session.scalars(sa.select(Calendar))}
        shop = db.session.get(Organisation, world.shop)
        factories.contract(organisation=shop, reference="CT-SHOP-2", title="Hosting",
                           calendars=calendars,
                           priorities=[("P2", "Haute", "24x7", 4, 12),
                                       ("P4", "Basse", "biz-fr", 24, None)])
        db.session.commit()
    return "CT-SHOP-2"


@pytest.fixture
def opened_ticket(app, world):
    """A new P1 incident of the client's, opened a few minutes ago; its number."""
    with app.app_context():
        contract = db.session.scalar(sa.select(Contract).where(
            Contract.reference == world.contract))
        ticket = services.open_ticket(
            actor=_user(world.client), contract=contract, priority_code="P1",
            title="Checkout broken", description="Payment page shows a blank screen.",
            now=now_utc() - timedelta(minutes=5))
        db.session.commit()
        return ticket.number


def assert_controls_labelled(page, scope: str = "main form") -> None:
    """Each visible control is the one Playwright finds by the text of its <label>."""
    controls = page.locator(scope).locator(CONTROLS)
    assert controls.count() > 0
    for index in range(controls.count()):
        control = controls.nth(index)
        if not control.is_visible():
            continue
        name = control.get_attribute("name")
        labels = control.evaluate("el => Array.from(el.labels || [], l => l.textContent.trim())")
        assert labels, f"control {name!r} on {page.url} has no <label>"
        found = page.get_by_label(labels[0], exact=True)
        assert found.count() == 1, (
            f"label {labels[0]!r} on {page.url} names {found.count()} controls")
        assert found.evaluate("(el, target) => el === target", control.element_handle()), (
            f"label {labels[0]!r} on {page.url} points at another control than {name!r}")


def test_client_opens_incident_through_the_form_and_sees_its_number(world, live_server, page,
                                                                     snap):
    response = page.goto("/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page).to_have_url(re.compile(r"/login"))
    snap("login")
    sign_in(page, world.client)
    expect(page.get_by_role("heading", name="My tickets")).to_be_visible()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="New incident").click()
    expect(page.get_by_role("heading", name="New incident")).to_be_visible()
    page.get_by_label("Contract").select_option(label="CT-SHOP — Maintenance")
    page.get_by_label("Priority").select_option(label="P1 — Critique · GTI 2 h · GTR 8 h · 24 hours a day, 7 days a week")
    page.get_by_label("Title").fill("Site down")
    page.get_by_label("Description").fill("The shop returns 500 on every page.")
    page.get_by_label("Attachment (optional)").set_input_files(
        {"name": "error.log", "mimeType": "text/plain", "buffer": b"500 Internal Server Error\n"})
    snap("filled")
    page.get_by_role("button", name="Submit the incident").click()

    expect(page).to_have_url(re.compile(r"/tickets/T-\d{6}$"))
    number = page.locator(".ticket-head .number")
    expect(number).to_have_text(NUMBER)
    expect(page.get_by_role("status")).to_have_text(f"Incident {number.text_content()} recorded.")
    expect(page.get_by_role("heading", name="Site down")).to_be_visible()
    expect(page.locator(".ticket-head .status")).to_have_text("new")
    expect(page.get_by_role("link", name="error.log")).to_be_visible()
    snap("ticket")


def test_priority_select_offers_only_the_chosen_contracts_priorities(world, second_contract,
                                                                      live_server, page, snap):
    sign_in(page, world.client)
    page.goto("/tickets/new")
    contract, priority = page.get_by_label("Contract"), page.get_by_label("Priority")
    group = {ref: priority.locator(f'optgroup[label="{ref}"]')
             for ref in (world.contract, second_contract)}
    for ref in group:  # nothing chosen yet: no contract's priorities
        expect(group[ref]).to_have_js_property("hidden", True)

    contract.select_option(second_contract)
    expect(group[second_contract]).to_have_js_property("hidden", False)
    expect(group[world.contract]).to_have_js_property("hidden", True)
    expect(priority.locator(f'option[value="{world.contract}|P1"]')).to_be_disabled()
    expect(priority.locator(f'option[value="{second_contract}|P2"]')).to_be_enabled()
    priority.select_option(f"{second_contract}|P2")
    snap("second-contract")

    contract.select_option(world.contract)  # the chosen priority belongs to the other contract
    expect(priority).to_have_value("")
    expect(group[world.contract]).to_have_js_property("hidden", False)
    expect(priority.locator(f'option[value="{second_contract}|P2"]')).to_be_disabled()
    expect(priority.locator(f'option[value="{world.contract}|P1"]')).to_be_enabled()
    snap("first-contract")


def test_technician_takes_ticket_from_queue(world, opened_ticket, live_server, page, snap):
    sign_in(page, world.tech)
    expect(page.get_by_role("heading", name="Queue")).to_be_visible()
    row = page.get_by_role("row").filter(has_text=opened_ticket)
    expect(row).to_contain_text("unassigned")
    snap("queue")
    row.get_by_role("link", name=opened_ticket).click()

    page.get_by_role("button", name="Take in charge").click()
    expect(page.locator(".ticket-head .status")).to_have_text("in progress")
    expect(page.locator(".ticket-head .facts")).to_contain_text("Tom Tech")
    expect(page.get_by_role("button", name="Take in charge")).to_have_count(0)
    snap("taken")


def test_client_sees_public_reply_but_not_internal_note(world, opened_ticket, live_server, page,
                                                        snap):
    reply, note = "We are restarting the payment service.", "Customer DB password rotated."
    sign_in(page, world.tech)
    page.goto(f"/tickets/{opened_ticket}")
    page.get_by_label("Message", exact=True).fill(reply)
    page.get_by_role("button", name="Send the reply").click()
    expect(page.get_by_role("status")).to_have_text("Reply sent.")
    page.get_by_label("Internal note", exact=True).fill(note)
    page.get_by_role("button", name="Add the internal note").click()
    expect(page.locator("article.message.internal")).to_contain_text(note)
    snap("technician-view")
    sign_out(page)

    sign_in(page, world.client)
    page.goto(f"/tickets/{opened_ticket}")
    messages = page.locator("article.message")
    expect(messages.filter(has_text=reply)).to_contain_text("Tom Tech")
    expect(messages.filter(has_text=note)).to_have_count(0)
    expect(page.get_by_text("internal note")).to_have_count(0)
    snap("client-view")


@pytest.mark.parametrize("email, path, button, status, messages", [
    (None, "/login", "Sign in", 200,
     {"E-mail": "This field is required.", "Password": "This field is required."}),
    ("client", "/tickets/new", "Submit the incident", 400,
     {"Contract": "Choose a contract.", "Priority": "Choose a priority.",
      "Title": "Give the incident a title.", "Description": "Describe the incident."}),
], ids=["login", "new-incident"])
def test_empty_form_shows_messages_next_to_labelled_fields(world, live_server, page, page_errors,
                                                           snap, email, path, button, status,
                                                           messages):
    if email:
        sign_in(page, getattr(world, email))
    page.goto(path)
    if status >= 400:  # Chromium logs the refused submission itself as a failed load
        page_errors.expect(rf"status of {status} .* at \S+{re.escape(path)}$")
    with page.expect_response(lambda r: r.request.method == "POST") as submitted:
        page.get_by_role("button", name=button).click()
    assert submitted.value.status == status
    for label, message in messages.items():
        field = page.get_by_label(label, exact=True)
        expect(field).to_have_attribute("aria-invalid", "true")
        # The description may also carry the field's hint, e.g. what a GTI is.
        expect(field).to_have_accessible_description(re.compile(re.escape(message)))
        expect(page.locator(".field", has=field).locator(".errors")).to_have_text(message)
    assert_controls_labelled(page)
    snap("errors")


def test_ticket_page_controls_each_have_their_own_label(world, opened_ticket, live_server, page):
    sign_in(page, world.tech)
    page.goto(f"/tickets/{opened_ticket}")
    assert_controls_labelled(page)
