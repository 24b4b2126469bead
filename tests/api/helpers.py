"""Set-up helpers shared by the API, isolation, bad-input and session tests.

Each one opens its own app context, does its work through the services, commits and returns plain
values (ticket numbers, tokens, counts), so the requests that follow run outside any app context.
"""
import io
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from helpdesk.accounts.scopes import ALL_SCOPES
from helpdesk.accounts.services import find_user, start_session
from helpdesk.accounts.tokens import create_api_token
from helpdesk.audit.models import AuditEntry
from helpdesk.clock import now_utc
from helpdesk.contracts.models import Contract
from helpdesk.extensions import db
from helpdesk.tickets import services
from helpdesk.tickets.attachments import store_file
from helpdesk.tickets.models import (
    Attachment,
    IdempotencyKey,
    Ticket,
    TicketEvent,
    TicketMessage,
    parse_number,
)
from helpdesk.tickets.workflow import Action

PROBLEM = "application/problem+json"
HOSTILE = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"

# The actions that bring a new ticket to each status: (action, who, arguments).
PATHS = {
    "new": [],
    "in_progress": [("take", "tech", {})],
    "waiting_on_client": [("take", "tech", {}), ("wait", "tech", {})],
    "resolved": [("take", "tech", {}), ("resolve", "tech", {})],
    "closed": [("take", "tech", {}), ("resolve", "tech", {}), ("confirm", "client", {})],
    "reopened": [("take", "tech", {}), ("resolve", "tech", {}),
                 ("reopen", "client", {"reason": "still down"})],
    "cancelled": [("cancel", "tech", {"reason": "duplicate"})],
}


def sign_in(app, client, email: str):
    """A signed-in browser session without the password round trip (argon2 is slow on purpose).

    The sign-in form itself is tested in tests/accounts; access tables use this to stay fast.
    """
    with app.app_context():
        token = start_session(find_user(email), now=now_utc())
        db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = token
        session["_fresh"] = True
    return client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def api_token(app, email: str, *, scopes=ALL_SCOPES, expires_at: datetime | None = None) -> str:
    with app.app_context():
        token = create_api_token(find_user(email), name="tests", scopes=scopes,
                                 expires_at=expires_at, actor=None, now=now_utc())
        db.session.commit()
    return token


def open_ticket(app, *, requester: str, contract: str = "CT-SHOP", priority: str = "P1",
                title: str = "Site down", description: str = "The shop returns 500.",
                now: datetime | None = None) -> str:
    with app.app_context():
        ticket = services.open_ticket(
            actor=find_user(requester),
            contract=db.session.scalar(sa.select(Contract).where(Contract.reference == contract)),
            priority_code=priority, title=title, description=description,
            now=now or now_utc())
        db.session.commit()
        return ticket.number


def _act(number: str, action: str, *, actor: str, now: datetime | None, **arguments) -> None:
    ticket = db.session.get(Ticket, parse_number(number))
    if action == "assign":
        arguments["assignee"] = find_user(arguments["assignee"])
    services.ACTIONS[Action(action)](ticket, actor=find_user(actor), now=now or now_utc(),
                                     **arguments)


def act(app, number: str, action: str, *, actor: str, now: datetime | None = None,
        **arguments) -> None:
    with app.app_context():
        _act(number, action, actor=actor, now=now, **arguments)
        db.session.commit()


def bring_to(app, number: str, status: str, *, world) -> None:
    """Walk a new ticket to `status` the way people would."""
    people = {"tech": world.tech, "client": world.client}
    with app.app_context():
        for action, who, arguments in PATHS[status]:
            _act(number, action, actor=people[who], now=None, **arguments)
        db.session.commit()


def status_of(app, number: str) -> str:
    with app.app_context():
        return db.session.get(Ticket, parse_number(number)).status.value


def add_note_with_attachment(app, number: str, *, author: str, body: str = "Root password is 42",
                             filename: str = "secret.txt", content: bytes = b"internal only"
                             ) -> int:
    """An internal note carrying a file; returns the attachment id."""
    with app.app_context():
        stored = store_file(io.BytesIO(content), filename,
                            directory=Path(app.config["ATTACHMENT_DIR"]),
                            max_bytes=app.config["MAX_ATTACHMENT_BYTES"])
        ticket = db.session.get(Ticket, parse_number(number))
        message = services.add_note(ticket, actor=find_user(author), body=body, now=now_utc(),
                                    attachment=stored)
        db.session.commit()
        return message.attachments[0].id


def add_reply_with_attachment(app, number: str, *, author: str, body: str = "Here is the log",
                              filename: str = "log.txt", content: bytes = b"public log") -> int:
    with app.app_context():
        stored = store_file(io.BytesIO(content), filename,
                            directory=Path(app.config["ATTACHMENT_DIR"]),
                            max_bytes=app.config["MAX_ATTACHMENT_BYTES"])
        ticket = db.session.get(Ticket, parse_number(number))
        message = services.reply_to_ticket(ticket, actor=find_user(author), body=body,
                                           now=now_utc(), attachment=stored)
        db.session.commit()
        return message.attachments[0].id


COUNTED = (Ticket, TicketMessage, TicketEvent, Attachment, IdempotencyKey)


def row_counts(app) -> dict[str, int]:
    """How many rows each table a ticket request could write holds: compare before and after.

    Audit entries are counted for tickets only, so that making an API token (audited) between
    the two counts does not look like a write of the request under test.
    """
    with app.app_context():
        counts = {model.__tablename__: db.session.scalar(
            sa.select(sa.func.count()).select_from(model)) for model in COUNTED}
        counts["audit_entries"] = db.session.scalar(
            sa.select(sa.func.count()).select_from(AuditEntry)
            .where(AuditEntry.entity == "ticket"))
        return counts


def assert_problem(response, status: int) -> dict:
    """An RFC 9457 problem document with that status, a title and a detail for people."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["status"] == status
    assert body["title"]
    assert body.get("detail")
    return body


def error_fields(body: dict) -> list[str]:
    return [error["field"] for error in body.get("errors", [])]
