"""The billing pages: finance previews, closes and issues a month; clients read their issued
credit notes and their monthly SLA report.

The `ledger` fixture builds the worked example inside an app context it keeps open for the whole
test; requests run outside it (`outside`), in a context of their own, as a browser's would, and
assertions read the database in a new app context.
"""
import contextvars
import html
import re
from datetime import date
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from helpdesk.billing.models import CreditNote, CreditNoteStatus
from helpdesk.billing.services import close_month, issue_month
from helpdesk.billing.wording import VAT_EXEMPT_MENTION
from helpdesk.escalation.models import Breach
from helpdesk.escalation.services import waive_breach
from helpdesk.extensions import db
from tests.api.helpers import sign_in
from tests.billing.conftest import open_ticket, paris, settings, sweep, worked_example
from tests.conftest import csrf_token

OCTOBER = "2026-10"
AFTER_OCTOBER = paris(2026, 11, 2, 9, 0)
STILL_OCTOBER = paris(2026, 10, 31, 23, 0)
REASON = "The client's own hosting provider was down"


def outside(call, *args, **kwargs):
    """Run `call` with no app context active, like a request from a browser."""
    return contextvars.Context().run(call, *args, **kwargs)


def text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def flashes(page: str) -> list[str]:
    return [text(m) for m in re.findall(r'<p class="flash[^"]*"[^>]*>(.*?)</p>', page, re.S)]


def main(page: str) -> str:
    """The text of the page's <main>, tags stripped."""
    return text(page.split("<main", 1)[1])


class Browser:
    """The test client, used outside the test's app context."""

    def __init__(self, app, client):
        self.app, self.client = app, client

    def sign_in(self, email: str) -> "Browser":
        outside(sign_in, self.app, self.client, email)
        return self

    def get(self, path: str, **kwargs):
        return outside(self.client.get, path, **kwargs)

    def post(self, path: str, data: dict | None = None, *, token: bool = True):
        data = dict(data or {})
        if token:
            # Any page of a signed-in user carries the token (the sign-out form).
            data["csrf_token"] = outside(csrf_token, self.client, "/contracts")
        return outside(self.client.post, path, data=data)

    def follow(self, response) -> str:
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        return self.get(response.headers["Location"]).get_data(as_text=True)


@pytest.fixture
def at(clock):
    """When the pages are used: `at.freeze(instant)`; 2 November 2026 by default, October has
    ended."""
    clock.freeze(AFTER_OCTOBER)
    return clock


@pytest.fixture
def books(ledger, at):
    """The worked example, committed: plain values for the requests that follow."""
    worked_example(ledger)
    emails = {name: ledger[name].email for name in (
        "client", "other_client", "tech", "lead", "finance", "admin")}
    db.session.commit()
    return SimpleNamespace(**emails)


@pytest.fixture
def browser(app, client):
    return Browser(app, client)


def as_person(browser: Browser, books, person: str) -> Browser:
    return browser.sign_in(getattr(books, person))


def note_of(reference: str = "CT-SHOP") -> int:
    return db.session.scalar(sa.select(CreditNote.id).where(
        CreditNote.contract_reference == reference, CreditNote.month == OCTOBER))


def closed() -> int:
    """Close October as of AFTER_OCTOBER through the service; CT-SHOP's draft's id. Ends the
    transaction, so that requests may write (SQLite holds one writer at a time)."""
    close_month(OCTOBER, seller=settings().seller, at=AFTER_OCTOBER)
    draft = note_of()
    db.session.commit()
    return draft


def issued() -> int:
    draft = closed()
    issue_month(OCTOBER, settings=settings(), actor=None, now=AFTER_OCTOBER,
                on_batch=db.session.commit)
    return draft


def notes(app) -> list[tuple]:
    with app.app_context():
        return [(note.contract_reference, note.status, note.number, note.total_excl_vat)
                for note in db.session.scalars(sa.select(CreditNote).order_by(CreditNote.id))]


# -- access ---------------------------------------------------------------------------------------


FINANCE_PAGES = ["/billing/", f"/billing/?month={OCTOBER}", f"/billing/{OCTOBER}/CT-SHOP",
                 f"/billing/{OCTOBER}/credit-notes.csv", "/billing/credit-notes/{draft}",
                 "/billing/credit-notes/{draft}.pdf"]
