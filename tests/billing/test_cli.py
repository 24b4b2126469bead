"""`flask billing close | issue | export`: what finance runs at the start of each month.

Set up in one app context, run the command outside any, look at the database in a new one.
"""
import csv
import io
from datetime import date

import pytest
import sqlalchemy as sa
from facturx import get_xml_from_pdf
from lxml import etree
from pypdf import PdfReader

from helpdesk.audit.models import AuditEntry
from helpdesk.billing.models import CreditNote, CreditNoteCounter, CreditNoteLine
from helpdesk.extensions import db
from helpdesk.tickets import services
from tests import factories
from tests.billing.conftest import paris, sweep

AFTER_OCTOBER = "2026-11-01T00:00:00+01:00"
ISSUE_AT = "2026-11-03T10:00:00+01:00"
PRIORITIES = [("P1", "Critique", "24x7", 2, 8)]


def contracts(count: int, *, breached: bool = True, prefix: str = "CT") -> None:
    """`count` clients with a contract each (fee 1,000.00; P1 24/7, GTI 2 h at 100.00 a
    breach); with `breached`, each has a P1 ticket of 5 October 2026 never taken."""
    calendars = {"biz-fr": factories.calendar(),
                 "24x7": factories.calendar(code="24x7", always=True)}
    for n in range(1, count + 1):
        organisation = factories.organisation(code=f"client-{n}", name=f"Client {n} SARL",
                                              vat_number=f"FR00{n:09d}")
        client = factories.user(email=f"client@{n}.example", organisation=organisation)
        contract = factories.contract(organisation=organisation, reference=f"{prefix}-{n:03d}",
                                      calendars=calendars, priorities=PRIORITIES)
        if breached:
            services.open_ticket(actor=client, contract=contract, priority_code="P1",
                                 title="Site down", description="Down.",
                                 now=paris(2026, 10, 5, 8, 0))
    sweep(paris(2026, 11, 1, 0, 0))
    db.session.commit()


@pytest.fixture
def october(app):
    """Two contracts with a missed GTI each in October 2026, committed."""
    with app.app_context():
        contracts(2)


def run(runner, *args: str):
    return runner.invoke(args=["billing", *args])


def close(runner, *args: str):
    result = run(runner, "close", "--month", "2026-10", "--at", AFTER_OCTOBER, *args)
    assert result.exit_code == 0, result.output
    return result


def issue(runner, at: str = ISSUE_AT):
    result = run(runner, "issue", "--month", "2026-10", "--at", at)
    assert result.exit_code == 0, result.output
    return result


def notes(app) -> dict[str, tuple]:
    with app.app_context():
        return {note.contract_reference: (note.status.value, note.number, str(note.total_excl_vat))
                for note in db.session.scalars(sa.select(CreditNote))}


def count_notes(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(CreditNote))


# -- close ---------------------------------------------------------------------------------------


def test_close_drafts_a_note_per_contract_owed_and_says_so_line_by_line(app, runner, october):
    result = close(runner)
    assert result.stdout.splitlines() == [
        "CT-001: draft credit note of 100.00 EUR excl. VAT for October 2026.",
        "CT-002: draft credit note of 100.00 EUR excl. VAT for October 2026.",
        "Closed October 2026 as of 2026-10-31T23:00:00+00:00: 2 contract(s), 2 drafted, "
        "0 with nothing owed, 0 already issued.",
        "Check the drafts, then issue them: flask billing issue --month 2026-10",
    ]
    assert notes(app) == {"CT-001": ("draft", None, "100.00"), "CT-002": ("draft", None, "100.00")}


def test_close_says_when_nothing_is_owed(app, runner):
    with app.app_context():
        contracts(1, breached=False)
    result = close(runner)
    assert "CT-001: nothing is owed for October 2026, so no credit note." in result.stdout
    assert "1 contract(s), 0 drafted, 1 with nothing owed" in result.stdout
    assert "flask billing issue" not in result.stdout
    assert count_notes(app) == 0


