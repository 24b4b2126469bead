"""The audit trail's filters, read from the query string (a GET form: no CSRF, nothing changes).

A value that is not valid is reported on its field and that filter left out, so a stale link
still shows the trail."""
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from helpdesk.audit.queries import SYSTEM

TEXT_MAX = 64


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    entity = SelectField(_l("Kind"), validate_choice=False)
    text = StringField(_l("Number, code or e-mail"), validators=[Length(
        max=TEXT_MAX, message=_l("Search for at most %(max)d characters.", max=TEXT_MAX))])
    actor = SelectField(_l("Changed by"), validate_choice=False)
    since = DateField(_l("From"), validators=[Optional()],
                      render_kw={"type": "date"})
    until = DateField(_l("To"), validators=[Optional()], render_kw={"type": "date"})

    def set_choices(self, entities: list[tuple[str, str]], actors: list[tuple[int, str]]) -> None:
        self.entity.choices = [("", _l("All kinds"))] + entities
        self.actor.choices = ([("", _l("Anyone")), (SYSTEM, _l("The system (commands, "
                                                               "scheduler)"))]
                              + [(str(user_id), name) for user_id, name in actors])

    @staticmethod
    def _check_choice(field: SelectField) -> None:
        if field.data and field.data not in {value for value, _ in field.choices}:
            raise ValidationError(_l("Choose from the list: showing all of them."))

    def validate_entity(self, field: SelectField) -> None:
        self._check_choice(field)

    def validate_actor(self, field: SelectField) -> None:
        self._check_choice(field)

    def validate_until(self, field: DateField) -> None:
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_l("The end date must not come before the start date."))

    def valid(self, name: str) -> str:
        field = self[name]
        return "" if field.errors or not field.data else field.data

    def valid_date(self, name: str) -> date | None:
        field = self[name]
        return None if field.errors else field.data
