"""The dashboard page and its CSV tables: who may see them, what they say, how filters and bad
input behave."""
import csv
import io
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from helpdesk.accounts.models import User
from helpdesk.clock import now_utc
from helpdesk.contracts.models import Contract
from helpdesk.extensions import db
from helpdesk.tickets import services
from tests.reporting.history import sweep

PARIS = ZoneInfo("Europe/Paris")

DASHBOARD = "/dashboard?first=2026-09&last=2026-10"
TABLES = ("compliance-by-month", "compliance-by-priority", "compliance-by-organisation",
          "times-by-month", "times-by-priority", "breaches-by-month", "at-risk")


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def table(page: str, table_id: str) -> str:
    return text(re.search(rf'<table class="kpi[^"]*" id="{table_id}">(.*?)</table>', page, re.S)[1])


def rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


@pytest.mark.parametrize("person", ["lead", "finance", "admin"])
def test_team_leads_finance_and_admins_see_the_dashboard(signed_in, person):
    response = signed_in(person).get("/dashboard")
    assert response.status_code == 200
    assert "<h1>SLA dashboard</h1>" in response.get_data(as_text=True)


@pytest.mark.parametrize("person", ["client", "other_client", "tech"])
@pytest.mark.parametrize("path", ["/dashboard", *(f"/dashboard/{name}.csv" for name in TABLES)])
def test_clients_and_technicians_get_404_on_the_dashboard_and_its_csv(signed_in, person, path):
    assert signed_in(person).get(path).status_code == 404


def test_the_dashboard_asks_anonymous_visitors_to_sign_in(client, books):
    response = client.get("/dashboard")
    assert response.status_code == 302 and "/login" in response.location


def test_the_dashboard_defaults_to_the_last_six_months_including_this_one(signed_in):
    page = signed_in("lead").get("/dashboard").get_data(as_text=True)
    months = re.findall(r'<th scope="row">(\w{3} \d{4})</th>', re.search(
        r'id="compliance-by-month">.*?</table>', page, re.S)[0])
    assert len(months) == 6
    assert months[-1] == now_utc().astimezone(PARIS).strftime("%b %Y")


def test_the_dashboard_shows_compliance_per_month_priority_and_organisation(signed_in):
    page = signed_in("lead").get(DASHBOARD).get_data(as_text=True)
    # Each line: GTI met, breached, of which waived, met %; then the same for GTR.
    assert table(page, "compliance-by-month").endswith(
        "Sep 2026 1 0 0 100.0 % 0 1 0 0.0 % Oct 2026 2 2 1 50.0 % 3 0 0 100.0 %")
    assert table(page, "compliance-by-priority").endswith(
        "P1 2 2 1 50.0 % 3 1 0 75.0 % P3 1 0 0 100.0 % 0 0 0 — no clock decided")
    assert table(page, "compliance-by-organisation").endswith(
        "Autre Client SA 1 1 1 50.0 % 1 0 0 100.0 % "
        "Boutique Exemple SARL 2 1 0 66.7 % 2 1 0 66.7 %")


def test_the_dashboard_states_how_figures_are_counted(signed_in):
    page = text(signed_in("finance").get(DASHBOARD).get_data(as_text=True))
    assert "A waived breach still counts as breached" in page
    assert "months counted in your time zone (Europe/Paris)" in page


def test_the_dashboard_shows_mean_times_as_durations(signed_in):
    page = signed_in("lead").get(DASHBOARD).get_data(as_text=True)
    # October GTI: 2 h 07 min of service on average, 17 h 37 min of wall-clock time.
    assert table(page, "times-by-month").endswith(
        "Oct 2026 4 2 h 7 min 17 h 37 min 3 4 h 40 min 4 h 40 min")
    assert table(page, "times-by-priority").endswith("P3 1 2 h 2 d 16 h 0 — —")


def test_the_dashboard_shows_breaches_per_month_with_waivers_apart(signed_in):
    page = signed_in("lead").get(DASHBOARD).get_data(as_text=True)
    # GTI breaches, waived, earning a credit; then GTR.
    assert table(page, "breaches-by-month").endswith("Oct 2026 2 1 1 0 0 0")


