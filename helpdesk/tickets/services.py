"""Ticket use cases. They flush, never commit; the caller commits once."""
from collections.abc import Callable
from datetime import datetime
from typing import Any

from helpdesk.accounts.access import ASSIGNABLE, TICKET_ACTORS, works_tickets
from helpdesk.accounts.models import User
from helpdesk.accounts.roles import Role
from helpdesk.audit.services import record_audit
from helpdesk.contracts.models import Contract
from helpdesk.errors import N_, DomainError, Forbidden, NotFound, Term
from helpdesk.extensions import db
from helpdesk.text import refuse_bidi_controls
from helpdesk.tickets.attachments import StoredFile
from helpdesk.tickets.clocks import refresh_clocks
from helpdesk.tickets.models import (
    Attachment,
    EventKind,
    Status,
    Ticket,
    TicketEvent,
    TicketMessage,
)
from helpdesk.tickets.rules import BODY_MAX, REASON_MAX, TITLE_MAX
from helpdesk.tickets.workflow import Action, next_status


def _text(value: str | None, *, field: str, label: str, max_length: int,
          multiline: bool = True) -> str:
    text = (value or "").strip()
    if not text:
        raise DomainError("%(label)s is required.", field=field, label=Term(label))
    if len(text) > max_length:
        raise DomainError("%(label)s must be at most %(max)s characters.", field=field,
                          label=Term(label), max=max_length)
    allowed = "\n\r\t" if multiline else ""
    if any((ord(ch) < 32 and ch not in allowed) or ord(ch) == 127 for ch in text):
        raise DomainError("%(label)s contains control characters; remove them.", field=field,
                          label=Term(label))
    return text


def _event(ticket: Ticket, kind: EventKind, *, actor: User | None, now: datetime,
           **data: Any) -> TicketEvent:
    event = TicketEvent(at=now, kind=kind, actor_id=actor.id if actor else None, data=data)
    ticket.events.append(event)
    return event


def _move(ticket: Ticket, action: Action, *, actor: User, now: datetime,
          reason: str = "") -> Status:
    before = ticket.status
    after = next_status(action, before, actor.role)
    if after != before:
        ticket.status = after
        record_audit(actor=actor, now=now, entity="ticket", entity_id=ticket.number,
                     action=action.value, changes={"status": [before.value, after.value]},
                     reason=reason)
    ticket.updated_at = now
    return after


def _attach(ticket: Ticket, message: TicketMessage | None, stored: StoredFile, *,
            actor: User, now: datetime) -> Attachment:
    attachment = Attachment(
        ticket_id=ticket.id,
        message=message,
        uploader_id=actor.id,
        filename=stored.filename,
        content_type=stored.content_type,
        size_bytes=stored.size_bytes,
        sha256=stored.sha256,
        storage_name=stored.storage_name,
        created_at=now,
    )
    db.session.add(attachment)
    record_audit(actor=actor, now=now, entity="ticket", entity_id=ticket.number,
                 action="attach", changes={"attachment": [None, stored.filename]})
    return attachment


def open_ticket(*, actor: User, contract: Contract, priority_code: str, title: str,
                description: str, now: datetime, attachment: StoredFile | None = None) -> Ticket:
    if actor.role == Role.CLIENT and contract.organisation_id != actor.organisation_id:
        raise NotFound("No such contract.", field="contract")
    if actor.role not in TICKET_ACTORS:
        raise Forbidden("Your role cannot open tickets.")
    if not contract.is_active_at(now):
        raise DomainError("Contract %(contract)s is not active.", field="contract",
                          contract=contract.reference)
    if contract.organisation.is_archived:
        # Its people cannot sign in; staff cannot open one on its behalf either.
        raise DomainError("%(organisation)s is archived: no ticket can be opened under its "
                          "contracts.", field="contract", organisation=contract.organisation.name)
    version = contract.current_version
    priority = version.priority((priority_code or "").strip())
    if priority is None:
        raise DomainError("Contract %(contract)s has no priority %(code)r; choose one of "
                          "%(choices)s.", field="priority", contract=contract.reference,
                          code=priority_code, choices=", ".join(p.code for p in version.priorities))
    title = _text(title, field="title", label=N_("Title"), max_length=TITLE_MAX, multiline=False)
    refuse_bidi_controls(title, field="title", label=N_("Title"))
    ticket = Ticket(
        organisation_id=contract.organisation_id,
        contract=contract,
        contract_version=version,
        priority=priority,
        requester_id=actor.id,
        status=Status.NEW,
        title=title,
        description=_text(description, field="description", label=N_("Description"),
                          max_length=BODY_MAX),
        created_at=now,
        updated_at=now,
        # A new ticket has none of these: given empty, they are not queried for.
        events=[], clocks=[], messages=[], attachments=[],
    )
    db.session.add(ticket)
    db.session.flush()
    _event(ticket, EventKind.CREATED, actor=actor, now=now, priority=priority.code)
    # No other transaction sees a ticket before this one commits: nothing to lock it against.
    refresh_clocks(ticket, now=now, lock=False)
    record_audit(actor=actor, now=now, entity="ticket", entity_id=ticket.number, action="open",
                 changes={"status": [None, Status.NEW.value], "priority": [None, priority.code],
                          "title": [None, ticket.title]})
    if attachment is not None:
        _attach(ticket, None, attachment, actor=actor, now=now)
    return ticket


