"""What the ticket pages say about guarantees and clocks, in the viewer's language and zone.

Presentation only: called while a request renders, so `gettext` and the viewer's zone apply.
"""
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import holidays as holidays_package
from babel.dates import get_day_names
from flask_babel import get_locale
from flask_babel import gettext as _

from helpdesk.contracts.models import WEEKDAYS, Calendar, Metric, Priority
from helpdesk.formatting import duration, localtime, viewer_zone
from helpdesk.sla.clock import SegmentKind
from helpdesk.tickets.clocks import GTR_KINDS, TicketClock, _gti_kind
from helpdesk.tickets.models import EventKind, SlaStatus, Ticket, TicketEvent
from helpdesk.tickets.workflow import Action

# "Thursday 3 December 2026, 15:00": a promise people read as a sentence.
LONG_INSTANT = "EEEE d MMMM y, HH:mm"


def _day_name(index: int, width: str = "wide") -> str:
    return get_day_names(width, locale=get_locale())[index]


def _windows(windows: list) -> str:
    return ", ".join(f"{start}–{end}" for start, end in windows)


def service_hours(calendar: Calendar) -> str:
    """The service hours in words: "24 hours a day, 7 days a week", or "Monday to Friday,
    08:00–18:00, except public holidays (France)"."""
    if calendar.is_always:
        return _("24 hours a day, 7 days a week")
    runs: list[list] = []  # [first day, last day, windows]
    for index, day in enumerate(WEEKDAYS):
        windows = calendar.weekly.get(day)
        if not windows:
            continue
        if runs and runs[-1][1] == index - 1 and runs[-1][2] == windows:
            runs[-1][1] = index
        else:
            runs.append([index, index, windows])
    parts = []
    for first, last, windows in runs:
        if first == last:
            days = _day_name(first)
        elif last == first + 1:
            days = _("%(first)s and %(last)s", first=_day_name(first), last=_day_name(last))
        else:
            days = _("%(first)s to %(last)s", first=_day_name(first), last=_day_name(last))
        parts.append(f"{days}, {_windows(windows)}")
    text = "; ".join(parts)
    if calendar.holidays_country:
        territory = get_locale().territories.get(calendar.holidays_country,
                                                 calendar.holidays_country)
        text = _("%(hours)s, except public holidays (%(country)s)", hours=text,
                 country=territory)
    if calendar.closures:
        text = _("%(hours)s and announced closure days", hours=text)
    return text


@dataclass(frozen=True)
class Guarantee:
    """What a priority promises, in sentences a client can choose by."""

    code: str
    label: str
    intervene: str
    restore: str
    hours: str
    zone: str


def guarantee(priority: Priority) -> Guarantee:
    calendar = priority.calendar
    counted = service_hours(calendar)
    if calendar.is_always:
        intervene = _("A technician starts working on it within %(gti)s, day and night.",
                      gti=duration(priority.gti))
    else:
        intervene = _("A technician starts working on it within %(gti)s of service hours.",
                      gti=duration(priority.gti))
    if priority.gtr is None:
        restore = _("No guaranteed restoration time.")
    else:
        restore = _("Service is restored within %(gtr)s of service hours.",
                    gtr=duration(priority.gtr))
    return Guarantee(code=priority.code, label=priority.label, intervene=intervene,
                     restore=restore, hours=counted, zone=calendar.timezone)


def _when(instant: datetime) -> str:
    return _("%(when)s (%(zone)s)", when=localtime(instant, LONG_INSTANT),
             zone=viewer_zone().key)


def promise(metric: str, clock: TicketClock) -> str:
    """One sentence per clock: by when, or what became of the promise."""
    state = clock.state
    if clock.status == SlaStatus.CANCELLED:
        return _("The ticket was cancelled: no guarantee applies.")
    if metric == Metric.GTI:
        if clock.status == SlaStatus.RUNNING:
            return _("A technician will intervene by %(when)s.", when=_when(clock.due_at))
        if clock.status == SlaStatus.MET:
            return _("A technician intervened on %(when)s, within the guaranteed time.",
                     when=_when(state.stopped_at))
        if clock.status == SlaStatus.PAUSED:
            return _("The intervention clock is paused; %(left)s of service time will be left "
                     "when it resumes.", left=duration(clock.remaining))
        if state.stopped_at is not None:
            return _("A technician intervened on %(when)s, %(late)s of service time after the "
                     "guaranteed time.", when=_when(state.stopped_at), late=duration(clock.delay))
        return _("The intervention was due by %(when)s: overdue by %(late)s of service time.",
                 when=_when(clock.breached_at), late=duration(clock.delay))
    if clock.status == SlaStatus.RUNNING:
        return _("Service will be restored by %(when)s.", when=_when(clock.due_at))
    if clock.status == SlaStatus.MET:
        return _("Service was restored on %(when)s, within the guaranteed time.",
                 when=_when(state.stopped_at))
    if clock.status == SlaStatus.PAUSED:
        return _("The restoration clock is paused while the team waits for the client; "
                 "%(left)s of service time will be left when it resumes.",
                 left=duration(clock.remaining))
    if state.stopped_at is not None:
        return _("Service was restored on %(when)s, %(late)s of service time after the "
                 "guaranteed time.", when=_when(state.stopped_at), late=duration(clock.delay))
    return _("Restoration was due by %(when)s: overdue by %(late)s of service time.",
             when=_when(clock.breached_at), late=duration(clock.delay))


