"""What a month's credits would have been under other terms: the month's recorded breaches and
outages priced twice by the one computation (`credits.compute_credit`), under the terms that
applied and under proposed ones.

The breaches are those recorded: a proposed GTI or GTR, or other service hours, would have moved
due instants, which only replaying every ticket of the month could tell; the proposal changes
what each breach and each shortfall costs (fee, penalties, tiers, cap, VAT)."""
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

import sqlalchemy as sa

from helpdesk.billing.credits import CreditComputation, PenaltyRule, Terms, Tier, compute_credit
from helpdesk.billing.inputs import NO_RULE, ContractMonth
from helpdesk.billing.models import CreditNote
from helpdesk.billing.services import preview
from helpdesk.contracts.models import Contract
from helpdesk.extensions import db
from helpdesk.sla.calendar import Calendar as EngineCalendar


@dataclass(frozen=True)
class ProposedTerms:
    """Terms not yet saved, as far as credits go; penalty rules by (priority code, metric)."""

    monthly_fee: Decimal
    currency: str
    vat_rate: Decimal
    credit_cap_percent: Decimal
    credits_subject_to_vat: bool
    availability_target_percent: Decimal | None
    tiers: tuple[Tier, ...]
    availability_calendar: EngineCalendar | None  # None: 24/7 in the contract's zone
    priority_codes: frozenset[str]
    rules: Mapping[tuple[str, str], PenaltyRule]  # a priority without a rule credits nothing


@dataclass(frozen=True)
class MonthComparison:
    month: str
    inputs: ContractMonth
    current: CreditComputation  # what the terms in force credit
    proposed: CreditComputation  # what the proposed terms would have credited
    # Priorities of the month's breaches that the proposed terms no longer have: no penalty.
    dropped_priorities: tuple[str, ...]
    note: CreditNote | None  # the month's credit note, drafted or issued, if it was closed


def compare_month(contract: Contract, month: str,
                  proposed: ProposedTerms) -> MonthComparison | None:
    """The month's credits under its terms and under `proposed`; None when the contract was not
    in force that month. The month keeps the zone it was counted in."""
    found = preview(contract, month)
    if found is None:
        return None
    inputs, current = found
    terms = Terms(
        monthly_fee=proposed.monthly_fee, vat_rate=proposed.vat_rate,
        credit_cap_percent=proposed.credit_cap_percent, timezone=inputs.terms.timezone,
        currency=proposed.currency, credits_subject_to_vat=proposed.credits_subject_to_vat,
        availability_target_percent=proposed.availability_target_percent,
        tiers=proposed.tiers, availability_calendar=proposed.availability_calendar)
    breaches = [replace(priced.input,
                        rule=proposed.rules.get((priced.input.priority_code, priced.input.metric),
                                                NO_RULE))
                for priced in inputs.breaches]
    dropped = sorted({priced.input.priority_code for priced in inputs.breaches}
                     - proposed.priority_codes)
    note = db.session.scalar(sa.select(CreditNote).where(CreditNote.contract_id == contract.id,
                                                         CreditNote.month == month))
    return MonthComparison(month, inputs, current,
                           compute_credit(terms, breaches, inputs.outages, month), tuple(dropped),
                           note)
