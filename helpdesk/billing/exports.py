"""Credit notes as documents: CSV rows for accounting, a PDF for the client, and that PDF with its
Factur-X (EN 16931) data embedded for e-invoicing.

Everything here reads what the note itself carries (its snapshots of seller, client, contract and
lines), never the live contract or organisation, so an export of an issued note is the same
whenever it is made. Only issued notes are documents: a draft is refused, except as a PDF preview
that says in large letters that it is not a credit note.
"""
import csv
import io
import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from lxml import etree
from sqlalchemy.orm import selectinload

from helpdesk.billing.credits import LineKind
from helpdesk.billing.models import CreditNote, CreditNoteLine, CreditNoteStatus
from helpdesk.billing.wording import VAT_EXEMPT_MENTION, percent
from helpdesk.extensions import db
from helpdesk.money import plain, to_cent
from helpdesk.month import Month
from helpdesk.sla.durations import humanize
from helpdesk.spreadsheet import neutralise


def notes_of_month(month: str, *, issued_only: bool = True, batch: int = 200
                   ) -> Iterator[CreditNote]:
    """The month's credit notes with their lines, streamed a batch at a time: issued ones in
    number order, then (unless `issued_only`) drafts in contract order."""
    query = (sa.select(CreditNote).where(CreditNote.month == month)
             .options(selectinload(CreditNote.lines))
             .order_by(CreditNote.status.desc(),  # "issued" before "draft"
                       CreditNote.sequence_year, CreditNote.sequence_number,
                       CreditNote.contract_reference)
             .execution_options(yield_per=batch))
    if issued_only:
        query = query.where(CreditNote.status == CreditNoteStatus.ISSUED)
    return iter(db.session.scalars(query))


def count_of_month(month: str, *, issued_only: bool = True) -> int:
    query = sa.select(sa.func.count()).select_from(CreditNote).where(CreditNote.month == month)
    if issued_only:
        query = query.where(CreditNote.status == CreditNoteStatus.ISSUED)
    return db.session.scalar(query)


def _refuse_draft(note: CreditNote, what: str) -> None:
    if not note.is_issued:
        raise ValueError(
            f"The credit note of {note.contract_reference} for {note.month} is a draft: it has "
            f"no number and is not a credit note, so it cannot be exported as {what}. "
            f"Issue it first.")


def plain_rate(number: Decimal) -> str:
    """A rate without its trailing zeros: 20.000 → `20`, 5.500 → `5.5`, as the CSV, Factur-X
    and the API write it."""
    text = f"{number:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def applied_vat_rate(note: CreditNote) -> Decimal:
    """The rate the credits carry: the contract's, or none when they are outside VAT."""
    return note.vat_rate if note.credits_subject_to_vat else Decimal(0)


def line_vat(note: CreditNote) -> list[Decimal]:
    """The VAT of each line, summing to the note's VAT.

    Each line's VAT is its amount × the rate, rounded half-up to the cent. The note's VAT is the
    rate applied once to its total (which is what the law and the Factur-X rules check), and
    rounding each line separately can drift from it by up to half a cent per line: 3 × 0.05 at
    10 % is 0.01 + 0.01 + 0.01 = 0.03 line by line, but 0.15 × 10 % = 0.02 on the total. So the
    difference goes on the last line, and the VAT column of an export adds up to the note.
    """
    rate = applied_vat_rate(note)
    vats = [to_cent(line.amount * rate / 100) for line in note.lines]
    if vats:
        vats[-1] += note.vat - sum(vats, Decimal("0.00"))
    return vats


# -- CSV -----------------------------------------------------------------------------------------

CSV_HEADER = ("number", "issue_date", "client", "client_vat_number", "contract",
              "contract_title", "period", "invoice", "line", "description", "ticket", "metric",
              "priority", "amount_excl_vat", "vat_rate", "vat", "total")
def csv_rows(note: CreditNote) -> Iterator[list[str]]:
    """One row per line of an issued note, text cells neutralised, amounts plain."""
    _refuse_draft(note, "CSV")
    rate = plain_rate(applied_vat_rate(note))
    for line, vat in zip(note.lines, line_vat(note), strict=True):
        yield [
            neutralise(note.number), note.issue_date.isoformat(),
            neutralise(note.client.get("name")), neutralise(note.client.get("vat_number")),
            neutralise(note.contract_reference), neutralise(note.contract_title), note.month,
            neutralise(note.invoice_number), str(line.position), neutralise(line.description),
            neutralise(line.ticket_number), neutralise(line.metric and str(line.metric)),
            neutralise(line.priority_code), plain(line.amount), rate, plain(vat),
            plain(line.amount + vat),
        ]