def test_close_one_contract_with_its_invoice(app, runner, october):
    close(runner, "--contract", "CT-002", "--invoice-number", "F-2026-0042",
          "--invoice-date", "2026-10-31")
    with app.app_context():
        [note] = db.session.scalars(sa.select(CreditNote))
        assert (note.contract_reference, note.invoice_number, note.invoice_date) == (
            "CT-002", "F-2026-0042", date(2026, 10, 31))


def test_close_refuses_an_invoice_for_every_contract_at_once(app, runner, october):
    result = run(runner, "close", "--month", "2026-10", "--at", AFTER_OCTOBER,
                 "--invoice-number", "F-2026-0042")
    assert result.exit_code == 2
    assert "need --contract" in result.output
    assert count_notes(app) == 0


def test_close_refuses_an_invoice_date_without_its_number(app, runner, october):
    result = run(runner, "close", "--month", "2026-10", "--at", AFTER_OCTOBER,
                 "--contract", "CT-001", "--invoice-date", "2026-10-31")
    assert result.exit_code == 1
    assert "Give the invoice number with its date." in result.output


def test_close_before_the_month_has_ended_changes_nothing(app, runner, october):
    result = run(runner, "close", "--month", "2026-10", "--at", "2026-10-31T23:59:00+01:00")
    assert result.exit_code == 1
    assert "October 2026 has not ended in Europe/Paris" in result.output
    assert "Traceback" not in result.output
    assert count_notes(app) == 0


def test_close_an_unknown_contract_is_an_error(app, runner, october):
    result = run(runner, "close", "--month", "2026-10", "--at", AFTER_OCTOBER,
                 "--contract", "CT-NOPE")
    assert result.exit_code == 1
    assert "Error: There is no contract CT-NOPE." in result.output


def test_close_again_after_issuing_says_the_note_is_already_issued(app, runner, october):
    close(runner)
    issue(runner)
    result = close(runner, "--contract", "CT-001")
    assert "already has credit note AV-2026-0001, issued on 2026-11-03" in result.stdout
    assert "0 drafted, 0 with nothing owed, 1 already issued" in result.stdout


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "october", "2026-10-01", "26-10", ""])
def test_a_bad_month_is_refused_with_the_expected_form(app, runner, month):
    for command in ("close", "issue"):
        result = run(runner, command, "--month", month)
        assert result.exit_code == 2, result.output
        assert "Invalid value for '--month'" in result.output
        assert "write it YYYY-MM, e.g. 2026-10" in result.output
    result = run(runner, "export", "--month", month, "--format", "csv", "--out", "-")
    assert result.exit_code == 2 and "write it YYYY-MM" in result.output


@pytest.mark.parametrize("at, message", [("2026-11-01T00:00:00", "has no time zone offset"),
                                         ("tomorrow", "not an ISO 8601 instant")])
def test_a_bad_instant_is_refused(app, runner, october, at, message):
    result = run(runner, "close", "--month", "2026-10", "--at", at)
    assert result.exit_code == 2
    assert "Invalid value for '--at'" in result.output and message in result.output
    assert count_notes(app) == 0


NOT_ASCII_YYYY_MM = "is not a month: write it YYYY-MM, e.g. 2026-10, in ASCII digits."
NOT_A_MONTH_NUMBER = ("is not a month: write it YYYY-MM, e.g. 2026-10, with a month number from "
                      "01 to 12.")
OUT_OF_BOUNDS = "is outside the months this helpdesk handles, 2000-01 to 2099-12."
EDGE_MONTHS = {"0000-01": OUT_OF_BOUNDS, "9999-12": OUT_OF_BOUNDS, "2026-13": NOT_A_MONTH_NUMBER,
               "2026-00": NOT_A_MONTH_NUMBER, "２０２６-１０": NOT_ASCII_YYYY_MM,
               "٢٠٢٦-١٠": NOT_ASCII_YYYY_MM, "2026-1": NOT_ASCII_YYYY_MM, "": NOT_ASCII_YYYY_MM}


