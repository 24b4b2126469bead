"""Closing a month into draft credit notes, and issuing them under a gap-free yearly number.

Closing is allowed once the month has ended (in the contract's zone) as of the closing instant. It
replaces the contract's draft for that month, if any; a month that already has an issued note is
not closed again, since an issued note never changes (a correction is a new document).

Issuing takes the next number of the year from a counter row incremented in the issuing
transaction: concurrent issuers wait for each other on that row, and a rolled-back issue gives its
number back, so numbers have neither holes nor duplicates.
"""
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from helpdesk.accounts.models import Organisation, Role, User
from helpdesk.audit.services import diff, record_audit
from helpdesk.billing.credits import (
    AvailabilityLine,
    BreachLine,
    CapLine,
    CreditComputation,
    compute_credit,
    month_bounds,
)
from helpdesk.billing.inputs import ContractMonth, active_contracts_query, load_contract_months
from helpdesk.billing.models import CreditNote, CreditNoteCounter, CreditNoteLine, CreditNoteStatus
from helpdesk.billing.wording import line_description, month_label, reason_for
from helpdesk.contracts.models import Contract
from helpdesk.errors import Conflict, DomainError
from helpdesk.extensions import db

BATCH = 200
NUMBER_PREFIX = "AV"
INVOICE_NUMBER_MAX = 64

Progress = Callable[[int], None]


class Outcome:
    DRAFTED = "drafted"
    NOTHING_OWED = "nothing owed"
    ALREADY_ISSUED = "already issued"
    NOT_ENDED = "month not ended"


@dataclass(frozen=True)
class ContractClosing:
    contract_reference: str
    outcome: str
    message: str
    credit_note_id: int | None = None
    total_excl_vat: Decimal | None = None


@dataclass
class CloseSummary:
    month: str
    results: list[ContractClosing] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for result in self.results if result.outcome == outcome)


@dataclass(frozen=True)
class InvoiceReference:
    number: str | None = None
    issued_on: date | None = None


def can_manage_billing(user: User) -> bool:
    return user.role in (Role.FINANCE, Role.ADMIN)


def seller_identity() -> dict:
    config = current_app.config
    return {"name": config["SELLER_NAME"], "address": config["SELLER_ADDRESS"],
            "company_id": config["SELLER_COMPANY_ID"], "vat_number": config["SELLER_VAT_NUMBER"]}


def client_identity(organisation: Organisation) -> dict:
    return {"name": organisation.name, "address": organisation.address,
            "company_id": organisation.company_id, "vat_number": organisation.vat_number}


def month_not_ended(month: str, timezone: str, at: datetime) -> str | None:
    """Why the month cannot be closed yet as of `at`, or None once it has ended."""
    _, end = month_bounds(month, timezone)
    if at >= end:
        return None
    return (f"{month_label(month)} has not ended in {timezone} as of {at:%Y-%m-%d %H:%M} UTC: "
            f"it can be closed from {end:%Y-%m-%d %H:%M} UTC.")


def check_invoice(invoice: InvoiceReference) -> InvoiceReference:
    number = (invoice.number or "").strip() or None
    if number is not None and len(number) > INVOICE_NUMBER_MAX:
        raise DomainError(f"The invoice number must be at most {INVOICE_NUMBER_MAX} characters.",
                          field="invoice_number")
    if invoice.issued_on is not None and number is None:
        raise DomainError("Give the invoice number with its date.", field="invoice_number")
    return InvoiceReference(number, invoice.issued_on)


def preview(contract: Contract, month: str) -> tuple[ContractMonth, CreditComputation] | None:
    """What closing the month would credit, and why; None when the contract was not in force."""
    months = load_contract_months([contract], month)
    if not months:
        return None
    inputs = months[0]
    return inputs, _compute(inputs, month)


def _compute(inputs: ContractMonth, month: str) -> CreditComputation:
    return compute_credit(inputs.terms, [priced.input for priced in inputs.breaches],
                          inputs.outages, month)


