"""Exports of issued credit notes: CSV for accounting, PDF for the client, PDF with Factur-X data.

The worked example's note (DESIGN §3.4): three breaches of 100.00, 60.00 and 100.00, an
availability credit of 100.00 and a cap of -60.00: 300.00 excl. VAT, 60.00 VAT at 20 %.
"""
import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from facturx import get_xml_from_pdf
from lxml import etree
from pypdf import PdfReader

from helpdesk.billing.credits import LineKind
from helpdesk.billing.exports import (
    CSV_HEADER,
    DRAFT_TITLE,
    csv_text,
    facturx_xml,
    line_vat,
    render_facturx,
    render_pdf,
    write_csv,
)
from helpdesk.billing.models import CreditNote, CreditNoteLine, CreditNoteStatus
from helpdesk.billing.services import InvoiceReference, close_month, issue_month
from helpdesk.billing.wording import VAT_EXEMPT_MENTION
from helpdesk.contracts.models import Contract
from helpdesk.extensions import db
from tests.billing.conftest import paris, settings, worked_example

AFTER_OCTOBER = paris(2026, 11, 1, 0, 0)
ISSUE_DAY = paris(2026, 11, 3, 10, 0)
INVOICE = InvoiceReference("F-2026-0042", date(2026, 10, 31))
AMOUNTS = ["100.00", "60.00", "100.00", "100.00", "-60.00"]
NS = {"rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
      "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
      "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"}


def note_of(reference: str = "CT-SHOP") -> CreditNote:
    return db.session.scalar(sa.select(CreditNote).join(Contract).where(
        Contract.reference == reference, CreditNote.month == "2026-10"))


def close_and_issue(ledger, *, subject_to_vat: bool = True, issue: bool = True) -> CreditNote:
    worked_example(ledger)
    if not subject_to_vat:
        db.session.merge(ledger["contract"]).current_version.credits_subject_to_vat = False
        db.session.commit()
    close_month("2026-10", seller=settings().seller, at=AFTER_OCTOBER, invoice=INVOICE)
    if issue:
        issue_month("2026-10", settings=settings(), actor=None, now=ISSUE_DAY)
    return note_of()


@pytest.fixture
def issued(ledger) -> CreditNote:
    return close_and_issue(ledger)


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def pdf_text(data: bytes) -> str:
    """The text of every page, white space collapsed (table cells wrap their text)."""
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def transient_note(*, amounts=("10.00",), rate="20", subject=True, **fields) -> CreditNote:
    """An issued note built in memory, for the cells a closing never produces."""
    lines = [CreditNoteLine(position=n, kind=LineKind.BREACH, amount=Decimal(amount),
                            description=fields.pop(f"description_{n}", f"Line {n}"),
                            ticket_number=f"T-{n:06d}", metric="gti", priority_code="P1")
             for n, amount in enumerate(amounts, start=1)]
    total = sum((line.amount for line in lines), Decimal("0.00"))
    vat = (total * Decimal(rate) / 100).quantize(Decimal("0.01")) if subject else Decimal("0.00")
    values = dict(
        status=CreditNoteStatus.ISSUED, number="AV-2026-0009", issue_date=date(2026, 11, 3),
        month="2026-10", contract_reference="CT-X", contract_title="Maintenance",
        client={"name": "Client SA", "vat_number": "FR001"}, invoice_number=None,
        vat_rate=Decimal(rate), credits_subject_to_vat=subject, total_excl_vat=total, vat=vat,
        total_incl_vat=total + vat, lines=lines)
    values.update(fields)
    return CreditNote(**values)


# -- CSV -----------------------------------------------------------------------------------------


def test_csv_has_the_header_and_one_row_per_line(issued):
    text = csv_text([issued])
    assert text.splitlines()[0].split(",") == list(CSV_HEADER)
    rows = rows_of(text)
    assert [row["line"] for row in rows] == ["1", "2", "3", "4", "5"]
    first = rows[0]
    assert {key: first[key] for key in ("number", "issue_date", "client", "client_vat_number",
                                        "contract", "contract_title", "period", "invoice",
                                        "ticket", "metric", "priority")} == {
        "number": "AV-2026-0001", "issue_date": "2026-11-03", "client": "Boutique Exemple SARL",
        "client_vat_number": "FR00123456789", "contract": "CT-SHOP",
        "contract_title": "Maintenance", "period": "2026-10", "invoice": "F-2026-0042",
        "ticket": "T-000001", "metric": "gti", "priority": "P1"}
    assert first["description"] == issued.lines[0].description


