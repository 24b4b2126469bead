"""What an escalation mail says: which ticket, which clock, how long is left or overdue, a link.

Worded when it is read or sent, not when the threshold is recorded: in the recipient's language
and time zone, with the clock as it stands then. The sweep writes only who is to be told of which
event, which keeps it cheap when a thousand thresholds fall due at once.
"""
from collections.abc import Callable
from datetime import datetime

from flask_babel import force_locale, gettext, lazy_gettext

from helpdesk.accounts.mail import mail_language
from helpdesk.accounts.models import User
from helpdesk.contracts.wording import service_hours
from helpdesk.escalation.models import EscalationEvent, Notification
from helpdesk.formatting import duration, format_instant, person_zone
from helpdesk.tickets.clocks import BREACH_LEVEL, ticket_clocks
from helpdesk.tickets.models import Ticket

CLOCK_NAMES = {"gti": lazy_gettext("GTI (time to intervene)"),
               "gtr": lazy_gettext("GTR (time to restore)")}
def notification_subject(notification: Notification) -> str:
    """The one-line summary, in the current language: the inbox and the mail subject."""
    event: EscalationEvent = notification.event
    ticket: Ticket = event.ticket
    metric = event.metric.value.upper()
    if event.level == BREACH_LEVEL:
        text = gettext("[%(number)s] %(metric)s breached — %(title)s",
                       number=ticket.number, metric=metric, title=ticket.title)
    else:
        text = gettext("[%(number)s] %(metric)s %(level)s %% used — %(title)s",
                       number=ticket.number, metric=metric, level=event.level,
                       title=ticket.title)
    # A title may hold line separators (U+2028 and friends) that a header cannot carry.
    return " ".join(text.splitlines())[:255]


def _situation(event: EscalationEvent, ticket: Ticket, *, now: datetime,
               local: Callable[[datetime], str]) -> str:
    clock = ticket_clocks(ticket, now=now).get(event.metric.value)
    name = CLOCK_NAMES[event.metric.value]
    if event.level == BREACH_LEVEL:
        text = gettext("The %(clock)s of this ticket was breached at %(at)s.",
                       clock=name, at=local(event.at))
        if clock is None:
            return text
        if clock.state.stopped_at is None:
            return text + " " + gettext(
                "It is %(delay)s of service time overdue and still running.",
                delay=duration(clock.delay))
        return text + " " + gettext(
            "The clock stopped at %(stopped)s, %(delay)s of service time late.",
            stopped=local(clock.state.stopped_at), delay=duration(clock.delay))
    text = gettext("%(level)s %% of the %(clock)s was used at %(at)s.",
                   level=event.level, clock=name, at=local(event.at))
    if clock is None:
        return text
    if clock.state.stopped_at is not None:
        return text + " " + gettext("The clock has stopped since, at %(stopped)s.",
                                    stopped=local(clock.state.stopped_at))
    if clock.due_at is None:
        return text + " " + gettext("%(left)s of service time is left; the clock is paused.",
                                    left=duration(clock.remaining))
    return text + " " + gettext("%(left)s of service time is left: due %(due)s.",
                                left=duration(clock.remaining), due=local(clock.due_at))


def notification_body(notification: Notification, *, now: datetime, base_url: str) -> str:
    """The mail's text, in the current language, with the clock as it stands at `now`."""
    event: EscalationEvent = notification.event
    ticket: Ticket = event.ticket
    recipient: User = notification.recipient
    zone, language = person_zone(recipient.timezone), mail_language(recipient)

    def local(instant: datetime) -> str:
        return format_instant(instant, "datetime", zone=zone, locale=language)

    priority = ticket.priority
    target = priority.target(event.metric)
    assignee = ticket.assignee.name if ticket.assignee else gettext("unassigned")
    lines = [
        gettext("Hello %(name)s,", name=recipient.name),
        "",
        _situation(event, ticket, now=now, local=local),
        "",
        gettext("Ticket: %(number)s — %(title)s", number=ticket.number, title=ticket.title),
        gettext("Organisation: %(name)s", name=ticket.organisation.name),
        gettext("Priority: %(code)s — %(label)s", code=priority.code, label=priority.label),
    ]
    if target is not None:
        lines.append(gettext("Target: %(target)s of service time (%(hours)s)",
                             target=duration(target), hours=service_hours(priority.calendar)))
    lines += [
        gettext("Assignee: %(name)s", name=assignee),
        "",
        gettext("Open the ticket: %(link)s",
                link=f"{base_url.rstrip('/')}/tickets/{ticket.number}"),
        "",
        gettext("— Helpdesk, %(at)s", at=local(now)),
    ]
    return "\n".join(lines)


def mail_text(notification: Notification, *, now: datetime, base_url: str) -> tuple[str, str]:
    """Subject and body in the recipient's language."""
    with force_locale(mail_language(notification.recipient)):
        return (notification_subject(notification),
                notification_body(notification, now=now, base_url=base_url))
