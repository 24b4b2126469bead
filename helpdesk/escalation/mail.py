"""Sending the outbox: SMTP in production, .eml files in development. At least once, never lost.

A mail is marked sent only after the server accepted it; a failure leaves it pending with a
later next attempt (backoff doubling up to an hour), so a server that is down delays mail but
loses none. Each mail carries a Message-ID derived from its notification, so the rare duplicate
(a crash between acceptance and commit) is recognisable downstream.
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
from typing import Any, Protocol

import sqlalchemy as sa

from helpdesk.escalation.messages import mail_text
from helpdesk.escalation.models import Notification, NotificationState
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


def _message(notification: Notification, *, now: datetime, mail_from: str,
             base_url: str, domain: str) -> EmailMessage:
    subject, body = mail_text(notification, now=now, base_url=base_url)
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = notification.recipient.email
    message["Subject"] = subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = f"<notification-{notification.id}@{domain}>"
    message.set_content(body)
    return message


def backoff(attempts: int) -> timedelta:
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LAST_RETRY)


def claim_next(*, now: datetime) -> Notification | None:
    """The next mail due, locked so that concurrent senders never take the same one."""
    query = (sa.select(Notification)
             .where(Notification.state == NotificationState.PENDING,
                    Notification.next_attempt_at <= now)
             .order_by(Notification.next_attempt_at, Notification.id)
             .limit(1))
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Notification)
    return db.session.scalar(query)


def deliver(notification: Notification, transport: Transport, *, now: datetime,
            mail_from: str, base_url: str, domain: str) -> bool:
    """Hand one mail to the transport; the caller commits right after, whatever happened."""
    notification.attempts += 1
    try:
        transport.send(_message(notification, now=now, mail_from=mail_from, base_url=base_url,
                                domain=domain))
    except (OSError, ValueError, smtplib.SMTPException) as error:
        # Whatever fails, this mail waits its turn again and never blocks the ones behind it.
        notification.next_attempt_at = now + backoff(notification.attempts)
        notification.last_error = f"{type(error).__name__}: {error}"[:2000]
        logger.warning("mail %s to %s not sent (attempt %s): %s", notification.id,
                       notification.recipient.email, notification.attempts, error)
        return False
    notification.state = NotificationState.SENT
    notification.sent_at = now
    notification.last_error = None
    return True
