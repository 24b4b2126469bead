"""Closing a month builds a draft credit note from the recorded breaches and outages."""
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from helpdesk.audit.models import AuditEntry
from helpdesk.billing.credits import LineKind
from helpdesk.billing.models import CreditNote, CreditNoteStatus
from helpdesk.billing.services import InvoiceReference, Outcome, close_month
from helpdesk.clock import now_utc
from helpdesk.contracts.models import Contract
from helpdesk.errors import DomainError
from helpdesk.escalation.models import Breach
from helpdesk.escalation.services import waive_breach
from helpdesk.extensions import db
from helpdesk.tickets import services
from tests.billing.conftest import open_ticket, outage, paris, settings, sweep, worked_example

AFTER_OCTOBER = paris(2026, 11, 1, 0, 0)


def the_note(reference="CT-SHOP", month="2026-10") -> CreditNote | None:
    return db.session.scalar(sa.select(CreditNote).join(Contract).where(
        Contract.reference == reference, CreditNote.month == month))


def test_the_worked_example_closes_to_300_plus_60_vat(ledger):
    worked_example(ledger)
    summary = close_month("2026-10", seller=settings().seller, at=AFTER_OCTOBER)
    outcomes = {r.contract_reference: r.outcome for r in summary.results}
    assert outcomes == {"CT-SHOP": Outcome.DRAFTED, "CT-OTHER": Outcome.NOTHING_OWED}
    note = the_note()
    assert note.status == CreditNoteStatus.DRAFT and note.number is None
    assert [(line.kind, line.metric, line.amount) for line in note.lines] == [
        (LineKind.BREACH, "gti", Decimal("100.00")),
        (LineKind.BREACH, "gtr", Decimal("60.00")),
        (LineKind.BREACH, "gti", Decimal("100.00")),
        (LineKind.AVAILABILITY, None, Decimal("100.00")),
        (LineKind.CAP, None, Decimal("-60.00")),
    ]
    assert (note.total_excl_vat, note.vat, note.total_incl_vat) == (
        Decimal("300.00"), Decimal("60.00"), Decimal("360.00"))
    gtr = note.lines[1]
    assert (gtr.ticket_number, gtr.priority_code, gtr.delay_seconds, gtr.started_hours) == (
        "T-000001", "P1", 9000, 3)
    assert (gtr.due_at, gtr.stopped_at) == (paris(2026, 10, 5, 16, 0), paris(2026, 10, 5, 18, 30))
    assert "2 h 30 min late" in gtr.description
    assert note.lines[3].availability_percent == Decimal("99.731544")
    assert note.lines[3].target_percent == Decimal("99.9")
    assert note.client["vat_number"] == "FR00123456789"
    assert note.seller["name"] and note.seller["vat_number"]
    assert "CT-SHOP" in note.reason and "October 2026" in note.reason


def test_the_nothing_owed_outcome_says_so_and_writes_nothing(ledger):
    summary = close_month("2026-10", seller=settings().seller, at=AFTER_OCTOBER)
    assert {r.outcome for r in summary.results} == {Outcome.NOTHING_OWED}
    assert "nothing is owed for October 2026" in summary.results[0].message
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CreditNote)) == 0


def test_a_month_is_closed_only_once_it_has_ended_in_the_contracts_zone(ledger):
    worked_example(ledger)
    with pytest.raises(DomainError, match="October 2026 has not ended in Europe/Paris"):
        # 23:59 in Paris on 31 October is 22:59 UTC: still October there.
        close_month("2026-10", seller=settings().seller, at=paris(2026, 10, 31, 23, 59))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CreditNote)) == 0
    close_month("2026-10", seller=settings().seller, at=AFTER_OCTOBER)
    assert the_note() is not None


def test_closing_weeks_later_stamps_the_draft_with_the_closing_instant(ledger, clock):
    """Closed in mid-January (the clock frozen there): the draft says when it was closed."""
    worked_example(ledger)
    clock.freeze(paris(2027, 1, 15, 12, 0))
    close_month("2026-10", seller=settings().seller, at=now_utc())
    assert the_note().closed_at == paris(2027, 1, 15, 12, 0)


