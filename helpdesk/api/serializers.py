"""Tickets, breaches and credit notes as JSON. The shapes are a contract with outside callers: add
fields, never change them. Money is written as decimal strings, never as JSON numbers, so no amount
goes through a float, rounded by the one rule of `helpdesk.money`."""
from datetime import date, datetime
from decimal import Decimal

from helpdesk.accounts.access import visible_messages
from helpdesk.accounts.models import User
from helpdesk.billing.exports import plain_rate
from helpdesk.billing.models import CreditNote, CreditNoteLine
from helpdesk.escalation.models import Breach
from helpdesk.money import plain
from helpdesk.tickets.clocks import TicketClock, ticket_clocks
from helpdesk.tickets.models import Outage, Ticket, format_number


def _instant(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _clock(state: TicketClock | None) -> dict | None:
    if state is None:
        return None
    return {
        "status": state.status.value,
        "target_seconds": int(state.target.total_seconds()),
        "due_at": _instant(state.due_at),
        "breached_at": _instant(state.breached_at),
        "elapsed_seconds": int(state.elapsed.total_seconds()),
        "delay_seconds": int(state.delay.total_seconds()),
    }


def outage_json(outage: Outage) -> dict:
    ended = outage.ended_at
    return {
        "id": outage.id,
        "ticket": format_number(outage.ticket_id),
        "started_at": _instant(outage.started_at),
        "ended_at": _instant(ended),
        "duration_seconds": None if ended is None
        else int((ended - outage.started_at).total_seconds()),
        "recorded_by": outage.recorded_by.email,
        "recorded_at": _instant(outage.recorded_at),
    }


def ticket_json(ticket: Ticket, *, viewer: User, now: datetime,
                with_messages: bool = False, outages: list[Outage] | None = None) -> dict:
    """`outages` are given for single-ticket answers only: a page of tickets leaves them out."""
    clocks = ticket_clocks(ticket, now=now)
    data = {
        "number": ticket.number,
        "status": ticket.status.value,
        "priority": ticket.priority.code,
        "priority_label": ticket.priority.label,
        "contract": ticket.contract.reference,
        "contract_version": ticket.contract_version.version,
        "organisation": ticket.organisation.code,
        "title": ticket.title,
        "description": ticket.description,
        "requester": ticket.requester.email,
        "assignee": ticket.assignee.email if ticket.assignee else None,
        "created_at": _instant(ticket.created_at),
        "updated_at": _instant(ticket.updated_at),
        "taken_at": _instant(ticket.taken_at),
        "resolved_at": _instant(ticket.resolved_at),
        "closed_at": _instant(ticket.closed_at),
        "sla": {"gti": _clock(clocks.get("gti")), "gtr": _clock(clocks.get("gtr"))},
    }
    if with_messages:
        data["messages"] = [
            {"author": m.author.email, "internal": m.is_internal, "body": m.body,
             "created_at": _instant(m.created_at)}
            for m in visible_messages(viewer, ticket.messages)
        ]
    if outages is not None:
        data["outages"] = [outage_json(o) for o in outages]
    return data


def breach_json(breach: Breach) -> dict:
    return {
        "id": breach.id,
        "ticket": breach.ticket.number,
        "contract": breach.contract.reference,
        "organisation": breach.contract.organisation.code,
        "metric": breach.metric.value,
        "priority": breach.priority_code,
        "target_seconds": breach.target_seconds,
        "breached_at": _instant(breach.breached_at),
        "stopped_at": _instant(breach.stopped_at),
        "delay_seconds": breach.delay_seconds,
        "billing_month": breach.billing_month,
        "waived": breach.is_waived,
        "waived_at": _instant(breach.waived_at),
        "waived_by": breach.waived_by.email if breach.waived_by else None,
        "waiver_reason": breach.waiver_reason,
    }


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _rate(value: Decimal | None) -> str | None:
    return None if value is None else plain_rate(value)


def credit_note_line_json(line: CreditNoteLine) -> dict:
    return {
        "position": line.position,
        "kind": line.kind.value,
        "description": line.description,
        "ticket": line.ticket_number,
        "metric": line.metric.value if line.metric else None,
        "priority": line.priority_code,
        "due_at": _instant(line.due_at),
        "stopped_at": _instant(line.stopped_at),
        "counted_until": _instant(line.counted_until),
        "delay_seconds": line.delay_seconds,
        "started_hours": line.started_hours,
        "availability_percent": _rate(line.availability_percent),
        "target_percent": _rate(line.target_percent),
        "amount": plain(line.amount),
    }


def credit_note_json(note: CreditNote) -> dict:
    return {
        "id": note.id,
        "status": note.status.value,
        "number": note.number,
        "issue_date": _day(note.issue_date),
        "issued_at": _instant(note.issued_at),
        "month": note.month,
        "period_start": _instant(note.period_start),
        "period_end": _instant(note.period_end),
        "timezone": note.timezone,
        "contract": note.contract_reference,
        "contract_title": note.contract_title,
        "seller": note.seller,
        "client": note.client,
        "invoice_number": note.invoice_number,
        "invoice_date": _day(note.invoice_date),
        "invoice_reference": note.invoice_reference,
        "currency": note.currency,
        "vat_rate": _rate(note.vat_rate),
        "credits_subject_to_vat": note.credits_subject_to_vat,
        "total_excl_vat": plain(note.total_excl_vat),
        "vat": plain(note.vat),
        "total_incl_vat": plain(note.total_incl_vat),
        "reason": note.reason,
        "closed_at": _instant(note.closed_at),
        "lines": [credit_note_line_json(line) for line in note.lines],
    }
