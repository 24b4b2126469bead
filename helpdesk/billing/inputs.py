"""The pure credit computation's inputs, read from the database a batch of contracts at a time.

A breach is priced on what its clock really did up to the end of its month: the ticket's events
are replayed on the breached priority's calendar, so waiting on the client and the time between a
resolution and a reopening are not delay, exactly as the clock counts them. Only the clocks
that may have done something else than run from their due instant to the stop their breach
recorded are replayed (see `_needs_replay`): a few in a hundred, in practice.
"""
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from helpdesk.billing.credits import BreachInput, Outage, PenaltyRule, Terms, Tier
from helpdesk.bulk import among
from helpdesk.contracts.models import (
    AvailabilityTier,
    Calendar,
    Contract,
    ContractVersion,
    Metric,
    Priority,
)
from helpdesk.contracts.models import PenaltyRule as PenaltyRuleRow
from helpdesk.escalation.models import Breach
from helpdesk.extensions import db
from helpdesk.month import Month
from helpdesk.sla.calendar import Calendar as EngineCalendar
from helpdesk.sla.clock import SegmentKind, replay
from helpdesk.tickets.clocks import clock_events
from helpdesk.tickets.models import EventKind, Status, Ticket, TicketEvent, format_number
from helpdesk.tickets.models import Outage as OutageRow

NOT_COUNTING = (SegmentKind.PAUSED, SegmentKind.STOPPED)
NO_RULE = PenaltyRule()
# What makes a GTR clock count otherwise than from its due instant straight to its stop.
PAUSING = (EventKind.WAITING, EventKind.RESUMED, EventKind.REOPENED)
# What pricing reads of a breach, when rows rather than objects are loaded.
PRICED_COLUMNS = ("id", "ticket_id", "contract_id", "priority_id", "metric", "priority_code",
                  "target_seconds", "breached_at", "stopped_at", "waived_at")


@dataclass(frozen=True)
class PricedBreach:
    """A breach with what is needed to price it and to describe its line."""

    breach: Breach  # or a row of some of its columns (`load_contract_months(..., rows_only=True)`)
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


def active_contracts_query(month: str) -> sa.Select:
    """Contracts in force at some point of the month, in reference order."""
    parsed = Month.parse(month)
    return (sa.select(Contract)
            .where(Contract.starts_on <= parsed.last_day,
                   sa.or_(Contract.ends_on.is_(None), Contract.ends_on >= parsed.first_day))
            .order_by(Contract.reference))


@dataclass(frozen=True)
class _InForce:
    """A contract's version in force at the end of the month, its terms, and that end."""

    version: ContractVersion
    terms: Terms
    month_end: datetime


def _versions_in_force(contracts: list[Contract], month: str) -> tuple[
        dict[int, _InForce], dict[int, EngineCalendar]]:
    """Per contract, the terms in force at the end of the month (fee, VAT, cap, availability);
    and, by priority id, the service hours of every priority of the contracts' versions, since
    each breach keeps the priority of the version its ticket was opened under.

    The versions are objects; their priorities and tiers are read as rows, and each calendar
    once, so that thousands of contracts cost a few light queries."""
    versions = list(db.session.scalars(
        sa.select(ContractVersion)
        .where(among(ContractVersion.contract_id, [c.id for c in contracts]))
        .order_by(ContractVersion.contract_id, ContractVersion.version)
        .options(selectinload(ContractVersion.availability_calendar))))
    if not versions:
        return {}, {}
    version_ids = [version.id for version in versions]
    connection = db.session.connection()
    priority_rows = connection.execute(
        sa.select(Priority.id, Priority.contract_version_id, Priority.calendar_id)
        .where(among(Priority.contract_version_id, version_ids))
        .order_by(Priority.contract_version_id, Priority.position)).all()
    tiers: dict[int, list[Tier]] = defaultdict(list)
    for version_id, below, credit in connection.execute(
            sa.select(AvailabilityTier.contract_version_id, AvailabilityTier.below_percent,
                      AvailabilityTier.credit_percent)
            .where(among(AvailabilityTier.contract_version_id, version_ids))
            .order_by(AvailabilityTier.contract_version_id, AvailabilityTier.below_percent.desc())
    ).all():
        tiers[version_id].append(Tier(below, credit))
    calendars = {calendar.id: calendar for calendar in db.session.scalars(
        sa.select(Calendar).where(Calendar.id.in_({row.calendar_id for row in priority_rows})))}
    first_calendar: dict[int, Calendar] = {}
    for row in priority_rows:
        first_calendar.setdefault(row.contract_version_id, calendars[row.calendar_id])

    ends: dict[str, datetime] = {}
    latest: dict[int, tuple[ContractVersion, str]] = {}
    for version in versions:
        # As `ContractVersion.timezone`: the availability calendar's zone, else the first
        # priority's.
        zone = (version.availability_calendar or first_calendar[version.id]).timezone
        if zone not in ends:
            ends[zone] = Month.parse(month).bounds(zone)[1]
        if version.effective_at < ends[zone] or version.contract_id not in latest:
            latest[version.contract_id] = version, zone
    in_force = {}
    for contract_id, (version, zone) in latest.items():
        availability = version.availability_calendar
        in_force[contract_id] = _InForce(version, Terms(
            monthly_fee=version.monthly_fee, vat_rate=version.vat_rate,
            credit_cap_percent=version.credit_cap_percent, timezone=zone,
            currency=version.currency, credits_subject_to_vat=version.credits_subject_to_vat,
            availability_target_percent=version.availability_target_percent,
            tiers=tuple(tiers[version.id]),
            availability_calendar=availability.engine() if availability else None,
        ), ends[zone])
    engines = {row.id: calendars[row.calendar_id].engine() for row in priority_rows}
    return in_force, engines


