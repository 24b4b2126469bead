"""The client's monthly SLA report: per-priority figures, its chart and its CSV, and nothing of
another organisation's."""
import csv
import html
import io
import json
import re

import pytest

OCTOBER = "/billing/my/report?month=2026-10"
OCTOBER_CSV = "/billing/my/report.csv?month=2026-10"


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def scores(page: str) -> str:
    return text(re.search(r'<table class="kpi priority-scores">(.*?)</table>', page, re.S)[1])


def test_the_report_gives_met_and_breached_per_priority_and_metric(signed_in):
    page = signed_in("client").get(OCTOBER).get_data(as_text=True)
    # T-2 missed its GTI; the cancelled ticket's breach counts for nothing.
    assert scores(page).endswith("P1 GTI 1 1 0 50.0 % P1 GTR 2 0 0 100.0 % P3 GTI 0 0 0 —"
                                 " nothing due")
    assert "GTI met 50.0 % 50.0 % — 1 met, 1 breached, of 2 due" in text(page)


def test_the_report_counts_waived_breaches_apart(signed_in):
    page = signed_in("other_client").get(OCTOBER).get_data(as_text=True)
    assert "P1 GTI 0 1 1 0.0 %" in scores(page)
    assert "waived: Client network down" in text(page)


def test_the_report_draws_a_chart_of_met_and_breached_per_priority(signed_in):
    page = signed_in("client").get(OCTOBER).get_data(as_text=True)
    chart = re.search(r"<canvas id=\"chart-contract-1\" data-chart='([^']+)'", page)[1]
    assert json.loads(html.unescape(chart)) == {
        "type": "bar", "stacked": True, "integer": True,
        "labels": ["P1 · GTI", "P1 · GTR", "P3 · GTI"],
        "datasets": [{"label": "Met", "data": [1, 2, 0]},
                     {"label": "Breached", "data": [1, 0, 0]}]}
    assert re.search(r'<canvas id="chart-contract-1"[^>]*role="img" aria-label="[^"]*CT-SHOP',
                     page)
    assert "js/charts.js" in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)


def test_the_report_links_to_its_csv(signed_in):
    page = signed_in("client").get(OCTOBER).get_data(as_text=True)
    assert 'href="/billing/my/report.csv?month=2026-10"' in page


def test_the_report_csv_has_one_row_per_contract_metric_and_priority(signed_in):
    response = signed_in("client").get(OCTOBER_CSV)
    assert response.content_type == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="sla-report-2026-10.csv"')
    found = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(row["contract"], row["metric"], row["priority"], row["met"], row["breached"],
             row["breached_waived"], row["met_percent"]) for row in found] == [
        ("CT-SHOP", "gti", "P1", "1", "1", "0", "50.0"),
        ("CT-SHOP", "gtr", "P1", "2", "0", "0", "100.0"),
        ("CT-SHOP", "gti", "P3", "0", "0", "0", "")]
    assert {(row["month"], row["availability_percent"], row["availability_target_percent"],
             row["downtime_seconds"], row["credited_excl_vat"]) for row in found} == {
        ("2026-10", "100", "99.900", "0", "")}


def test_the_report_csv_of_another_organisation_holds_only_its_contracts(signed_in):
    found = signed_in("other_client").get(OCTOBER_CSV).get_data(as_text=True)
    assert "CT-OTHER" in found and "CT-SHOP" not in found
    assert "gti,P1,0,1,1,0.0" in found


@pytest.mark.parametrize("month", ["", "oct", "2026-13", "2026-10-01"])
def test_the_report_csv_refuses_a_bad_month(signed_in, month):
    response = signed_in("client").get(f"/billing/my/report.csv?month={month}")
    assert response.status_code == 400
    assert "The month must look like 2026-10." in response.get_data(as_text=True)


@pytest.mark.parametrize("person", ["tech", "lead", "finance", "admin"])
def test_only_clients_have_a_report_csv(signed_in, person):
    assert signed_in(person).get(OCTOBER_CSV).status_code == 404
