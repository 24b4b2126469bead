"""Sending the escalation outbox through the core's mailer (helpdesk/mailer.py). Each mail
carries a Message-ID derived from its notification, so the rare duplicate (a crash between
acceptance and commit) is recognisable downstream.
"""
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

import sqlalchemy as sa

from helpdesk.escalation.messages import mail_text
from helpdesk.escalation.models import Notification, NotificationState
from helpdesk.extensions import db
from helpdesk.mailer import Transport, hand_over


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
    message = _message(notification, now=now, mail_from=mail_from, base_url=base_url,
                       domain=domain)
    if not hand_over(notification, message, transport, now=now):
        return False
    notification.state = NotificationState.SENT
    return True