def test_the_dashboard_draws_its_charts_from_data_attributes_without_inline_script(signed_in):
    page = signed_in("lead").get(DASHBOARD).get_data(as_text=True)
    assert len(re.findall(r"<canvas [^>]*data-chart='\{", page)) == 3
    assert re.search(r'<canvas id="chart-compliance"[^>]*aria-label="[^"]+"', page)
    assert "vendor/chartjs/chart.umd.min.js" in page and "js/charts.js" in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)


def test_the_organisation_filter_narrows_every_table(signed_in, books):
    page = signed_in("lead").get(f"{DASHBOARD}&organisation={books.other}").get_data(as_text=True)
    organisations = table(page, "compliance-by-organisation")
    assert "Autre Client SA" in organisations and "Boutique" not in organisations
    assert table(page, "compliance-by-month").endswith("Oct 2026 1 1 1 50.0 % 1 0 0 100.0 %")
    assert f'<option selected value="{books.other}">' in page


def test_the_priority_filter_narrows_every_table(signed_in):
    page = signed_in("lead").get(f"{DASHBOARD}&priority=P3").get_data(as_text=True)
    assert table(page, "compliance-by-priority").endswith(
        "P3 1 0 0 100.0 % 0 0 0 — no clock decided")
    assert "P1" not in table(page, "compliance-by-priority")


@pytest.mark.parametrize(("query", "message"), [
    ("first=2026-13&last=2026-10", "A month looks like 2026-10."),
    ("first=oct&last=2026-10", "A month looks like 2026-10."),
    ("first=&last=2026-10", "A month looks like 2026-10."),
    ("first=2026-10&last=2026-09", "The last month must not come before the first."),
    ("first=2020-01&last=2026-10", "Choose at most 36 months."),
    ("first=2026-09&last=2026-10&organisation=999999", "Choose an organisation from the list."),
    ("first=2026-09&last=2026-10&organisation=abc", "Choose an organisation from the list."),
    ("first=2026-09&last=2026-10&priority=P9", "Choose a priority from the list."),
])
def test_bad_filters_get_a_clear_message_not_an_error(signed_in, query, message):
    browser = signed_in("lead")
    response = browser.get(f"/dashboard?{query}")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page and 'aria-invalid="true"' in page
    assert "<canvas" not in page
    csv_response = browser.get(f"/dashboard/compliance-by-month.csv?{query}")
    assert csv_response.status_code == 400 and message in csv_response.get_data(as_text=True)


SHAPE = "A month looks like 2026-10."
BOUNDS = "The month must lie between 2000-01 and 2099-12."
EDGE_MONTHS = {"0000-01": BOUNDS, "9999-12": BOUNDS, "2026-13": SHAPE, "2026-00": SHAPE,
               "２０２６-１０": SHAPE, "٢٠٢٦-١٠": SHAPE, "2026-1": SHAPE,
               "": SHAPE}


@pytest.mark.parametrize("month", EDGE_MONTHS)
@pytest.mark.parametrize("field", ["first", "last"])
def test_an_edge_month_in_the_filters_gets_a_clear_message_not_an_error(signed_in, field,
                                                                        month):
    browser = signed_in("finance")
    query = {"first": "2026-09", "last": "2026-10", field: month}
    response = browser.get("/dashboard", query_string=query)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert EDGE_MONTHS[month] in page and 'aria-invalid="true"' in page
    csv_response = browser.get("/dashboard/compliance-by-month.csv", query_string=query)
    assert csv_response.status_code == 400
    assert EDGE_MONTHS[month] in csv_response.get_data(as_text=True)


def test_an_unknown_csv_table_is_not_found(signed_in):
    assert signed_in("lead").get("/dashboard/tickets.csv").status_code == 404


def test_every_table_links_to_its_csv_with_the_same_filters(signed_in, books):
    page = signed_in("lead").get(f"{DASHBOARD}&priority=P1").get_data(as_text=True)
    for name in TABLES[:-1]:  # nothing is at risk in this history
        assert (f'href="/dashboard/{name}.csv?first=2026-09&amp;last=2026-10&amp;priority=P1"'
                in page), name


