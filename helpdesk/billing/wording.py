"""The sentences a credit note prints: what each line credits and why, in the contract's zone."""
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from helpdesk.billing.credits import (
    AvailabilityLine,
    BreachLine,
    CapLine,
    CreditComputation,
    CreditLine,
)
from helpdesk.contracts.models import Contract
from helpdesk.month import Month
from helpdesk.sla.durations import humanize

METRIC_NAMES = {"gti": "time to intervene (GTI)", "gtr": "time to restore (GTR)"}
VAT_EXEMPT_MENTION = ("Credits outside the scope of VAT: contractual penalties are indemnities, "
                      "not the consideration for a supply.")


def percent(value: Decimal, places: int = 2) -> str:
    """99.731543… → "99.73 %"; whole numbers lose their decimals: 10 → "10 %"."""
    text = f"{value:.{places}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text} %"


def _local(at: datetime, timezone: str) -> str:
    return at.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")


def _rule(line: BreachLine) -> str:
    parts = []
    if line.rule.fixed:
        parts.append(f"{line.rule.fixed} fixed")
    if line.rule.percent_per_started_hour:
        hours = "started hour" if line.started_hours == 1 else "started hours"
        parts.append(f"{percent(line.rule.percent_per_started_hour)} of the fee × "
                     f"{line.started_hours} {hours}")
    return " + ".join(parts) or "no penalty in the contract"


def line_description(line: CreditLine, timezone: str) -> str:
    if isinstance(line, BreachLine):
        stop = (f"stopped {_local(line.stopped_at, timezone)}" if line.stopped_at is not None
                else f"still running at the end of the month ({_local(line.counted_until, timezone)})")
        return (f"{line.reference} — {line.priority_code} guaranteed "
                f"{METRIC_NAMES.get(line.metric, line.metric)} missed: due "
                f"{_local(line.due_at, timezone)}, {stop}; {humanize(line.delay)} late "
                f"({_rule(line)})")
    if isinstance(line, AvailabilityLine):
        return (f"Availability {percent(line.availability_percent, 3)} "
                f"({humanize(line.downtime)} down out of {humanize(line.scheduled)}), below the "
                f"{percent(line.target_percent, 3)} target: {percent(line.credit_percent)} "
                f"of the monthly fee")
    assert isinstance(line, CapLine)
    return (f"Cap: credits limited to {line.cap} ({line.credits_before_cap} before the cap)")


def reason_for(contract: Contract, computation: CreditComputation, month: str) -> str:
    owed = []
    metrics = {line.metric for line in computation.lines if isinstance(line, BreachLine)}
    for metric in ("gti", "gtr"):
        if metric in metrics:
            owed.append(f"guaranteed {METRIC_NAMES[metric]} missed")
    if any(isinstance(line, AvailabilityLine) for line in computation.lines):
        owed.append("availability below the contractual target")
    capped = any(isinstance(line, CapLine) for line in computation.lines)
    return (f"Service credits owed under contract {contract.reference} ({contract.title}) for "
            f"{Month.parse(month).label}: {', '.join(owed)}, per the contract's service-level terms"
            f"{', within its cap on credits' if capped else ''}.")