def close_month(month: str, *, at: datetime, actor: User | None = None,
                contract_reference: str | None = None,
                invoice: InvoiceReference = InvoiceReference(),
                progress: Progress | None = None) -> CloseSummary:
    """Close `month` for every contract in force then (or one), a batch of contracts per
    transaction; the caller's session is committed after each batch."""
    invoice = check_invoice(invoice)
    query = active_contracts_query(month)
    if contract_reference is not None:
        query = query.where(Contract.reference == contract_reference)
        if db.session.scalar(sa.select(Contract.id).where(
                Contract.reference == contract_reference)) is None:
            raise DomainError(f"There is no contract {contract_reference}.", field="contract")
    summary = CloseSummary(month)
    seller = seller_identity()
    ids = list(db.session.scalars(query.with_only_columns(Contract.id)))
    if contract_reference is not None and not ids:
        raise DomainError(f"Contract {contract_reference} was not in force in "
                          f"{month_label(month)}.", field="contract")
    for offset in range(0, len(ids), BATCH):
        batch_ids = ids[offset:offset + BATCH]
        locking = sa.select(Contract).where(Contract.id.in_(batch_ids)).order_by(
            Contract.reference)
        if db.session.get_bind().dialect.name == "postgresql":
            # Two closings of the same contract wait for each other rather than collide.
            locking = locking.with_for_update(of=Contract)
        contracts = list(db.session.scalars(locking))
        months = load_contract_months(contracts, month)
        existing = {note.contract_id: note for note in db.session.scalars(
            sa.select(CreditNote).where(CreditNote.contract_id.in_(batch_ids),
                                        CreditNote.month == month))}
        for inputs in months:
            summary.results.append(_close_contract(
                inputs, month, at=at, actor=actor, invoice=invoice, seller=seller,
                existing=existing.get(inputs.contract.id)))
        db.session.commit()
        # Streamed: what a batch loaded is let go before the next one.
        db.session.expunge_all()
        if progress is not None:
            progress(len(batch_ids))
    if summary.results and summary.count(Outcome.NOT_ENDED) == len(summary.results):
        raise DomainError(summary.results[0].message.split(": ", 1)[1], field="month")
    return summary


def _close_contract(inputs: ContractMonth, month: str, *, at: datetime, actor: User | None,
                    invoice: InvoiceReference, seller: dict,
                    existing: CreditNote | None) -> ContractClosing:
    reference = inputs.contract.reference
    if (not_ended := month_not_ended(month, inputs.terms.timezone, at)) is not None:
        return ContractClosing(reference, Outcome.NOT_ENDED, f"{reference}: {not_ended}")
    if existing is not None and existing.is_issued:
        return ContractClosing(reference, Outcome.ALREADY_ISSUED,
                               f"{reference}: {month_label(month)} already has credit note "
                               f"{existing.number}, issued on {existing.issue_date}; an issued "
                               f"note never changes, so nothing new was created.",
                               existing.id, existing.total_excl_vat)
    computation = _compute(inputs, month)
    if existing is not None:
        db.session.delete(existing)
        db.session.flush()
    if computation.is_empty:
        return ContractClosing(reference, Outcome.NOTHING_OWED,
                               f"{reference}: nothing is owed for {month_label(month)}, "
                               f"so no credit note.")
    note = _draft(inputs, computation, month, at=at, actor=actor, invoice=invoice, seller=seller)
    db.session.add(note)
    db.session.flush()
    record_audit(actor=actor, now=at, entity="credit_note", entity_id=note.id, action="close",
                 changes=diff({}, {"total_excl_vat": note.total_excl_vat}))
    return ContractClosing(reference, Outcome.DRAFTED,
                           f"{reference}: draft credit note of {note.total_excl_vat} "
                           f"{note.currency} excl. VAT for {month_label(month)}.",
                           note.id, note.total_excl_vat)


def _draft(inputs: ContractMonth, computation: CreditComputation, month: str, *, at: datetime,
           actor: User | None, invoice: InvoiceReference, seller: dict) -> CreditNote:
    contract, version, terms = inputs.contract, inputs.version, inputs.terms
    breach_ids = {(p.input.reference, p.input.metric): p.breach.id for p in inputs.breaches}
    note = CreditNote(
        contract_id=contract.id, organisation_id=contract.organisation_id,
        contract_version_id=version.id, month=month, status=CreditNoteStatus.DRAFT,
        closed_at=at, closed_by_id=actor.id if actor else None,
        period_start=computation.period_start, period_end=computation.period_end,
        timezone=terms.timezone, currency=terms.currency, monthly_fee=terms.monthly_fee,
        vat_rate=terms.vat_rate, credits_subject_to_vat=terms.credits_subject_to_vat,
        credit_cap_percent=terms.credit_cap_percent,
        availability_target_percent=terms.availability_target_percent,
        availability_percent=computation.availability_percent.quantize(Decimal("0.000001")),
        downtime_seconds=int(computation.downtime.total_seconds()),
        total_excl_vat=computation.total_excl_vat, vat=computation.vat,
        total_incl_vat=computation.total_incl_vat,
        invoice_number=invoice.number, invoice_date=invoice.issued_on,
        contract_reference=contract.reference, contract_title=contract.title,
        seller=seller, client=client_identity(contract.organisation),
        reason=reason_for(contract, computation, month),
    )
    for position, line in enumerate(computation.lines, start=1):
        note.lines.append(_line(line, position, terms.timezone, breach_ids))
    return note


