from collections.abc import Mapping, Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    EmailField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from helpdesk.accounts.passwords import MAX_LENGTH, MIN_LENGTH
from helpdesk.accounts.scopes import Scope
from helpdesk.accounts.tokens import NAME_MAX
from helpdesk.web.i18n import LANGUAGES


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])


class LanguageForm(FlaskForm):
    # Each language is named in itself, so whoever reads the other one still finds theirs.
    language = SelectField(_l("Language"), validators=[DataRequired()],
                           choices=[SelectChoice(code, name, render_kw={"lang": code})
                                    for code, name in LANGUAGES.items()])


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])


class NewPasswordForm(FlaskForm):
    new_password = PasswordField(_l("New password"), validators=[
        DataRequired(), Length(min=MIN_LENGTH, max=MAX_LENGTH)])
    confirm = PasswordField(_l("New password again"), validators=[
        DataRequired(), EqualTo("new_password", message=_l("The two passwords differ."))])


class ChangePasswordForm(NewPasswordForm):
    current_password = PasswordField(_l("Current password"),
                                     validators=[DataRequired(), Length(max=MAX_LENGTH)])


class TwoFactorCodeForm(FlaskForm):
    # A recovery code is 14 characters with its dashes; room is left for stray spaces.
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)])


class ScopesField(SelectMultipleField):
    """One checkbox per scope."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ApiTokenForm(FlaskForm):
    name = StringField(_l("Name"), validators=[
        DataRequired(_l("Give the token a name.")), Length(max=NAME_MAX)])
    scopes = ScopesField(_l("What it may do"), default=[Scope.READ.value],
                         validators=[DataRequired(_l("Choose at least one scope."))], choices=[
        SelectChoice(Scope.READ.value, _l("Read: tickets, their messages and outages")),
        SelectChoice(Scope.WRITE.value,
                     _l("Write: open tickets, act on them, record outages (reads too)")),
        SelectChoice(Scope.FINANCE.value, _l("Finance: breaches and credit notes")),
    ])
    expiry = SelectField(_l("Expires"), default="90", choices=[
        SelectChoice("30", _l("In 30 days")), SelectChoice("90", _l("In 90 days")),
        SelectChoice("365", _l("In a year")), SelectChoice("never", _l("Never")),
        SelectChoice("date", _l("At the end of the date below")),
    ])
    expires_on = DateField(_l("Expiry date"), validators=[Optional()])

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        # Not a validate_expires_on: Optional() ends the field's checks when it is empty.
        valid = super().validate(extra_validators)
        if self.expiry.data == "date" and self.expires_on.data is None and valid:
            self.expires_on.errors.append(_l("Give the date the token expires."))
            return False
        return valid