def test_closing_again_replaces_the_draft_with_what_is_now_owed(ledger):
    worked_example(ledger)
    close_month("2026-10", seller=settings().seller, at=AFTER_OCTOBER)
    breach = db.session.scalar(sa.select(Breach).where(Breach.metric == "gtr"))
    waive_breach(breach, actor=db.session.merge(ledger["finance"]), reason="Client's own change.",
                 now=paris(2026, 11, 2, 9, 0))
    db.session.commit()
    close_month("2026-10", seller=settings().seller, at=paris(2026, 11, 2, 10, 0))
    note = the_note()
    # 100 + 100 + 100 = 300: exactly the cap, so no cap line.
    assert [line.kind for line in note.lines] == [LineKind.BREACH, LineKind.BREACH,
                                                  LineKind.AVAILABILITY]
    assert note.total_excl_vat == Decimal("300.00")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CreditNote)) == 1
    assert note.closed_at == paris(2026, 11, 2, 10, 0)


def test_a_waived_breach_leaves_the_note_without_its_line(ledger):
    worked_example(ledger)
    for breach in db.session.scalars(sa.select(Breach)):
        waive_breach(breach, actor=db.session.merge(ledger["finance"]), reason="Goodwill.",
                     now=paris(2026, 11, 1, 9, 0))
    db.session.commit()
    close_month("2026-10", seller=settings().seller, at=AFTER_OCTOBER)
    assert [(line.kind, line.amount) for line in the_note().lines] == [
        (LineKind.AVAILABILITY, Decimal("100.00"))]


def test_waiting_on_the_client_after_the_due_instant_is_not_delay(ledger):
    tech = ledger["tech"]
    ticket = open_ticket(ledger, paris(2026, 10, 5, 8, 0))
    services.take_ticket(ticket, actor=tech, now=paris(2026, 10, 5, 9, 0))
    services.wait_on_client(ticket, actor=tech, now=paris(2026, 10, 5, 17, 0))  # due 16:00
    services.reply_to_ticket(ticket, actor=ledger["client"], body="Done.",
                             now=paris(2026, 10, 6, 9, 0))
    services.resolve_ticket(ticket, actor=tech, now=paris(2026, 10, 6, 10, 30))
    sweep(AFTER_OCTOBER)
    db.session.commit()
    close_month("2026-10", seller=settings().seller, at=AFTER_OCTOBER)
    line = the_note().lines[0]
    # 16:00 → 17:00 counted, 17:00 → 09:00 waiting, 09:00 → 10:30 counted: 2 h 30.
    assert (line.metric, line.delay_seconds, line.amount) == ("gtr", 9000, Decimal("60.00"))


def test_a_breach_still_running_at_month_end_counts_its_delay_up_to_the_end(ledger):
    open_ticket(ledger, paris(2026, 10, 31, 20, 0))  # GTI due 22:00, GTR due 04:00 in November
    sweep(AFTER_OCTOBER)
    db.session.commit()
    close_month("2026-10", seller=settings().seller, at=AFTER_OCTOBER)
    note = the_note()
    assert [(line.metric, line.delay_seconds, line.stopped_at) for line in note.lines] == [
        ("gti", 7200, None)]
    assert "still running at the end of the month" in note.lines[0].description


def test_a_breach_of_a_cancelled_ticket_credits_nothing(ledger):
    ticket = open_ticket(ledger, paris(2026, 10, 5, 8, 0))
    sweep(paris(2026, 10, 5, 12, 0))
    services.cancel_ticket(ticket, actor=ledger["tech"], reason="Duplicate of T-1.",
                           now=paris(2026, 10, 5, 12, 30))
    db.session.commit()
    summary = close_month("2026-10", seller=settings().seller, at=AFTER_OCTOBER)
    assert summary.count(Outcome.NOTHING_OWED) == 2


def test_an_outage_crossing_the_month_end_counts_only_its_part_in_the_month(ledger):
    ticket = open_ticket(ledger, paris(2026, 10, 31, 23, 0))
    services.take_ticket(ticket, actor=ledger["tech"], now=paris(2026, 10, 31, 23, 5))
    # 23:00 → 05:00: one hour in October, 1 − 1/745 = 99.866 %: below 99.9 %, above 99.5 %.
    outage(ledger, ticket, paris(2026, 10, 31, 23, 0), paris(2026, 11, 1, 5, 0))
    db.session.commit()
    close_month("2026-10", seller=settings().seller, at=AFTER_OCTOBER)
    line = the_note().lines[0]
    assert (line.kind, line.amount) == (LineKind.AVAILABILITY, Decimal("100.00"))
    assert the_note().downtime_seconds == 3600


