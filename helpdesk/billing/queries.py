"""Reads for the billing pages: a month's contracts with what closing would credit, one contract's
preview, credit notes as each viewer may see them, and a client's monthly SLA report.

Nothing here writes: what closing would credit is computed as `services.preview` computes it, a
page of contracts at a time.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from helpdesk.accounts.access import manages_billing, sees_every_organisation
from helpdesk.accounts.models import User
from helpdesk.billing.credits import (
    AvailabilityLine,
    BreachLine,
    CreditComputation,
    availability_credit_percent,
    compute_credit,
)
from helpdesk.billing.inputs import ContractMonth, active_contracts_query, load_contract_months
from helpdesk.billing.models import CreditNote, CreditNoteStatus
from helpdesk.billing.services import month_not_ended, preview
from helpdesk.contracts.models import Contract
from helpdesk.errors import DomainError
from helpdesk.escalation.models import Breach
from helpdesk.extensions import db

PAGE_SIZE = 50


# -- finance: a month's contracts ----------------------------------------------------------------


@dataclass(frozen=True)
class ContractRow:
    """One contract in force in the month, as the month page lists it."""

    contract: Contract
    breaches: int
    waived: int
    computation: CreditComputation | None  # None: the contract has no terms to compute with
    note: CreditNote | None
    not_ended: DomainError | None  # why the month cannot be closed yet for this contract

    @property
    def draft_out_of_date(self) -> bool:
        """The draft no longer says what closing would credit now (a waiver, a late breach)."""
        return (self.note is not None and not self.note.is_issued
                and self.computation is not None
                and self.note.total_excl_vat != self.computation.total_excl_vat)


@dataclass(frozen=True)
class MonthPage:
    month: str
    rows: list[ContractRow]
    after: str | None  # the reference this page starts after, None on the first page
    next_after: str | None  # the reference the next page starts after, None on the last page
    drafts: int  # in the whole month, not only on this page
    issued: int

    @property
    def not_ended(self) -> DomainError | None:
        """Why no contract of this page can be closed yet, if none can."""
        reasons = [row.not_ended for row in self.rows]
        if reasons and all(reasons):
            return reasons[0]
        return None


def _computations(contracts: list[Contract], month: str) -> dict[int, tuple[ContractMonth,
                                                                          CreditComputation]]:
    """What closing would credit, per contract id: `services.preview` for a batch of contracts,
    in a fixed number of queries."""
    return {inputs.contract.id: (inputs, compute_credit(
        inputs.terms, [priced.input for priced in inputs.breaches], inputs.outages, month))
        for inputs in load_contract_months(contracts, month)}


def month_page(month: str, *, at: datetime, after: str | None = None,
               size: int | None = None) -> MonthPage:
    """The contracts in force in `month`, `size` at a time in reference order after `after`."""
    size = size or PAGE_SIZE
    query = active_contracts_query(month).options(selectinload(Contract.organisation))
    if after:
        query = query.where(Contract.reference > after)
    contracts = list(db.session.scalars(query.limit(size + 1)))
    next_after = contracts[size - 1].reference if len(contracts) > size else None
    contracts = contracts[:size]
    ids = [contract.id for contract in contracts]

    counts = {(contract_id, waived): count for contract_id, waived, count in db.session.execute(
        sa.select(Breach.contract_id, Breach.waived_at.is_not(None), sa.func.count())
        .where(Breach.contract_id.in_(ids), Breach.billing_month == month)
        .group_by(Breach.contract_id, Breach.waived_at.is_not(None)))}
    notes = {note.contract_id: note for note in db.session.scalars(
        sa.select(CreditNote).where(CreditNote.contract_id.in_(ids), CreditNote.month == month))}
    computed = _computations(contracts, month)
    rows = []
    for contract in contracts:
        inputs, computation = computed.get(contract.id, (None, None))
        rows.append(ContractRow(
            contract=contract, breaches=counts.get((contract.id, False), 0),
            waived=counts.get((contract.id, True), 0), computation=computation,
            note=notes.get(contract.id),
            not_ended=month_not_ended(month, inputs.terms.timezone, at) if inputs else None))
    by_status = dict(db.session.execute(
        sa.select(CreditNote.status, sa.func.count()).where(CreditNote.month == month)
        .group_by(CreditNote.status)).all())
    return MonthPage(month=month, rows=rows, after=after, next_after=next_after,
                     drafts=by_status.get(CreditNoteStatus.DRAFT, 0),
                     issued=by_status.get(CreditNoteStatus.ISSUED, 0))


def draft_count(month: str) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(CreditNote).where(
        CreditNote.month == month, CreditNote.status == CreditNoteStatus.DRAFT)) or 0


def issued_at(month: str, at: datetime) -> list[sa.Row]:
    """The month's notes issued at the instant `at`, in number order: their number, contract
    reference, total excl. VAT and currency."""
    return db.session.execute(
        sa.select(CreditNote.number, CreditNote.contract_reference, CreditNote.total_excl_vat,
                  CreditNote.currency)
        .where(CreditNote.month == month, CreditNote.status == CreditNoteStatus.ISSUED,
               CreditNote.issued_at == at)
        .order_by(CreditNote.sequence_year, CreditNote.sequence_number)).all()


# -- finance: one contract's preview -------------------------------------------------------------


@dataclass(frozen=True)
class WaivedLine:
    """What a waived breach would have credited, and why it does not."""

    line: BreachLine
    reason: str
    waived_by: str | None
    waived_at: datetime | None


@dataclass(frozen=True)
class ContractPreview:
    contract: Contract
    inputs: ContractMonth
    computation: CreditComputation
    waived: list[WaivedLine]
    scheduled: timedelta  # the month's length on the availability calendar
    availability_line: AvailabilityLine | None
    tier_percent: Decimal | None  # the availability tier's credit, None without a target
    note: CreditNote | None
    not_ended: DomainError | None

    @property
    def timezone(self) -> str:
        return self.inputs.terms.timezone


def contract_preview(reference: str, month: str, *, at: datetime) -> ContractPreview | None:
    """What closing `month` would credit `reference`, line by line; None when there is no such
    contract or it was not in force that month."""
    contract = db.session.scalar(
        active_contracts_query(month).where(Contract.reference == reference))
    if contract is None:
        return None
    previewed = preview(contract, month)
    if previewed is None:
        return None
    inputs, computation = previewed
    breaches = {(priced.input.reference, priced.input.metric): priced.breach
                for priced in inputs.breaches}
    waived = []
    for line in computation.waived:
        breach = breaches[(line.reference, line.metric)]
        waived.append(WaivedLine(line, breach.waiver_reason or "",
                                 breach.waived_by.name if breach.waived_by else None,
                                 breach.waived_at))
    terms = inputs.terms
    tier = (availability_credit_percent(computation.availability_percent, terms.tiers)
            if terms.availability_target_percent is not None else None)
    return ContractPreview(
        contract=contract, inputs=inputs, computation=computation, waived=waived,
        scheduled=terms.calendar.elapsed(computation.period_start, computation.period_end),
        availability_line=next((line for line in computation.lines
                                if isinstance(line, AvailabilityLine)), None),
        tier_percent=tier,
        note=db.session.scalar(sa.select(CreditNote).where(
            CreditNote.contract_id == contract.id, CreditNote.month == month)),
        not_ended=month_not_ended(month, terms.timezone, at))


# -- credit notes as each viewer may see them ----------------------------------------------------


def credit_note(viewer: User, note_id: int) -> CreditNote | None:
    """A credit note the viewer may read: finance and admins any, a client only the issued notes
    of its own organisation (a draft is not a document yet)."""
    query = sa.select(CreditNote).where(CreditNote.id == note_id).options(
        selectinload(CreditNote.lines))
    if not sees_every_organisation(viewer):
        query = query.where(CreditNote.organisation_id == viewer.organisation_id,
                            CreditNote.status == CreditNoteStatus.ISSUED)
    elif not manages_billing(viewer):
        return None
    return db.session.scalar(query)


def client_credit_notes(organisation_id: int, *, month: str | None = None) -> list[CreditNote]:
    """An organisation's issued credit notes, the newest first."""
    query = (sa.select(CreditNote)
             .where(CreditNote.organisation_id == organisation_id,
                    CreditNote.status == CreditNoteStatus.ISSUED)
             .order_by(CreditNote.sequence_year.desc(), CreditNote.sequence_number.desc()))
    if month is not None:
        query = query.where(CreditNote.month == month)
    return list(db.session.scalars(query))


# -- client: what billing reckons of each contract's month, for the SLA report ------------------


@dataclass(frozen=True)
class MonthFigures:
    """A contract's month as billing counts it, in the zone of its terms."""

    contract: Contract
    timezone: str
    period_start: datetime
    period_end: datetime
    downtime: timedelta
    availability_percent: Decimal
    availability_target_percent: Decimal | None


def month_figures(organisation_id: int, month: str) -> list[MonthFigures]:
    """The organisation's contracts in force in `month`, in reference order, with their period,
    downtime and availability."""
    contracts = list(db.session.scalars(
        active_contracts_query(month).where(Contract.organisation_id == organisation_id)))
    computed = _computations(contracts, month)
    return [MonthFigures(contract=contract, timezone=inputs.terms.timezone,
                         period_start=computation.period_start,
                         period_end=computation.period_end, downtime=computation.downtime,
                         availability_percent=computation.availability_percent,
                         availability_target_percent=inputs.terms.availability_target_percent)
            for contract in contracts if contract.id in computed
            for inputs, computation in [computed[contract.id]]]
