"""The pure credit computation's inputs, read from the database a batch of contracts at a time.

A breach is priced on what its clock really did up to the end of its month: the ticket's events
are replayed on the breached priority's calendar, so waiting on the client and the time between a
resolution and a reopening are not delay, exactly as the clock counts them.
"""
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from helpdesk.billing.credits import BreachInput, Outage, PenaltyRule, Terms, Tier, month_bounds
from helpdesk.contracts.models import Contract, ContractVersion, Priority
from helpdesk.contracts.models import PenaltyRule as PenaltyRuleRow
from helpdesk.escalation.models import Breach
from helpdesk.extensions import db
from helpdesk.sla.clock import SegmentKind, replay
from helpdesk.tickets.clocks import clock_events
from helpdesk.tickets.models import Outage as OutageRow
from helpdesk.tickets.models import Status, Ticket, TicketEvent, format_number

NOT_COUNTING = (SegmentKind.PAUSED, SegmentKind.STOPPED)
NO_RULE = PenaltyRule()


@dataclass(frozen=True)
class PricedBreach:
    """A breach with what is needed to price it and to describe its line."""

    breach: Breach
    ticket_number: str
    input: BreachInput


@dataclass(frozen=True)
class ContractMonth:
    """Everything the computation of one contract's month reads."""

    contract: Contract
    version: ContractVersion
    terms: Terms
    breaches: list[PricedBreach]
    cancelled: list[Breach]  # breaches of tickets cancelled as invalid: they credit nothing
    outages: list[Outage]


def month_days(month: str) -> tuple[date, date]:
    year, number = (int(part) for part in month.split("-"))
    first = date(year, number, 1)
    following = date(year + (number == 12), number % 12 + 1, 1)
    return first, following - timedelta(days=1)


def active_contracts_query(month: str) -> sa.Select:
    """Contracts in force at some point of the month, in reference order."""
    first, last = month_days(month)
    return (sa.select(Contract)
            .where(Contract.starts_on <= last,
                   sa.or_(Contract.ends_on.is_(None), Contract.ends_on >= first))
            .order_by(Contract.reference))


def terms_of(version: ContractVersion) -> Terms:
    availability_calendar = version.availability_calendar
    return Terms(
        monthly_fee=version.monthly_fee, vat_rate=version.vat_rate,
        credit_cap_percent=version.credit_cap_percent, timezone=version.timezone,
        currency=version.currency, credits_subject_to_vat=version.credits_subject_to_vat,
        availability_target_percent=version.availability_target_percent,
        tiers=tuple(Tier(t.below_percent, t.credit_percent) for t in version.availability_tiers),
        availability_calendar=availability_calendar.engine() if availability_calendar else None,
    )


def _versions_in_force(contracts: list[Contract], month: str) -> dict[int, ContractVersion]:
    """Per contract, the terms in force at the end of the month (fee, VAT, cap, availability);
    each breach keeps the penalty rules of the version its ticket was opened under."""
    latest: dict[int, ContractVersion] = {}
    query = (sa.select(ContractVersion)
             .where(ContractVersion.contract_id.in_([c.id for c in contracts]))
             .order_by(ContractVersion.contract_id, ContractVersion.version)
             .options(selectinload(ContractVersion.availability_tiers),
                      selectinload(ContractVersion.availability_calendar),
                      selectinload(ContractVersion.priorities).selectinload(Priority.calendar)))
    versions = list(db.session.scalars(query))
    for version in versions:
        zone = version.timezone
        _, end = month_bounds(month, zone)
        if version.effective_at < end or version.contract_id not in latest:
            latest[version.contract_id] = version
    return latest


def _pauses(events, metric, breach: Breach, calendar, until: datetime):
    """When the breached clock did not count, and when it finally stopped, as of `until`."""
    own = clock_events([e for e in events if e.at <= until], metric)
    if not own:
        return (), breach.stopped_at
    state = replay(target=timedelta(seconds=breach.target_seconds), calendar=calendar,
                   events=own, now=until)
    pauses = tuple((s.start, s.end) for s in state.segments if s.kind in NOT_COUNTING)
    # A stop after the month is still shown on the line; the delay ends at the month's end.
    stopped = state.stopped_at if state.stopped_at is not None else breach.stopped_at
    return pauses, stopped


def load_contract_months(contracts: list[Contract], month: str) -> list[ContractMonth]:
    """The inputs of a batch of contracts, in a fixed number of queries."""
    if not contracts:
        return []
    ids = [c.id for c in contracts]
    versions = _versions_in_force(contracts, month)

    rows = db.session.execute(
        sa.select(Breach, Ticket.status, Priority, PenaltyRuleRow)
        .join(Ticket, Ticket.id == Breach.ticket_id)
        .join(Priority, Priority.id == Breach.priority_id)
        .outerjoin(PenaltyRuleRow, sa.and_(PenaltyRuleRow.priority_id == Breach.priority_id,
                                           PenaltyRuleRow.metric == Breach.metric))
        .where(Breach.contract_id.in_(ids), Breach.billing_month == month)
        .order_by(Breach.contract_id, Breach.breached_at, Breach.id)
        .options(selectinload(Priority.calendar))).all()
    ticket_ids = {breach.ticket_id for breach, *_ in rows}
    events: dict[int, list] = defaultdict(list)
    for event in db.session.execute(
            sa.select(TicketEvent.ticket_id, TicketEvent.at, TicketEvent.kind, TicketEvent.data)
            .where(TicketEvent.ticket_id.in_(ticket_ids)).order_by(TicketEvent.id)):
        events[event.ticket_id].append(event)

    outages: dict[int, list[Outage]] = defaultdict(list)
    starts = [month_bounds(month, v.timezone) for v in versions.values()]
    if starts:
        earliest = min(start for start, _ in starts)
        latest = max(end for _, end in starts)
        for contract_id, started, ended in db.session.execute(
                sa.select(OutageRow.contract_id, OutageRow.started_at, OutageRow.ended_at)
                .where(OutageRow.contract_id.in_(ids), OutageRow.started_at < latest,
                       sa.or_(OutageRow.ended_at.is_(None), OutageRow.ended_at > earliest))):
            outages[contract_id].append(Outage(started, ended))

    priced: dict[int, list[PricedBreach]] = defaultdict(list)
    cancelled: dict[int, list[Breach]] = defaultdict(list)
    for breach, ticket_status, priority, rule in rows:
        if ticket_status == Status.CANCELLED:
            cancelled[breach.contract_id].append(breach)
            continue
        version = versions[breach.contract_id]
        _, end = month_bounds(month, version.timezone)
        calendar = priority.calendar.engine()
        pauses, stopped = _pauses(events[breach.ticket_id], breach.metric, breach, calendar, end)
        penalty = NO_RULE if rule is None else PenaltyRule(
            fixed=rule.fixed_amount, percent_per_started_hour=rule.percent_per_started_hour)
        number = format_number(breach.ticket_id)
        priced[breach.contract_id].append(PricedBreach(breach, number, BreachInput(
            reference=number, metric=breach.metric.value, priority_code=breach.priority_code,
            due_at=breach.breached_at, stopped_at=stopped, calendar=calendar, rule=penalty,
            waived=breach.is_waived, pauses=pauses)))

    return [ContractMonth(contract=c, version=versions[c.id], terms=terms_of(versions[c.id]),
                          breaches=priced[c.id], cancelled=cancelled[c.id],
                          outages=outages[c.id])
            for c in contracts if c.id in versions]
