"""What an escalation mail says: which ticket, which clock, how long is left or overdue, a link."""
from datetime import datetime
from zoneinfo import ZoneInfo

from helpdesk.accounts.models import User
from helpdesk.sla.durations import humanize
from helpdesk.tickets.clocks import BREACH_LEVEL, TicketClock
from helpdesk.tickets.models import Ticket

CLOCK_NAMES = {"gti": "GTI (time to intervene)", "gtr": "GTR (time to restore)"}


def _local(instant: datetime, user: User) -> str:
    zone = ZoneInfo(user.timezone or "Europe/Paris")
    local = instant.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def render_notification(ticket: Ticket, clock: TicketClock, *, level: int, at: datetime,
                        recipient: User, now: datetime, base_url: str) -> tuple[str, str]:
    metric = clock.metric.value
    name = CLOCK_NAMES[metric]
    link = f"{base_url.rstrip('/')}/tickets/{ticket.number}"
    if level == BREACH_LEVEL:
        subject = f"[{ticket.number}] {metric.upper()} breached — {ticket.title}"
        situation = (f"The {name} of this ticket was breached at "
                     f"{_local(at, recipient)}.")
        if clock.state.stopped_at is None:
            situation += f" It is {humanize(clock.delay)} of service time overdue and still running."
        else:
            situation += (f" The clock stopped at {_local(clock.state.stopped_at, recipient)}, "
                          f"{humanize(clock.delay)} of service time late.")
    else:
        subject = (f"[{ticket.number}] {metric.upper()} {level} % used — "
                   f"{humanize(clock.remaining)} left — {ticket.title}")
        situation = (f"{level} % of the {name} was used at {_local(at, recipient)}. "
                     f"{humanize(clock.remaining)} of service time is left"
                     + (f": due {_local(clock.due_at, recipient)}." if clock.due_at else "."))
    body = "\n".join([
        f"Hello {recipient.name},",
        "",
        situation,
        "",
        f"Ticket:       {ticket.number} — {ticket.title}",
        f"Organisation: {ticket.organisation.name}",
        f"Priority:     {ticket.priority.code} — {ticket.priority.label}",
        f"Target:       {humanize(clock.target)} of service time "
        f"({ticket.priority.calendar.describe()})",
        f"Assignee:     {ticket.assignee.name if ticket.assignee else 'unassigned'}",
        "",
        f"Open the ticket: {link}",
        "",
        f"— Helpdesk, {_local(now, recipient)}",
    ])
    return subject[:255], body
