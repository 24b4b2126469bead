"""The access policy: which roles use which pages and calls, and what a viewer sees of a ticket.

Pages, the API, mail and exports ask here; nothing else compares roles. A refusal reads as "not
found" on pages and in the API alike, so that nobody learns what exists by probing addresses.
"""
from collections.abc import Callable, Iterable
from functools import wraps
from typing import ParamSpec, Protocol, TypeVar

from flask import abort, g
from flask_login import current_user, login_required

from helpdesk.accounts.roles import Role

# Who works tickets: the queue, the staff actions, internal notes, outages and the audit trail.
TICKET_STAFF = frozenset({Role.TECHNICIAN, Role.TEAM_LEAD, Role.ADMIN})
# Whom a ticket may be assigned to.
ASSIGNABLE = frozenset({Role.TECHNICIAN, Role.TEAM_LEAD})
# Who opens tickets and acts on them: the clients for themselves, the staff for anyone.
TICKET_ACTORS = TICKET_STAFF | {Role.CLIENT}
# Who closes months, issues credit notes and waives breaches.
FINANCE = frozenset({Role.FINANCE, Role.ADMIN})
# The provider's people: they read every organisation's tickets and contracts.
PROVIDER = frozenset(Role) - {Role.CLIENT}
# Who follows the service as a whole: the dashboard and the register of breaches.
OVERSIGHT = frozenset({Role.TEAM_LEAD, Role.FINANCE, Role.ADMIN})
# Who watches the scheduler at work.
OPERATIONS = frozenset({Role.TEAM_LEAD, Role.ADMIN})
CLIENTS = frozenset({Role.CLIENT})
# Who sees every user's API tokens and revokes any of them.
ADMINS = frozenset({Role.ADMIN})
TOKEN_ADMINS = ADMINS
EVERYONE = frozenset(Role)


class Viewer(Protocol):
    @property
    def role(self) -> Role: ...


class Message(Protocol):
    @property
    def is_internal(self) -> bool: ...


class Attachment(Protocol):
    @property
    def message(self) -> Message | None: ...


M = TypeVar("M", bound=Message)
A = TypeVar("A", bound=Attachment)
P = ParamSpec("P")
R = TypeVar("R")


def works_tickets(viewer: Viewer) -> bool:
    return viewer.role in TICKET_STAFF


def sees_every_organisation(viewer: Viewer) -> bool:
    """Clients see their own organisation's tickets, contracts and credit notes only."""
    return viewer.role in PROVIDER


def manages_billing(viewer: Viewer) -> bool:
    return viewer.role in FINANCE


def sees_internal_notes(viewer: Viewer) -> bool:
    """Internal notes, and what is attached to them, are the staff's alone."""
    return works_tickets(viewer)


def visible_messages(viewer: Viewer, messages: Iterable[M]) -> list[M]:
    internal = sees_internal_notes(viewer)
    return [message for message in messages if internal or not message.is_internal]


def may_see_attachment(viewer: Viewer, attachment: Attachment) -> bool:
    return (sees_internal_notes(viewer) or attachment.message is None
            or not attachment.message.is_internal)


def visible_attachments(viewer: Viewer, attachments: Iterable[A]) -> list[A]:
    return [attachment for attachment in attachments if may_see_attachment(viewer, attachment)]


def sees_audit_trail(viewer: Viewer) -> bool:
    return works_tickets(viewer)


def manages_outages(viewer: Viewer) -> bool:
    """Who records, ends, corrects and deletes outages; everyone who sees the ticket reads them."""
    return works_tickets(viewer)


def manages_every_token(viewer: Viewer) -> bool:
    """Anyone signed in manages their own API tokens; these people anyone's."""
    return viewer.role in TOKEN_ADMINS


def _only(roles: frozenset[Role], viewer: Callable[[], Viewer]
          ) -> Callable[[Callable[P, R]], Callable[P, R]]:
    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
            if viewer().role not in roles:
                abort(404)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def _signed_in_user() -> Viewer:
    user: Viewer = current_user
    return user


def _api_user() -> Viewer:
    user: Viewer = g.api_user
    return user


def role_required(*roles: Role) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """A page for these roles: others signed in get a 404, the signed-out the sign-in page."""
    only = _only(frozenset(roles), _signed_in_user)

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        signed_in: Callable[P, R] = login_required(only(view))
        return signed_in

    return decorator


def api_role_required(*roles: Role) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """An API call for these roles; the token was checked before (`helpdesk.api.auth`)."""
    return _only(frozenset(roles), _api_user)
