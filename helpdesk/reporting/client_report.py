"""A client's monthly SLA report: per contract, the clocks met and breached, by priority, the
breaches, and the availability and credits billing reckoned for the month.

Billing's figures come in as plain values (`ContractMonth`, `IssuedCredit`): reporting and
billing stand side by side and neither imports the other; the page that shows the report asks
both (`helpdesk.portal`).
"""
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from helpdesk.contracts.models import Contract, Metric, Priority
from helpdesk.escalation.models import Breach
from helpdesk.extensions import db
from helpdesk.tickets.models import SlaClock, SlaStatus, Status, Ticket


class ContractMonth(Protocol):
    """A contract's month as billing counts it, in the zone of its terms."""

    @property
    def contract(self) -> Contract: ...
    @property
    def timezone(self) -> str: ...
    @property
    def period_start(self) -> datetime: ...
    @property
    def period_end(self) -> datetime: ...
    @property
    def downtime(self) -> timedelta: ...
    @property
    def availability_percent(self) -> Decimal: ...
    @property
    def availability_target_percent(self) -> Decimal | None: ...


class IssuedCredit(Protocol):
    """An issued credit note, as the report lists and totals it."""

    @property
    def contract_reference(self) -> str: ...
    @property
    def total_excl_vat(self) -> Decimal: ...
    @property
    def currency(self) -> str: ...


@dataclass(frozen=True)
class ClockScore:
    """Among the clocks of one metric due in the month: how many were met, how many breached."""

    metric: Metric
    met: int
    breached: int

    @property
    def due(self) -> int:
        return self.met + self.breached

    @property
    def met_percent(self) -> Decimal | None:
        if not self.due:
            return None
        return (Decimal(self.met) * 100 / self.due).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class PriorityScore(ClockScore):
    """Among the clocks of one metric and one priority due in the month: met, breached (waived
    ones included, as the target was missed) and, of those, waived."""

    priority_code: str
    waived: int


@dataclass(frozen=True)
class ContractReport:
    contract: Contract
    timezone: str
    period_start: datetime
    period_end: datetime
    tickets_opened: int
    scores: list[ClockScore]
    priority_scores: list[PriorityScore]  # by priority order in the terms, then GTI before GTR
    breaches: list[Breach]
    downtime: timedelta
    availability_percent: Decimal
    availability_target_percent: Decimal | None


@dataclass(frozen=True)
class SlaReport:
    month: str
    contracts: list[ContractReport]
    credit_notes: Sequence[IssuedCredit]  # issued only: drafts are not shown to clients


def _priority_scores(contract: Contract, met: dict[tuple[Metric, str], int],
                     breaches: list[Breach]) -> list[PriorityScore]:
    """Every priority of the contract's terms and every metric it guarantees, plus any other
    priority a clock or breach of the month carries (a ticket opened under older terms)."""
    breached: dict[tuple[Metric, str], list[Breach]] = {}
    for breach in breaches:
        breached.setdefault((breach.metric, breach.priority_code), []).append(breach)
    keys = [(metric, priority.code) for priority in contract.current_version.priorities
            for metric in Metric if priority.target(metric) is not None]
    keys += sorted({*met, *breached} - set(keys), key=lambda key: (key[1], key[0]))
    return [PriorityScore(metric=metric, priority_code=code, met=met.get((metric, code), 0),
                          breached=len(breached.get((metric, code), [])),
                          waived=sum(1 for breach in breached.get((metric, code), [])
                                     if breach.is_waived))
            for metric, code in keys]


def _contract_report(figures: ContractMonth, month: str) -> ContractReport:
    contract, start, end = figures.contract, figures.period_start, figures.period_end
    counted = sa.and_(Ticket.contract_id == contract.id, Ticket.status != Status.CANCELLED)
    opened = db.session.scalar(sa.select(sa.func.count()).select_from(Ticket).where(
        Ticket.contract_id == contract.id, Ticket.created_at >= start,
        Ticket.created_at < end)) or 0
    met_by_priority = {
        (Metric(metric), code): count for metric, code, count in db.session.execute(
            sa.select(SlaClock.metric, Priority.code, sa.func.count())
            .join(Ticket, Ticket.id == SlaClock.ticket_id)
            .join(Priority, Priority.id == Ticket.priority_id)
            .where(counted, SlaClock.status == SlaStatus.MET, SlaClock.due_at >= start,
                   SlaClock.due_at < end)
            .group_by(SlaClock.metric, Priority.code))}
    met = {metric: sum(count for (counted_metric, _code), count in met_by_priority.items()
                       if counted_metric == metric) for metric in Metric}
    breaches = list(db.session.scalars(
        sa.select(Breach).join(Ticket)
        .where(counted, Breach.contract_id == contract.id, Breach.billing_month == month)
        .order_by(Breach.breached_at, Breach.id)
        .options(selectinload(Breach.ticket))))
    scores = [ClockScore(metric, met.get(metric, 0),
                         sum(1 for breach in breaches if breach.metric == metric))
              for metric in Metric]
    return ContractReport(
        contract=contract, timezone=figures.timezone, period_start=start, period_end=end,
        tickets_opened=opened, scores=scores,
        priority_scores=_priority_scores(contract, met_by_priority, breaches),
        breaches=breaches, downtime=figures.downtime,
        availability_percent=figures.availability_percent,
        availability_target_percent=figures.availability_target_percent)


def sla_report(month: str, contracts: Sequence[ContractMonth],
               credit_notes: Sequence[IssuedCredit]) -> SlaReport:
    """The month of an organisation's contracts, each counted in its own zone. Breaches of
    tickets cancelled as invalid count neither as met nor as breached, as they credit nothing."""
    return SlaReport(month=month, contracts=[_contract_report(figures, month)
                                             for figures in contracts],
                     credit_notes=credit_notes)