def write_csv(notes: Iterable[CreditNote], out: TextIO) -> int:
    """Write the header and one row per line of each note to `out` (a text stream opened with
    `newline=""`, UTF-8); returns the number of notes written."""
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    count = 0
    for note in notes:
        writer.writerows(csv_rows(note))
        count += 1
    return count


def csv_text(notes: Iterable[CreditNote]) -> str:
    """The whole CSV as one string, e.g. for a download (encode it as UTF-8)."""
    out = io.StringIO(newline="")
    write_csv(notes, out)
    return out.getvalue()


# -- PDF -----------------------------------------------------------------------------------------

FONTS = Path(__file__).resolve().parent / "fonts"
FONT = "DejaVuSans"
TITLE = "Credit note / Avoir"
DRAFT_TITLE = "DRAFT — not a credit note"
LINE_HEADINGS = ("#", "Description", "Ticket", "Metric", "Priority", "Due", "Stop", "Delay",
                 "Amount")
LINE_WIDTHS = (6, 52, 17, 12, 15, 20, 20, 17, 21)  # mm, 180 in all: A4 less 15 mm margins
LINE_ALIGN = ("RIGHT", "LEFT", "LEFT", "LEFT", "LEFT", "LEFT", "LEFT", "LEFT", "RIGHT")


def _local(at: datetime | None, timezone: str) -> str:
    return at.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M") if at else ""


def _period(note: CreditNote) -> str:
    return (f"{Month.parse(note.month).label}, from {_local(note.period_start, note.timezone)} "
            f"to {_local(note.period_end, note.timezone)} ({note.timezone})")


class _CreditNotePDF(FPDF):
    def __init__(self, note: CreditNote, *, draft: bool) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4",
                         enforce_compliance="PDFA_3B")
        self.note, self.draft = note, draft
        self.add_font(FONT, "", FONTS / "DejaVuSans.ttf")
        self.add_font(FONT, "B", FONTS / "DejaVuSans-Bold.ttf")
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(True, margin=18)
        name = DRAFT_TITLE if draft else f"Credit note {note.number}"
        self.set_title(name)
        self.set_author(note.seller.get("name") or "")
        self.set_subject(f"{name}: {note.contract_reference}, {Month.parse(note.month).label}")
        self.set_lang("en")
        self.set_creation_date(note.issued_at if note.is_issued else note.closed_at)

    def header(self) -> None:
        if not self.draft:
            return
        with self.local_context(font_family=FONT, font_style="B", font_size_pt=38,
                                text_color=(215, 215, 215)):
            width = self.get_string_width(DRAFT_TITLE)
            with self.rotation(50, x=self.w / 2, y=self.h / 2):
                self.text(self.w / 2 - width / 2, self.h / 2, DRAFT_TITLE)

    def footer(self) -> None:
        self.set_y(-13)
        with self.local_context(font_family=FONT, font_style="", font_size_pt=7,
                                text_color=(90, 90, 90)):
            label = DRAFT_TITLE if self.draft else f"Credit note {self.note.number}"
            self.cell(0, 5, f"{label} — page {self.page_no()}/{{nb}}", align="C")


def _text(pdf: FPDF, text: str, *, size: float = 9, style: str = "", height: float = 4.6,
          width: float = 0) -> None:
    pdf.set_font(FONT, style, size)
    pdf.multi_cell(width, height, text, new_x=XPos.LEFT, new_y=YPos.NEXT, align="L")


