"""The KPI dashboard's figures, aggregated by the database (GROUP BY), never ticket by ticket.

Definitions, as the dashboard states them:

- A clock is *decided* in the month its due instant falls in (the month its breach, if any, is
  billed in), months counted in the viewer's zone. Met: stopped at or before its due instant.
  Breached: its due instant passed before it stopped, as the sweep records it. Running and paused
  clocks are not decided yet; clocks of cancelled tickets never count.
- A waived breach still counts as breached (the target was missed); it is also counted apart
  because it earns no credit.
- Mean time to intervene (GTI) and to restore (GTR): the mean service time counted by the clocks
  that stopped in the month, and the mean wall-clock time from opening to that stop.
- At risk now: open tickets whose running clock has passed the priority's last warning threshold
  before the breach, or its due instant.
"""
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import QueryableAttribute, selectinload

from helpdesk.accounts.models import Organisation
from helpdesk.contracts.models import Contract, Metric, Priority
from helpdesk.escalation.models import Breach
from helpdesk.extensions import db
from helpdesk.month import Month
from helpdesk.tickets.models import QueueRank, SlaClock, SlaStatus, Ticket
from helpdesk.tickets.queries import last_warning_level

AT_RISK_LIMIT = 50
DECIDED = (SlaStatus.MET, SlaStatus.BREACHED)


@dataclass(frozen=True)
class Period:
    """Whole months, from `months[0]` to `months[-1]`, in one zone; `bounds` are the UTC instants
    each month starts at, then the instant the last one ends."""

    months: tuple[str, ...]
    bounds: tuple[datetime, ...]
    timezone: str

    @property
    def start(self) -> datetime:
        return self.bounds[0]

    @property
    def end(self) -> datetime:
        return self.bounds[-1]


def make_period(first: str, last: str, timezone: str) -> Period:
    """The months from `first` to `last` ("2026-10"), both included, counted in `timezone`."""
    months = Month.parse(first).through(Month.parse(last))
    if not months:
        raise ValueError("the first month comes after the last")
    bounds = (*(month.bounds(timezone)[0] for month in months), months[-1].bounds(timezone)[1])
    return Period(months=tuple(str(month) for month in months), bounds=bounds,
                  timezone=timezone)


@dataclass(frozen=True)
class Scope:
    """The dashboard's optional filters: one organisation, one priority code."""

    organisation_id: int | None = None
    priority_code: str | None = None


def _bucket(column: QueryableAttribute[datetime | None], period: Period) -> sa.Case[int]:
    """The index of the month `column` falls in; NULL outside the period (or when NULL)."""
    return sa.case((column < period.start, None),
                   *[(column < bound, index) for index, bound in enumerate(period.bounds[1:])])


def _scoped(query: sa.Select, scope: Scope) -> sa.Select:
    if scope.organisation_id is not None:
        query = query.where(Ticket.organisation_id == scope.organisation_id)
    if scope.priority_code is not None:
        query = query.where(Ticket.priority_id.in_(
            sa.select(Priority.id).where(Priority.code == scope.priority_code)))
    return query


def _int(condition: sa.ColumnElement[bool]) -> sa.Case[int]:
    return sa.case((condition, 1), else_=0)


# -- compliance -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Compliance:
    """Decided clocks of one metric in one group (a month, a priority, an organisation)."""

    key: str  # machine value: 2026-10, P1, the organisation's code
    label: str  # what people read: the same, or the organisation's name
    metric: Metric
    met: int
    breached: int
    waived: int  # among the breached

    @property
    def decided(self) -> int:
        return self.met + self.breached

    @property
    def credited(self) -> int:
        """Breaches that earn a credit: not waived."""
        return self.breached - self.waived

    @property
    def met_percent(self) -> Decimal | None:
        if not self.decided:
            return None
        return (Decimal(self.met) * 100 / self.decided).quantize(Decimal("0.1"))


GROUPS = ("month", "priority", "organisation")


def _wall_seconds() -> sa.ColumnElement[float]:
    """Seconds from the ticket's opening to the clock's stop, in the database's own arithmetic."""
    if db.session.get_bind().dialect.name == "postgresql":
        return sa.extract("epoch", SlaClock.stopped_at - Ticket.created_at)
    return (sa.func.julianday(SlaClock.stopped_at) - sa.func.julianday(Ticket.created_at)) * 86400