@pytest.mark.parametrize("month", EDGE_MONTHS)
def test_an_edge_month_is_refused_in_one_line(app, runner, october, month):
    expected = f"Error: Invalid value for '--month': {month!r} {EDGE_MONTHS[month]}"
    for command in (["close"], ["issue"], ["export", "--format", "csv", "--out", "-"]):
        result = run(runner, command[0], "--month", month, *command[1:])
        assert result.exit_code == 2, result.output
        assert result.output.splitlines()[-1] == expected
        assert "Traceback" not in result.output
    assert count_notes(app) == 0


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00-05:00"])
@pytest.mark.parametrize("command", ["close", "issue"])
def test_an_instant_out_of_bounds_is_refused_in_one_line(app, runner, october, command, at):
    result = run(runner, command, "--month", "2026-10", "--at", at)
    assert result.exit_code == 2, result.output
    assert result.output.splitlines()[-1] == (
        f"Error: Invalid value for '--at': {at!r} is outside the instants this helpdesk "
        f"handles, 2000-01-02 to 2099-12-31 UTC")
    assert "Traceback" not in result.output
    assert count_notes(app) == 0


def test_closing_many_contracts_shows_a_progress_bar_on_stderr(app, runner):
    with app.app_context():
        contracts(51, breached=False)
    result = close(runner)
    assert "Closing October 2026" in result.stderr
    assert "Closing October 2026" not in result.stdout
    assert "51 contract(s), 0 drafted, 51 with nothing owed" in result.stdout


def test_closing_a_few_contracts_shows_no_progress_bar(app, runner, october):
    assert close(runner).stderr == ""


# -- a future --at only previews ------------------------------------------------------------------

PREVIEW = "Preview only, nothing is written and nothing is sent: "


def billing_state(app) -> tuple:
    """Everything closing or issuing writes, to show that a preview wrote nothing."""
    with app.app_context():
        counts = tuple(db.session.scalar(sa.select(sa.func.count()).select_from(model))
                       for model in (CreditNote, CreditNoteLine, CreditNoteCounter, AuditEntry))
        notes = db.session.execute(sa.select(
            CreditNote.id, CreditNote.status, CreditNote.number, CreditNote.closed_at,
            CreditNote.total_excl_vat).order_by(CreditNote.id)).all()
        return counts, notes


def test_close_with_a_future_instant_previews_the_drafts_and_writes_nothing(app, runner,
                                                                           october, clock, now):
    clock.freeze(now)  # the preview prints "now" to the second
    before = billing_state(app)
    result = run(runner, "close", "--month", "2026-10", "--at", "2026-12-15T10:00:00+01:00")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        PREVIEW + "2026-12-15T09:00:00+00:00 is later than now (2026-11-30T09:00:00+00:00).",
        "CT-001: would draft a credit note of 100.00 EUR excl. VAT for October 2026.",
        "CT-002: would draft a credit note of 100.00 EUR excl. VAT for October 2026.",
        "Would close October 2026 as of 2026-12-15T09:00:00+00:00: 2 contract(s), 2 drafted, "
        "0 with nothing owed, 0 already issued.",
    ]
    assert billing_state(app) == before


def test_close_with_a_future_instant_leaves_the_drafts_as_they_were(app, runner, october):
    close(runner)
    before = billing_state(app)
    result = run(runner, "close", "--month", "2026-10", "--at", "2027-01-15T12:00:00Z")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(PREVIEW)
    assert billing_state(app) == before


@pytest.mark.parametrize("at", [None, "2026-12-01T00:00:00+01:00", "2027-06-01T00:00:00Z"])
def test_close_refuses_a_month_not_ended_by_the_real_clock_whatever_at_says(app, runner,
                                                                           october, at):
    """Monday 30 November 2026: November has not ended, even --at December says otherwise."""
    before = billing_state(app)
    result = run(runner, "close", "--month", "2026-11", *(["--at", at] if at else []))
    assert result.exit_code == 1, result.output
    assert ("November 2026 has not ended in Europe/Paris as of 2026-11-30 09:00 UTC"
            in result.output)
    assert "Traceback" not in result.output
    assert billing_state(app) == before


