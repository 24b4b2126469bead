"""GET /api/v1/credit-notes?month=YYYY-MM: finance's list of a month's credit notes.

October 2026: a P1 ticket on each contract is never taken, so each misses its GTI (100.00) and
its GTR (not priced by these contracts). CT-SHOP's note is issued, CT-OTHER's left a draft.
"""
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from helpdesk.billing.models import CreditNote
from helpdesk.billing.services import InvoiceReference, close_month, issue_credit_note
from helpdesk.escalation.jobs import run_sweep
from helpdesk.extensions import db
from tests.api.helpers import assert_problem, bearer, open_ticket
from tests.billing.conftest import settings

OPENED = datetime(2026, 10, 5, 6, 0, tzinfo=UTC)  # 08:00 in Paris
AFTER_OCTOBER = datetime(2026, 10, 31, 23, 0, tzinfo=UTC)  # midnight in Paris
ISSUED = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def october(app, world):
    shop = open_ticket(app, requester=world.client, now=OPENED)
    open_ticket(app, requester=world.other_client, contract="CT-OTHER", now=OPENED)
    run_sweep(app, now=AFTER_OCTOBER, name="test")
    with app.app_context():
        close_month("2026-10", seller=settings().seller, at=AFTER_OCTOBER,
                    contract_reference="CT-SHOP",
                    invoice=InvoiceReference("F-2026-0042", date(2026, 10, 31)))
        close_month("2026-10", seller=settings().seller, at=AFTER_OCTOBER,
                    contract_reference="CT-OTHER")
        note = db.session.scalar(sa.select(CreditNote).where(
            CreditNote.contract_reference == "CT-SHOP"))
        issue_credit_note(note.id, settings=settings(), actor=None, now=ISSUED)
        db.session.commit()
    return shop


def get_month(client, token, month):
    query = {} if month is None else {"month": month}
    return client.get("/api/v1/credit-notes", query_string=query, headers=bearer(token))


def floats_in(value) -> list:
    if isinstance(value, float):
        return [value]
    if isinstance(value, dict):
        return [f for item in value.values() for f in floats_in(item)]
    if isinstance(value, list):
        return [f for item in value for f in floats_in(item)]
    return []


@pytest.mark.parametrize("person", ["finance", "admin"])
def test_finance_and_admin_get_the_months_notes_issued_and_drafts(client, tokens, october,
                                                                  person):
    response = get_month(client, getattr(tokens, person), "2026-10")
    assert response.status_code == 200
    body = response.get_json()
    assert body["month"] == "2026-10"
    assert [(n["contract"], n["status"], n["number"]) for n in body["credit_notes"]] == [
        ("CT-SHOP", "issued", "AV-2026-0001"), ("CT-OTHER", "draft", None)]


def test_an_issued_note_carries_its_number_invoice_and_totals_as_strings(client, tokens,
                                                                         october):
    body = get_month(client, tokens.finance, "2026-10").get_json()
    note = body["credit_notes"][0]
    assert {key: note[key] for key in (
        "number", "status", "issue_date", "issued_at", "month", "period_start", "period_end",
        "timezone", "contract", "currency", "vat_rate", "credits_subject_to_vat",
        "total_excl_vat", "vat", "total_incl_vat", "invoice_number", "invoice_date",
        "invoice_reference")} == {
        "number": "AV-2026-0001", "status": "issued", "issue_date": "2026-11-03",
        "issued_at": "2026-11-03T09:00:00Z", "month": "2026-10",
        "period_start": "2026-09-30T22:00:00Z", "period_end": "2026-10-31T23:00:00Z",
        "timezone": "Europe/Paris", "contract": "CT-SHOP", "currency": "EUR", "vat_rate": "20",
        "credits_subject_to_vat": True, "total_excl_vat": "100.00", "vat": "20.00",
        "total_incl_vat": "120.00", "invoice_number": "F-2026-0042",
        "invoice_date": "2026-10-31", "invoice_reference": "invoice F-2026-0042 of 2026-10-31"}
    assert note["client"]["name"] == "Boutique Exemple SARL"
    assert note["seller"]["name"] and "CT-SHOP" in note["reason"]


def test_each_note_lists_its_lines_with_amounts_as_strings(client, tokens, october):
    body = get_month(client, tokens.finance, "2026-10").get_json()
    lines = body["credit_notes"][0]["lines"]
    assert [(line["position"], line["kind"], line["ticket"], line["metric"], line["priority"],
             line["amount"]) for line in lines] == [
        (1, "breach", october, "gti", "P1", "100.00"),
        (2, "breach", october, "gtr", "P1", "0.00")]
    gti = lines[0]
    assert (gti["due_at"], gti["stopped_at"], gti["counted_until"]) == (
        "2026-10-05T08:00:00Z", None, "2026-10-31T23:00:00Z")
    assert gti["delay_seconds"] == int((AFTER_OCTOBER - datetime(
        2026, 10, 5, 8, 0, tzinfo=UTC)).total_seconds())
    assert gti["description"].startswith(f"{october} — P1 guaranteed time to intervene")


def test_no_amount_is_ever_a_json_number(client, tokens, october):
    body = get_month(client, tokens.finance, "2026-10").get_json()
    assert floats_in(body) == []
    draft = body["credit_notes"][1]
    assert (draft["total_excl_vat"], draft["vat"], draft["total_incl_vat"]) == (
        "100.00", "20.00", "120.00")


def test_a_month_without_notes_is_an_empty_list(client, tokens, october):
    response = get_month(client, tokens.finance, "2026-11")
    assert response.get_json() == {"month": "2026-11", "credit_notes": []}


@pytest.mark.parametrize("month", [None, "", "2026-13", "2026-1", "2026-11-01", "2026-11\n",
                                   "november"])
def test_missing_or_bad_month_is_a_400_problem(client, tokens, month):
    body = assert_problem(get_month(client, tokens.finance, month), 400)
    assert "month" in body["detail"]


@pytest.mark.parametrize("person", ["client", "other_client", "tech", "lead"])
def test_other_roles_get_404_so_the_route_is_not_probed(client, tokens, october, person):
    assert_problem(get_month(client, getattr(tokens, person), "2026-10"), 404)


def test_without_a_token_the_answer_is_401(client):
    assert_problem(client.get("/api/v1/credit-notes?month=2026-10"), 401)