def clock_in_words(clock: TicketClock) -> str:
    """A clock in a list: "2 h 30 min left", "met", "breached, 1 h late", "paused"."""
    if clock.status == SlaStatus.RUNNING:
        return _("%(left)s left", left=duration(clock.remaining))
    if clock.status == SlaStatus.PAUSED:
        return _("paused, %(left)s left", left=duration(clock.remaining))
    if clock.status == SlaStatus.MET:
        return _("met")
    if clock.status == SlaStatus.CANCELLED:
        return _("cancelled")
    if clock.state.stopped_at is None:
        return _("breached, overdue by %(late)s", late=duration(clock.delay))
    return _("breached, %(late)s late", late=duration(clock.delay))


def metric_name(metric: str) -> str:
    return _("GTI — time to intervene") if metric == Metric.GTI else _(
        "GTR — time to restore")


def clock_state(status: SlaStatus) -> str:
    return {SlaStatus.RUNNING: _("running"), SlaStatus.PAUSED: _("paused"),
            SlaStatus.MET: _("met"), SlaStatus.BREACHED: _("breached"),
            SlaStatus.CANCELLED: _("cancelled")}[status]


# --- what each action does to the clocks ------------------------------------------------------


def _counting(clocks: dict[str, TicketClock], metric: str) -> bool:
    clock = clocks.get(metric)
    return (clock is not None and clock.status != SlaStatus.CANCELLED
            and clock.state.stopped_at is None and clock.status != SlaStatus.PAUSED)


def action_effects(clocks: dict[str, TicketClock], *, staff: bool) -> dict[str, str]:
    """The clause after a button's name: what pressing it does to the clocks. Actions that
    never touch a clock (assigning, a client's ordinary reply) have none."""
    gti_counting = _counting(clocks, "gti")
    has_gtr = "gtr" in clocks
    no_effect = _("no effect on the clocks")
    effects = {
        Action.TAKE: _("stops the GTI") if gti_counting else no_effect,
        Action.WAIT: _("pauses the GTR") if has_gtr else no_effect,
        Action.RESUME: _("restarts the GTR") if has_gtr else no_effect,
        Action.RESOLVE: _("stops the GTR") if has_gtr else no_effect,
        Action.CONFIRM: _("closes the ticket"),
        Action.REOPEN: _("restarts the GTR") if has_gtr else no_effect,
        Action.NOTE: _("not shown to the client; no effect on the clocks"),
        Action.CANCEL: _("stops every clock; no breach counts"),
        Action.REPRIORITISE: _("recomputes the clocks from the opening with the new targets"),
    }
    gtr = clocks.get("gtr")
    if staff:
        effects[Action.REPLY] = (_("a first answer stops the GTI") if gti_counting
                                 else _("shown to the client"))
    elif gtr is not None and gtr.status == SlaStatus.PAUSED:
        effects[Action.REPLY] = _("answers the team and restarts the GTR")
    return {action.value: text for action, text in effects.items()}


# --- the explanation timeline ----------------------------------------------------------------


@dataclass(frozen=True)
class TimelineRow:
    start: datetime
    end: datetime | None  # None: an instant (something happened), not a stretch of time
    text: str
    counted: bool = False

    @property
    def length(self) -> timedelta | None:
        return None if self.end is None else self.end - self.start


def _event_text(metric: str, event: TicketEvent, kind: str | None) -> str | None:
    who = event.actor.name if event.actor else _("the system")
    if event.kind == EventKind.REPRIORITISED:
        return _("Priority changed from %(before)s to %(after)s by %(who)s (%(reason)s): the "
                 "clock is recounted from the opening with the new target.",
                 before=event.data.get("before", "?"), after=event.data.get("after", "?"),
                 who=who, reason=event.data.get("reason") or "—")
    if kind == "start":
        return _("Ticket opened by %(who)s: the clock starts.", who=who)
    if kind == "pause":
        return _("%(who)s waits on the client: the clock pauses.", who=who)
    if kind == "resume":
        return _("Work resumes (%(who)s): the clock restarts.", who=who)
    if kind == "reopen":
        return _("Reopened by %(who)s: the clock counts again.", who=who)
    if kind == "stop":
        if event.kind == EventKind.CANCELLED:
            return _("Cancelled by %(who)s: no breach counts.", who=who)
        if metric == Metric.GTI:
            return _("First intervention by %(who)s: the clock stops.", who=who)
        return _("Resolved by %(who)s: the clock stops.", who=who)
    return None