def test_close_once_the_month_has_ended_by_the_clock(app, runner, october, clock):
    clock.freeze(paris(2026, 12, 1, 0, 0))
    result = run(runner, "close", "--month", "2026-11")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("CT-001: nothing is owed for November 2026")


def test_issue_with_a_future_instant_previews_the_numbers_and_writes_nothing(app, runner,
                                                                            october, clock, now):
    clock.freeze(now)  # the preview prints "now" to the second
    close(runner)
    before = billing_state(app)
    result = run(runner, "issue", "--month", "2026-10", "--at", "2027-01-01T00:30:00+01:00")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        PREVIEW + "2026-12-31T23:30:00+00:00 is later than now (2026-11-30T09:00:00+00:00).",
        "CT-001: its draft of 100.00 EUR excl. VAT would be issued as AV-2027-0001.",
        "CT-002: its draft of 100.00 EUR excl. VAT would be issued as AV-2027-0002.",
        "Would issue 2 credit note(s) for October 2026 as of 2026-12-31T23:30:00+00:00: "
        "AV-2027-0001 to AV-2027-0002.",
    ]
    assert billing_state(app) == before
    # The numbers previewed were not taken: issuing for real starts the sequence.
    assert "AV-2026-0001 to AV-2026-0002" in issue(runner).stdout


# -- issue ---------------------------------------------------------------------------------------


def test_issue_numbers_the_drafts_and_lists_them(app, runner, october):
    close(runner)
    result = issue(runner)
    assert result.stdout.splitlines() == [
        "Issued AV-2026-0001.", "Issued AV-2026-0002.",
        "Issued 2 credit note(s) for October 2026 as of 2026-11-03T09:00:00+00:00: "
        "AV-2026-0001 to AV-2026-0002."]
    assert notes(app) == {"CT-001": ("issued", "AV-2026-0001", "100.00"),
                          "CT-002": ("issued", "AV-2026-0002", "100.00")}
    with app.app_context():
        assert {note.issue_date for note in db.session.scalars(sa.select(CreditNote))} == {
            date(2026, 11, 3)}


def test_issue_as_of_an_instant_takes_the_year_of_its_date_in_the_billing_zone(app, runner,
                                                                               october, clock):
    close(runner)
    # 00:30 in Paris on 1 January 2027 is still 2026 in UTC.
    clock.freeze(paris(2027, 1, 1, 0, 30))
    result = issue(runner, at="2027-01-01T00:30:00+01:00")
    assert "AV-2027-0001 to AV-2027-0002" in result.stdout
    assert notes(app) == {"CT-001": ("issued", "AV-2027-0001", "100.00"),
                          "CT-002": ("issued", "AV-2027-0002", "100.00")}


def test_issue_with_no_draft_says_there_is_nothing_to_issue(app, runner, october):
    result = issue(runner)
    assert result.stdout == ("No draft credit note for October 2026: nothing to issue (close the "
                             "month first: flask billing close --month 2026-10).\n")
    close(runner)
    issue(runner)
    assert "nothing to issue" in issue(runner).stdout


# -- export --------------------------------------------------------------------------------------


@pytest.fixture
def issued(app, runner, october):
    close(runner)
    issue(runner)


@pytest.fixture
def out(tmp_path):
    """An empty folder for exports (tmp_path also holds the test's database)."""
    folder = tmp_path / "exports"
    folder.mkdir()
    return folder


