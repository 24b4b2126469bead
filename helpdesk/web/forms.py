"""Forms every domain's pages share."""
from flask_wtf import FlaskForm


class ConfirmForm(FlaskForm):
    """A button that changes something: only the CSRF token travels."""