def take_ticket(ticket: Ticket, *, actor: User, now: datetime) -> Ticket:
    _move(ticket, Action.TAKE, actor=actor, now=now)
    if ticket.taken_at is None:
        ticket.taken_at = now
    if ticket.assignee is None:
        _set_assignee(ticket, actor, actor=actor, now=now)
    _event(ticket, EventKind.TAKEN, actor=actor, now=now)
    refresh_clocks(ticket, now=now)
    return ticket


def reply_to_ticket(ticket: Ticket, *, actor: User, body: str, now: datetime,
                    attachment: StoredFile | None = None) -> TicketMessage:
    body = _text(body, field="body", label=N_("Message"), max_length=BODY_MAX)
    before = ticket.status
    _move(ticket, Action.REPLY, actor=actor, now=now)
    message = TicketMessage(ticket=ticket, author_id=actor.id, is_internal=False, body=body,
                            created_at=now)
    db.session.add(message)
    if works_tickets(actor) and ticket.taken_at is None:
        # The first answer is the intervention: whoever gives it owns the ticket, as with "take".
        ticket.taken_at = now
        if ticket.assignee is None and actor.role in ASSIGNABLE:
            _set_assignee(ticket, actor, actor=actor, now=now)
    _event(ticket, EventKind.REPLIED, actor=actor, now=now, by_staff=works_tickets(actor))
    if before == Status.WAITING_ON_CLIENT and ticket.status == Status.IN_PROGRESS:
        _event(ticket, EventKind.RESUMED, actor=actor, now=now)
    refresh_clocks(ticket, now=now)
    if attachment is not None:
        _attach(ticket, message, attachment, actor=actor, now=now)
    return message


def add_note(ticket: Ticket, *, actor: User, body: str, now: datetime,
             attachment: StoredFile | None = None) -> TicketMessage:
    body = _text(body, field="body", label=N_("Note"), max_length=BODY_MAX)
    _move(ticket, Action.NOTE, actor=actor, now=now)
    message = TicketMessage(ticket=ticket, author_id=actor.id, is_internal=True, body=body,
                            created_at=now)
    db.session.add(message)
    _event(ticket, EventKind.NOTED, actor=actor, now=now)
    if attachment is not None:
        _attach(ticket, message, attachment, actor=actor, now=now)
    return message


def wait_on_client(ticket: Ticket, *, actor: User, now: datetime) -> Ticket:
    _move(ticket, Action.WAIT, actor=actor, now=now)
    _event(ticket, EventKind.WAITING, actor=actor, now=now)
    refresh_clocks(ticket, now=now)
    return ticket


def resume_ticket(ticket: Ticket, *, actor: User, now: datetime) -> Ticket:
    _move(ticket, Action.RESUME, actor=actor, now=now)
    _event(ticket, EventKind.RESUMED, actor=actor, now=now)
    refresh_clocks(ticket, now=now)
    return ticket


def resolve_ticket(ticket: Ticket, *, actor: User, now: datetime) -> Ticket:
    _move(ticket, Action.RESOLVE, actor=actor, now=now)
    ticket.resolved_at = now
    _event(ticket, EventKind.RESOLVED, actor=actor, now=now)
    refresh_clocks(ticket, now=now)
    return ticket


