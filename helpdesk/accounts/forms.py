from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length

from helpdesk.accounts.passwords import MAX_LENGTH, MIN_LENGTH
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
