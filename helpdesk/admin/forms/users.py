"""The user forms: the filters above the list, and one form to invite or edit someone."""
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SearchField, SelectField, StringField
from wtforms.fields.choices import SelectChoice

from helpdesk.accounts.models import Organisation, User
from helpdesk.accounts.queries import Standing
from helpdesk.accounts.roles import Role
from helpdesk.accounts.services import UserFields
from helpdesk.accounts.wording import ROLE_LABELS
from helpdesk.admin.forms.import_errors import show_errors
from helpdesk.contracts.schema import LANGUAGES, UserIn, validate_import
from helpdesk.web.i18n import LANGUAGES as LANGUAGE_NAMES

NO_ORGANISATION = ""


@cache
def time_zones() -> tuple[str, ...]:
    """The zones a person may live in, by name; the legacy aliases (US/Eastern...) left out."""
    return tuple(sorted(zone for zone in available_timezones()
                        if "/" in zone and not zone.startswith(("Etc/", "SystemV/", "US/")))
                 ) + ("UTC",)


def _organisation_choice(organisation: Organisation) -> SelectChoice:
    return SelectChoice(organisation.code, f"{organisation.name} ({organisation.code})")


class UserFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a filter changes nothing

    q = SearchField(_l("Name or e-mail"))
    role = SelectField(_l("Role"), default="", choices=[
        SelectChoice("", _l("Every role")),
        *(SelectChoice(role.value, label) for role, label in ROLE_LABELS.items())])
    organisation = SelectField(_l("Organisation"), default="")
    standing = SelectField(_l("Show"), default=Standing.CURRENT.value, choices=[
        SelectChoice(Standing.CURRENT.value, _l("Active users")),
        SelectChoice(Standing.FORMER.value, _l("Deactivated users")),
        SelectChoice(Standing.ALL.value, _l("All users")),
    ])

    def __init__(self, *args: Any, organisations: list[Organisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organisation.choices = [SelectChoice("", _l("Every organisation")),
                                     *map(_organisation_choice, organisations)]


class UserForm(FlaskForm):
    email = EmailField(_l("E-mail"), render_kw={"autocomplete": "off", "spellcheck": "false"})
    name = StringField(_l("Name"))
    role = SelectField(_l("Role"), default=Role.CLIENT.value,
                       choices=[SelectChoice(role.value, label)
                                for role, label in ROLE_LABELS.items()])
    organisation = SelectField(_l("Organisation"), default=NO_ORGANISATION)
    timezone = SelectField(_l("Time zone"), default="Europe/Paris")
    language = SelectField(_l("Language"), default=LANGUAGES[0], choices=[
        SelectChoice(code, LANGUAGE_NAMES[code], render_kw={"lang": code}) for code in LANGUAGES])

    FIELDS = {"email": "email", "name": "name", "role": "role", "organisation": "organisation",
              "timezone": "timezone", "language": "language"}

    def __init__(self, *args: Any, organisations: list[Organisation],
                 editing: User | None = None, **kwargs: Any) -> None:
        if editing is not None:
            kwargs.setdefault("data", {
                "email": editing.email, "name": editing.name, "role": editing.role.value,
                "organisation": (editing.organisation.code if editing.organisation
                                 else NO_ORGANISATION),
                "timezone": editing.timezone, "language": editing.language})
        super().__init__(*args, **kwargs)
        self.editing = editing
        self.organisation.choices = [SelectChoice(NO_ORGANISATION, _l("None (provider staff)")),
                                     *map(_organisation_choice, organisations)]
        zones = time_zones()
        if editing is not None and editing.timezone not in zones:
            zones = (editing.timezone, *zones)
        self.timezone.choices = [SelectChoice(zone, zone.replace("_", " ")) for zone in zones]
        if editing is not None:
            # The address is the account's key, in imports as in sign-in: it stays.
            self.email.data = editing.email
            self.email.render_kw = {**(self.email.render_kw or {}), "readonly": True}

    def document(self) -> dict[str, Any]:
        """The user as an import file writes it (without a password: they choose it)."""
        return {"email": (self.email.data or "").strip(), "name": self.name.data or "",
                "role": self.role.data,
                "organisation": self.organisation.data or None,
                "timezone": self.timezone.data, "language": self.language.data,
                "active": True if self.editing is None else self.editing.is_active_account}

    def checked(self) -> tuple[str, UserFields] | None:
        """The import's verdict on the form: the e-mail and the fields, or None with the
        errors put under the fields."""
        plan, errors = validate_import({"users": [self.document()]})
        # A new user chooses their password through the invitation.
        show_errors(self, errors, prefix="users[0]", fields=self.FIELDS,
                    ignored=frozenset({"password"}))
        if any(field.errors for field in self) or self.form_errors:
            return None
        # Refused for its missing password alone, the document is otherwise right.
        given = plan.users[0] if plan is not None else UserIn.model_validate(self.document())
        return given.email, given.fields()