def _pauses(events: Iterable[sa.Row[Any]], metric: Metric, breach: Breach | sa.Row[Any],
            calendar: EngineCalendar, until: datetime
            ) -> tuple[tuple[tuple[datetime, datetime], ...], datetime | None]:
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


def _needs_replay(breach: Breach | sa.Row[Any], paused_after_due: bool) -> bool:
    """Whether the breached clock may have counted otherwise than from its due instant straight
    to the stop its breach recorded. A GTI clock never pauses. A GTR clock that breached was
    running at its due instant, so only a wait or a reopening from then on changes its delay
    or its stop; one paused or reopened before only moved its due instant, which the breach
    holds. A breach without a stop yet is replayed to find one before the month's end."""
    if breach.stopped_at is None:
        return True
    return breach.metric == Metric.GTR and paused_after_due


def _events(ticket_ids: set[int]) -> dict[int, list]:
    """The events of these tickets, in order, per ticket."""
    events: dict[int, list] = defaultdict(list)
    if ticket_ids:
        table = TicketEvent.__table__
        for event in db.session.connection().execute(
                sa.select(table.c.ticket_id, table.c.at, table.c.kind, table.c.data)
                .where(among(table.c.ticket_id, ticket_ids))
                .order_by(table.c.ticket_id, table.c.id)).all():
            events[event.ticket_id].append(event)
    return events


def _penalty_rules(priority_ids: set[int]) -> dict[tuple[int, Metric], PenaltyRule]:
    rules: dict[tuple[int, Metric], PenaltyRule] = {}
    shared: dict[tuple, PenaltyRule] = {}  # most contracts have the same few rules
    if priority_ids:
        for priority_id, metric, fixed, percent in db.session.connection().execute(
                sa.select(PenaltyRuleRow.priority_id, PenaltyRuleRow.metric,
                          PenaltyRuleRow.fixed_amount, PenaltyRuleRow.percent_per_started_hour)
                .where(among(PenaltyRuleRow.priority_id, priority_ids))).all():
            rule = shared.get((fixed, percent))
            if rule is None:
                rule = shared[fixed, percent] = PenaltyRule(fixed=fixed,
                                                            percent_per_started_hour=percent)
            rules[priority_id, metric] = rule
    return rules