def confirm_resolution(ticket: Ticket, *, actor: User, now: datetime) -> Ticket:
    _move(ticket, Action.CONFIRM, actor=actor, now=now)
    ticket.closed_at = now
    _event(ticket, EventKind.CLOSED, actor=actor, now=now)
    refresh_clocks(ticket, now=now)
    return ticket


def reopen_ticket(ticket: Ticket, *, actor: User, now: datetime, reason: str = "") -> Ticket:
    reason = (reason or "").strip()[:REASON_MAX]
    _move(ticket, Action.REOPEN, actor=actor, now=now, reason=reason)
    ticket.resolved_at = None
    _event(ticket, EventKind.REOPENED, actor=actor, now=now, reason=reason)
    refresh_clocks(ticket, now=now)
    return ticket


def cancel_ticket(ticket: Ticket, *, actor: User, reason: str, now: datetime) -> Ticket:
    reason = _text(reason, field="reason", label=N_("Reason"), max_length=REASON_MAX)
    _move(ticket, Action.CANCEL, actor=actor, now=now, reason=reason)
    _event(ticket, EventKind.CANCELLED, actor=actor, now=now, reason=reason)
    refresh_clocks(ticket, now=now)
    return ticket


def reprioritise_ticket(ticket: Ticket, *, actor: User, priority_code: str, reason: str,
                        now: datetime) -> Ticket:
    reason = _text(reason, field="reason", label=N_("Reason"), max_length=REASON_MAX)
    # A new priority comes from the terms the ticket was opened under, never newer ones.
    priority = ticket.contract_version.priority((priority_code or "").strip())
    if priority is None:
        raise DomainError("Contract %(contract)s has no priority %(code)r.", field="priority",
                          contract=ticket.contract.reference, code=priority_code)
    if priority.id == ticket.priority_id:
        raise DomainError("The ticket is already %(code)s.", field="priority",
                          code=priority.code)
    _move(ticket, Action.REPRIORITISE, actor=actor, now=now, reason=reason)
    before = ticket.priority.code
    ticket.priority = priority
    record_audit(actor=actor, now=now, entity="ticket", entity_id=ticket.number,
                 action="reprioritise", changes={"priority": [before, priority.code]},
                 reason=reason)
    _event(ticket, EventKind.REPRIORITISED, actor=actor, now=now,
           before=before, after=priority.code, reason=reason)
    refresh_clocks(ticket, now=now)
    return ticket


def _set_assignee(ticket: Ticket, assignee: User | None, *, actor: User, now: datetime) -> None:
    before = ticket.assignee.email if ticket.assignee else None
    ticket.assignee = assignee
    record_audit(actor=actor, now=now, entity="ticket", entity_id=ticket.number,
                 action="assign",
                 changes={"assignee": [before, assignee.email if assignee else None]})
    _event(ticket, EventKind.ASSIGNED, actor=actor, now=now,
           assignee=assignee.email if assignee else None)


def assign_ticket(ticket: Ticket, *, actor: User, assignee: User | None,
                  now: datetime) -> Ticket:
    if assignee is not None and (assignee.role not in ASSIGNABLE or not assignee.is_active):
        raise DomainError("%(email)s cannot be assigned tickets.", field="assignee",
                          email=assignee.email)
    if assignee is not None and assignee is ticket.assignee:
        raise DomainError("The ticket is already assigned to %(name)s.", field="assignee",
                          name=assignee.name)
    _move(ticket, Action.ASSIGN, actor=actor, now=now)
    _set_assignee(ticket, assignee, actor=actor, now=now)
    return ticket


# For callers that receive the action as data (the API): action -> use case.
ACTIONS: dict[Action, Callable[..., object]] = {
    Action.TAKE: take_ticket,
    Action.REPLY: reply_to_ticket,
    Action.NOTE: add_note,
    Action.WAIT: wait_on_client,
    Action.RESUME: resume_ticket,
    Action.RESOLVE: resolve_ticket,
    Action.CONFIRM: confirm_resolution,
    Action.REOPEN: reopen_ticket,
    Action.CANCEL: cancel_ticket,
    Action.REPRIORITISE: reprioritise_ticket,
    Action.ASSIGN: assign_ticket,
}