def test_the_compliance_csv_is_machine_friendly(signed_in):
    response = signed_in("finance").get("/dashboard/compliance-by-month.csv?first=2026-09"
                                        "&last=2026-10")
    assert response.content_type == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="compliance-by-month-2026-09-2026-10.csv"')
    assert response.get_data(as_text=True).splitlines()[0] == (
        "month,metric,met,breached,breached_waived,decided,met_percent")
    assert rows(response)[2] == {"month": "2026-10", "metric": "gti", "met": "2",
                                 "breached": "2", "breached_waived": "1", "decided": "4",
                                 "met_percent": "50.0"}


def test_the_organisation_csv_names_organisations_by_code_and_name(signed_in):
    found = rows(signed_in("lead").get("/dashboard/compliance-by-organisation.csv"
                                       "?first=2026-09&last=2026-10"))
    assert [(row["organisation"], row["organisation_name"], row["metric"], row["met_percent"])
            for row in found] == [("other", "Autre Client SA", "gti", "50.0"),
                                  ("other", "Autre Client SA", "gtr", "100.0"),
                                  ("shop", "Boutique Exemple SARL", "gti", "66.7"),
                                  ("shop", "Boutique Exemple SARL", "gtr", "66.7")]


def test_the_times_csv_gives_seconds_and_leaves_missing_means_empty(signed_in):
    found = rows(signed_in("lead").get("/dashboard/times-by-priority.csv"
                                       "?first=2026-09&last=2026-10"))
    assert found[0] == {"priority": "P1", "metric": "gti", "clocks_stopped": "4",
                        "mean_service_seconds": "6300", "mean_wall_clock_seconds": "6300"}
    assert found[-1] == {"priority": "P3", "metric": "gtr", "clocks_stopped": "0",
                         "mean_service_seconds": "", "mean_wall_clock_seconds": ""}


def test_the_breaches_csv_counts_credited_breaches(signed_in):
    found = rows(signed_in("lead").get("/dashboard/breaches-by-month.csv"
                                       "?first=2026-10&last=2026-10"))
    assert found == [
        {"month": "2026-10", "metric": "gti", "breaches": "2", "waived": "1", "credited": "1"},
        {"month": "2026-10", "metric": "gtr", "breaches": "0", "waived": "0", "credited": "0"}]


def test_the_csv_follows_the_filters(signed_in, books):
    found = rows(signed_in("lead").get(f"/dashboard/compliance-by-organisation.csv"
                                       f"?first=2026-09&last=2026-10&organisation={books.shop}"))
    assert {row["organisation"] for row in found} == {"shop"}


@pytest.fixture
def overdue_now(app, books):
    """An open P1 ticket of the shop's, opened three hours ago and swept: its GTI is overdue."""
    with app.app_context():
        client = db.session.scalar(sa.select(User).where(User.email == books.client))
        contract = db.session.scalar(sa.select(Contract).where(Contract.reference == "CT-SHOP"))
        now = now_utc()
        ticket = services.open_ticket(actor=client, contract=contract, priority_code="P1",
                                      title="=HYPERLINK(\"x\")", description="Down.",
                                      now=now - timedelta(hours=3))
        sweep(now)
        db.session.commit()
        return ticket.number


def test_the_dashboard_lists_overdue_tickets_in_words_not_only_colour(signed_in, overdue_now):
    page = signed_in("lead").get("/dashboard").get_data(as_text=True)
    at_risk = table(page, "at-risk")
    assert overdue_now in at_risk and "overdue GTI · by 1 h" in at_risk
    assert f'href="/tickets/{overdue_now}"' in page


def test_the_at_risk_csv_gives_iso_instants_and_neutralises_formulas(signed_in, overdue_now):
    found = rows(signed_in("lead").get("/dashboard/at-risk.csv"))
    assert [(row["ticket"], row["organisation"], row["priority"], row["metric"], row["state"],
             row["title"]) for row in found] == [
        (overdue_now, "shop", "P1", "gti", "breached", "'=HYPERLINK(\"x\")")]
    assert datetime.fromisoformat(found[0]["due_at"]).utcoffset() == timedelta(0)
