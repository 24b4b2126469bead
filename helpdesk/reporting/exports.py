"""The dashboard's tables as CSV: a header row, then machine-friendly values (ISO instants, dot
decimals, seconds for durations, empty cells for "no value")."""
import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from helpdesk.reporting import queries
from helpdesk.reporting.client_report import ContractReport, SlaReport
from helpdesk.reporting.queries import AtRisk, Compliance, MeanTime, Period, Scope
from helpdesk.spreadsheet import neutralise


def _plain(value: object) -> str:
    return "" if value is None else str(value)


def compliance_rows(rows: Iterable[Compliance], *, with_name: bool = False) -> Iterable[list]:
    for row in rows:
        yield [neutralise(row.key), *([neutralise(row.label)] if with_name else []),
               row.metric.value, row.met, row.breached, row.waived, row.decided,
               _plain(row.met_percent)]


COMPLIANCE_COLUMNS = ["metric", "met", "breached", "breached_waived", "decided", "met_percent"]


def time_rows(rows: Iterable[MeanTime]) -> Iterable[list]:
    for row in rows:
        yield [neutralise(row.key), row.metric.value, row.stopped, _plain(row.service_seconds),
               _plain(row.wall_seconds)]


TIME_COLUMNS = ["metric", "clocks_stopped", "mean_service_seconds", "mean_wall_clock_seconds"]


def breach_rows(rows: Iterable[Compliance]) -> Iterable[list]:
    for row in rows:
        yield [row.key, row.metric.value, row.breached, row.waived, row.credited]


def at_risk_rows(rows: Iterable[AtRisk]) -> Iterable[list]:
    for row in rows:
        ticket = row.ticket
        yield [ticket.number, neutralise(ticket.organisation.code),
               neutralise(ticket.organisation.name), neutralise(ticket.priority.code),
               neutralise(ticket.title), row.metric.value,
               "breached" if row.is_breached else "at_risk", row.due_at.isoformat(),
               neutralise(ticket.assignee.email) if ticket.assignee else ""]


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: Callable[[Period, Scope, datetime], Iterable[list]]


TABLES: dict[str, Table] = {
    "compliance-by-month": Table(
        ["month", *COMPLIANCE_COLUMNS],
        lambda period, scope, now: compliance_rows(queries.compliance(period, scope, by="month"))),
    "compliance-by-priority": Table(
        ["priority", *COMPLIANCE_COLUMNS],
        lambda period, scope, now: compliance_rows(
            queries.compliance(period, scope, by="priority"))),
    "compliance-by-organisation": Table(
        ["organisation", "organisation_name", *COMPLIANCE_COLUMNS],
        lambda period, scope, now: compliance_rows(
            queries.compliance(period, scope, by="organisation"), with_name=True)),
    "times-by-month": Table(
        ["month", *TIME_COLUMNS],
        lambda period, scope, now: time_rows(queries.mean_times(period, scope, by="month"))),
    "times-by-priority": Table(
        ["priority", *TIME_COLUMNS],
        lambda period, scope, now: time_rows(queries.mean_times(period, scope, by="priority"))),
    "breaches-by-month": Table(
        ["month", "metric", "breaches", "waived", "credited"],
        lambda period, scope, now: breach_rows(queries.compliance(period, scope, by="month"))),
    "at-risk": Table(
        ["ticket", "organisation", "organisation_name", "priority", "title", "metric", "state",
         "due_at", "assignee"],
        lambda period, scope, now: at_risk_rows(queries.at_risk(scope, now=now))),
}


def csv_text(header: list[str], rows: Iterable[list]) -> str:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


# -- a client's monthly SLA report ---------------------------------------------------------------

REPORT_HEADER = ["contract", "month", "metric", "priority", "met", "breached", "breached_waived",
                 "met_percent", "availability_percent", "availability_target_percent",
                 "downtime_seconds", "credited_excl_vat", "currency"]


def report_rows(report: SlaReport) -> Iterable[list]:
    """One row per contract, metric and priority of a `client_report.SlaReport`; the contract's
    availability and issued credits repeat on each of its rows, so every row stands alone."""
    credited: dict[str, tuple] = {}
    for note in report.credit_notes:
        total, _currency = credited.get(note.contract_reference, (0, note.currency))
        credited[note.contract_reference] = (total + note.total_excl_vat, note.currency)
    for item in report.contracts:
        reference = item.contract.reference
        total, currency = credited.get(reference, (None, ""))
        for score in item.priority_scores:
            yield [neutralise(reference), report.month, score.metric.value,
                   neutralise(score.priority_code), score.met, score.breached, score.waived,
                   _plain(score.met_percent), _plain(item.availability_percent),
                   _plain(item.availability_target_percent),
                   int(item.downtime.total_seconds()), _plain(total), currency]


def report_csv(report: SlaReport) -> str:
    return csv_text(REPORT_HEADER, report_rows(report))


def report_chart(item: ContractReport, *, met: str, breached: str) -> dict:
    """Met and breached clocks per priority and metric of one contract, stacked, for charts.js."""
    scores = item.priority_scores
    return {"type": "bar", "stacked": True, "integer": True,
            "labels": [f"{score.priority_code} · {score.metric.value.upper()}" for score in scores],
            "datasets": [{"label": met, "data": [score.met for score in scores]},
                         {"label": breached, "data": [score.breached for score in scores]}]}
