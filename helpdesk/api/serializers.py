"""Tickets as JSON. The shapes are a contract with outside callers: add fields, never change them."""
from datetime import datetime

from helpdesk.accounts.models import User
from helpdesk.tickets.clocks import ticket_clocks
from helpdesk.tickets.models import Outage, Ticket, format_number


def _instant(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _clock(state) -> dict | None:
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
            for m in ticket.messages if viewer.is_ticket_staff or not m.is_internal
        ]
    if outages is not None:
        data["outages"] = [outage_json(o) for o in outages]
    return data


def breach_json(breach) -> dict:
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
