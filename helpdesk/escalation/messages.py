"""What an escalation mail says: which ticket, which clock, how long is left or overdue, a link."""
from datetime import datetime
from zoneinfo import ZoneInfo

from helpdesk.accounts.models import User
from helpdesk.sla.durations import humanize
from helpdesk.tickets.clocks import BREACH_LEVEL, TicketClock
from helpdesk.tickets.models import Ticket

CLOCK_NAMES = {"gti": "GTI (time to intervene)", "gtr": "GTR (time to restore)"}


def _local(instant: datetime, zone: ZoneInfo) -> str:
    local = instant.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


class NotificationText:
    """One threshold's mail. Everything but the greeting depends only on the recipient's time
    zone, so it is worded once per zone, not once per recipient."""

    def __init__(self, ticket: Ticket, clock: TicketClock, *, level: int, at: datetime,
                 now: datetime, base_url: str):
        self.ticket, self.clock, self.level, self.at, self.now = ticket, clock, level, at, now
        self.link = f"{base_url.rstrip('/')}/tickets/{ticket.number}"
        metric = clock.metric.value
        if level == BREACH_LEVEL:
            subject = f"[{ticket.number}] {metric.upper()} breached — {ticket.title}"
        else:
            subject = (f"[{ticket.number}] {metric.upper()} {level} % used — "
                       f"{humanize(clock.remaining)} left — {ticket.title}")
        self.subject = subject[:255]
        self._bodies: dict[str, str] = {}

    def for_recipient(self, recipient: User) -> tuple[str, str]:
        zone = recipient.timezone or "Europe/Paris"
        if zone not in self._bodies:
            self._bodies[zone] = self._body(ZoneInfo(zone))
        return self.subject, f"Hello {recipient.name},\n\n{self._bodies[zone]}"

    def _body(self, zone: ZoneInfo) -> str:
        ticket, clock, level = self.ticket, self.clock, self.level
        name = CLOCK_NAMES[clock.metric.value]
        if level == BREACH_LEVEL:
            situation = f"The {name} of this ticket was breached at {_local(self.at, zone)}."
            if clock.state.stopped_at is None:
                situation += (f" It is {humanize(clock.delay)} of service time overdue and "
                              f"still running.")
            else:
                situation += (f" The clock stopped at {_local(clock.state.stopped_at, zone)}, "
                              f"{humanize(clock.delay)} of service time late.")
        else:
            situation = (f"{level} % of the {name} was used at {_local(self.at, zone)}. "
                         f"{humanize(clock.remaining)} of service time is left"
                         + (f": due {_local(clock.due_at, zone)}." if clock.due_at else "."))
        return "\n".join([
            situation,
            "",
            f"Ticket:       {ticket.number} — {ticket.title}",
            f"Organisation: {ticket.organisation.name}",
            f"Priority:     {ticket.priority.code} — {ticket.priority.label}",
            f"Target:       {humanize(clock.target)} of service time "
            f"({ticket.priority.calendar.describe()})",
            f"Assignee:     {ticket.assignee.name if ticket.assignee else 'unassigned'}",
            "",
            f"Open the ticket: {self.link}",
            "",
            f"— Helpdesk, {_local(self.now, zone)}",
        ])