def _line(line, position: int, timezone: str, breach_ids: dict) -> CreditNoteLine:
    row = CreditNoteLine(position=position, kind=line.kind, amount=line.amount,
                         description=line_description(line, timezone))
    if isinstance(line, BreachLine):
        row.breach_id = breach_ids.get((line.reference, line.metric))
        row.ticket_number = line.reference
        row.metric = line.metric
        row.priority_code = line.priority_code
        row.due_at = line.due_at
        row.stopped_at = line.stopped_at
        row.counted_until = line.counted_until
        row.delay_seconds = int(line.delay.total_seconds())
        row.started_hours = line.started_hours
    elif isinstance(line, AvailabilityLine):
        row.availability_percent = line.availability_percent.quantize(Decimal("0.000001"))
        row.target_percent = line.target_percent
    else:
        assert isinstance(line, CapLine)
    return row


def _next_number(year: int) -> int:
    """Take the year's next number; the counter row stays locked until the caller commits."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    db.session.execute(insert(CreditNoteCounter).values(year=year, last_number=0)
                       .on_conflict_do_nothing(index_elements=["year"]))
    return db.session.execute(
        sa.update(CreditNoteCounter).where(CreditNoteCounter.year == year)
        .values(last_number=CreditNoteCounter.last_number + 1)
        .returning(CreditNoteCounter.last_number)
        .execution_options(synchronize_session=False)).scalar_one()


def format_credit_note_number(year: int, number: int) -> str:
    return f"{NUMBER_PREFIX}-{year}-{number:04d}"


def issue_credit_note(note_id: int, *, actor: User | None, now: datetime) -> CreditNote:
    """Number and freeze one draft. The caller commits; until then the number is held."""
    if actor is not None and not can_manage_billing(actor):
        raise DomainError("Only finance and admins may issue credit notes.")
    query = sa.select(CreditNote).where(CreditNote.id == note_id)
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    note = db.session.scalar(query.execution_options(populate_existing=True))
    if note is None:
        raise DomainError("There is no such credit note.")
    if note.is_issued:
        raise Conflict(f"Credit note {note.number} was already issued on {note.issue_date}.")
    issue_date = now.astimezone(ZoneInfo(current_app.config["BILLING_TIMEZONE"])).date()
    number = _next_number(issue_date.year)
    note.status = CreditNoteStatus.ISSUED
    note.sequence_year, note.sequence_number = issue_date.year, number
    note.number = format_credit_note_number(issue_date.year, number)
    note.issue_date = issue_date
    note.issued_at = now
    note.issued_by_id = actor.id if actor else None
    # The identities printed are those of the day the note is issued.
    note.seller = seller_identity()
    note.client = client_identity(note.organisation)
    db.session.flush()
    record_audit(actor=actor, now=now, entity="credit_note", entity_id=note.id, action="issue",
                 changes={"number": [None, note.number]})
    return note


def drafts_of(month: str) -> list[int]:
    return list(db.session.scalars(
        sa.select(CreditNote.id).where(CreditNote.month == month,
                                       CreditNote.status == CreditNoteStatus.DRAFT)
        .order_by(CreditNote.contract_reference)))


def issue_month(month: str, *, actor: User | None, now: datetime,
                progress: Progress | None = None) -> list[str]:
    """Issue every draft of the month, each in its own transaction; the numbers issued."""
    numbers = []
    for note_id in drafts_of(month):
        try:
            note = issue_credit_note(note_id, actor=actor, now=now)
        except Conflict:  # issued meanwhile by someone else
            db.session.rollback()
            continue
        numbers.append(note.number)
        db.session.commit()
        if progress is not None:
            progress(1)
    return numbers