def test_csv_amounts_are_plain_numbers_even_when_negative(issued):
    rows = rows_of(csv_text([issued]))
    assert [row["amount_excl_vat"] for row in rows] == AMOUNTS
    cap = rows[-1]
    assert (cap["amount_excl_vat"], cap["vat_rate"], cap["vat"], cap["total"]) == (
        "-60.00", "20", "-12.00", "-72.00")
    assert "'-" not in csv_text([issued])


def test_csv_vat_column_sums_to_the_notes_vat(issued):
    rows = rows_of(csv_text([issued]))
    assert sum(Decimal(row["vat"]) for row in rows) == issued.vat == Decimal("60.00")
    assert sum(Decimal(row["total"]) for row in rows) == issued.total_incl_vat


def test_csv_puts_the_rounding_difference_of_the_vat_on_the_last_line():
    # 3 × 0.05 at 10 %: 0.01 each line by line, but 0.15 × 10 % = 0.015 → 0.02 on the total.
    note = transient_note(amounts=("0.05", "0.05", "0.05"), rate="10")
    assert note.vat == Decimal("0.02")
    assert line_vat(note) == [Decimal("0.01"), Decimal("0.01"), Decimal("0.00")]
    rows = rows_of(csv_text([note]))
    assert [row["vat"] for row in rows] == ["0.01", "0.01", "0.00"]
    assert [row["total"] for row in rows] == ["0.06", "0.06", "0.05"]


def test_csv_has_no_vat_when_credits_are_outside_its_scope(ledger):
    note = close_and_issue(ledger, subject_to_vat=False)
    rows = rows_of(csv_text([note]))
    assert {(row["vat_rate"], row["vat"]) for row in rows} == {("0", "0.00")}
    assert [row["total"] for row in rows] == AMOUNTS


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
@pytest.mark.parametrize("field", ["client", "contract_title", "description"])
def test_csv_neutralises_text_that_a_spreadsheet_would_run(start, field):
    hostile = f"{start}HYPERLINK(\"http://evil.example\",\"x\")"
    note = transient_note(amounts=("-5.00",), client={"name": hostile, "vat_number": "FR001"},
                          contract_title=hostile, description_1=hostile)
    [row] = rows_of(csv_text([note]))
    assert row[field] == "'" + hostile
    assert (row["amount_excl_vat"], row["vat"], row["total"]) == ("-5.00", "-1.00", "-6.00")


def test_csv_keeps_accents_and_symbols_in_utf8(tmp_path):
    note = transient_note(client={"name": "Société Générale d'Électricité — Zürich ×2 €",
                                  "vat_number": "FR001"})
    path = tmp_path / "credit-notes.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        assert write_csv([note], out) == 1
    raw = path.read_bytes()
    assert "Société Générale d'Électricité — Zürich ×2 €".encode() in raw
    assert rows_of(raw.decode("utf-8"))[0]["client"] == "Société Générale d'Électricité — Zürich ×2 €"


def test_csv_of_nothing_is_the_header_alone():
    assert rows_of(csv_text([])) == []
    assert csv_text([]).strip() == ",".join(CSV_HEADER)


def test_csv_refuses_a_draft(ledger):
    draft = close_and_issue(ledger, issue=False)
    with pytest.raises(ValueError, match="is a draft"):
        csv_text([draft])


# -- PDF -----------------------------------------------------------------------------------------


def test_pdf_shows_every_mandatory_mention(issued):
    text = pdf_text(render_pdf(issued))
    seller = issued.seller
    for mention in ("Credit note", "Avoir", "AV-2026-0001", "Issue date: 2026-11-03",
                    seller["name"], seller["address"], seller["company_id"],
                    seller["vat_number"],
                    "Boutique Exemple SARL", "1 rue Exemple, 49300 Cholet", "123456789",
                    "FR00123456789",
                    "CT-SHOP — Maintenance",
                    "October 2026, from 2026-10-01 00:00 to 2026-11-01 00:00 (Europe/Paris)",
                    "invoice F-2026-0042 of 2026-10-31",
                    "Total excl. VAT 300.00 EUR", "VAT 20 % 60.00 EUR",
                    "Total incl. VAT 360.00 EUR", issued.reason):
        assert mention in text, mention
    assert "DRAFT" not in text and VAT_EXEMPT_MENTION not in text