FINANCE_FORMS = ["/billing/close", "/billing/issue", "/billing/credit-notes/{draft}/issue"]
CLIENT_PAGES = ["/billing/my/credit-notes", f"/billing/my/report?month={OCTOBER}"]


@pytest.mark.parametrize("person", ["finance", "admin"])
@pytest.mark.parametrize("path", FINANCE_PAGES)
def test_finance_and_admins_reach_every_finance_page(books, browser, person, path):
    draft = closed()
    response = as_person(browser, books, person).get(path.format(draft=draft))
    assert response.status_code == 200


@pytest.mark.parametrize("person", ["tech", "lead", "client", "other_client"])
@pytest.mark.parametrize("path", FINANCE_PAGES)
def test_other_roles_get_404_on_finance_pages(books, browser, person, path):
    draft = closed()
    response = as_person(browser, books, person).get(path.format(draft=draft))
    assert response.status_code == 404


@pytest.mark.parametrize("person", ["tech", "lead", "client", "other_client"])
@pytest.mark.parametrize("path", FINANCE_FORMS)
def test_other_roles_get_404_on_finance_forms_and_change_nothing(app, books, browser, person,
                                                                 path):
    draft = closed()
    before = notes(app)
    response = as_person(browser, books, person).post(
        path.format(draft=draft), {"month": OCTOBER, "drafts": "1"})
    assert response.status_code == 404
    assert notes(app) == before


@pytest.mark.parametrize("person", ["tech", "lead", "finance", "admin"])
@pytest.mark.parametrize("path", CLIENT_PAGES)
def test_client_pages_are_404_for_staff(books, browser, person, path):
    assert as_person(browser, books, person).get(path).status_code == 404


