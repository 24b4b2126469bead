"""The organisation forms: the search above the list, and one form to create or edit."""
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SearchField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from helpdesk.accounts.models import Organisation, OrganisationKind
from helpdesk.accounts.queries import Standing
from helpdesk.accounts.services import find_organisation
from helpdesk.admin.forms.import_errors import show_errors
from helpdesk.contracts.schema import OrganisationIn, validate_import

KIND_LABELS = {OrganisationKind.CLIENT: _l("Client"),
               OrganisationKind.INTERNAL: _l("Internal (the provider)")}


class OrganisationSearchForm(FlaskForm):
    class Meta:
        csrf = False  # a search changes nothing

    q = SearchField(_l("Code or name"))
    standing = SelectField(_l("Show"), default=Standing.CURRENT.value, choices=[
        SelectChoice(Standing.CURRENT.value, _l("Current organisations")),
        SelectChoice(Standing.FORMER.value, _l("Archived organisations")),
        SelectChoice(Standing.ALL.value, _l("All organisations")),
    ])


class OrganisationForm(FlaskForm):
    code = StringField(_l("Code"), render_kw={"spellcheck": "false", "autocapitalize": "none"})
    name = StringField(_l("Name"))
    kind = SelectField(_l("Kind"), default=OrganisationKind.CLIENT.value,
                       choices=[SelectChoice(kind.value, label)
                                for kind, label in KIND_LABELS.items()])
    address = TextAreaField(_l("Address"))
    company_id = StringField(_l("Company identifier"))
    vat_number = StringField(_l("VAT number"))

    FIELDS = {"code": "code", "name": "name", "kind": "kind", "address": "address",
              "company_id": "company_id", "vat_number": "vat_number"}

    def __init__(self, *args: Any, editing: Organisation | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.editing = editing
        if editing is not None:
            # The code is the organisation's key in imports and exports: it stays.
            self.code.data = editing.code
            self.code.render_kw = {**(self.code.render_kw or {}), "readonly": True}

    def document(self) -> dict[str, Any]:
        """The organisation as an import file writes it."""
        return {"code": (self.code.data or "").strip(), "name": self.name.data or "",
                "kind": self.kind.data, "address": self.address.data or "",
                "company_id": self.company_id.data or "", "vat_number": self.vat_number.data or ""}

    def checked(self) -> OrganisationIn | None:
        """The import's verdict on the form, its errors put under the fields."""
        plan, errors = validate_import({"organisations": [self.document()]})
        show_errors(self, errors, prefix="organisations[0]", fields=self.FIELDS)
        if plan is None:
            return None
        given = plan.organisations[0]
        if self.editing is None and find_organisation(given.code) is not None:
            self.code.errors.append(_("An organisation with this code already exists."))
            return None
        return given
