from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from helpdesk.contracts.models import Contract
from helpdesk.tickets.rules import BODY_MAX, REASON_MAX, TITLE_MAX
from helpdesk.web.filters import duration


def priority_label(priority) -> str:
    """`P1 — Critique · GTI 2 h · 24/7`: what a client needs to choose a priority."""
    parts = [f"{priority.code} — {priority.label}", f"GTI {duration(priority.gti)}"]
    if priority.gtr is not None:
        parts.append(f"GTR {duration(priority.gtr)}")
    parts.append(priority.calendar.describe())
    return " · ".join(parts)


def priority_value(contract: Contract, code: str) -> str:
    return f"{contract.reference}|{code}"


class NewTicketForm(FlaskForm):
    contract = SelectField("Contract", validators=[DataRequired("Choose a contract.")])
    priority = SelectField("Priority", validators=[DataRequired("Choose a priority.")])
    title = StringField("Title", validators=[DataRequired("Give the incident a title."),
                                             Length(max=TITLE_MAX)])
    description = TextAreaField(
        "Description", validators=[DataRequired("Describe the incident."), Length(max=BODY_MAX)]
    )
    attachment = FileField("Attachment (optional)")

    def set_contracts(self, contracts: list[Contract]) -> None:
        self.contract.choices = [("", "— choose —")] + [
            (c.reference, f"{c.reference} — {c.title}") for c in contracts
        ]
        self.priority.choices = {"": [("", "— choose —")]} | {
            c.reference: [(priority_value(c, p.code), priority_label(p))
                          for p in c.current_version.priorities]
            for c in contracts
        }

    def validate_priority(self, field) -> None:
        if field.data and not field.data.startswith(f"{self.contract.data}|"):
            raise ValidationError("Choose a priority of the selected contract.")

    @property
    def priority_code(self) -> str:
        return self.priority.data.split("|", 1)[1]


class ReplyForm(FlaskForm):
    body = TextAreaField("Message", validators=[DataRequired("Write a message."),
                                                Length(max=BODY_MAX)])
    attachment = FileField("File for the message (optional)")


class NoteForm(FlaskForm):
    body = TextAreaField("Internal note", validators=[DataRequired("Write the note."),
                                                      Length(max=BODY_MAX)])
    attachment = FileField("File for the note (optional)")


class ConfirmForm(FlaskForm):
    """A button: only the CSRF token travels."""


class ReopenForm(FlaskForm):
    reason = TextAreaField("Why is it not solved? (optional)",
                           validators=[Optional(), Length(max=REASON_MAX)])


class CancelForm(FlaskForm):
    reason = TextAreaField("Reason for cancelling", validators=[
        DataRequired("Say why the ticket is cancelled."), Length(max=REASON_MAX)])


class ReprioritiseForm(FlaskForm):
    priority = SelectField("New priority", validators=[DataRequired("Choose a priority.")])
    reason = TextAreaField("Reason for the change", validators=[
        DataRequired("Say why the priority changes."), Length(max=REASON_MAX)])


class AssignForm(FlaskForm):
    assignee = SelectField("Assign to", validators=[DataRequired("Choose a person.")])
