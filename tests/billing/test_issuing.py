"""Issuing numbers a draft in a gap-free yearly sequence and freezes it for good."""
from decimal import Decimal

import pytest
import sqlalchemy as sa

from helpdesk.billing.models import (
    CreditNote,
    CreditNoteCounter,
    CreditNoteStatus,
    IssuedCreditNoteChanged,
)
from helpdesk.billing.services import Outcome, close_month, issue_credit_note, issue_month
from helpdesk.contracts.models import Contract
from helpdesk.errors import Conflict, DomainError
from helpdesk.escalation.models import Breach
from helpdesk.escalation.services import waive_breach
from helpdesk.extensions import db
from tests.billing.conftest import open_ticket, paris, settings, sweep, worked_example

AFTER_OCTOBER = paris(2026, 11, 1, 0, 0)
ISSUE_DAY = paris(2026, 11, 3, 10, 0)


def note_of(reference: str, month: str = "2026-10") -> CreditNote:
    return db.session.scalar(sa.select(CreditNote).join(Contract).where(
        Contract.reference == reference, CreditNote.month == month))


def both_contracts_breached(ledger):
    """A GTI breach on each contract in October."""
    for contract, client in (("contract", "client"), ("other_contract", "other_client")):
        open_ticket(ledger, paris(2026, 10, 5, 8, 0), contract=contract, client=client)
    sweep(AFTER_OCTOBER)
    db.session.commit()


def test_issuing_numbers_the_drafts_in_order_from_one(ledger):
    both_contracts_breached(ledger)
    close_month("2026-10", seller=settings().seller, at=AFTER_OCTOBER)
    numbers = issue_month("2026-10", settings=settings(), actor=None, now=ISSUE_DAY)
    assert numbers == ["AV-2026-0001", "AV-2026-0002"]
    note = note_of("CT-OTHER")  # drafts are issued in contract order
    assert (note.number, note.status, note.sequence_number) == (
        "AV-2026-0001", CreditNoteStatus.ISSUED, 1)
    assert str(note.issue_date) == "2026-11-03" and note.issued_at == ISSUE_DAY


def test_the_year_of_the_issue_date_in_the_billing_zone_starts_a_new_sequence(ledger):
    both_contracts_breached(ledger)
    close_month("2026-10", seller=settings().seller, at=AFTER_OCTOBER)
    first, second = (note_of("CT-OTHER").id, note_of("CT-SHOP").id)
    issue_credit_note(first, settings=settings(), actor=None, now=paris(2026, 12, 31, 23, 59))
    db.session.commit()
    # 00:30 in Paris on 1 January is still 2026 in UTC: the Paris date decides.
    issue_credit_note(second, settings=settings(), actor=None, now=paris(2027, 1, 1, 0, 30))
    db.session.commit()
    assert (note_of("CT-OTHER").number, note_of("CT-SHOP").number) == (
        "AV-2026-0001", "AV-2027-0001")


def test_a_rolled_back_issue_gives_its_number_back(ledger):
    both_contracts_breached(ledger)
    close_month("2026-10", seller=settings().seller, at=AFTER_OCTOBER)
    db.session.commit()
    abandoned = issue_credit_note(note_of("CT-SHOP").id, actor=None, now=ISSUE_DAY,
                                  settings=settings())
    assert abandoned.number == "AV-2026-0001"
    db.session.rollback()
    assert issue_month("2026-10", settings=settings(), actor=None, now=ISSUE_DAY) == [
        "AV-2026-0001", "AV-2026-0002"]


def test_issuing_an_issued_note_again_is_refused_and_takes_no_number(ledger):
    both_contracts_breached(ledger)
    close_month("2026-10", seller=settings().seller, at=AFTER_OCTOBER)
    note_id = note_of("CT-SHOP").id
    issue_credit_note(note_id, settings=settings(), actor=None, now=ISSUE_DAY)
    db.session.commit()
    with pytest.raises(Conflict, match="AV-2026-0001 was already issued on 2026-11-03"):
        issue_credit_note(note_id, settings=settings(), actor=None, now=ISSUE_DAY)
    db.session.rollback()
    numbers = issue_month("2026-10", settings=settings(), actor=None, now=ISSUE_DAY)
    assert numbers == ["AV-2026-0002"]


def test_only_finance_and_admins_issue(ledger):
    both_contracts_breached(ledger)
    close_month("2026-10", seller=settings().seller, at=AFTER_OCTOBER)
    with pytest.raises(DomainError, match="Only finance and admins"):
        issue_credit_note(note_of("CT-SHOP").id, actor=db.session.merge(ledger["tech"]),
                          now=ISSUE_DAY, settings=settings())


