"""Handing mail to a server: SMTP in production, .eml files in development. At least once, never
lost: an outbox row is marked sent only after the server accepted it; a failure leaves it pending
with a later next attempt (backoff doubling up to an hour), so a server that is down delays mail
but loses none. Each outbox (escalation notifications, account mails) words its own messages.
"""
import logging
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa

from helpdesk.extensions import db

logger = logging.getLogger(__name__)

FIRST_RETRY = timedelta(seconds=30)
LAST_RETRY = timedelta(hours=1)


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None: ...


@dataclass(frozen=True)
class SmtpTransport:
    host: str
    port: int
    user: str = ""
    password: str = ""
    starttls: bool = True
    timeout: float = 10.0

    def send(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as server:
            if self.starttls:
                server.starttls(context=ssl.create_default_context())
            if self.user:
                server.login(self.user, self.password)
            server.send_message(message)


@dataclass(frozen=True)
class FolderTransport:
    """Development: each mail becomes an .eml file to open with any mail reader."""

    folder: Path

    def send(self, message: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = message["Message-ID"].strip("<>").replace("@", "_at_")
        temporary = self.folder / f".{name}.tmp"
        temporary.write_bytes(bytes(message))
        temporary.replace(self.folder / f"{name}.eml")


def transport_from_config(config: Mapping[str, Any]) -> Transport:
    if config.get("SMTP_HOST"):
        return SmtpTransport(config["SMTP_HOST"], int(config["SMTP_PORT"]),
                             config.get("SMTP_USER", ""), config.get("SMTP_PASSWORD", ""),
                             bool(config.get("SMTP_STARTTLS", True)))
    return FolderTransport(Path(config["MAIL_DIR"]))


def backoff(attempts: int) -> timedelta:
    # Capped before multiplying: a mail retried for weeks must not overflow a timedelta.
    return min(FIRST_RETRY * (1 << min(max(attempts - 1, 0), 20)), LAST_RETRY)


class Outgoing(Protocol):
    """An outbox row: what a delivery attempt records."""

    attempts: int
    next_attempt_at: datetime | None
    sent_at: datetime | None
    last_error: str | None


def new_message(*, mail_from: str, to: str, subject: str, body: str, now: datetime,
                message_id: str) -> EmailMessage:
    """A plain-text mail; `message_id` names its outbox row, so a rare duplicate (a crash
    between acceptance and commit) is recognisable downstream."""
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id
    message.set_content(body)
    return message


Row = TypeVar("Row")


def claim_next(outbox: type[Row], *, pending: object, now: datetime) -> Row | None:
    """The next row of `outbox` due at `now`, locked so that concurrent senders never take the
    same one (on PostgreSQL; SQLite runs one writer at a time)."""
    table: Any = outbox
    query = (sa.select(outbox)
             .where(table.state == pending, table.next_attempt_at <= now)
             .order_by(table.next_attempt_at, table.id)
             .limit(1))
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=table)
    row: Row | None = db.session.scalar(query)
    return row


def hand_over(item: Outgoing, message: EmailMessage, transport: Transport, *,
              now: datetime) -> bool:
    """One attempt to send `message` for `item`; the caller marks it sent on True, and commits
    right after, whatever happened."""
    item.attempts += 1
    try:
        transport.send(message)
    except (OSError, ValueError, smtplib.SMTPException) as error:
        # Whatever fails, this mail waits its turn again and never blocks the ones behind it.
        item.next_attempt_at = now + backoff(item.attempts)
        item.last_error = f"{type(error).__name__}: {error}"[:2000]
        logger.warning("mail %s to %s not sent (attempt %s): %s", message["Message-ID"],
                       message["To"], item.attempts, error)
        return False
    item.sent_at = now
    item.last_error = None
    return True