def test_pdf_lists_each_line_with_its_ticket_times_delay_and_amount(issued):
    text = pdf_text(render_pdf(issued))
    for amount in AMOUNTS:
        assert f" {amount} " in f" {text} ", amount
    # The GTR line: due 16:00, stopped 18:30 in Paris, 2 h 30 min late.
    assert "T-000001 GTR P1 2026-10-05 16:00 2026-10-05 18:30 2 h 30 min 60.00" in text
    # Non-Latin-1 characters survive: the font is embedded, not a core font.
    assert "2 % of the fee × 3 started hours" in text
    assert "Cap: credits limited to 300.00" in text


def test_pdf_says_the_credits_are_outside_vat_and_shows_no_vat_amount(ledger):
    note = close_and_issue(ledger, subject_to_vat=False)
    text = pdf_text(render_pdf(note))
    assert VAT_EXEMPT_MENTION in text
    assert "Total excl. VAT 300.00 EUR" in text and "Total credited 300.00 EUR" in text
    assert "VAT 20 %" not in text and "incl. VAT" not in text


def test_pdf_relates_to_the_period_invoice_when_finance_gave_no_number(ledger):
    worked_example(ledger)
    close_month("2026-10", seller=settings().seller, at=AFTER_OCTOBER)
    issue_month("2026-10", settings=settings(), actor=None, now=ISSUE_DAY)
    assert "Relates to the invoice of 2026-10 under contract CT-SHOP" in pdf_text(
        render_pdf(note_of()))


def test_pdf_of_a_draft_is_refused_as_a_credit_note(ledger):
    draft = close_and_issue(ledger, issue=False)
    with pytest.raises(ValueError, match="is a draft"):
        render_pdf(draft)


def test_pdf_of_a_draft_is_a_preview_marked_as_a_draft(ledger):
    draft = close_and_issue(ledger, issue=False)
    text = pdf_text(render_pdf(draft, draft_ok=True))
    assert text.count(DRAFT_TITLE) >= 2  # the title and the watermark
    assert "Credit note / Avoir" not in text and "AV-20" not in text
    assert "Number: none (draft)" in text


def test_pdf_is_pdf_a_3b_created_at_the_issue_instant_not_the_rendering_time(issued):
    reader = PdfReader(io.BytesIO(render_pdf(issued)))
    xmp = reader.xmp_metadata
    assert xmp.dc_title == {"x-default": "Credit note AV-2026-0001"}
    assert xmp.xmp_create_date.replace(tzinfo=UTC) == ISSUE_DAY
    packet = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert "<pdfaid:part>3</pdfaid:part>" in packet
    assert "<pdfaid:conformance>B</pdfaid:conformance>" in packet
    assert "/OutputIntents" in reader.trailer["/Root"]


def test_pdf_runs_over_several_pages_with_many_lines():
    amounts = [f"{n}.00" for n in range(1, 61)]
    note = transient_note(amounts=amounts, period_start=datetime(2026, 9, 30, 22, tzinfo=UTC),
                          period_end=datetime(2026, 10, 31, 23, tzinfo=UTC),
                          timezone="Europe/Paris", currency="EUR", seller={"name": "Seller"},
                          reason="Because.", issued_at=ISSUE_DAY)
    reader = PdfReader(io.BytesIO(render_pdf(note)))
    assert len(reader.pages) >= 2
    text = pdf_text(render_pdf(note))
    assert "60.00" in text and "page 2/" in text


# -- Factur-X ------------------------------------------------------------------------------------


def embedded(data: bytes) -> etree._Element:
    name, xml = get_xml_from_pdf(data, check_xsd=True)
    assert name == "factur-x.xml"
    return etree.fromstring(xml)


def one(root: etree._Element, path: str) -> str:
    [value] = root.xpath(path, namespaces=NS)
    return value.text if hasattr(value, "text") else str(value)


