"""One amount, one cent: the page, the API, the CSV and the PDF of a credit note agree.

The worked example on a fee of 1,000.75 instead of 1,000.00: its GTR breach, 3 started hours
at 2 % of the fee, is 60.045, and its cap, 30 % of the fee, is 300.225. Half-up (DESIGN §3.4)
gives 60.05 and 300.23 where half-even (Python's `:.2f`, Babel) would give 60.04 and 300.22.
"""
import csv
import io
import re
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from pypdf import PdfReader

from helpdesk.api.serializers import credit_note_json
from helpdesk.billing.exports import csv_text, facturx_xml, render_pdf
from helpdesk.billing.models import CreditNote
from helpdesk.billing.services import close_month, issue_month
from helpdesk.contracts.models import Metric
from helpdesk.extensions import db
from helpdesk.formatting import money
from tests.api.helpers import api_token, bearer
from tests.billing.conftest import settings, worked_example
from tests.billing.test_exports import transient_note
from tests.billing.test_pages import AFTER_OCTOBER, OCTOBER, Browser, outside, text

FEE = Decimal("1000.75")
FINANCE = "finance@provider.example"


def amount_cells(page: str) -> list[str]:
    """The amounts of the note's table on its page, as plain decimals: "€1,000.75" → "1000.75"."""
    cells = re.findall(r'<td class="amount">(.*?)</td>', page, re.S)
    return [re.sub(r"[^\d.\-]", "", text(cell).replace("\N{MINUS SIGN}", "-")) for cell in cells]


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


@pytest.fixture
def note_id(ledger, clock) -> int:
    """CT-SHOP's October note, issued and committed."""
    clock.freeze(AFTER_OCTOBER)
    db.session.merge(ledger["contract"]).current_version.monthly_fee = FEE
    worked_example(ledger)
    close_month(OCTOBER, seller=settings().seller, at=AFTER_OCTOBER)
    issue_month(OCTOBER, settings=settings(), actor=None, now=AFTER_OCTOBER)
    note_id = db.session.scalar(sa.select(CreditNote.id).where(
        CreditNote.contract_reference == "CT-SHOP", CreditNote.month == OCTOBER))
    db.session.commit()  # ends the transaction, so that requests may write (SQLite)
    return note_id


def test_the_page_the_api_the_csv_and_the_pdf_agree_to_the_cent(app, client, note_id):
    browser = Browser(app, client).sign_in(FINANCE)
    page = browser.get(f"/billing/credit-notes/{note_id}").get_data(as_text=True)
    pdf = browser.get(f"/billing/credit-notes/{note_id}.pdf").data
    rows = list(csv.DictReader(io.StringIO(
        browser.get(f"/billing/{OCTOBER}/credit-notes.csv").get_data(as_text=True),
        newline="")))
    token = outside(api_token, app, FINANCE)
    body = outside(client.get, "/api/v1/credit-notes", query_string={"month": OCTOBER},
                   headers=bearer(token)).get_json()
    (api,) = [note for note in body["credit_notes"] if note["contract"] == "CT-SHOP"]

    lines = [line["amount"] for line in api["lines"]]
    totals = [api["total_excl_vat"], api["vat"], api["total_incl_vat"]]
    assert lines == ["100.00", "60.05", "100.00", "100.08", "-59.90"]  # 60.045 half-up
    assert totals == ["300.23", "60.05", "360.28"]  # the cap, 300.225 half-up
    assert [row["amount_excl_vat"] for row in rows if row["contract"] == "CT-SHOP"] == lines
    assert amount_cells(page) == lines + totals
    document = pdf_text(pdf)
    for amount in lines + totals:
        assert amount in document


@pytest.mark.parametrize("amount", ["20.005", "0.125", "-60.045", "1000.625"])
def test_an_amount_with_a_half_cent_is_written_the_same_by_every_output(app, amount):
    """A note's amounts are cents once stored; an amount that is not (a note built in memory)
    still comes out of every output rounded by the one rule."""
    note = transient_note(amounts=(amount,), rate="0", period_start=AFTER_OCTOBER,
                          period_end=AFTER_OCTOBER, timezone="Europe/Paris", currency="EUR",
                          seller={"name": "Seller"}, reason="Because.", issued_at=AFTER_OCTOBER)
    note.lines[0].metric = Metric.GTI
    expected = {"20.005": "20.01", "0.125": "0.13", "-60.045": "-60.05",
                "1000.625": "1000.63"}[amount]
    with app.test_request_context(), force_locale("en"):
        assert credit_note_json(note)["lines"][0]["amount"] == expected
        assert credit_note_json(note)["total_excl_vat"] == expected
        assert money(note.lines[0].amount).replace(",", "") == expected
        assert money(note.lines[0].amount, "EUR").replace(",", "").replace("€", "") == expected
        with force_locale("fr"):
            assert money(note.lines[0].amount).replace("\N{NARROW NO-BREAK SPACE}", "") \
                .replace(",", ".") == expected
    row = next(csv.DictReader(io.StringIO(csv_text([note]), newline="")))
    assert row["amount_excl_vat"] == expected
    assert expected in pdf_text(render_pdf(note))
    assert f">{expected}<" in facturx_xml(note).decode()