@pytest.mark.parametrize("path", FINANCE_PAGES[:1] + CLIENT_PAGES)
def test_signed_out_visitors_are_sent_to_sign_in(books, browser, path):
    response = browser.get(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_nav_links_billing_for_finance_and_credit_notes_for_clients(books, browser):
    page = as_person(browser, books, "finance").get("/billing/").get_data(as_text=True)
    assert 'href="/billing/">Billing</a>' in page
    page = as_person(browser, books, "client").get("/billing/my/credit-notes").get_data(
        as_text=True)
    assert 'href="/billing/my/credit-notes">Credit notes</a>' in page
    assert 'href="/billing/my/report">SLA report</a>' in page
    assert 'href="/billing/">' not in page


# -- tenant isolation -------------------------------------------------------------------------------


NOTE_URLS = ["/billing/credit-notes/{id}", "/billing/credit-notes/{id}.pdf",
             "/billing/credit-notes/{id}/factur-x.pdf"]


@pytest.mark.parametrize("path", NOTE_URLS)
def test_a_client_never_reaches_another_organisations_note(books, browser, path):
    note_id = issued()
    response = as_person(browser, books, "other_client").get(path.format(id=note_id))
    assert response.status_code == 404


@pytest.mark.parametrize("path", NOTE_URLS)
def test_a_client_never_reaches_its_own_draft(books, browser, path):
    note_id = closed()
    response = as_person(browser, books, "client").get(path.format(id=note_id))
    assert response.status_code == 404


@pytest.mark.parametrize("note_id", [999_999, 2**31, 2**63])
def test_unknown_credit_notes_are_404(books, browser, note_id):
    assert as_person(browser, books, "finance").get(
        f"/billing/credit-notes/{note_id}").status_code == 404


def test_a_client_lists_only_its_issued_notes(app, ledger, books, browser):
    both_contracts_drafted(ledger)
    other = note_of("CT-OTHER")
    # CT-OTHER 0001, CT-SHOP 0002
    issue_month(OCTOBER, settings=settings(), actor=None, now=AFTER_OCTOBER,
                on_batch=db.session.commit)
    close_month("2026-09", seller=settings().seller, at=AFTER_OCTOBER,
                on_batch=db.session.commit)  # nothing owed: no note
    page = as_person(browser, books, "client").get("/billing/my/credit-notes").get_data(
        as_text=True)
    assert "AV-2026-0002" in page and "AV-2026-0001" not in page
    assert f"/billing/credit-notes/{other}" not in page
    assert "€300.00" in main(page) and "€360.00" in main(page)


def test_a_client_sees_no_draft_in_its_list(books, browser):
    closed()
    page = as_person(browser, books, "client").get("/billing/my/credit-notes").get_data(
        as_text=True)
    assert "No credit note has been issued to you." in main(page)
    assert "300.00" not in page


def test_a_client_reads_its_issued_note(books, browser):
    note_id = issued()
    page = as_person(browser, books, "client").get(f"/billing/credit-notes/{note_id}").get_data(
        as_text=True)
    assert "AV-2026-0001" in page and "€360.00" in main(page)
    assert "/issue" not in page and "DRAFT" not in page


# -- the month page -------------------------------------------------------------------------------


def rows(page: str) -> dict[str, list[str]]:
    """The contracts table, by contract reference: the cells' text."""
    body = re.search(r'<table class="billing-contracts">.*?<tbody>(.*?)</tbody>', page, re.S)[1]
    result = {}
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        cells = [text(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        if len(cells) > 1:
            result[cells[1].split()[0]] = cells
    return result


def test_the_month_page_defaults_to_the_previous_month(books, browser, at):
    at.freeze(paris(2026, 11, 15, 12, 0))
    page = as_person(browser, books, "finance").get("/billing/").get_data(as_text=True)
    assert "Billing · October 2026" in page
    assert 'name="month" value="2026-10"' in page


def test_the_month_page_lists_each_contract_with_what_closing_would_credit(books, browser):
    page = as_person(browser, books, "finance").get(f"/billing/?month={OCTOBER}").get_data(
        as_text=True)
    listed = rows(page)
    assert set(listed) == {"CT-SHOP", "CT-OTHER"}
    organisation, _, breaches, credit, note, _ = listed["CT-SHOP"]
    assert organisation == "Boutique Exemple SARL"
    assert breaches == "3 unwaived"
    assert credit == "€300.00"
    assert note == "none"
    assert listed["CT-OTHER"][2:5] == ["none", "€0.00", "none"]
    assert f'href="/breaches?month={OCTOBER}&amp;contract=CT-SHOP"' in page


def test_the_month_page_counts_waived_breaches_apart(ledger, books, browser):
    waive_breach(db.session.scalar(sa.select(Breach).where(Breach.metric == "gtr")),
                 actor=ledger["finance"], reason=REASON, now=AFTER_OCTOBER)
    db.session.commit()
    page = as_person(browser, books, "finance").get(f"/billing/?month={OCTOBER}").get_data(
        as_text=True)
    assert rows(page)["CT-SHOP"][2:4] == ["2 unwaived, 1 waived", "€300.00"]


def test_the_month_page_shows_drafts_and_issued_notes(books, browser):
    closed()
    page = as_person(browser, books, "finance").get(f"/billing/?month={OCTOBER}").get_data(
        as_text=True)
    assert rows(page)["CT-SHOP"][4] == "draft €300.00"
    assert "Issue 1 draft — numbers are final" in page
    issue_month(OCTOBER, settings=settings(), actor=None, now=AFTER_OCTOBER,
                on_batch=db.session.commit)
    page = browser.get(f"/billing/?month={OCTOBER}").get_data(as_text=True)
    assert rows(page)["CT-SHOP"][4] == "AV-2026-0001 issued 2 Nov 2026"
    assert "numbers are final" not in page
    assert f"/billing/{OCTOBER}/credit-notes.csv" in page


def test_the_month_page_pages_through_contracts_by_reference(books, browser, monkeypatch):
    monkeypatch.setattr("helpdesk.billing.queries.PAGE_SIZE", 1)
    as_person(browser, books, "finance")
    first = browser.get(f"/billing/?month={OCTOBER}").get_data(as_text=True)
    assert set(rows(first)) == {"CT-OTHER"}
    assert f"/billing/?month={OCTOBER}&amp;after=CT-OTHER" in first
    second = browser.get(f"/billing/?month={OCTOBER}&after=CT-OTHER").get_data(as_text=True)
    assert set(rows(second)) == {"CT-SHOP"}
    assert "after=CT-SHOP" not in second


@pytest.mark.parametrize("bad", ["2026-13", "2026-10-01", "<script>", "2026-10\n"])
def test_a_bad_month_in_the_address_gives_a_message(books, browser, bad):
    response = as_person(browser, books, "finance").get("/billing/", query_string={"month": bad})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "The month must look like 2026-10." in flashes(page)
    assert "<script>" not in page.split("<main", 1)[1]


# -- closing --------------------------------------------------------------------------------------


def test_closing_the_month_through_the_form_drafts_the_worked_example(app, books, browser):
    as_person(browser, books, "finance")
    response = browser.post("/billing/close", {"month": OCTOBER})
    assert response.headers["Location"].endswith(f"/billing/?month={OCTOBER}")
    page = browser.follow(response)
    assert ("CT-SHOP: draft credit note of €300.00 excl. VAT for October 2026."
            in flashes(page))
    assert "October 2026 closed for 2 contracts: 1 drafted, 1 nothing owed." in flashes(page)
    assert notes(app) == [("CT-SHOP", CreditNoteStatus.DRAFT, None, 300)]
    with app.app_context():
        note_id = db.session.scalar(sa.select(CreditNote.id))
    document = main(browser.get(f"/billing/credit-notes/{note_id}").get_data(as_text=True))
    assert "Total excl. VAT 300.00" in document
    assert "VAT 20 % 60.00" in document
    assert "Total incl. VAT €360.00" in document
    assert "DRAFT" in document


def test_closing_one_contract_with_an_invoice_reference(app, books, browser):
    as_person(browser, books, "finance")
    response = browser.post("/billing/close", {
        "month": OCTOBER, "contract": "CT-SHOP", "invoice_number": " F-2026-0117 ",
        "invoice_date": "2026-10-01"})
    assert response.headers["Location"].endswith(f"/billing/{OCTOBER}/CT-SHOP")
    page = browser.follow(response)
    assert flashes(page) == ["CT-SHOP: draft credit note of €300.00 excl. VAT for October 2026."]
    with app.app_context():
        note = db.session.scalar(sa.select(CreditNote))
        assert (note.invoice_number, note.invoice_date) == ("F-2026-0117", date(2026, 10, 1))
    assert "invoice F-2026-0117 of 2026-10-01" in main(
        browser.get(f"/billing/credit-notes/{note.id}").get_data(as_text=True))


def test_closing_before_the_month_ended_says_when_and_writes_nothing(app, books, browser, at):
    at.freeze(STILL_OCTOBER)
    as_person(browser, books, "finance")
    page = browser.get(f"/billing/?month={OCTOBER}").get_data(as_text=True)
    assert "it can be closed from 2026-10-31 23:00 UTC" in main(page)
    assert re.search(r"<button[^>]*disabled[^>]*>Close October 2026 for all contracts", page)
    page = browser.follow(browser.post("/billing/close", {"month": OCTOBER}))
    assert any(message.startswith("Not closed: October 2026 has not ended in Europe/Paris")
               for message in flashes(page))
    assert notes(app) == []


def test_the_preview_disables_closing_until_the_month_has_ended(books, browser, at):
    at.freeze(STILL_OCTOBER)
    page = as_person(browser, books, "finance").get(f"/billing/{OCTOBER}/CT-SHOP").get_data(
        as_text=True)
    assert "it can be closed from 2026-10-31 23:00 UTC" in main(page)
    assert re.search(r"<button[^>]*disabled[^>]*>Close into a draft credit note", page)


@pytest.mark.parametrize("data, message", [
    ({"month": "2026-13"}, "The month must look like 2026-10."),
    ({"month": ""}, "The month must look like 2026-10."),
    ({"month": OCTOBER, "invoice_date": "31/10/2026", "invoice_number": "F-1"},
     "Not a valid date value."),
    ({"month": OCTOBER, "invoice_number": "F" * 65},
     "Field cannot be longer than 64 characters."),
    ({"month": OCTOBER, "invoice_date": "2026-10-01"}, "Give the invoice number with its date."),
], ids=["month", "no month", "date", "long number", "date without number"])
def test_bad_closing_input_re_renders_with_a_message_and_changes_nothing(app, books, browser,
                                                                         data, message):
    response = as_person(browser, books, "finance").post("/billing/close", data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in main(page)
    assert "Close October 2026 for all contracts" in page
    assert notes(app) == []


def test_bad_closing_input_for_one_contract_re_renders_its_preview(app, books, browser):
    response = as_person(browser, books, "finance").post("/billing/close", {
        "month": OCTOBER, "contract": "CT-SHOP", "invoice_date": "2026-10-01"})
    assert response.status_code == 400
    page = main(response.get_data(as_text=True))
    assert "CT-SHOP: what closing October 2026 would credit" in page
    assert "Give the invoice number with its date." in page
    assert notes(app) == []


def test_closing_a_contract_not_in_force_says_so(app, books, browser):
    page = browser.follow(as_person(browser, books, "finance").post(
        "/billing/close", {"month": "2025-06", "contract": "CT-SHOP"}))
    assert "Not closed: Contract CT-SHOP was not in force in June 2025." in flashes(page)
    assert notes(app) == []


def test_closing_without_the_csrf_token_is_refused(app, books, browser):
    response = as_person(browser, books, "finance").post("/billing/close", {"month": OCTOBER},
                                                         token=False)
    assert response.status_code == 400
    assert notes(app) == []


def test_closing_again_after_issuing_changes_nothing(app, books, browser):
    issued()
    before = notes(app)
    page = browser.follow(as_person(browser, books, "finance").post(
        "/billing/close", {"month": OCTOBER, "contract": "CT-SHOP"}))
    assert any("already has credit note AV-2026-0001" in message for message in flashes(page))
    assert notes(app) == before


def test_closing_many_batches_through_the_form(app, books, browser, monkeypatch):
    """Closing commits a batch at a time and lets go of what it loaded, the signed-in user too."""
    monkeypatch.setattr("helpdesk.billing.services.BATCH", 1)
    page = browser.follow(as_person(browser, books, "finance").post("/billing/close",
                                                                    {"month": OCTOBER}))
    assert "October 2026 closed for 2 contracts: 1 drafted, 1 nothing owed." in flashes(page)
    assert notes(app) == [("CT-SHOP", CreditNoteStatus.DRAFT, None, 300)]


# -- the preview ------------------------------------------------------------------------------------


def test_the_preview_explains_every_amount(books, browser):
    page = main(as_person(browser, books, "finance").get(f"/billing/{OCTOBER}/CT-SHOP").get_data(
        as_text=True))
    # The GTR of the first ticket: due 16:00, resolved 18:30, 2 % of the fee per started hour.
    assert ("T-000001 GTR · P1 2026-10-05 16:00 CEST 2026-10-05 18:30 CEST 2 h 30 min 3 "
            "2 % of the fee × 3 started hours €60.00") in page
    assert "T-000002 GTI · P1 2026-10-12 11:00 CEST" in page
    assert "€100.00 fixed" in page
    assert "Availability 99.732 % below the 99.9 % target: 10 % of the monthly fee" in page
    assert "Cap: credits limited to 30 % of the fee, €300.00 (€360.00 before the cap)" in page
    assert "Total excl. VAT €300.00 VAT 20 % €60.00 Total incl. VAT €360.00" in page
    assert "Downtime 2 h" in page and "Scheduled 31 d 1 h (24/7)" in page
    assert "Measured 99.732 %" in page and "Target 99.9 %" in page


def test_the_preview_shows_waived_breaches_struck_through(ledger, books, browser):
    waive_breach(db.session.scalar(sa.select(Breach).where(Breach.metric == "gtr")),
                 actor=ledger["finance"], reason=REASON, now=AFTER_OCTOBER)
    db.session.commit()
    page = as_person(browser, books, "finance").get(f"/billing/{OCTOBER}/CT-SHOP").get_data(
        as_text=True)
    waived = re.search(r'<tr class="waived">(.*?)</tr>', page, re.S)[1]
    assert f"waived: {REASON}" in text(waived)
    assert "<del>€60.00</del>" in waived
    # 100 + 100 + 100: exactly the cap, no cap line.
    assert "Total excl. VAT €300.00" in main(page) and "Cap:" not in main(page)


@pytest.mark.parametrize("path", [f"/billing/{OCTOBER}/CT-NOPE", "/billing/2026-13/CT-SHOP",
                                  "/billing/2025-06/CT-SHOP", f"/billing/{OCTOBER}/{'x' * 300}"])
def test_the_preview_of_no_contract_in_force_is_404(books, browser, path):
    assert as_person(browser, books, "finance").get(path).status_code == 404


# -- issuing ----------------------------------------------------------------------------------------


def test_issuing_a_draft_through_the_form_numbers_it(app, books, browser):
    note_id = closed()
    response = as_person(browser, books, "finance").post(f"/billing/credit-notes/{note_id}/issue")
    assert response.headers["Location"].endswith(f"/billing/credit-notes/{note_id}")
    page = browser.follow(response)
    assert "Credit note AV-2026-0001 issued." in flashes(page)
    assert "Credit note AV-2026-0001" in main(page) and "DRAFT" not in page
    assert "Issue date 2 Nov 2026" in main(page)
    assert notes(app) == [("CT-SHOP", CreditNoteStatus.ISSUED, "AV-2026-0001", 300)]


def test_issuing_twice_says_so_and_takes_no_number(app, books, browser):
    note_id = issued()
    page = browser.follow(as_person(browser, books, "finance").post(
        f"/billing/credit-notes/{note_id}/issue"))
    assert ("Not issued: Credit note AV-2026-0001 was already issued on 2026-11-02."
            in flashes(page))
    assert notes(app) == [("CT-SHOP", CreditNoteStatus.ISSUED, "AV-2026-0001", 300)]


def both_contracts_drafted(ledger) -> None:
    open_ticket(ledger, paris(2026, 10, 6, 8, 0), contract="other_contract",
                client="other_client")
    sweep(AFTER_OCTOBER)
    db.session.commit()
    close_month(OCTOBER, seller=settings().seller, at=AFTER_OCTOBER,
                on_batch=db.session.commit)


def test_issuing_every_draft_of_the_month(app, ledger, books, browser):
    both_contracts_drafted(ledger)
    as_person(browser, books, "finance")
    page = browser.get(f"/billing/?month={OCTOBER}").get_data(as_text=True)
    assert "Issue 2 drafts — numbers are final" in page
    page = browser.follow(browser.post("/billing/issue", {"month": OCTOBER, "drafts": "2"}))
    assert "2 credit notes issued, AV-2026-0001 to AV-2026-0002." in flashes(page)
    # In contract reference order.
    assert {reference: number for reference, _, number, _ in notes(app)} == {
        "CT-OTHER": "AV-2026-0001", "CT-SHOP": "AV-2026-0002"}


def test_issuing_every_draft_refuses_when_the_drafts_changed(app, ledger, books, browser):
    both_contracts_drafted(ledger)
    page = browser.follow(as_person(browser, books, "finance").post(
        "/billing/issue", {"month": OCTOBER, "drafts": "1"}))
    assert ("Nothing issued: the drafts of October 2026 changed since the page was shown. "
            "Review them and issue again.") in flashes(page)
    assert {status for _, status, _, _ in notes(app)} == {CreditNoteStatus.DRAFT}


@pytest.mark.parametrize("data", [{"month": "2026-13", "drafts": "1"},
                                  {"month": OCTOBER, "drafts": "many"}], ids=["month", "drafts"])
def test_issuing_every_draft_with_bad_input_changes_nothing(app, ledger, books, browser, data):
    both_contracts_drafted(ledger)
    page = browser.follow(as_person(browser, books, "finance").post("/billing/issue", data))
    assert any(message.startswith("Nothing issued") for message in flashes(page))
    assert {status for _, status, _, _ in notes(app)} == {CreditNoteStatus.DRAFT}


# -- the credit note and its downloads ------------------------------------------------------------


def test_the_credit_note_page_shows_the_whole_document(books, browser):
    note_id = issued()
    page = main(as_person(browser, books, "finance").get(
        f"/billing/credit-notes/{note_id}").get_data(as_text=True))
    for expected in ("Credit note AV-2026-0001", "Issue date 2 Nov 2026",
                     "Contract CT-SHOP — Maintenance", "Period October 2026:",
                     "Relates to the invoice of 2026-10 under contract CT-SHOP",
                     "Seller Helpdesk Services SAS", "Client Boutique Exemple SARL",
                     "1 rue Exemple, 49300 Cholet", "VAT number: FR00123456789",
                     "Company registration: 123456789",
                     "T-000001 · GTR · P1 · due 2026-10-05 16:00 CEST · actual 2026-10-05 18:30 "
                     "CEST · delay 2 h 30 min", "Total incl. VAT €360.00",
                     "Reason: Service credits owed under contract CT-SHOP"):
        assert expected in page, expected


def test_a_draft_shows_a_banner_and_only_a_draft_pdf(books, browser):
    note_id = closed()
    page = as_person(browser, books, "finance").get(f"/billing/credit-notes/{note_id}").get_data(
        as_text=True)
    assert re.search(r'class="draft-banner"[^>]*>\s*<strong>DRAFT</strong>', page)
    assert "Download draft PDF" in page
    assert "factur-x" not in page and "credit-notes.csv" not in page
    assert browser.get(f"/billing/credit-notes/{note_id}/factur-x.pdf").status_code == 404


def download(browser: Browser, path: str):
    response = browser.get(path)
    assert response.status_code == 200, path
    return response


def test_the_pdf_of_an_issued_note_is_named_after_its_number(books, browser):
    note_id = issued()
    for person in ("finance", "client"):
        response = download(as_person(browser, books, person),
                            f"/billing/credit-notes/{note_id}.pdf")
        assert response.mimetype == "application/pdf"
        assert response.headers["Content-Disposition"] == 'attachment; filename="AV-2026-0001.pdf"'
        assert response.data.startswith(b"%PDF")


def test_the_pdf_of_a_draft_is_named_as_a_draft(books, browser):
    note_id = closed()
    response = download(as_person(browser, books, "finance"), f"/billing/credit-notes/{note_id}.pdf")
    assert response.mimetype == "application/pdf" and response.data.startswith(b"%PDF")
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="draft-CT-SHOP-2026-10.pdf"')


def test_the_factur_x_pdf_of_an_issued_note(books, browser):
    note_id = issued()
    response = download(as_person(browser, books, "client"),
                        f"/billing/credit-notes/{note_id}/factur-x.pdf")
    assert response.mimetype == "application/pdf" and response.data.startswith(b"%PDF")
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="AV-2026-0001-factur-x.pdf"')


def test_the_months_csv_lists_the_issued_notes(books, browser):
    issued()
    response = download(as_person(browser, books, "finance"),
                        f"/billing/{OCTOBER}/credit-notes.csv")
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="credit-notes-2026-10.csv"')
    assert "AV-2026-0001" in response.get_data(as_text=True)


def test_the_months_csv_leaves_drafts_out(books, browser):
    closed()
    response = download(as_person(browser, books, "finance"),
                        f"/billing/{OCTOBER}/credit-notes.csv")
    assert "CT-SHOP" not in response.get_data(as_text=True)


# -- the client's monthly SLA report ----------------------------------------------------------------


def test_the_report_shows_met_percentages_availability_and_breaches(books, browser):
    page = as_person(browser, books, "client").get(f"/billing/my/report?month={OCTOBER}").get_data(
        as_text=True)
    content = main(page)
    assert "SLA report · October 2026" in content
    assert "Tickets opened 2" in content
    # GTI: both tickets taken late; GTR: the first resolved late, the second in time.
    assert "GTI met 0.0 % 0.0 % — 0 met, 2 breached, of 2 due" in content
    assert "GTR met 50.0 % 50.0 % — 1 met, 1 breached, of 2 due" in content
    assert re.search(r'<meter [^>]*value="50.0"', page)
    assert "Availability 99.732 % — 2 h of downtime (target 99.9 %, missed" in content
    assert "T-000001 GTR · P1 5 Oct 2026, 16:00 CEST 2 h 30 min" in content
    assert "CT-OTHER" not in content


def test_the_report_marks_waived_breaches(ledger, books, browser):
    waive_breach(db.session.scalar(sa.select(Breach).where(Breach.metric == "gtr")),
                 actor=ledger["finance"], reason=REASON, now=AFTER_OCTOBER)
    db.session.commit()
    page = as_person(browser, books, "client").get(f"/billing/my/report?month={OCTOBER}").get_data(
        as_text=True)
    waived = re.search(r'<tr class="waived">(.*?)</tr>', page, re.S)[1]
    assert "T-000001" in waived and f"waived: {REASON}" in text(waived)


def test_the_report_shows_credits_only_once_issued(books, browser):
    closed()
    as_person(browser, books, "client")
    content = main(browser.get(f"/billing/my/report?month={OCTOBER}").get_data(as_text=True))
    assert "No credit note has been issued for this month yet." in content
    assert "300.00" not in content
    issue_month(OCTOBER, settings=settings(), actor=None, now=AFTER_OCTOBER,
                on_batch=db.session.commit)
    content = main(browser.get(f"/billing/my/report?month={OCTOBER}").get_data(as_text=True))
    assert ("AV-2026-0001 (CT-SHOP, issued 2026-11-02): €300.00 excl. VAT, "
            "€360.00 incl. VAT") in content


def test_the_report_of_another_organisation_shows_only_its_own_contracts(books, browser):
    content = main(as_person(browser, books, "other_client").get(
        f"/billing/my/report?month={OCTOBER}").get_data(as_text=True))
    assert "CT-OTHER" in content and "CT-SHOP" not in content
    assert "Tickets opened 0" in content and "T-000001" not in content
    assert "no GTI clock was due this month" in content


def test_the_report_with_a_bad_month_gives_a_message(books, browser):
    response = as_person(browser, books, "client").get("/billing/my/report?month=oct")
    assert response.status_code == 400
    assert "The month must look like 2026-10." in flashes(response.get_data(as_text=True))


def test_a_note_outside_the_scope_of_vat_prints_the_mention(ledger, books, browser):
    ledger["contract"].current_version.credits_subject_to_vat = False
    db.session.commit()
    note_id = closed()
    page = main(as_person(browser, books, "finance").get(
        f"/billing/credit-notes/{note_id}").get_data(as_text=True))
    assert "Total credited €300.00" in page
    assert VAT_EXEMPT_MENTION in page
    assert "Total incl. VAT" not in page


# -- months out of shape or bounds -------------------------------------------------------------------

# What someone might type or tamper with in a month, and what the page then says.
SHAPE = "The month must look like 2026-10."
BOUNDS = "The month must lie between 2000-01 and 2099-12."
EDGE_MONTHS = {"0000-01": BOUNDS, "9999-12": BOUNDS, "2026-13": SHAPE, "2026-00": SHAPE,
               "２０２６-１０": SHAPE, "٢٠٢٦-١٠": SHAPE, "2026-1": SHAPE}


@pytest.mark.parametrize("month", EDGE_MONTHS)
def test_an_edge_month_on_the_finance_pages_is_refused_with_a_message(app, books, browser,
                                                                      month):
    message = EDGE_MONTHS[month]
    as_person(browser, books, "finance")
    # In the query string: refused, the previous month shown instead, and why.
    page = browser.get("/billing/", query_string={"month": month})
    assert page.status_code == 400
    assert message in flashes(page.get_data(as_text=True))
    assert "Billing · October 2026" in page.get_data(as_text=True)
    # In the address: no such page, and why.
    for path in (f"/billing/{month}/CT-SHOP", f"/billing/{month}/credit-notes.csv"):
        response = browser.get(path)
        assert response.status_code == 404, path
        assert message in main(response.get_data(as_text=True)), path
    # In a form: refused with the form's message, nothing written.
    response = browser.post("/billing/close", {"month": month})
    assert response.status_code == 400
    assert message in main(response.get_data(as_text=True))
    response = browser.post("/billing/close", {"month": month, "contract": "CT-SHOP"})
    assert response.status_code == 400
    assert message in main(response.get_data(as_text=True))
    page = browser.follow(browser.post("/billing/issue", {"month": month, "drafts": "0"}))
    assert any(flash.startswith("Nothing issued") for flash in flashes(page))
    assert notes(app) == []


@pytest.mark.parametrize("month", EDGE_MONTHS)
def test_an_edge_month_on_the_client_report_is_refused_with_a_message(books, browser, month):
    as_person(browser, books, "client")
    response = browser.get("/billing/my/report", query_string={"month": month})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert EDGE_MONTHS[month] in flashes(page) and "SLA report · October 2026" in page
    response = browser.get("/billing/my/report.csv", query_string={"month": month})
    assert (response.status_code, response.mimetype) == (400, "text/plain")
    assert response.get_data(as_text=True) == f"{EDGE_MONTHS[month]}\n"


def test_an_empty_month_is_never_a_server_error(books, browser):
    as_person(browser, books, "finance")
    assert browser.get("/billing/?month=").status_code == 200
    assert browser.get("/billing//CT-SHOP").status_code in (308, 404)
    assert browser.post("/billing/close", {"month": ""}).status_code == 400
    as_person(browser, books, "client")
    assert browser.get("/billing/my/report?month=").status_code == 200
    assert browser.get("/billing/my/report.csv?month=").status_code == 400
