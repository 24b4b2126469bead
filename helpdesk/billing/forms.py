from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, StringField
from wtforms.validators import InputRequired, Length, Optional, ValidationError
from wtforms.widgets import HiddenInput

from helpdesk.billing.services import INVOICE_NUMBER_MAX
from helpdesk.web.months import month_check

MONTH_MESSAGE = _l("The month must look like 2026-10.")
_month = month_check(MONTH_MESSAGE)


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


class CloseMonthForm(FlaskForm):
    """Close a month for all its contracts, or for one; the invoice reference is optional."""

    month = HiddenField(validators=[InputRequired(MONTH_MESSAGE), _month])
    contract = HiddenField(validators=[Optional(), Length(max=64)])
    invoice_number = StringField(
        _l("Invoice number (optional)"), filters=[_strip],
        validators=[Optional(), Length(max=INVOICE_NUMBER_MAX)])
    invoice_date = DateField(_l("Invoice date (optional)"), validators=[Optional()])

    def validate_invoice_date(self, field: DateField) -> None:
        if field.data is not None and not self.invoice_number.data:
            raise ValidationError(_l("Give the invoice number with its date."))


class IssueMonthForm(FlaskForm):
    """Issue every draft of a month; `drafts` is how many the person saw when deciding."""

    month = HiddenField(validators=[InputRequired(MONTH_MESSAGE), _month])
    drafts = IntegerField(widget=HiddenInput(), validators=[InputRequired()])


class IssueForm(FlaskForm):
    """A button: only the CSRF token travels."""