def clock_figures_query(period: Period, scope: Scope) -> sa.Select:
    """One read of the clocks decided (due) or stopped in the period, grouped as finely as the
    tables need: month due, month stopped, priority, organisation, metric.

    Its rows number at most months² × priorities × organisations × 2 (a clock is rarely due and
    stopped months apart), whatever the ticket count; every table is a roll-up of them, so the
    clocks and their tickets are read once for the whole dashboard."""
    clocks = (
        sa.select(_bucket(SlaClock.due_at, period).label("due"),
                  _bucket(SlaClock.stopped_at, period).label("stopped"),
                  Ticket.priority_id, Ticket.organisation_id, SlaClock.metric,
                  _int(SlaClock.status == SlaStatus.MET).label("met"),
                  _int(SlaClock.status == SlaStatus.BREACHED).label("breached"),
                  _int(sa.and_(SlaClock.status == SlaStatus.BREACHED,
                               Breach.waived_at.is_not(None))).label("waived"),
                  SlaClock.elapsed_seconds, _wall_seconds().label("wall"))
        .select_from(SlaClock)
        .join(Ticket, Ticket.id == SlaClock.ticket_id)
        .outerjoin(Breach, sa.and_(Breach.ticket_id == SlaClock.ticket_id,
                                   Breach.metric == SlaClock.metric))
        .where(SlaClock.status.in_(DECIDED),
               sa.or_(sa.and_(SlaClock.due_at >= period.start, SlaClock.due_at < period.end),
                      sa.and_(SlaClock.stopped_at >= period.start,
                              SlaClock.stopped_at < period.end))))
    rows = _scoped(clocks, scope).subquery()
    keys = [rows.c.due, rows.c.stopped, rows.c.priority_id, rows.c.organisation_id,
            rows.c.metric]
    return (sa.select(*keys, sa.func.sum(rows.c.met), sa.func.sum(rows.c.breached),
                      sa.func.sum(rows.c.waived), sa.func.count(),
                      sa.func.sum(rows.c.elapsed_seconds), sa.func.sum(rows.c.wall))
            .group_by(*keys))


def _organisations(ids: Iterable[int]) -> dict[int, Organisation]:
    ids = list(ids)
    if not ids:
        return {}
    return {org.id: org for org in db.session.scalars(
        sa.select(Organisation).where(Organisation.id.in_(ids)))}


def _priority_codes(ids: Iterable[int]) -> dict[int, str]:
    ids = list(ids)
    if not ids:
        return {}
    return dict(db.session.execute(
        sa.select(Priority.id, Priority.code).where(Priority.id.in_(ids))).all())


# `found`: the group values met, month indexes, priority codes or organisation ids as `by` says.
def _labelled(by: str, period: Period, found: Iterable[Any],
              organisations: dict[int, Organisation]
              ) -> list[tuple[str, str, object]]:
    """(key, label, group value) of each group in display order; every month of the period is
    listed, even without a clock, so charts keep their time axis."""
    if by == "month":
        return [(month, month, index) for index, month in enumerate(period.months)]
    if by == "priority":
        return [(code, code, code) for code in sorted(found)]
    return sorted(((organisations[i].code, organisations[i].name, i) for i in found),
                  key=lambda item: item[1].casefold())


_GROUP_INDEX = {"month": 0, "priority": 1, "organisation": 2}


def _roll_up(rows: Iterable[Sequence[Any]], by: str) -> dict:
    """Sum fine rows (month, priority code, organisation id, metric, figures…) into
    {(group value, metric): [figures…]}."""
    totals: dict = {}
    index = _GROUP_INDEX[by]
    for row in rows:
        key = (row[index], Metric(row[3]))
        figures = row[4:]
        current = totals.get(key)
        totals[key] = list(figures) if current is None else [
            a + b for a, b in zip(current, figures, strict=True)]
    return totals


@dataclass(frozen=True)
class Figures:
    compliance: dict[str, list[Compliance]]  # by month, priority, organisation
    times: dict[str, list["MeanTime"]]  # by month, priority


