"""Service outages that staff mark on tickets: the downtime availability credits are computed from.

Use cases flush, never commit; the caller commits once. Callers lock the ticket first
(`queries.get_ticket(..., for_update=True)`), so "one ongoing outage per ticket" holds when two
people act at once.

Every change is audited on the ticket (entity "ticket"), so it shows in the ticket's trail. No
ticket event is written: outages do not move the SLA clocks, and a new `EventKind` would need a
migration of the checked `ticket_events.kind` column.
"""
from datetime import UTC, datetime

import sqlalchemy as sa

from helpdesk.accounts.access import manages_outages
from helpdesk.accounts.models import User
from helpdesk.audit.services import diff, record_audit
from helpdesk.errors import N_, Conflict, DomainError, Forbidden, Term
from helpdesk.extensions import db
from helpdesk.tickets.models import Outage, Status, Ticket
from helpdesk.tickets.rules import REASON_MAX

STAFF_ONLY = {"record": N_("Only technicians, team leads and admins may record outages."),
              "end": N_("Only technicians, team leads and admins may end outages."),
              "correct": N_("Only technicians, team leads and admins may correct outages."),
              "delete": N_("Only technicians, team leads and admins may delete outages.")}


def _require_staff(actor: User, doing: str) -> None:
    if not manages_outages(actor):
        raise Forbidden(STAFF_ONLY[doing])


def _instant(value: datetime | None, *, field: str, label: str) -> datetime:
    if not isinstance(value, datetime):
        raise DomainError("%(label)s is required.", field=field, label=Term(label))
    if value.tzinfo is None or value.utcoffset() is None:
        raise DomainError("%(label)s must be an instant with its time zone, e.g. "
                          "%(example)s.", field=field, label=Term(label),
                          example="2026-11-30T09:00:00Z")
    try:
        return value.astimezone(UTC)
    except OverflowError:  # the first or last hours of years 1 and 9999, shifted to UTC
        raise DomainError("%(label)s is out of range.", field=field,
                          label=Term(label)) from None


def _interval(started_at: datetime | None, ended_at: datetime | None, *,
              now: datetime) -> tuple[datetime, datetime | None]:
    """Checked, in UTC: aware, begun, not ending in the future nor before it started."""
    start = _instant(started_at, field="started_at", label=N_("The start"))
    if start > now:
        raise DomainError("The outage cannot start in the future: record it once it has begun.",
                          field="started_at")
    if ended_at is None:
        return start, None
    end = _instant(ended_at, field="ended_at", label=N_("The end"))
    if end > now:
        raise DomainError("The end cannot be in the future: end the outage once service is "
                          "restored.", field="ended_at")
    if end < start:
        raise DomainError("The end must not be before the start.", field="ended_at")
    return start, end


def _refuse_before_opening(start: datetime, ticket: Ticket) -> None:
    """An outage is marked on the ticket that reports it: one starting earlier would reach back
    into months the ticket never covered (year 1 zeroed every month's availability)."""
    if start < ticket.created_at:
        raise DomainError("The outage cannot start before the ticket was opened (%(opened)s).",
                          field="started_at",
                          opened=f"{ticket.created_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC")


REASON_REQUIRED = {"corrected": N_("Say why the outage is corrected."),
                   "deleted": N_("Say why the outage is deleted.")}


def _reason(value: str | None, *, doing: str) -> str:
    text = (value or "").strip()
    if not text:
        raise DomainError(REASON_REQUIRED[doing], field="reason")
    if len(text) > REASON_MAX:
        raise DomainError("The reason must be at most %(max)s characters.", field="reason",
                          max=REASON_MAX)
    if any((ord(ch) < 32 and ch not in "\n\r\t") or ord(ch) == 127 for ch in text):
        raise DomainError("The reason contains control characters; remove them.", field="reason")
    return text


def _refuse_second_ongoing(ticket_id: int, *, besides: int | None = None) -> None:
    query = sa.select(Outage.id).where(Outage.ticket_id == ticket_id, Outage.ended_at.is_(None))
    if besides is not None:
        query = query.where(Outage.id != besides)
    ongoing = db.session.scalar(query.limit(1))
    if ongoing is not None:
        raise Conflict("Outage #%(outage)s of this ticket is still ongoing: end it first, "
                       "a ticket has at most one ongoing outage.", outage=ongoing)


def _state(outage: Outage) -> dict:
    """What the audit trail keeps of an outage, named so that the ticket's trail says which."""
    return {f"outage {outage.id} started_at": outage.started_at,
            f"outage {outage.id} ended_at": outage.ended_at}


def _audit(outage: Outage, before: dict, action: str, *, actor: User, now: datetime,
           reason: str = "") -> None:
    after = _state(outage) if action != "delete_outage" else {}
    record_audit(actor=actor, now=now, entity="ticket", entity_id=outage.ticket.number,
                 action=action, changes=diff(before, after), reason=reason)
    outage.ticket.updated_at = now


def record_outage(ticket: Ticket, *, actor: User, started_at: datetime,
                  ended_at: datetime | None = None, now: datetime) -> Outage:
    """Mark an outage of the client's service on `ticket`; `ended_at` None while it lasts."""
    _require_staff(actor, "record")
    if ticket.status == Status.CANCELLED:
        raise Conflict("Cannot record an outage on a ticket that is cancelled.")
    start, end = _interval(started_at, ended_at, now=now)
    _refuse_before_opening(start, ticket)
    if end is None:
        _refuse_second_ongoing(ticket.id)
    outage = Outage(ticket=ticket, contract_id=ticket.contract_id, started_at=start, ended_at=end,
                    recorded_by_id=actor.id, recorded_at=now)
    db.session.add(outage)
    db.session.flush()
    _audit(outage, {}, "record_outage", actor=actor, now=now)
    return outage


def end_outage(outage: Outage, *, actor: User, ended_at: datetime, now: datetime) -> Outage:
    """Service is restored: the ongoing outage ends at `ended_at`."""
    _require_staff(actor, "end")
    if outage.ended_at is not None:
        raise Conflict("This outage has already ended; to change its end, correct it with a "
                       "reason.")
    if ended_at is None:
        raise DomainError("The end is required.", field="ended_at")
    before = _state(outage)
    _, outage.ended_at = _interval(outage.started_at, ended_at, now=now)
    _audit(outage, before, "end_outage", actor=actor, now=now)
    return outage


def correct_outage(outage: Outage, *, actor: User, started_at: datetime,
                   ended_at: datetime | None, now: datetime, reason: str) -> Outage:
    """Fix the instants of an outage recorded wrongly; `ended_at` None makes it ongoing again."""
    _require_staff(actor, "correct")
    reason = _reason(reason, doing="corrected")
    start, end = _interval(started_at, ended_at, now=now)
    _refuse_before_opening(start, outage.ticket)
    if (start, end) == (outage.started_at, outage.ended_at):
        raise DomainError("These are the instants already recorded: nothing to correct.")
    if end is None:
        _refuse_second_ongoing(outage.ticket_id, besides=outage.id)
    before = _state(outage)
    outage.started_at, outage.ended_at = start, end
    _audit(outage, before, "correct_outage", actor=actor, now=now, reason=reason)
    return outage


def delete_outage(outage: Outage, *, actor: User, now: datetime, reason: str) -> None:
    """Remove an outage that should not have been recorded (wrong ticket, no outage at all)."""
    _require_staff(actor, "delete")
    reason = _reason(reason, doing="deleted")
    before = _state(outage)
    _audit(outage, before, "delete_outage", actor=actor, now=now, reason=reason)
    db.session.delete(outage)
    db.session.flush()
