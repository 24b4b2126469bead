"""The ticket status machine, in one place: which action may move a ticket from which status."""
from enum import StrEnum

from helpdesk.accounts.models import TICKET_STAFF, Role
from helpdesk.errors import Conflict, Forbidden
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

STATUS_LABELS = {
    S.NEW: "new",
    S.IN_PROGRESS: "in progress",
    S.WAITING_ON_CLIENT: "waiting on client",
    S.RESOLVED: "resolved",
    S.CLOSED: "closed",
    S.REOPENED: "reopened",
    S.CANCELLED: "cancelled",
}


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
        raise Forbidden(f"Your role cannot {ACTION_PHRASES[action]} a ticket.")
    target = transitions[action].get(status)
    if target is None:
        raise Conflict(f"Cannot {ACTION_PHRASES[action]} a ticket that is "
                       f"{STATUS_LABELS[status]}.")
    return target
