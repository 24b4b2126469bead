"""The contract pages in Chromium at 1366 px: an admin changes a contract's terms, adds and
removes a priority, reads the consequences, saves and finds the change in the history; no page
scrolls sideways. Screenshots of each step go to the artifacts folder."""
from playwright.sync_api import expect

from helpdesk.extensions import db
from tests import factories
from tests.browser.helpers import fits_the_width, sign_in


def test_an_admin_changes_terms_through_the_consequences_at_1366_px(app, page, snap):
    with app.app_context():
        factories.world()
        db.session.commit()
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, "admin@provider.example")

    page.goto("/admin/")
    page.get_by_role("link", name="Contracts").last.click()
    expect(page.get_by_role("link", name="Edit the terms CT-SHOP")).to_be_visible()
    snap("list")
    assert fits_the_width(page)
    page.get_by_role("link", name="Edit the terms CT-SHOP").click()
    expect(page.get_by_role("button", name="Add a priority")).to_be_visible()
    snap("form")
    assert fits_the_width(page)

    page.get_by_role("button", name="Add a priority").click()
    priority = page.get_by_role("group", name="Priority 3")
    priority.get_by_label("Code").fill("P2")
    priority.get_by_label("Label").fill("Haute")
    priority.get_by_label("Service hours").select_option("biz-fr")
    priority.get_by_label("GTI (time to intervene)").fill("4:00")
    page.get_by_role("group", name="Priority 2 — P3").get_by_label("Remove this priority").check()
    page.get_by_label("Monthly fee, excl. VAT").fill("1200.00")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Consequences of saving")).to_be_visible()
    expect(page.get_by_text("Nothing is saved yet")).to_be_visible()
    snap("consequences")
    assert fits_the_width(page)

    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("its terms are now version 2")).to_be_visible()
    expect(page.get_by_role("row", name="Priorities P1, P3 P1, P2")).to_be_visible()
    snap("history")
    assert fits_the_width(page)
