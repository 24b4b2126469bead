"""The KPI dashboard and the client's SLA report in Chromium: the charts are drawn by the vendored
Chart.js under the site's Content-Security-Policy (the `page` fixture fails on any console error),
a client cannot reach the dashboard, and screenshots at desktop and phone widths, in English and
French, go to test-artifacts/screenshots/."""
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from helpdesk.accounts.models import User
from helpdesk.clock import now_utc
from helpdesk.extensions import db
from tests.browser.helpers import sign_in
from tests.reporting.history import build_history, make_people, open_ticket, sweep

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# Canvases drawn by Chart.js, and how many of their pixels are painted.
DRAWN = """() => Array.from(document.querySelectorAll("canvas[data-chart]")).map((canvas) => {
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] !== 0) painted += 1; }
  return {chart: window.Chart && window.Chart.getChart(canvas) !== undefined, painted};
})"""


@pytest.fixture
def books(app):
    """The hand-built history, plus open tickets right now: one overdue, one past its last
    warning, so that "at risk right now" has something to say."""
    with app.app_context():
        people = make_people()
        handles = build_history(people)
        now = now_utc()
        open_ticket(people, now - timedelta(hours=3), title="Checkout broken")
        open_ticket(people, now - timedelta(minutes=105), title="Search is slow",
                    contract="other_contract", client="other_client")
        sweep(now)
        db.session.commit()
        return handles


def speak(app, email: str, language: str) -> None:
    with app.app_context():
        db.session.execute(sa.update(User).where(User.email == email).values(language=language))
        db.session.commit()


def assert_charts_drawn(page, count: int) -> None:
    expect(page.locator("canvas[data-drawn=true]")).to_have_count(count)
    drawn = page.evaluate(DRAWN)
    assert len(drawn) == count
    assert all(item["chart"] and item["painted"] > 500 for item in drawn), drawn


def assert_fits(page) -> None:
    """The page's content fits the phone's width: wide tables scroll inside their own box."""
    main = page.evaluate("[document.querySelector('main').scrollWidth, "
                         "document.querySelector('main').clientWidth]")
    assert main[0] <= main[1], f"the content is {main[0]} px wide in {main[1]} px"


def test_the_dashboard_draws_its_charts(books, page, snap):
    sign_in(page, books.lead)
    page.goto("/dashboard?first=2026-06&last=2026-11")
    expect(page.get_by_role("heading", name="SLA dashboard", level=1)).to_be_visible()
    assert_charts_drawn(page, 3)
    expect(page.locator("#at-risk")).to_contain_text("overdue")
    expect(page.locator("#at-risk")).to_contain_text("at risk")
    snap("desktop")
    page.set_viewport_size(PHONE)
    page.reload()
    assert_charts_drawn(page, 3)
    assert_fits(page)
    snap("phone")


def test_the_dashboard_filters_narrow_the_tables(books, page):
    sign_in(page, books.lead)
    page.goto("/dashboard?first=2026-09&last=2026-10")
    page.get_by_label("Organisation", exact=True).select_option(label="Autre Client SA")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(rf"organisation={books.other}"))
    organisations = page.locator("#compliance-by-organisation tbody")
    expect(organisations).to_contain_text("Autre Client SA")
    expect(organisations).not_to_contain_text("Boutique")
    assert_charts_drawn(page, 3)


def test_the_dashboard_in_french(app, books, page, snap):
    speak(app, books.finance, "fr")
    sign_in(page, books.finance)
    page.goto("/dashboard?first=2026-06&last=2026-11")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    assert_charts_drawn(page, 3)
    snap("desktop")
    page.set_viewport_size(PHONE)
    page.reload()
    snap("phone")


def test_a_client_cannot_reach_the_dashboard(books, page, page_errors):
    page_errors.expect(r"status of 404")  # the browser logs the refused page
    sign_in(page, books.client)
    response = page.goto("/dashboard")
    assert response.status == 404
    expect(page.locator("canvas")).to_have_count(0)
    assert page.goto("/dashboard/compliance-by-month.csv").status == 404
    expect(page.locator("header.top nav")).not_to_contain_text("Dashboard")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_client_report_draws_its_chart(app, books, page, snap, language):
    speak(app, books.client, language)
    sign_in(page, books.client)
    page.goto("/billing/my/report?month=2026-10")
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("table.priority-scores")).to_contain_text("50")
    assert_charts_drawn(page, 1)
    snap("desktop")
    page.set_viewport_size(PHONE)
    page.reload()
    assert_charts_drawn(page, 1)
    assert_fits(page)
    snap("phone")
