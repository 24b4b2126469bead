"""Closing a month into draft credit notes, and issuing them under a gap-free yearly number.

Closing is allowed once the month has ended (in the contract's zone) as of the closing instant,
which the callers take from the real clock: a month is closed only once it has ended. It
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
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import joinedload

from helpdesk.accounts.access import manages_billing
from helpdesk.accounts.models import Organisation, User
from helpdesk.audit.models import AuditEntry
from helpdesk.audit.services import diff, record_audit
from helpdesk.billing.credits import (
    AvailabilityLine,
    BreachLine,
    CapLine,
    CreditComputation,
    CreditLine,
    compute_credit,
)
from helpdesk.billing.inputs import (
    ContractMonth,
    active_contracts_query,
    load_contract_months,
)
from helpdesk.billing.models import CreditNote, CreditNoteCounter, CreditNoteLine, CreditNoteStatus
from helpdesk.billing.settings import BillingSettings, Seller
from helpdesk.billing.wording import line_description, reason_for
from helpdesk.bulk import among, insert_rows
from helpdesk.contracts.models import Contract
from helpdesk.errors import Conflict, DomainError, NotFound
from helpdesk.extensions import db
from helpdesk.month import Month

BATCH = 200
NUMBER_PREFIX = "AV"
INVOICE_NUMBER_MAX = 64

Progress = Callable[[int], None]
# Called once a batch is flushed: where the edge commits it, so that each batch is a transaction.
BatchDone = Callable[[], None]


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
    refusal: DomainError | None = None  # why the month could not be closed yet
    currency: str | None = None


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




def client_identity(organisation: Organisation) -> dict:
    return {"name": organisation.name, "address": organisation.address,
            "company_id": organisation.company_id, "vat_number": organisation.vat_number}


def month_not_ended(month: str, timezone: str, at: datetime) -> DomainError | None:
    """Why the month cannot be closed yet as of `at`, a refusal to raise or show; None once
    it has ended."""
    parsed = Month.parse(month)
    _, end = parsed.bounds(timezone)
    if at >= end:
        return None
    return DomainError("%(month)s has not ended in %(zone)s as of %(at)s UTC: it can be closed "
                       "from %(end)s UTC.", field="month", month=parsed, zone=timezone,
                       at=f"{at:%Y-%m-%d %H:%M}", end=f"{end:%Y-%m-%d %H:%M}")


def check_invoice(invoice: InvoiceReference) -> InvoiceReference:
    number = (invoice.number or "").strip() or None
    if number is not None and len(number) > INVOICE_NUMBER_MAX:
        raise DomainError("The invoice number must be at most %(max)d characters.",
                          field="invoice_number", max=INVOICE_NUMBER_MAX)
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


def close_month(month: str, *, at: datetime, seller: Seller, actor: User | None = None,
                contract_reference: str | None = None,
                invoice: InvoiceReference = InvoiceReference(),
                progress: Progress | None = None,
                on_batch: BatchDone | None = None) -> CloseSummary:
    """Close `month` for every contract in force then (or one), a batch of contracts at a time.
    Each batch is written, then handed to `on_batch`: the command line and the page commit
    there, so that a failure loses only the batch under way and the session lets go of what
    each batch loaded. Without it the batches stay in the caller's transaction (a preview rolls
    them back)."""
    invoice = check_invoice(invoice)
    query = active_contracts_query(month)
    if contract_reference is not None:
        query = query.where(Contract.reference == contract_reference)
        if db.session.scalar(sa.select(Contract.id).where(
                Contract.reference == contract_reference)) is None:
            raise DomainError("There is no contract %(reference)s.", field="contract",
                              reference=contract_reference)
    summary = CloseSummary(month)
    seller_identity = seller.identity()
    # Read once: the session lets go of every object, the actor too, after each batch.
    actor_id = actor.id if actor is not None else None
    ids = list(db.session.scalars(query.with_only_columns(Contract.id)))
    if contract_reference is not None and not ids:
        raise DomainError("Contract %(reference)s was not in force in %(month)s.",
                          field="contract", reference=contract_reference,
                          month=Month.parse(month))
    for offset in range(0, len(ids), BATCH):
        batch_ids = ids[offset:offset + BATCH]
        locking = (sa.select(Contract).where(among(Contract.id, batch_ids))
                   .order_by(Contract.reference).options(joinedload(Contract.organisation)))
        if db.session.get_bind().dialect.name == "postgresql":
            # Two closings of the same contract wait for each other rather than collide.
            locking = locking.with_for_update(of=Contract)
        contracts = list(db.session.scalars(locking))
        months = load_contract_months(contracts, month, rows_only=True)
        notes = (sa.select(CreditNote.id, CreditNote.contract_id, CreditNote.status,
                           CreditNote.number, CreditNote.issue_date, CreditNote.total_excl_vat)
                 .where(among(CreditNote.contract_id, batch_ids), CreditNote.month == month))
        if db.session.get_bind().dialect.name == "postgresql":
            # Issuing locks the note too: a draft being issued is waited for, then seen issued
            # and left alone; one being replaced is gone when the issuer gets it.
            notes = notes.with_for_update()
        existing = {note.contract_id: note for note in db.session.execute(notes)}
        drafts = _Drafts(month=month, at=at, actor_id=actor_id, invoice=invoice,
                          seller=seller_identity)
        closings = [_close_contract(inputs, month, at=at, drafts=drafts,
                                    existing=existing.get(inputs.contract.id))
                    for inputs in months]
        summary.results.extend(drafts.write(closings))
        if on_batch is not None:
            on_batch()
        # Streamed: what a batch loaded is let go before the next one.
        db.session.expunge_all()
        if progress is not None:
            progress(len(batch_ids))
    if summary.results and summary.count(Outcome.NOT_ENDED) == len(summary.results):
        raise summary.results[0].refusal
    return summary


def _close_contract(inputs: ContractMonth, month: str, *, at: datetime, drafts: "_Drafts",
                    existing: sa.Row | None) -> ContractClosing | None:
    """What closing does for one contract; None when it drafts a note, which `drafts` writes
    with the rest of the batch. `existing` is the month's note already there, if any (its id,
    status, number, issue date and total)."""
    reference = inputs.contract.reference
    if (not_ended := month_not_ended(month, inputs.terms.timezone, at)) is not None:
        return ContractClosing(reference, Outcome.NOT_ENDED, f"{reference}: {not_ended.message}",
                               refusal=not_ended)
    if existing is not None and existing.status == CreditNoteStatus.ISSUED:
        return ContractClosing(reference, Outcome.ALREADY_ISSUED,
                               f"{reference}: {Month.parse(month).label} already has credit note "
                               f"{existing.number}, issued on {existing.issue_date}; an issued "
                               f"note never changes, so nothing new was created.",
                               existing.id, existing.total_excl_vat)
    computation = _compute(inputs, month)
    if existing is not None:
        drafts.replaced.append(existing.id)
    if computation.is_empty:
        return ContractClosing(reference, Outcome.NOTHING_OWED,
                               f"{reference}: nothing is owed for {Month.parse(month).label}, "
                               f"so no credit note.")
    drafts.add(inputs, computation)
    return None


@dataclass
class _Drafts:
    """The drafts of a batch of contracts, written as a few set-based statements (a note, its
    lines and its audit entry one at a time through the ORM cost milliseconds each)."""

    month: str
    at: datetime
    actor_id: int | None
    invoice: InvoiceReference
    seller: dict
    replaced: list[int] = field(default_factory=list)  # the drafts closing again replaces
    notes: list[dict] = field(default_factory=list)
    lines: list[list[dict]] = field(default_factory=list)  # per note, in the same order

    def add(self, inputs: ContractMonth, computation: CreditComputation) -> None:
        self.notes.append(_note_row(inputs, computation, self.month, at=self.at,
                                    actor_id=self.actor_id, invoice=self.invoice,
                                    seller=self.seller))
        timezone = inputs.terms.timezone
        breach_ids = {(p.input.reference, p.input.metric): p.breach.id for p in inputs.breaches}
        self.lines.append([_line_row(line, position, timezone, breach_ids)
                           for position, line in enumerate(computation.lines, start=1)])

    def write(self, closings: list[ContractClosing | None]) -> list[ContractClosing]:
        """Replace the drafts, and return the closings with those of the new drafts filled in."""
        unsynchronised = {"synchronize_session": False}
        if self.replaced:
            # Their lines go with them (ON DELETE CASCADE). Only drafts are replaced, never an
            # issued note, even one issued meanwhile: the new draft then collides with it, and
            # the batch is rolled back.
            db.session.execute(sa.delete(CreditNote).where(
                among(CreditNote.id, self.replaced), CreditNote.status == CreditNoteStatus.DRAFT),
                execution_options=unsynchronised)
        if not self.notes:
            return list(closings)
        note_ids = insert_rows(CreditNote, self.notes, with_ids=True)
        for note_id, lines in zip(note_ids, self.lines, strict=True):
            for line in lines:
                line["credit_note_id"] = note_id
        insert_rows(CreditNoteLine, [line for lines in self.lines for line in lines])
        # The audit trail of each draft, as `record_audit` writes it.
        insert_rows(AuditEntry, [
            {"at": self.at, "actor_id": self.actor_id, "entity": "credit_note",
             "entity_id": str(note_id), "action": "close",
             "changes": diff({}, {"total_excl_vat": note["total_excl_vat"]}), "reason": ""}
            for note_id, note in zip(note_ids, self.notes, strict=True)])
        drafted = iter(zip(note_ids, self.notes, strict=True))
        return [closing or self._drafted(*next(drafted)) for closing in closings]

    def _drafted(self, note_id: int, note: dict) -> ContractClosing:
        reference, total = note["contract_reference"], note["total_excl_vat"]
        return ContractClosing(reference, Outcome.DRAFTED,
                               f"{reference}: draft credit note of {total} {note['currency']} "
                               f"excl. VAT for {Month.parse(self.month).label}.", note_id, total,
                               currency=note["currency"])


def _note_row(inputs: ContractMonth, computation: CreditComputation, month: str, *,
              at: datetime, actor_id: int | None, invoice: InvoiceReference,
              seller: dict) -> dict:
    contract, version, terms = inputs.contract, inputs.version, inputs.terms
    return dict(
        contract_id=contract.id, organisation_id=contract.organisation_id,
        contract_version_id=version.id, month=month, status=CreditNoteStatus.DRAFT,
        closed_at=at, closed_by_id=actor_id,
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


# Every line has every column, so that a batch of lines is one statement.
_NO_DETAIL = dict.fromkeys(
    ("breach_id", "ticket_number", "metric", "priority_code", "due_at", "stopped_at",
     "counted_until", "delay_seconds", "started_hours", "availability_percent",
     "target_percent"))


def _line_row(line: CreditLine, position: int, timezone: str, breach_ids: dict) -> dict:
    row = {**_NO_DETAIL, "position": position, "kind": line.kind, "amount": line.amount,
           "description": line_description(line, timezone), "credit_note_id": None}
    if isinstance(line, BreachLine):
        row.update(
            breach_id=breach_ids.get((line.reference, line.metric)),
            ticket_number=line.reference, metric=line.metric,
            priority_code=line.priority_code, due_at=line.due_at, stopped_at=line.stopped_at,
            counted_until=line.counted_until, delay_seconds=int(line.delay.total_seconds()),
            started_hours=line.started_hours)
    elif isinstance(line, AvailabilityLine):
        row.update(availability_percent=line.availability_percent.quantize(Decimal("0.000001")),
                   target_percent=line.target_percent)
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


def issue_credit_note(note_id: int, *, actor: User | None, now: datetime,
                      settings: BillingSettings) -> CreditNote:
    """Number and freeze one draft. The caller commits; until then the number is held."""
    if actor is not None and not manages_billing(actor):
        raise DomainError("Only finance and admins may issue credit notes.")
    query = sa.select(CreditNote).where(CreditNote.id == note_id)
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    note = db.session.scalar(query.execution_options(populate_existing=True))
    if note is None:
        raise NotFound("There is no such credit note: it may have been replaced by closing the "
                       "month again.")
    if note.is_issued:
        raise Conflict("Credit note %(number)s was already issued on %(date)s.",
                       number=note.number, date=note.issue_date.isoformat())
    issue_date = now.astimezone(ZoneInfo(settings.timezone)).date()
    number = _next_number(issue_date.year)
    note.status = CreditNoteStatus.ISSUED
    note.sequence_year, note.sequence_number = issue_date.year, number
    note.number = format_credit_note_number(issue_date.year, number)
    note.issue_date = issue_date
    note.issued_at = now
    note.issued_by_id = actor.id if actor else None
    # The identities printed are those of the day the note is issued.
    note.seller = settings.seller.identity()
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


def issue_month(month: str, *, actor: User | None, now: datetime, settings: BillingSettings,
                progress: Progress | None = None,
                on_batch: BatchDone | None = None) -> list[str]:
    """Issue every draft of the month; the numbers issued. Each draft is a batch of its own,
    handed to `on_batch` once issued: the command line and the page commit there, so that each
    number is taken in its own transaction. Without it the drafts stay in the caller's
    transaction (a preview rolls them back)."""
    numbers = []
    for note_id in drafts_of(month):
        try:
            note = issue_credit_note(note_id, actor=actor, now=now, settings=settings)
        except (Conflict, NotFound):  # issued, or replaced, meanwhile by someone else
            # Nothing was written for this one: ending its transaction only lets go of its lock.
            if on_batch is not None:
                on_batch()
            continue
        numbers.append(note.number)
        if on_batch is not None:
            on_batch()
        if progress is not None:
            progress(1)
    return numbers