def test_facturx_round_trip_reads_a_credit_note_with_its_totals(issued):
    data = render_facturx(issued)
    root = embedded(data)
    totals = "//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:"
    assert one(root, "//rsm:ExchangedDocument/ram:TypeCode") == "381"
    assert one(root, "//rsm:ExchangedDocument/ram:ID") == "AV-2026-0001"
    assert one(root, "//ram:IssueDateTime/udt:DateTimeString") == "20261103"
    assert one(root, totals + "TaxBasisTotalAmount") == "300.00"
    assert one(root, totals + "TaxTotalAmount") == "60.00"
    assert one(root, totals + "GrandTotalAmount") == "360.00"
    assert one(root, totals + "DuePayableAmount") == "360.00"
    assert one(root, "//ram:InvoiceCurrencyCode") == "EUR"
    # The PDF itself is still the credit note for people.
    assert "AV-2026-0001" in pdf_text(data)


def test_facturx_names_the_parties_the_contract_and_the_invoice(issued):
    root = etree.fromstring(facturx_xml(issued))
    seller, buyer = "//ram:SellerTradeParty/", "//ram:BuyerTradeParty/"
    assert one(root, seller + "ram:Name") == issued.seller["name"]
    assert one(root, seller + "ram:SpecifiedTaxRegistration/ram:ID") == "FR00900000000"
    assert one(root, buyer + "ram:Name") == "Boutique Exemple SARL"
    assert one(root, buyer + "ram:SpecifiedTaxRegistration/ram:ID") == "FR00123456789"
    assert one(root, buyer + "ram:PostalTradeAddress/ram:CountryID") == "FR"
    assert one(root, "//ram:ContractReferencedDocument/ram:IssuerAssignedID") == "CT-SHOP"
    assert one(root, "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == "F-2026-0042"
    assert one(root, "//ram:BillingSpecifiedPeriod/ram:StartDateTime/udt:DateTimeString") == \
        "20261001"
    assert one(root, "//ram:BillingSpecifiedPeriod/ram:EndDateTime/udt:DateTimeString") == \
        "20261031"


def test_facturx_lines_add_up_with_the_cap_as_a_unit_taken_back(issued):
    root = etree.fromstring(facturx_xml(issued))
    lines = root.xpath("//ram:IncludedSupplyChainTradeLineItem", namespaces=NS)
    assert [one(line, ".//ram:LineTotalAmount") for line in lines] == AMOUNTS
    cap = lines[-1]
    assert (one(cap, ".//ram:ChargeAmount"), one(cap, ".//ram:BilledQuantity")) == ("60.00", "-1")
    assert {one(line, ".//ram:CategoryCode") for line in lines} == {"S"}
    assert {one(line, ".//ram:RateApplicablePercent") for line in lines} == {"20"}
    breakdown = "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:"
    assert (one(root, breakdown + "CategoryCode"), one(root, breakdown + "RateApplicablePercent"),
            one(root, breakdown + "BasisAmount"), one(root, breakdown + "CalculatedAmount")) == (
        "S", "20", "300.00", "60.00")


def test_facturx_outside_vat_is_category_o_with_its_reason_and_no_vat_numbers(ledger):
    note = close_and_issue(ledger, subject_to_vat=False)
    root = embedded(render_facturx(note))
    breakdown = "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:"
    assert one(root, breakdown + "CategoryCode") == "O"
    assert one(root, breakdown + "ExemptionReasonCode") == "VATEX-EU-O"
    assert one(root, breakdown + "ExemptionReason") == VAT_EXEMPT_MENTION
    assert one(root, breakdown + "CalculatedAmount") == "0.00"
    assert not root.xpath("//ram:RateApplicablePercent", namespaces=NS)
    # BR-O-02: no VAT identifier of either party under category O.
    assert not root.xpath("//ram:SpecifiedTaxRegistration", namespaces=NS)
    totals = "//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:"
    assert one(root, totals + "GrandTotalAmount") == "300.00"


def test_facturx_of_a_draft_is_refused(ledger):
    draft = close_and_issue(ledger, issue=False)
    with pytest.raises(ValueError, match="is a draft"):
        render_facturx(draft)
