"""The dashboard's filters: read from the query string, so a filtered view is a link to share."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import InputRequired, ValidationError

from helpdesk.month import Month, MonthError
from helpdesk.web.months import month_check

MAX_MONTHS = 36
MONTH_MESSAGE = _l("A month looks like 2026-10.")
_month = month_check(MONTH_MESSAGE)


class DashboardFilterForm(FlaskForm):
    """GET filters: no CSRF token, they change nothing."""

    class Meta:
        csrf = False

    first = StringField(_l("From (month)"), validators=[InputRequired(MONTH_MESSAGE), _month],
                        render_kw={"type": "month", "placeholder": "2026-05"})
    last = StringField(_l("To (month)"), validators=[InputRequired(MONTH_MESSAGE), _month],
                       render_kw={"type": "month", "placeholder": "2026-10"})
    organisation = SelectField(_l("Organisation"), validate_choice=False)
    priority = SelectField(_l("Priority"), validate_choice=False)

    def set_choices(self, organisations: list[tuple[int, str]], priorities: list[str],
                    everyone: str, every_priority: str) -> None:
        self.organisation.choices = [("", everyone)] + [(str(i), name) for i, name in organisations]
        self.priority.choices = [("", every_priority)] + [(code, code) for code in priorities]

    def validate_last(self, field: StringField) -> None:
        try:
            first, last = Month.parse(self.first.data), Month.parse(field.data)
        except MonthError:
            return  # said by the fields' own checks
        count = first.months_to(last) + 1
        if count < 1:
            raise ValidationError(_l("The last month must not come before the first."))
        if count > MAX_MONTHS:
            raise ValidationError(_l("Choose at most %(count)s months.", count=MAX_MONTHS))

    def validate_organisation(self, field: SelectField) -> None:
        if field.data and field.data not in {value for value, _ in field.choices}:
            raise ValidationError(_l("Choose an organisation from the list."))

    def validate_priority(self, field: SelectField) -> None:
        if field.data and field.data not in {value for value, _ in field.choices}:
            raise ValidationError(_l("Choose a priority from the list."))

    @property
    def organisation_id(self) -> int | None:
        return int(self.organisation.data) if self.organisation.data else None

    @property
    def priority_code(self) -> str | None:
        return self.priority.data or None
