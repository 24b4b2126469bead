from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from helpdesk.escalation.services import REASON_MAX


class WaiveForm(FlaskForm):
    reason = TextAreaField(_l("Reason for waiving"), validators=[
        DataRequired(_l("Say why the breach is waived.")), Length(max=REASON_MAX)])


class ReadForm(FlaskForm):
    """A button: only the CSRF token travels."""
