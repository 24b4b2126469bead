from collections.abc import Callable, Sequence
from datetime import UTC
from typing import Any

from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateTimeLocalField, Field, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from helpdesk.contracts.models import Contract, Priority
from helpdesk.formatting import duration, viewer_zone
from helpdesk.tickets.rules import BODY_MAX, REASON_MAX, TITLE_MAX
from helpdesk.tickets.wording import service_hours


def priority_label(priority: Priority) -> str:
    """`P1 — Critique · GTI 2 h · 24 hours a day, 7 days a week`: what choosing a priority
    needs, in the reader's language."""
    parts = [f"{priority.code} — {priority.label}", f"GTI {duration(priority.gti)}"]
    if priority.gtr is not None:
        parts.append(f"GTR {duration(priority.gtr)}")
    parts.append(service_hours(priority.calendar))
    return " · ".join(parts)


def priority_value(contract: Contract, code: str) -> str:
    return f"{contract.reference}|{code}"


class NewTicketForm(FlaskForm):
    contract = SelectField(_l("Contract"), validators=[DataRequired(_l("Choose a contract."))])
    priority = SelectField(_l("Priority"), validators=[DataRequired(_l("Choose a priority."))])
    title = StringField(_l("Title"), validators=[DataRequired(_l("Give the incident a title.")),
                                             Length(max=TITLE_MAX)])
    description = TextAreaField(
        _l("Description"),
        validators=[DataRequired(_l("Describe the incident.")), Length(max=BODY_MAX)]
    )
    attachment = FileField(_l("Attachment (optional)"))

    def set_contracts(self, contracts: list[Contract]) -> None:
        self.contract.choices = [("", _("— choose —"))] + [
            (c.reference, f"{c.reference} — {c.title}") for c in contracts
        ]
        self.priority.choices = {"": [("", _("— choose —"))]} | {
            c.reference: [(priority_value(c, p.code), priority_label(p))
                          for p in c.current_version.priorities]
            for c in contracts
        }

    def validate_priority(self, field: SelectField) -> None:
        if field.data and not field.data.startswith(f"{self.contract.data}|"):
            raise ValidationError(_("Choose a priority of the selected contract."))

    @property
    def priority_code(self) -> str:
        return self.priority.data.split("|", 1)[1]


class ReplyForm(FlaskForm):
    body = TextAreaField(_l("Message"), validators=[DataRequired(_l("Write a message.")),
                                                Length(max=BODY_MAX)])
    attachment = FileField(_l("File for the message (optional)"))


class NoteForm(FlaskForm):
    body = TextAreaField(_l("Internal note"), validators=[DataRequired(_l("Write the note.")),
                                                      Length(max=BODY_MAX)])
    attachment = FileField(_l("File for the note (optional)"))


class ReopenForm(FlaskForm):
    reason = TextAreaField(_l("Why is it not solved? (optional)"),
                           validators=[Optional(), Length(max=REASON_MAX)])


class CancelForm(FlaskForm):
    reason = TextAreaField(_l("Reason for cancelling"), validators=[
        DataRequired(_l("Say why the ticket is cancelled.")), Length(max=REASON_MAX)])


class ReprioritiseForm(FlaskForm):
    priority = SelectField(_l("New priority"), validators=[DataRequired(_l("Choose a priority."))])
    reason = TextAreaField(_l("Reason for the change"), validators=[
        DataRequired(_l("Say why the priority changes.")), Length(max=REASON_MAX)])


class AssignForm(FlaskForm):
    assignee = SelectField(_l("Assign to"), validators=[DataRequired(_l("Choose a person."))])


class LocalDateTimeField(DateTimeLocalField):
    """A date and time typed on the viewer's wall clock, read as an aware UTC instant.

    A time the clocks skip (the spring-forward hour) is refused; a time they show twice (the
    fall-back hour) is read as the first of the two, as `zoneinfo` does.
    """

    def __init__(self, label: str | LazyString | None = None,
                 validators: Sequence[Callable[[FlaskForm, Field], object]] | None = None,
                 **kwargs: Any) -> None:
        kwargs.setdefault("format", ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M",
                                     "%Y-%m-%d %H:%M:%S"])
        kwargs.setdefault("invalid_value_message",
                          _l("Enter a date and time, e.g. 2026-11-30 09:00."))
        super().__init__(label, validators, tz=viewer_zone, **kwargs)

    def _value(self) -> str:
        if self.raw_data or not self.data:
            return super()._value()
        # Seconds only when there are some, so that a correction does not round them away.
        local = self.data.astimezone(viewer_zone())
        return local.strftime("%Y-%m-%dT%H:%M:%S" if local.second else "%Y-%m-%dT%H:%M")

    def process_formdata(self, valuelist: list[str]) -> None:
        super().process_formdata(valuelist)
        if self.data is None:
            return
        local, self.data = self.data, None
        try:
            instant = local.astimezone(UTC)
        except OverflowError:
            raise ValueError(_("Enter a date between the years 2 and 9998.")) from None
        if instant.astimezone(local.tzinfo).replace(tzinfo=None) != local.replace(tzinfo=None):
            raise ValueError(_("%(time)s does not exist in %(zone)s (the clocks go forward then); "
                               "enter a time before or after the change.",
                               time=f"{local:%Y-%m-%d %H:%M}", zone=local.tzinfo))
        self.data = instant


class RecordOutageForm(FlaskForm):
    started_at = LocalDateTimeField(_l("Start"), validators=[
        InputRequired(_l("Say when the outage started."))])
    ended_at = LocalDateTimeField(_l("End (leave empty while it lasts)"), validators=[Optional()])


class EndOutageForm(FlaskForm):
    ended_at = LocalDateTimeField(_l("End (leave empty for now)"), validators=[Optional()])


class CorrectOutageForm(FlaskForm):
    started_at = LocalDateTimeField(_l("Start"), validators=[
        InputRequired(_l("Say when the outage started."))])
    ended_at = LocalDateTimeField(_l("End (leave empty if it still lasts)"), validators=[Optional()])
    reason = TextAreaField(_l("Reason for the correction"), validators=[
        DataRequired(_l("Say why the outage is corrected.")), Length(max=REASON_MAX)])


class DeleteOutageForm(FlaskForm):
    reason = TextAreaField(_l("Reason for deleting"), validators=[
        DataRequired(_l("Say why the outage is deleted.")), Length(max=REASON_MAX)])
