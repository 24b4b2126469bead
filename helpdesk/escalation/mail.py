"""Sending the escalation outbox through the core's mailer (helpdesk/mailer.py). Each mail
carries a Message-ID derived from its notification, so the rare duplicate (a crash between
acceptance and commit) is recognisable downstream.
"""
from datetime import datetime
from email.message import EmailMessage

from helpdesk import mailer
from helpdesk.escalation.messages import mail_text
from helpdesk.escalation.models import Notification, NotificationState
from helpdesk.mailer import Transport, hand_over, new_message


def _message(notification: Notification, *, now: datetime, mail_from: str,
             base_url: str, domain: str) -> EmailMessage:
    subject, body = mail_text(notification, now=now, base_url=base_url)
    return new_message(mail_from=mail_from, to=notification.recipient.email, subject=subject,
                       body=body, now=now, message_id=f"<notification-{notification.id}@{domain}>")


def claim_next(*, now: datetime) -> Notification | None:
    return mailer.claim_next(Notification, pending=NotificationState.PENDING, now=now)


def deliver(notification: Notification, transport: Transport, *, now: datetime,
            mail_from: str, base_url: str, domain: str) -> bool:
    """Hand one mail to the transport; the caller commits right after, whatever happened."""
    message = _message(notification, now=now, mail_from=mail_from, base_url=base_url,
                       domain=domain)
    if not hand_over(notification, message, transport, now=now):
        return False
    notification.state = NotificationState.SENT
    return True