def _closed_days(calendar: Calendar, start: datetime, end: datetime) -> list[str]:
    """Holidays and closure days inside a stretch outside service hours, by name."""
    if calendar.is_always:
        return []
    zone = calendar.engine().zone
    first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    if (last - first).days > 62:  # a long stretch: name the rule, not every day
        return []
    closures = {date.fromisoformat(d) for d in calendar.closures}
    names = []
    public = {}
    if calendar.holidays_country:
        public = holidays_package.country_holidays(
            calendar.holidays_country, subdiv=calendar.holidays_subdiv,
            years=range(first.year, last.year + 1),
            language="fr" if str(get_locale()) == "fr" else "en_US")
    day = first
    while day <= last:
        if WEEKDAYS[day.weekday()] in calendar.weekly:
            if day in closures:
                names.append(_("closure day %(day)s", day=localtime(
                    datetime(day.year, day.month, day.day, 12, tzinfo=zone), "date")))
            elif day in public:
                names.append(_("public holiday %(name)s", name=public.get(day)))
        day += timedelta(days=1)
    return names


def timeline(ticket: Ticket, metric: str, clock: TicketClock) -> list[TimelineRow]:
    """The clock's history as rows: what happened, and each stretch counted or not, and why."""
    rows: list[TimelineRow] = []
    calendar = ticket.priority.calendar
    stopped = False
    for event in ticket.events:
        kind = _gti_kind(event) if metric == Metric.GTI else GTR_KINDS.get(event.kind)
        if metric == Metric.GTI and kind == "stop":
            if stopped:
                continue
            stopped = True
        text = _event_text(metric, event, kind)
        if text is not None and event.at <= clock.state.now:
            rows.append(TimelineRow(event.at, None, text))
    for segment in clock.segments:
        if segment.kind == SegmentKind.COUNTED:
            text, counted = _("counted"), True
        elif segment.kind == SegmentKind.PAUSED:
            text, counted = _("not counted: waiting on the client"), False
        elif segment.kind == SegmentKind.STOPPED:
            text, counted = _("not counted: stopped until reopened"), False
        else:
            closed = _closed_days(calendar, segment.start, segment.end)
            text = _("not counted: outside service hours")
            if closed:
                text = _("%(text)s (%(days)s)", text=text, days=", ".join(closed))
            counted = False
        rows.append(TimelineRow(segment.start, segment.end, text, counted))
    # Events before the stretches that follow them, at equal instants.
    rows.sort(key=lambda row: (row.start, row.end is not None))
    return rows


def due_reason(clock: TicketClock) -> str:
    """Why the due instant is where it is."""
    if clock.status == SlaStatus.CANCELLED:
        return _("The ticket was cancelled: the clock no longer counts.")
    if clock.due_at is None:
        return _("No due instant while the clock is paused: %(left)s of service time remain "
                 "of the %(target)s target.", left=duration(clock.remaining),
                 target=duration(clock.target))
    return _("Due %(when)s: the moment %(target)s of service time is counted; time outside "
             "service hours and pauses are not counted.", when=localtime(clock.due_at),
             target=duration(clock.target))


# --- the audit trail --------------------------------------------------------------------------


def audit_action(name: str) -> str:
    """What an audit entry of a ticket records, in words; unknown names are shown as they are."""
    return {
        "open": _("opened"), "take": _("taken in charge"), "reply": _("replied"),
        "note": _("internal note"), "wait": _("waiting on the client"), "resume": _("resumed"),
        "resolve": _("resolved"), "confirm": _("resolution confirmed"), "reopen": _("reopened"),
        "cancel": _("cancelled"), "reprioritise": _("priority changed"),
        "assign": _("assignee changed"), "attach": _("file attached"),
        "record_outage": _("outage recorded"), "end_outage": _("outage ended"),
        "correct_outage": _("outage corrected"), "delete_outage": _("outage deleted"),
    }.get(name, name)


def audit_field(name: str) -> str:
    fields = {"status": _("status"), "priority": _("priority"), "assignee": _("assignee"),
              "attachment": _("file"), "title": _("title")}
    if name in fields:
        return fields[name]
    parts = name.split(" ")  # "outage 3 started_at"
    if len(parts) == 3 and parts[0] == "outage":
        what = _("start") if parts[2] == "started_at" else _("end")
        return _("outage %(id)s %(what)s", id=parts[1], what=what)
    return name