def test_closing_a_month_with_an_issued_note_creates_nothing_and_says_why(ledger):
    worked_example(ledger)
    close_month("2026-10", seller=settings().seller, at=AFTER_OCTOBER)
    issue_month("2026-10", settings=settings(), actor=None, now=ISSUE_DAY)
    summary = close_month("2026-10", seller=settings().seller, at=paris(2026, 11, 20, 9, 0),
                          contract_reference="CT-SHOP")
    [result] = summary.results
    assert result.outcome == Outcome.ALREADY_ISSUED
    assert "already has credit note AV-2026-0001" in result.message
    assert "nothing new was created" in result.message
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CreditNote)) == 1


def snapshot(note: CreditNote) -> tuple:
    return (note.number, note.total_excl_vat, note.vat, note.total_incl_vat, note.monthly_fee,
            note.client, note.contract_title, note.reason,
            [(line.description, line.amount, line.delay_seconds) for line in note.lines])


def test_no_later_change_to_tickets_breaches_waivers_or_contracts_alters_an_issued_note(ledger):
    worked_example(ledger)
    close_month("2026-10", seller=settings().seller, at=AFTER_OCTOBER)
    issue_month("2026-10", settings=settings(), actor=None, now=ISSUE_DAY)
    before = snapshot(note_of("CT-SHOP"))
    for breach in db.session.scalars(sa.select(Breach)):
        waive_breach(breach, actor=db.session.merge(ledger["finance"]), reason="Late goodwill.",
                     now=paris(2026, 11, 10, 9, 0))
    contract = db.session.merge(ledger["contract"])
    contract.title = "Renamed contract"
    contract.current_version.monthly_fee = Decimal("5000.00")
    contract.organisation.name = "Renamed SARL"
    db.session.commit()
    close_month("2026-10", seller=settings().seller, at=paris(2026, 11, 20, 9, 0))
    db.session.expire_all()
    assert snapshot(note_of("CT-SHOP")) == before


@pytest.mark.parametrize("change", [
    lambda note: setattr(note, "total_excl_vat", Decimal("1.00")),
    lambda note: setattr(note.lines[0], "amount", Decimal("1.00")),
    lambda note: note.lines.pop(),
    lambda note: db.session.delete(note),
    lambda note: setattr(note, "status", CreditNoteStatus.DRAFT),
])
def test_the_database_layer_refuses_to_change_an_issued_note(ledger, change):
    worked_example(ledger)
    close_month("2026-10", seller=settings().seller, at=AFTER_OCTOBER)
    issue_month("2026-10", settings=settings(), actor=None, now=ISSUE_DAY,
                on_batch=db.session.commit)
    note = note_of("CT-SHOP")
    change(note)
    with pytest.raises(IssuedCreditNoteChanged, match="AV-2026-0001 is issued"):
        db.session.flush()
    db.session.rollback()
    assert note_of("CT-SHOP").total_excl_vat == Decimal("300.00")


def test_a_failure_after_a_number_keeps_it_and_leaves_no_gap(ledger):
    """The callback commits each note: a crash after the first keeps AV-2026-0001, and the
    next issue goes on from there."""
    both_contracts_breached(ledger)
    close_month("2026-10", seller=settings().seller, at=AFTER_OCTOBER)
    db.session.commit()
    committed: list[int] = []

    def commit_then_crash() -> None:
        if committed:
            raise RuntimeError("the process dies")
        committed.append(1)
        db.session.commit()

    with pytest.raises(RuntimeError):
        issue_month("2026-10", settings=settings(), actor=None, now=ISSUE_DAY,
                    on_batch=commit_then_crash)
    db.session.rollback()
    assert list(db.session.scalars(sa.select(CreditNote.number).where(
        CreditNote.status == CreditNoteStatus.ISSUED))) == ["AV-2026-0001"]
    assert db.session.get(CreditNoteCounter, 2026).last_number == 1
    assert issue_month("2026-10", settings=settings(), actor=None, now=ISSUE_DAY,
                       on_batch=db.session.commit) == ["AV-2026-0002"]


def test_a_preview_without_a_callback_leaves_nothing_once_rolled_back(ledger):
    both_contracts_breached(ledger)
    close_month("2026-10", seller=settings().seller, at=AFTER_OCTOBER)
    db.session.commit()
    assert issue_month("2026-10", settings=settings(), actor=None, now=ISSUE_DAY) == [
        "AV-2026-0001", "AV-2026-0002"]
    db.session.rollback()
    assert db.session.get(CreditNoteCounter, 2026) is None
    assert {note.status for note in db.session.scalars(sa.select(CreditNote))} == {
        CreditNoteStatus.DRAFT}
