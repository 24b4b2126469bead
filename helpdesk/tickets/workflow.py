"""The ticket status machine, in one place: which action may move a ticket from which status."""
from enum import StrEnum

from flask_babel import lazy_gettext as _l

from helpdesk.accounts.access import TICKET_STAFF
from helpdesk.accounts.roles import Role
from helpdesk.errors import N_, Conflict, Forbidden, Term
from helpdesk.tickets.models import Status

S = Status


class Action(StrEnum):
    TAKE = "take"
    REPLY = "reply"
    NOTE = "note"
    WAIT = "wait"
    RESUME = "resume"
    RESOLVE = "resolve"
    CONFIRM = "confirm"
    REOPEN = "reopen"
    CANCEL = "cancel"
    REPRIORITISE = "reprioritise"
    ASSIGN = "assign"


WORKING = {S.NEW: S.NEW, S.IN_PROGRESS: S.IN_PROGRESS, S.WAITING_ON_CLIENT: S.WAITING_ON_CLIENT,
           S.REOPENED: S.REOPENED}

# action -> {from status: to status}, for staff and for clients. Absent means refused.
STAFF_TRANSITIONS: dict[Action, dict[Status, Status]] = {
    Action.TAKE: {S.NEW: S.IN_PROGRESS, S.REOPENED: S.IN_PROGRESS},
    # A technician's public answer is an intervention: it starts the work.
    Action.REPLY: {**WORKING, S.NEW: S.IN_PROGRESS, S.REOPENED: S.IN_PROGRESS,
                   S.RESOLVED: S.RESOLVED},
    Action.NOTE: {status: status for status in Status},
    Action.WAIT: {S.IN_PROGRESS: S.WAITING_ON_CLIENT},
    Action.RESUME: {S.WAITING_ON_CLIENT: S.IN_PROGRESS},
    Action.RESOLVE: {S.IN_PROGRESS: S.RESOLVED, S.WAITING_ON_CLIENT: S.RESOLVED,
                     S.REOPENED: S.RESOLVED},
    Action.REOPEN: {S.RESOLVED: S.REOPENED},
    Action.CANCEL: {status: S.CANCELLED for status in WORKING},
    Action.REPRIORITISE: dict(WORKING),
    Action.ASSIGN: dict(WORKING),
}

CLIENT_TRANSITIONS: dict[Action, dict[Status, Status]] = {
    # The client answering the question it was waiting on gives the ticket back to the team.
    Action.REPLY: {**WORKING, S.WAITING_ON_CLIENT: S.IN_PROGRESS, S.RESOLVED: S.RESOLVED},
    Action.CONFIRM: {S.RESOLVED: S.CLOSED},
    Action.REOPEN: {S.RESOLVED: S.REOPENED},
}

# English names, stable in API error messages; STATUS_LABELS reads them in the viewer's language
# (lazily: outside a request they stay English).
STATUS_NAMES = {
    S.NEW: N_("new"),
    S.IN_PROGRESS: N_("in progress"),
    S.WAITING_ON_CLIENT: N_("waiting on client"),
    S.RESOLVED: N_("resolved"),
    S.CLOSED: N_("closed"),
    S.REOPENED: N_("reopened"),
    S.CANCELLED: N_("cancelled"),
}
STATUS_LABELS = {status: _l(name) for status, name in STATUS_NAMES.items()}


def status_label(value: Status | str | None) -> str | None:
    """A status, or one an audit entry stored as text, in the viewer's language."""
    label = STATUS_LABELS.get(value, value)  # type: ignore[call-overload]
    return None if label is None else str(label)


# How each action reads in a sentence: "Cannot <phrase> a ticket that is resolved."
ACTION_PHRASES = {
    Action.TAKE: "take in charge",
    Action.REPLY: "reply to",
    Action.NOTE: "add a note to",
    Action.WAIT: "put on hold",
    Action.RESUME: "resume",
    Action.RESOLVE: "resolve",
    Action.CONFIRM: "confirm the resolution of",
    Action.REOPEN: "reopen",
    Action.CANCEL: "cancel",
    Action.REPRIORITISE: "reprioritise",
    Action.ASSIGN: "assign",
}

# The refusals as whole sentences, so each language can build them its own way; in English they
# read as ACTION_PHRASES put in "Your role cannot … a ticket." and "Cannot … a ticket that is …".
ROLE_REFUSALS = {
    Action.TAKE: N_("Your role cannot take in charge a ticket."),
    Action.REPLY: N_("Your role cannot reply to a ticket."),
    Action.NOTE: N_("Your role cannot add a note to a ticket."),
    Action.WAIT: N_("Your role cannot put on hold a ticket."),
    Action.RESUME: N_("Your role cannot resume a ticket."),
    Action.RESOLVE: N_("Your role cannot resolve a ticket."),
    Action.CONFIRM: N_("Your role cannot confirm the resolution of a ticket."),
    Action.REOPEN: N_("Your role cannot reopen a ticket."),
    Action.CANCEL: N_("Your role cannot cancel a ticket."),
    Action.REPRIORITISE: N_("Your role cannot reprioritise a ticket."),
    Action.ASSIGN: N_("Your role cannot assign a ticket."),
}
STATUS_REFUSALS = {
    Action.TAKE: N_("Cannot take in charge a ticket that is %(status)s."),
    Action.REPLY: N_("Cannot reply to a ticket that is %(status)s."),
    Action.NOTE: N_("Cannot add a note to a ticket that is %(status)s."),
    Action.WAIT: N_("Cannot put on hold a ticket that is %(status)s."),
    Action.RESUME: N_("Cannot resume a ticket that is %(status)s."),
    Action.RESOLVE: N_("Cannot resolve a ticket that is %(status)s."),
    Action.CONFIRM: N_("Cannot confirm the resolution of a ticket that is %(status)s."),
    Action.REOPEN: N_("Cannot reopen a ticket that is %(status)s."),
    Action.CANCEL: N_("Cannot cancel a ticket that is %(status)s."),
    Action.REPRIORITISE: N_("Cannot reprioritise a ticket that is %(status)s."),
    Action.ASSIGN: N_("Cannot assign a ticket that is %(status)s."),
}


def _transitions_for(role: Role) -> dict[Action, dict[Status, Status]]:
    if role in TICKET_STAFF:
        return STAFF_TRANSITIONS
    if role == Role.CLIENT:
        return CLIENT_TRANSITIONS
    return {}


def allowed_actions(status: Status, role: Role) -> list[Action]:
    transitions = _transitions_for(role)
    return [action for action in Action if status in transitions.get(action, {})]


def next_status(action: Action, status: Status, role: Role) -> Status:
    """The status after `action`, or a clear refusal."""
    transitions = _transitions_for(role)
    if action not in transitions:
        raise Forbidden(ROLE_REFUSALS[action])
    target = transitions[action].get(status)
    if target is None:
        raise Conflict(STATUS_REFUSALS[action], status=Term(STATUS_NAMES[status]))
    return target
