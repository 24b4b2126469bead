"""The technician's queue: its filter form and each row's live countdown.

A countdown is service time: a business-hours clock does not count at night, so the browser is
told, per row, whether the clock counts right now and when that changes, and never ticks down
outside service hours.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, ValidationError
from wtforms.widgets import html_params

from helpdesk.accounts.models import User
from helpdesk.formatting import localtime
from helpdesk.sla.calendar import Calendar as EngineCalendar
from helpdesk.sla.durations import largest_units
from helpdesk.tickets.clocks import BREACH_LEVEL
from helpdesk.tickets.models import QueueRank, SlaClock, SlaStatus, Ticket
from helpdesk.tickets.queries import QueueFilter, QueueState

SEARCH_MAX = 100
# How far ahead a business calendar is searched for its next opening or closing; beyond it
# the browser simply keeps the current state until the next refresh.
BOUNDARY_HORIZON = timedelta(days=14)

ASSIGNEE_CHOICES = [SelectChoice("", _l("Anyone")), SelectChoice("mine", _l("Mine")),
                    SelectChoice("unassigned", _l("Unassigned"))]
STATE_CHOICES = [SelectChoice("", _l("Any")),
                 SelectChoice(QueueState.RUNNING.value, _l("Running (not overdue)")),
                 SelectChoice(QueueState.AT_RISK.value, _l("At risk")),
                 SelectChoice(QueueState.BREACHED.value, _l("Breached")),
                 SelectChoice(QueueState.PAUSED.value, _l("Paused (waiting on client)"))]


class LeanSelect:
    """A <select> written in one pass: WTForms' own widget builds each option's attributes
    through `html_params`, which on a provider with hundreds of client organisations costs the
    queue more than its query does."""

    def __call__(self, field: SelectField, **kwargs: Any) -> Markup:
        kwargs.setdefault("id", field.id)
        options = "".join(
            f'<option{" selected" if selected else ""} value="{escape(value)}">'
            f"{escape(label)}</option>"
            for value, label, selected, _ in field.iter_choices())
        return Markup(f"<select {html_params(name=field.name, **kwargs)}>{options}</select>")


class QueueFilterForm(FlaskForm):
    """The queue's filters, read from the query string (a GET form: no CSRF, nothing changes).

    A value that is not one of the choices is reported on its field and the filter left out,
    so a stale bookmark still shows a queue."""

    class Meta:
        csrf = False

    assignee = SelectField(_l("Assigned to"), choices=ASSIGNEE_CHOICES, validate_choice=False)
    organisation = SelectField(_l("Organisation"), validate_choice=False, widget=LeanSelect())
    priority = SelectField(_l("Priority"), validate_choice=False)
    state = SelectField(_l("Clock state"), choices=STATE_CHOICES, validate_choice=False)
    q = StringField(_l("Number or title"), validators=[Length(
        max=SEARCH_MAX, message=_l("Search for at most %(max)d characters.", max=SEARCH_MAX))])

    def set_choices(self, organisations: list, priority_codes: list[str]) -> None:
        """`organisations`: rows of (id, code, name)."""
        self._organisations = {o.code: o for o in organisations}
        self.organisation.choices = [SelectChoice("", _l("All organisations"))] + [
            SelectChoice(o.code, o.name) for o in organisations]
        self.priority.choices = [SelectChoice("", _l("All priorities"))] + [
            SelectChoice(code) for code in priority_codes]

    @staticmethod
    def _check_choice(field: SelectField, message: LazyString) -> None:
        if field.data and field.data not in {choice.value for choice in field.choices}:
            raise ValidationError(message)

    def validate_assignee(self, field: SelectField) -> None:
        self._check_choice(field, _l("Choose anyone, mine or unassigned."))

    def validate_organisation(self, field: SelectField) -> None:
        self._check_choice(field, _l("No organisation has that code: showing all of them."))

    def validate_priority(self, field: SelectField) -> None:
        self._check_choice(field, _l("No priority has that code: showing all of them."))

    def validate_state(self, field: SelectField) -> None:
        self._check_choice(field, _l("Choose a clock state from the list."))

    def valid(self, name: str) -> str:
        field = self[name]
        return "" if field.errors or not field.data else field.data

    def filters(self, viewer: User) -> QueueFilter:
        """The filters of the fields that validated; call after `validate()`."""
        assignee = self.valid("assignee")
        organisation = self._organisations.get(self.valid("organisation"))
        state = self.valid("state")
        return QueueFilter(
            assignee_id=viewer.id if assignee == "mine" else None,
            unassigned=assignee == "unassigned",
            organisation_id=organisation.id if organisation else None,
            priority_code=self.valid("priority") or None,
            state=QueueState(state) if state else None,
            text=self.valid("q").strip() or None)

    def query_args(self) -> dict[str, str]:
        """The valid filters as query-string arguments, for the page links."""
        return {field.name: field.data for field in self if self.valid(field.name)}


@dataclass(frozen=True)
class Countdown:
    """A queue row's clock as of `now`, for the page and the browser's ticking.

    `left` is service time in seconds (negative once overdue); `ticking` whether it counts at
    this instant; `flips_in` the wall seconds until `ticking` changes (None: not within the
    horizon, or never on a 24/7 calendar); `warning_at` and `risk_at` the seconds left at which
    the row turns amber (first warning) and red (last warning before the breach).
    """

    state: str  # "ok", "warning", "at_risk", "breached", "paused", "idle"
    metric: str | None = None
    left: float = 0.0
    due_at: datetime | None = None
    ticking: bool = False
    flips_in: float | None = None
    warning_at: float | None = None
    risk_at: float | None = None


def _counting_clock(ticket: Ticket) -> SlaClock | None:
    """The stored clock the queue orders the ticket by: the earliest due of those counting."""
    counting = [row for row in ticket.clocks
                if row.stopped_at is None and row.due_at is not None
                and row.status in (SlaStatus.RUNNING, SlaStatus.BREACHED)]
    return min(counting, key=lambda row: row.due_at, default=None)


def _ticking(calendar: EngineCalendar, now: datetime) -> tuple[bool, float | None]:
    if calendar.is_always:
        return True, None
    is_open = calendar.is_open(now)
    horizon = now + BOUNDARY_HORIZON
    intervals = calendar.open_intervals(now, horizon)
    if is_open:
        end = intervals[0][1]
        return True, None if end >= horizon else (end - now).total_seconds()
    if not intervals:
        return False, None
    return False, (intervals[0][0] - now).total_seconds()


def state_for(left: float, warning_at: float | None, risk_at: float | None) -> str:
    if left <= 0:
        return "breached"
    if risk_at is not None and left <= risk_at:
        return "at_risk"
    if warning_at is not None and left <= warning_at:
        return "warning"
    return "ok"


def countdown(ticket: Ticket, *, now: datetime,
              boundaries: dict | None = None) -> Countdown:
    """The row's countdown from the stored clock: while a clock counts, the service time left
    is the service time between now and its due instant (and past it, the delay).

    `boundaries` may be a dict shared by the rows of a page, so each calendar's next opening
    or closing is looked up once."""
    if ticket.sla_rank == QueueRank.PAUSED:
        return Countdown(state="paused")
    row = _counting_clock(ticket)
    if row is None:
        return Countdown(state="idle")
    calendar = ticket.priority.calendar.engine()
    if row.due_at > now:
        left = calendar.elapsed(now, row.due_at).total_seconds()
    else:
        left = -calendar.elapsed(row.due_at, now).total_seconds()
    levels = sorted(t.at_percent for t in ticket.priority.escalations
                    if t.at_percent < BREACH_LEVEL)
    target = row.target_seconds
    warning_at = target * (100 - levels[0]) / 100 if levels else None
    risk_at = target * (100 - levels[-1]) / 100 if levels else None
    if boundaries is None:
        boundaries = {}
    if calendar not in boundaries:
        boundaries[calendar] = _ticking(calendar, now)
    ticking, flips_in = boundaries[calendar]
    return Countdown(state=state_for(left, warning_at, risk_at), metric=row.metric.value,
                     left=left, due_at=row.due_at, ticking=ticking, flips_in=flips_in,
                     warning_at=warning_at, risk_at=risk_at)


def countdown_words() -> dict[str, str]:
    """What a countdown says, translated once per page: the rows use them and hand them to the
    browser, so both write the same words. "{time}" stands for a duration."""
    return {
        "left": _("%(time)s left", time="{time}"),
        "overdue": _("overdue by %(time)s", time="{time}"),
        "at_risk": _("at risk"),
        "breached": _("breached"),
        "not_counting": _("not counting outside service hours"),
        "paused": _("paused (waiting on client)"),
        "idle": _("no clock running"),
        "due": _("%(metric)s due %(when)s", metric="{metric}", when="{when}"),
        "d": _("d"), "h": _("h"), "min": _("min"), "s": _("s"),
    }


def format_seconds(seconds: float, words: dict[str, str]) -> str:
    """"2 h 30 min", "45 s": the `duration` filter's format (static/js/countdown.js mirrors it)."""
    return " ".join(f"{amount}\N{NO-BREAK SPACE}{words[unit]}"
                    for amount, unit in largest_units(timedelta(seconds=seconds)))


def countdown_time(shown: Countdown, words: dict[str, str]) -> str:
    """"1 h 50 min left", or "overdue by 5 min" once the due instant has passed."""
    template = words["overdue"] if shown.state == "breached" else words["left"]
    return template.replace("{time}", format_seconds(shown.left, words))


def countdown_due(shown: Countdown, words: dict[str, str]) -> str:
    """"GTI due Mon 12:50 CET", in the viewer's zone."""
    return (words["due"].replace("{metric}", shown.metric.upper())
            .replace("{when}", localtime(shown.due_at, "weekday")))
