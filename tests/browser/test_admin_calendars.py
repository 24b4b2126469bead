"""An admin sets up a calendar in the browser at 1366 px: the country's subdivisions follow the
country at once (the script), the preview shows before saving, and no page scrolls sideways
(screenshots in test-artifacts/)."""
import pytest
from playwright.sync_api import expect

from tests.browser.helpers import fits_the_width, sign_in

pytestmark = pytest.mark.browser
LAPTOP = {"width": 1366, "height": 800}


def test_an_admin_creates_a_calendar_after_previewing_it(world, live_server, page, snap):
    page.set_viewport_size(LAPTOP)
    sign_in(page, world.admin)
    page.goto("/admin/calendars")
    assert fits_the_width(page)
    snap("list")
    page.get_by_role("link", name="New calendar").click()
    page.locator("#code").fill("support-de")
    page.locator("#timezone").select_option("Europe/Berlin")
    page.locator("#country").select_option("DE")
    expect(page.locator("#subdiv option[value=BY]")).to_have_count(1)
    expect(page.get_by_role("button", name="Show its subdivisions")).to_be_hidden()
    page.locator("#subdiv").select_option("BY")
    page.locator("#windows-0-end").fill("12:00")
    page.get_by_role("button", name="Add a window").click()  # the server adds it
    expect(page.locator("#windows-7-day")).to_be_visible()
    assert page.url.endswith("#windows")
    expect(page.locator("#code")).to_have_value("support-de")
    page.locator("#windows-5-day").select_option("mon")
    page.locator("#windows-5-start").fill("14:00")
    page.locator("#windows-5-end").fill("18:00")
    page.locator("#closures-0-first").fill("2026-12-14")
    page.locator("#closures-0-last").fill("2026-12-16")
    page.get_by_role("button", name="Preview without saving").click()
    expect(page.get_by_role("heading", name="Preview: the next four weeks")).to_be_visible()
    expect(page.locator("tr[data-day='2026-12-07'] td").first).to_have_text(
        "08:00–12:00, 14:00–18:00")
    assert fits_the_width(page)
    snap("preview")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("heading", name="Calendar support-de")).to_be_visible()
    expect(page.locator("tr[data-day='2026-12-15']")).to_contain_text("closure")
    assert fits_the_width(page)
    snap("calendar")


def test_a_refused_calendar_shows_its_errors_without_scrolling_sideways(world, live_server,
                                                                       page, page_errors, snap):
    page_errors.expect(r"status of 422")
    page.set_viewport_size(LAPTOP)
    sign_in(page, world.admin)
    page.goto("/admin/calendars/biz-fr/edit")
    page.locator("#windows-1-start").fill("7h")
    page.locator("#closures-0-first").fill("2026-12-31")
    page.locator("#closures-0-last").fill("2026-12-24")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#windows-1-start-errors")).to_contain_text("“7h” is not a time")
    expect(page.locator("#closures-0-last-errors")).to_contain_text("comes before the first")
    assert fits_the_width(page)
    snap("errors")