def _breaches(ids: list[int], month: str, *, rows_only: bool) -> list[tuple]:
    """(breach, its ticket's status, whether its ticket waited or was reopened from the due
    instant on) of the contracts' month, in due order. The ticket's two facts are looked up per
    breach by primary key and by the events' ticket index, whatever the size of the tables."""
    columns = Breach.__table__.c
    status = sa.select(Ticket.status).where(Ticket.id == columns.ticket_id).scalar_subquery()
    # A scalar subquery, not EXISTS, which PostgreSQL may run as one scan of every event.
    paused = (sa.select(sa.literal(1))
              .where(TicketEvent.ticket_id == columns.ticket_id, TicketEvent.kind.in_(PAUSING),
                     TicketEvent.at >= columns.breached_at)
              .limit(1).scalar_subquery().is_not(None))
    read = [columns[name] for name in PRICED_COLUMNS] if rows_only else [Breach]
    query = (sa.select(*read, status, paused)
             .where(among(columns.contract_id, ids), columns.billing_month == month)
             .order_by(columns.contract_id, columns.breached_at, columns.id))
    # Fetched at once: iterating a result fetches its rows one by one.
    if rows_only:
        return [(row, *row[-2:]) for row in db.session.connection().execute(query).all()]
    return [tuple(row) for row in db.session.execute(query).all()]


def load_contract_months(contracts: list[Contract], month: str, *,
                         rows_only: bool = False) -> list[ContractMonth]:
    """The inputs of a batch of contracts, in a fixed number of queries.

    With `rows_only`, each breach (`PricedBreach.breach`, `ContractMonth.cancelled`) is a
    read-only row of the columns pricing reads (`PRICED_COLUMNS`) instead of a `Breach`
    object, for a fraction of the cost: what closing thousands of contracts reads (it needs
    the breach's id alone)."""
    if not contracts:
        return []
    ids = [c.id for c in contracts]
    in_force, calendars = _versions_in_force(contracts, month)

    rows = _breaches(ids, month, rows_only=rows_only)
    # A breach's priority belongs to a version of its own contract, so it is loaded already.
    missing = {breach.priority_id for breach, *_ in rows} - calendars.keys()
    if missing:
        calendars.update((p.id, p.calendar.engine()) for p in db.session.scalars(
            sa.select(Priority).where(Priority.id.in_(missing))
            .options(selectinload(Priority.calendar))))
    rules = _penalty_rules({breach.priority_id for breach, *_ in rows})
    replayed = {breach.id for breach, status, paused_after_due in rows
                if status != Status.CANCELLED and _needs_replay(breach, paused_after_due)}
    events = _events({breach.ticket_id for breach, *_ in rows if breach.id in replayed})

    outages: dict[int, list[Outage]] = defaultdict(list)
    if in_force:
        earliest = min(Month.parse(month).bounds(f.terms.timezone)[0]
                       for f in in_force.values())
        latest = max(f.month_end for f in in_force.values())
        for contract_id, started, ended in db.session.connection().execute(
                sa.select(OutageRow.contract_id, OutageRow.started_at, OutageRow.ended_at)
                .where(among(OutageRow.contract_id, ids), OutageRow.started_at < latest,
                       sa.or_(OutageRow.ended_at.is_(None), OutageRow.ended_at > earliest))
                .order_by(OutageRow.contract_id, OutageRow.started_at, OutageRow.id)).all():
            outages[contract_id].append(Outage(started, ended))

    priced: dict[int, list[PricedBreach]] = defaultdict(list)
    cancelled: dict[int, list[Breach]] = defaultdict(list)
    for breach, ticket_status, _ in rows:
        if ticket_status == Status.CANCELLED:
            cancelled[breach.contract_id].append(breach)
            continue
        calendar = calendars[breach.priority_id]
        if breach.id in replayed:
            pauses, stopped = _pauses(events.get(breach.ticket_id, ()), breach.metric, breach,
                                      calendar, in_force[breach.contract_id].month_end)
        else:
            pauses, stopped = (), breach.stopped_at
        number = format_number(breach.ticket_id)
        priced[breach.contract_id].append(PricedBreach(breach, number, BreachInput(
            reference=number, metric=breach.metric.value, priority_code=breach.priority_code,
            due_at=breach.breached_at, stopped_at=stopped, calendar=calendar,
            rule=rules.get((breach.priority_id, breach.metric), NO_RULE),
            waived=breach.waived_at is not None, pauses=pauses)))

    return [ContractMonth(contract=c, version=in_force[c.id].version, terms=in_force[c.id].terms,
                          breaches=priced[c.id], cancelled=cancelled[c.id],
                          outages=outages[c.id])
            for c in contracts if c.id in in_force]