def figures(period: Period, scope: Scope) -> Figures:
    """Every compliance and mean-time table of the dashboard, from one read of the clocks."""
    if db.session.get_bind().dialect.name == "postgresql":
        # Hundreds of thousands of clocks joined to their tickets: room to hash them in memory
        # rather than sort on disk, for this transaction only.
        db.session.execute(sa.text("SET LOCAL work_mem = '64MB'"))
    fine = [(due, stopped, priority_id, organisation_id, metric, int(met), int(breached),
             int(waived), int(count), float(service or 0), float(wall or 0))
            for due, stopped, priority_id, organisation_id, metric, met, breached, waived,
            count, service, wall in db.session.execute(clock_figures_query(period, scope))]
    codes = _priority_codes({row[2] for row in fine})
    organisations = _organisations({row[3] for row in fine})
    decided = [(due, codes[priority], organisation, metric, met, breached, waived)
               for due, _s, priority, organisation, metric, met, breached, waived, *_rest
               in fine if due is not None]
    stopped = [(stopped, codes[priority], organisation, metric, count, service, wall)
               for _d, stopped, priority, organisation, metric, _m, _b, _w, count, service, wall
               in fine if stopped is not None]
    compliance_tables = {}
    for by in GROUPS:
        totals = _roll_up(decided, by)
        found = {value for value, _metric in totals}
        compliance_tables[by] = [
            Compliance(key, label, metric, *totals.get((value, metric), (0, 0, 0)))
            for key, label, value in _labelled(by, period, found, organisations)
            for metric in Metric]
    time_tables = {}
    for by in ("month", "priority"):
        totals = _roll_up(stopped, by)
        found = {value for value, _metric in totals}
        table = []
        for key, label, value in _labelled(by, period, found, organisations):
            for metric in Metric:
                count, service, wall = totals.get((value, metric), (0, 0.0, 0.0))
                table.append(MeanTime(key, label, metric, count,
                                      round(service / count) if count else None,
                                      round(wall / count) if count else None))
        time_tables[by] = table
    return Figures(compliance=compliance_tables, times=time_tables)


def compliance(period: Period, scope: Scope, *, by: str) -> list[Compliance]:
    return figures(period, scope).compliance[by]


# -- times to intervene and restore ---------------------------------------------------------------


@dataclass(frozen=True)
class MeanTime:
    key: str
    label: str
    metric: Metric
    stopped: int  # clocks that stopped in the group
    service_seconds: int | None  # mean service time counted, None without a stopped clock
    wall_seconds: int | None  # mean wall-clock time from opening to the stop


def mean_times(period: Period, scope: Scope, *, by: str) -> list[MeanTime]:
    return figures(period, scope).times[by]


# -- at risk right now ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AtRisk:
    ticket: Ticket
    metric: Metric
    due_at: datetime
    is_breached: bool


def at_risk_query(scope: Scope, *, now: datetime, limit: int) -> sa.Select:
    """(ticket, metric, due instant) of the running clocks past their priority's last warning
    before the breach, or past their due instant; the most urgent first."""
    query = (
        sa.select(Ticket, SlaClock.metric, SlaClock.due_at)
        .join(SlaClock, SlaClock.ticket_id == Ticket.id)
        .join(Priority, Priority.id == Ticket.priority_id)
        .where(Ticket.sla_rank == QueueRank.COUNTING, SlaClock.stopped_at.is_(None),
               SlaClock.status.in_((SlaStatus.RUNNING, SlaStatus.BREACHED)),
               SlaClock.due_at.is_not(None),
               sa.or_(SlaClock.due_at <= now,
                      SlaClock.escalation_level >= last_warning_level()))
        .order_by(SlaClock.due_at, Ticket.id)
        .limit(limit))
    return _scoped(query, scope)


def at_risk(scope: Scope, *, now: datetime, limit: int = AT_RISK_LIMIT) -> list[AtRisk]:
    """Open tickets at risk or overdue, the most urgent first, one line per ticket (its most
    urgent clock)."""
    query = at_risk_query(scope, now=now, limit=limit * len(Metric)).options(
        selectinload(Ticket.organisation), selectinload(Ticket.assignee),
        selectinload(Ticket.priority))
    found: dict[int, AtRisk] = {}
    for ticket, metric, due_at in db.session.execute(query):
        if ticket.id not in found:
            found[ticket.id] = AtRisk(ticket, Metric(metric), due_at, due_at <= now)
    return list(found.values())[:limit]


# -- filter choices -------------------------------------------------------------------------------


def organisation_choices() -> list[tuple[int, str]]:
    """Organisations that hold a contract, by name."""
    return [(org_id, name) for org_id, name in db.session.execute(
        sa.select(Organisation.id, Organisation.name)
        .where(sa.exists().where(Contract.organisation_id == Organisation.id))
        .order_by(Organisation.name))]


def priority_codes() -> list[str]:
    return list(db.session.scalars(sa.select(Priority.code).distinct().order_by(Priority.code)))
