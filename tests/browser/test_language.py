"""French and English in the browser: the header's language switch, and the finance and admin
pages in both languages on a desktop and on a phone (screenshots in test-artifacts/)."""

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from helpdesk.accounts.models import User
from helpdesk.billing.models import CreditNote
from helpdesk.billing.services import close_month, issue_credit_note
from helpdesk.clock import now_utc
from helpdesk.demo.load import load_demo
from helpdesk.extensions import db
from helpdesk.month import Month
from tests.billing.conftest import settings
from tests.browser.helpers import sign_in

pytestmark = pytest.mark.browser
DEMO_PASSWORD = "helpdesk-demo"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}


def header_link(page, name: str):
    return page.locator("header.top nav").get_by_role("link", name=name, exact=True)


def test_the_header_language_switch_changes_the_labels(world, live_server, page, snap):
    sign_in(page, world.tech, "correct horse battery")
    page.goto("/queue")
    expect(header_link(page, "Queue")).to_be_visible()
    snap("english")

    page.get_by_label("Language", exact=True).select_option("fr")
    page.locator("form.language button[type=submit]").click()
    expect(header_link(page, "File d’attente")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    assert page.url.endswith("/queue")
    snap("french")

    page.get_by_label("Langue", exact=True).select_option("en")
    page.locator("form.language button[type=submit]").click()
    expect(header_link(page, "Queue")).to_be_visible()


@pytest.fixture
def demo(app):
    """The demo data with last month closed and one of its credit notes issued."""
    with app.app_context():
        now = now_utc()
        load_demo(now=now)
        month = str(Month.of(now, "Europe/Paris").previous())
        close_month(month, seller=settings().seller, at=now)
        note = db.session.scalar(sa.select(CreditNote).where(CreditNote.month == month)
                                 .order_by(CreditNote.id))
        issue_credit_note(note.id, settings=settings(), actor=None, now=now)
        db.session.commit()
        return {"month": month, "note": note.id, "contract": note.contract_reference}


def _speak(app, email: str, language: str) -> None:
    with app.app_context():
        db.session.execute(sa.update(User).where(User.email == email).values(language=language))
        db.session.commit()


@pytest.mark.parametrize("language, expected", [
    ("fr", {"billing": "Facturation", "breaches": "Dépassements", "contracts": "Contrats",
            "status": "État du système"}),
    ("en", {"billing": "Billing", "breaches": "Breaches", "contracts": "Contracts",
            "status": "System status"}),
], ids=["fr", "en"])
def test_finance_and_admin_pages_speak_the_users_language(app, demo, live_server, page, snap,
                                                         language, expected):
    month, contract = demo["month"], demo["contract"]
    pages = [("billing", f"/billing/?month={month}"),
             ("preview", f"/billing/{month}/{contract}"),
             ("credit-note", f"/billing/credit-notes/{demo['note']}"),
             ("breaches", f"/breaches?month={month}"),
             ("contracts", "/contracts"),
             ("contract", f"/contracts/{contract}")]
    _speak(app, "finance@example.com", language)
    sign_in(page, "finance@example.com", DEMO_PASSWORD)
    for viewport in (DESKTOP, PHONE):
        page.set_viewport_size(viewport)
        for name, path in pages:
            page.goto(path)
            expect(page.locator("html")).to_have_attribute("lang", language)
            snap(f"{language}-{viewport['width']}-{name}")
    page.goto(f"/billing/?month={month}")
    assert expected["billing"] in page.locator("main h1").inner_text()
    assert expected["breaches"] in page.locator("header.top nav").inner_text()

    page.locator("header.top form[action='/logout'] button").click()
    _speak(app, "admin@example.com", language)
    sign_in(page, "admin@example.com", DEMO_PASSWORD)
    page.goto("/admin/status")
    expect(page.locator("main h1")).to_have_text(expected["status"])
    snap(f"{language}-{page.viewport_size['width']}-status")