def test_credits_outside_the_scope_of_vat_carry_no_vat(ledger):
    worked_example(ledger)
    db.session.merge(ledger["contract"]).current_version.credits_subject_to_vat = False
    db.session.commit()
    close_month("2026-10", seller=settings().seller, at=AFTER_OCTOBER)
    note = the_note()
    assert (note.total_excl_vat, note.vat, note.total_incl_vat, note.credits_subject_to_vat) == (
        Decimal("300.00"), Decimal("0.00"), Decimal("300.00"), False)


def test_closing_one_contract_leaves_the_others_alone(ledger):
    worked_example(ledger)
    summary = close_month("2026-10", seller=settings().seller, at=AFTER_OCTOBER,
                          contract_reference="CT-SHOP")
    assert [r.contract_reference for r in summary.results] == ["CT-SHOP"]


@pytest.mark.parametrize("reference, message", [
    ("CT-NOPE", "There is no contract CT-NOPE"),
])
def test_an_unknown_contract_is_refused_by_name(ledger, reference, message):
    with pytest.raises(DomainError, match=message):
        close_month("2026-10", seller=settings().seller, at=AFTER_OCTOBER,
                    contract_reference=reference)


def test_a_contract_that_starts_after_the_month_is_not_closed(ledger):
    db.session.merge(ledger["other_contract"]).starts_on = date(2026, 11, 1)
    db.session.commit()
    with pytest.raises(DomainError, match="was not in force in October 2026"):
        close_month("2026-10", seller=settings().seller, at=AFTER_OCTOBER,
                    contract_reference="CT-OTHER")


def test_the_invoice_finance_gives_is_printed_on_the_note(ledger):
    worked_example(ledger)
    close_month("2026-10", seller=settings().seller, at=AFTER_OCTOBER,
                invoice=InvoiceReference(" F-2026-0042 ", date(2026, 10, 1)))
    note = the_note()
    assert (note.invoice_number, note.invoice_date) == ("F-2026-0042", date(2026, 10, 1))
    assert note.invoice_reference == "invoice F-2026-0042 of 2026-10-01"


def test_without_an_invoice_number_the_note_refers_to_the_periods_invoice(ledger):
    worked_example(ledger)
    close_month("2026-10", seller=settings().seller, at=AFTER_OCTOBER)
    assert the_note().invoice_reference == "the invoice of 2026-10 under contract CT-SHOP"


def test_an_invoice_date_without_its_number_is_refused(ledger):
    worked_example(ledger)
    with pytest.raises(DomainError, match="invoice number"):
        close_month("2026-10", seller=settings().seller, at=AFTER_OCTOBER,
                    invoice=InvoiceReference(None, date(2026, 10, 1)))
    assert the_note() is None


def test_a_failure_after_a_batch_keeps_that_batch_whole_and_nothing_of_the_next(ledger,
                                                                               monkeypatch):
    """The callback commits each batch: a crash at the second leaves the first batch's draft
    with its lines and audit entry, and nothing of the second."""
    for contract, client in (("contract", "client"), ("other_contract", "other_client")):
        open_ticket(ledger, paris(2026, 10, 5, 8, 0), contract=contract, client=client)
    sweep(AFTER_OCTOBER)
    db.session.commit()
    monkeypatch.setattr("helpdesk.billing.services.BATCH", 1)
    committed: list[str] = []

    def commit_then_crash() -> None:
        if committed:
            raise RuntimeError("the process dies")
        committed.extend(db.session.scalars(sa.select(CreditNote.contract_reference)))
        db.session.commit()

    with pytest.raises(RuntimeError):
        close_month("2026-10", seller=settings().seller, at=AFTER_OCTOBER,
                    on_batch=commit_then_crash)
    db.session.rollback()
    [note] = db.session.scalars(sa.select(CreditNote))
    assert [note.contract_reference] == committed
    assert note.lines and sum(line.amount for line in note.lines) == note.total_excl_vat
    assert list(db.session.scalars(sa.select(AuditEntry.entity_id).where(
        AuditEntry.entity == "credit_note", AuditEntry.action == "close"))) == [str(note.id)]