def _pair(pdf: FPDF, label: str, value: str) -> None:
    pdf.set_font(FONT, "B", 9)
    pdf.cell(28, 4.6, label)
    pdf.set_font(FONT, "", 9)
    pdf.multi_cell(0, 4.6, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")


def _party(pdf: FPDF, heading: str, party: dict, *, x: float, y: float, width: float) -> float:
    pdf.set_xy(x, y)
    _text(pdf, heading, size=8, style="B", width=width)
    _text(pdf, party.get("name") or "", style="B", width=width)
    for text in (party.get("address"),
                 party.get("company_id") and f"Company ID: {party['company_id']}",
                 party.get("vat_number") and f"VAT number: {party['vat_number']}"):
        if text:
            _text(pdf, text, width=width)
    return pdf.get_y()


def _line_cells(line: CreditNoteLine, timezone: str) -> list[str]:
    stop = ""
    if line.kind == LineKind.BREACH:
        stop = _local(line.stopped_at, timezone) if line.stopped_at else "still running"
    delay = "" if line.delay_seconds is None else humanize(timedelta(seconds=line.delay_seconds))
    return [str(line.position), line.description, line.ticket_number or "",
            str(line.metric).upper() if line.metric else "", line.priority_code or "",
            _local(line.due_at, timezone), stop, delay, plain(line.amount)]


def _totals(pdf: FPDF, note: CreditNote) -> None:
    currency = note.currency
    rows = [("Total excl. VAT", f"{plain(note.total_excl_vat)} {currency}")]
    if note.credits_subject_to_vat:
        rows += [(f"VAT {percent(note.vat_rate)}", f"{plain(note.vat)} {currency}"),
                 ("Total incl. VAT", f"{plain(note.total_incl_vat)} {currency}")]
    else:
        rows += [("Total credited", f"{plain(note.total_excl_vat)} {currency}")]
    for index, (label, value) in enumerate(rows):
        style = "B" if index == len(rows) - 1 else ""
        pdf.set_x(pdf.w - pdf.r_margin - 85)
        pdf.set_font(FONT, style, 10)
        pdf.cell(50, 6, label, border="T" if style else 0)
        pdf.cell(35, 6, value, border="T" if style else 0, align="R",
                 new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def render_pdf(note: CreditNote, *, draft_ok: bool = False) -> bytes:
    """The credit note as an A4 PDF. A draft is not a credit note: it is refused, unless
    `draft_ok` asks for the finance preview, which is titled and watermarked as a draft."""
    draft = not note.is_issued
    if draft and not draft_ok:
        _refuse_draft(note, "a PDF (render_pdf(note, draft_ok=True) previews it as a draft)")
    pdf = _CreditNotePDF(note, draft=draft)
    pdf.add_page()

    top = pdf.get_y()
    _text(pdf, DRAFT_TITLE if draft else TITLE, size=17, style="B", height=8, width=110)
    pdf.set_xy(pdf.w - pdf.r_margin - 70, top)
    number = "none (draft)" if draft else note.number
    issued = "not issued" if draft else note.issue_date.isoformat()
    _text(pdf, f"Number: {number}", style="B", width=70)
    _text(pdf, f"Issue date: {issued}", width=70)
    pdf.set_y(max(pdf.get_y(), top + 10) + 4)

    top = pdf.get_y()
    bottom = max(_party(pdf, "SELLER", note.seller, x=pdf.l_margin, y=top, width=85),
                 _party(pdf, "CLIENT", note.client, x=pdf.l_margin + 95, y=top, width=85))
    pdf.set_xy(pdf.l_margin, bottom + 5)

    _pair(pdf, "Contract", f"{note.contract_reference} — {note.contract_title}")
    _pair(pdf, "Period", _period(note))
    _pair(pdf, "Relates to", note.invoice_reference)
    _pair(pdf, "Currency", note.currency)
    pdf.ln(3)

    _text(pdf, f"Credits (due and stop times in {note.timezone}; amounts in {note.currency} "
               f"excl. VAT)", size=8)
    pdf.set_font(FONT, "", 7.5)
    with pdf.table(col_widths=LINE_WIDTHS, width=sum(LINE_WIDTHS), text_align=LINE_ALIGN,
                   line_height=3.8, padding=1) as table:
        table.row(LINE_HEADINGS)
        for line in note.lines:
            table.row(_line_cells(line, note.timezone))
    pdf.ln(3)

    _totals(pdf, note)
    pdf.ln(4)
    if not note.credits_subject_to_vat:
        _text(pdf, VAT_EXEMPT_MENTION, style="B")
        pdf.ln(2)
    _pair(pdf, "Reason", note.reason)
    if draft:
        pdf.ln(2)
        _text(pdf, "This draft is a preview for finance: it has no number, may still change "
                   "when the month is closed again, and must not be sent to the client.",
              style="B")
    return bytes(pdf.output())


# -- Factur-X ------------------------------------------------------------------------------------

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
NAMESPACES = {"rsm": RSM, "ram": RAM, "udt": UDT, "qdt": QDT}
EN16931 = "urn:cen.eu:en16931:2017"
CREDIT_NOTE_TYPE = "381"  # UNTDID 1001: credit note
NOT_SUBJECT_TO_VAT = "VATEX-EU-O"  # CEF VATEX code for category O
# A VAT number starts with its country's ISO 3166 code, except Greece's (EL) and Northern
# Ireland's (XI). The identities carry no country of their own: a party without a VAT number is
# taken to be in France, where the seller is.
VAT_PREFIX_COUNTRIES = {"EL": "GR", "XI": "GB"}
DEFAULT_COUNTRY = "FR"
# XML 1.0 has no place for most control characters.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _country(party: dict) -> str:
    prefix = (party.get("vat_number") or "").strip()[:2].upper()
    if len(prefix) == 2 and prefix.isascii() and prefix.isalpha():
        return VAT_PREFIX_COUNTRIES.get(prefix, prefix)
    return DEFAULT_COUNTRY


def _add(parent: etree._Element, tag: str, text: str | None = None, **attributes: str
         ) -> etree._Element:
    prefix, name = tag.split(":")
    element = etree.SubElement(parent, f"{{{NAMESPACES[prefix]}}}{name}", attributes)
    if text is not None:
        element.text = _NOT_XML.sub("", text)
    return element


def _date(parent: etree._Element, tag: str, value: date, *, qualified: bool = False) -> None:
    holder = _add(parent, tag)
    _add(holder, "qdt:DateTimeString" if qualified else "udt:DateTimeString",
         value.strftime("%Y%m%d"), format="102")


def _trade_party(parent: etree._Element, tag: str, party: dict, *, with_vat: bool) -> None:
    element = _add(parent, tag)
    _add(element, "ram:Name", party.get("name") or "")
    if party.get("company_id"):
        _add(_add(element, "ram:SpecifiedLegalOrganization"), "ram:ID", party["company_id"])
    address = _add(element, "ram:PostalTradeAddress")
    if party.get("address"):
        _add(address, "ram:LineOne", party["address"])
    _add(address, "ram:CountryID", _country(party))
    if with_vat and party.get("vat_number"):
        _add(_add(element, "ram:SpecifiedTaxRegistration"), "ram:ID", party["vat_number"],
             schemeID="VA")


def _tax_category(note: CreditNote) -> tuple[str, Decimal | None]:
    """The VAT category of the credits and its rate: S (standard) at the contract's rate,
    Z at a zero rate, O (outside the scope of VAT, no rate) for indemnities."""
    if not note.credits_subject_to_vat:
        return "O", None
    return ("S" if note.vat_rate > 0 else "Z"), note.vat_rate


def _line_name(line: CreditNoteLine) -> str:
    if line.kind == LineKind.BREACH:
        return (f"{line.ticket_number}: guaranteed {str(line.metric).upper()} missed "
                f"({line.priority_code})")
    if line.kind == LineKind.AVAILABILITY:
        return "Availability below the contractual target"
    return "Cap on credits"


def _trade_line(transaction: etree._Element, line: CreditNoteLine, category: str,
                rate: Decimal | None) -> None:
    item = _add(transaction, "ram:IncludedSupplyChainTradeLineItem")
    _add(_add(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", str(line.position))
    product = _add(item, "ram:SpecifiedTradeProduct")
    _add(product, "ram:Name", _line_name(line))
    _add(product, "ram:Description", line.description)
    # A price is never negative (BR-27): the cap, a negative line, is one unit taken back.
    agreement = _add(item, "ram:SpecifiedLineTradeAgreement")
    _add(_add(agreement, "ram:NetPriceProductTradePrice"), "ram:ChargeAmount",
         plain(abs(line.amount)))
    _add(_add(item, "ram:SpecifiedLineTradeDelivery"), "ram:BilledQuantity",
         "-1" if line.amount < 0 else "1", unitCode="C62")
    settlement = _add(item, "ram:SpecifiedLineTradeSettlement")
    tax = _add(settlement, "ram:ApplicableTradeTax")
    _add(tax, "ram:TypeCode", "VAT")
    _add(tax, "ram:CategoryCode", category)
    if rate is not None:
        _add(tax, "ram:RateApplicablePercent", plain_rate(rate))
    _add(_add(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation"),
         "ram:LineTotalAmount", plain(line.amount))


def facturx_xml(note: CreditNote) -> bytes:
    """The note as a Cross Industry Invoice of the Factur-X EN 16931 profile, type 381."""
    _refuse_draft(note, "Factur-X")
    category, rate = _tax_category(note)
    root = etree.Element(f"{{{RSM}}}CrossIndustryInvoice", nsmap=NAMESPACES)
    context = _add(root, "rsm:ExchangedDocumentContext")
    _add(_add(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", EN16931)

    document = _add(root, "rsm:ExchangedDocument")
    _add(document, "ram:ID", note.number)
    _add(document, "ram:TypeCode", CREDIT_NOTE_TYPE)
    _date(document, "ram:IssueDateTime", note.issue_date)
    _add(_add(document, "ram:IncludedNote"), "ram:Content", note.reason)

    transaction = _add(root, "rsm:SupplyChainTradeTransaction")
    for line in note.lines:
        _trade_line(transaction, line, category, rate)

    agreement = _add(transaction, "ram:ApplicableHeaderTradeAgreement")
    # Outside the scope of VAT, the rules forbid the parties' VAT numbers (BR-O-02); the PDF
    # still prints them.
    with_vat = category != "O"
    _trade_party(agreement, "ram:SellerTradeParty", note.seller, with_vat=with_vat)
    _trade_party(agreement, "ram:BuyerTradeParty", note.client, with_vat=with_vat)
    _add(_add(agreement, "ram:ContractReferencedDocument"), "ram:IssuerAssignedID",
         note.contract_reference)
    _add(transaction, "ram:ApplicableHeaderTradeDelivery")

    settlement = _add(transaction, "ram:ApplicableHeaderTradeSettlement")
    _add(settlement, "ram:InvoiceCurrencyCode", note.currency)
    tax = _add(settlement, "ram:ApplicableTradeTax")
    _add(tax, "ram:CalculatedAmount", plain(note.vat))
    _add(tax, "ram:TypeCode", "VAT")
    if category == "O":
        _add(tax, "ram:ExemptionReason", VAT_EXEMPT_MENTION)
    _add(tax, "ram:BasisAmount", plain(note.total_excl_vat))
    _add(tax, "ram:CategoryCode", category)
    if category == "O":
        _add(tax, "ram:ExemptionReasonCode", NOT_SUBJECT_TO_VAT)
    if rate is not None:
        _add(tax, "ram:RateApplicablePercent", plain_rate(rate))
    period = _add(settlement, "ram:BillingSpecifiedPeriod")
    zone = ZoneInfo(note.timezone)
    _date(period, "ram:StartDateTime", note.period_start.astimezone(zone))
    # The period ends at midnight, excluded: its last day is the day before.
    _date(period, "ram:EndDateTime", (note.period_end - timedelta(microseconds=1)).astimezone(zone))
    totals = _add(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    _add(totals, "ram:LineTotalAmount", plain(note.total_excl_vat))
    _add(totals, "ram:TaxBasisTotalAmount", plain(note.total_excl_vat))
    _add(totals, "ram:TaxTotalAmount", plain(note.vat), currencyID=note.currency)
    _add(totals, "ram:GrandTotalAmount", plain(note.total_incl_vat))
    _add(totals, "ram:DuePayableAmount", plain(note.total_incl_vat))
    if note.invoice_number:
        invoice = _add(settlement, "ram:InvoiceReferencedDocument")
        _add(invoice, "ram:IssuerAssignedID", note.invoice_number)
        if note.invoice_date:
            _date(invoice, "ram:FormattedIssueDateTime", note.invoice_date, qualified=True)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def render_facturx(note: CreditNote) -> bytes:
    """The PDF of `render_pdf` with the note's Factur-X XML embedded (checked against the
    EN 16931 XSD by the facturx package before it is embedded)."""
    from facturx import generate_from_binary  # imports requests and pypdf: only when needed

    xml = facturx_xml(note)
    seller = note.seller.get("name") or ""
    return generate_from_binary(
        render_pdf(note), xml, flavor="factur-x", level="en16931", check_xsd=True,
        pdf_metadata={"author": seller, "keywords": "Factur-X, credit note",
                      "title": f"{seller}: credit note {note.number}",
                      "subject": f"Credit note {note.number} of {note.issue_date} issued by "
                                 f"{seller} under contract {note.contract_reference}"},
        lang="en")
