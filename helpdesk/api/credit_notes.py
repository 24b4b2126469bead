"""GET /api/v1/credit-notes?month=YYYY-MM: finance's list of a month's credit notes.

A route of the API blueprint kept in a module of its own; `helpdesk/__init__.py` imports it so
that the route is on the blueprint before the blueprint is registered. Money is written as
decimal strings, never as JSON numbers, so no amount goes through a float, rounded by the one
rule of `helpdesk.money`.
"""
from datetime import date, datetime
from decimal import Decimal

from flask import g

from helpdesk.accounts.models import Role
from helpdesk.api.problems import problem
from helpdesk.api.views import bp, month_argument
from helpdesk.billing.exports import notes_of_month, plain_rate
from helpdesk.billing.models import CreditNote, CreditNoteLine
from helpdesk.money import plain


def _instant(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _rate(value: Decimal | None) -> str | None:
    """A percentage as the documents write it ("20", "99.9"), or null."""
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


@bp.get("/credit-notes")
def list_credit_notes():
    if g.api_user.role not in (Role.FINANCE, Role.ADMIN):
        return problem(404, "Not Found", "The requested URL was not found on the server.")
    month = str(month_argument())
    notes = notes_of_month(month, issued_only=False)
    return {"month": month, "credit_notes": [credit_note_json(note) for note in notes]}