def test_export_csv_to_a_file(app, runner, issued, out):
    path = out / "october.csv"
    result = run(runner, "export", "--month", "2026-10", "--format", "csv", "--out", str(path))
    assert result.exit_code == 0, result.output
    # Each note: the missed GTI (100.00) and the missed GTR, which the contract does not price.
    assert f"Exported 2 credit note(s) of October 2026, 4 line(s), to {path}." in result.stdout
    with path.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert [(row["number"], row["contract"], row["metric"], row["amount_excl_vat"], row["vat"])
            for row in rows] == [("AV-2026-0001", "CT-001", "gti", "100.00", "20.00"),
                                 ("AV-2026-0001", "CT-001", "gtr", "0.00", "0.00"),
                                 ("AV-2026-0002", "CT-002", "gti", "100.00", "20.00"),
                                 ("AV-2026-0002", "CT-002", "gtr", "0.00", "0.00")]
    assert list(out.iterdir()) == [path]  # no partial file left behind


def test_export_csv_to_stdout_keeps_stdout_for_the_csv(app, runner, issued):
    result = run(runner, "export", "--month", "2026-10", "--format", "csv", "--out", "-")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout, newline="")))
    assert [row["number"] for row in rows] == ["AV-2026-0001"] * 2 + ["AV-2026-0002"] * 2
    assert "Exported 2 credit note(s) of October 2026, 4 line(s), to standard output." in (
        result.stderr)


def test_export_csv_into_a_folder_is_refused(app, runner, issued, out):
    result = run(runner, "export", "--month", "2026-10", "--format", "csv", "--out", str(out))
    assert result.exit_code == 2
    assert "is a folder" in result.output


def test_export_pdf_writes_one_file_per_note_named_after_its_number(app, runner, issued, out):
    folder = out / "pdf" / "2026-10"  # made when missing
    result = run(runner, "export", "--month", "2026-10", "--format", "pdf", "--out", str(folder))
    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in folder.iterdir()) == ["AV-2026-0001.pdf",
                                                             "AV-2026-0002.pdf"]
    text = PdfReader(folder / "AV-2026-0002.pdf").pages[0].extract_text()
    assert "AV-2026-0002" in text and "CT-002" in text
    assert f"Wrote {folder / 'AV-2026-0001.pdf'}." in result.stdout
    assert "Exported 2 credit note(s) of October 2026 as pdf" in result.stdout


def test_export_facturx_embeds_the_credit_note_data(app, runner, issued, out):
    result = run(runner, "export", "--month", "2026-10", "--format", "facturx", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in out.iterdir()) == [
        "AV-2026-0001-factur-x.pdf", "AV-2026-0002-factur-x.pdf"]
    name, xml = get_xml_from_pdf((out / "AV-2026-0001-factur-x.pdf").read_bytes())
    assert name == "factur-x.xml"
    root = etree.fromstring(xml)
    assert root.findtext(".//{*}ExchangedDocument/{*}TypeCode") == "381"
    assert root.findtext(".//{*}ExchangedDocument/{*}ID") == "AV-2026-0001"


def test_export_pdf_into_a_file_is_refused(app, runner, issued, out):
    path = out / "notes.pdf"
    path.write_bytes(b"")
    result = run(runner, "export", "--month", "2026-10", "--format", "pdf", "--out", str(path))
    assert result.exit_code == 2
    assert "is a file" in result.output


def test_export_exports_only_issued_notes_and_says_when_there_are_none(app, runner, october,
                                                                       out):
    close(runner)
    for kind, path in (("csv", out / "october.csv"), ("pdf", out / "pdf")):
        result = run(runner, "export", "--month", "2026-10", "--format", kind, "--out", str(path))
        assert result.exit_code == 0, result.output
        assert result.stderr == ("No issued credit note for October 2026: nothing exported; 2 "
                                 "draft(s) wait to be issued (flask billing issue --month "
                                 "2026-10).\n")
    assert list(out.iterdir()) == []


def test_export_of_an_unknown_format_is_refused(app, runner, issued):
    result = run(runner, "export", "--month", "2026-10", "--format", "xlsx", "--out", "-")
    assert result.exit_code == 2
    assert "'xlsx' is not one of 'csv', 'pdf', 'facturx'" in result.output
