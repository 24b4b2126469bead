"""The contract form: every term of one contract on one page, its rows (priorities, thresholds,
tiers) added by a button and removed by a box, without JavaScript.

The form checks nothing of the terms itself: it writes what was typed as the import document's
contract (`contracts/schema.py` `ContractIn`) and the import's validation judges it; each error's
path (`contracts[0].priorities[1].gti`) is then shown under the field it names.

Durations are typed as hours and minutes, `4:00` or `0:30` (`4:00:30` for the rare seconds), and
written for the import as ISO 8601 (`PT4H`); anything else goes as typed, so an ISO duration
works too.
"""
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, Form, FormField, SelectField, StringField
from wtforms.fields import Field
from wtforms.fields.choices import SelectChoice

from helpdesk.admin.forms.import_errors import translated
from helpdesk.contracts.models import Contract, NotifyTarget
from helpdesk.contracts.wording import NOTIFY_LABELS
from helpdesk.money import plain

# Where the import's errors for this form start: the document holds one contract.
PREFIX = "contracts[0]."
_CLOCK = re.compile(r"([0-9]+):([0-5][0-9])(?::([0-5][0-9]))?")
_DATE = {"type": "date"}
_NUMBER = {"inputmode": "decimal", "autocomplete": "off"}


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


def _decimal_text(value: object) -> object:
    """A decimal comma is read as the point the import expects: "12,5" → "12.5"."""
    if isinstance(value, str):
        value = value.strip()
        if value.count(",") == 1 and "." not in value:
            value = value.replace(",", ".")
    return value


def _text(label: Any, **kwargs: Any) -> StringField:
    return StringField(label, filters=[_strip], **kwargs)


def _amount(label: Any) -> StringField:
    return StringField(label, filters=[_decimal_text], render_kw=_NUMBER)


def iso_duration(text: str) -> str:
    """`4:30` → `PT4H30M`; other text unchanged, for the import to judge."""
    match = _CLOCK.fullmatch(text)
    if match is None:
        return text
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return f"PT{hours}H{minutes}M{seconds}S"


def clock_text(seconds: int | None) -> str:
    """7200 → `2:00`, 90 → `0:01:30`: the duration as the form shows it."""
    if seconds is None:
        return ""
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}" + (f":{seconds:02d}" if seconds else "")


def decimal_text(value: Decimal | None) -> str:
    """A stored percentage as people write it: 20.000 → "20", 99.900 → "99.9"."""
    if value is None:
        return ""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


class ThresholdForm(Form):
    at_percent = _text(_l("At % of the time allowed"), render_kw={"inputmode": "numeric"})
    notify = SelectField(_l("Notify"), validate_choice=False,
                         choices=[SelectChoice(t.value, NOTIFY_LABELS[t]) for t in NotifyTarget])
    remove = BooleanField(_l("Remove this warning"))

    def is_blank(self) -> bool:
        return not self.at_percent.data


class TierForm(Form):
    below_percent = _amount(_l("Availability below (%)"))
    credit_percent = _amount(_l("Credit (% of the fee)"))
    remove = BooleanField(_l("Remove this tier"))

    def is_blank(self) -> bool:
        return not (self.below_percent.data or self.credit_percent.data)


class PriorityForm(Form):
    code = _text(_l("Code"), render_kw={"maxlength": 16, "autocomplete": "off"})
    label = _text(_l("Label"), render_kw={"maxlength": 100})
    calendar = SelectField(_l("Service hours"), validate_choice=False)
    gti = _text(_l("GTI (time to intervene)"), render_kw={"autocomplete": "off"})
    gtr = _text(_l("GTR (time to restore), optional"), render_kw={"autocomplete": "off"})
    gti_fixed = _amount(_l("GTI breach: fixed amount"))
    gti_percent = _amount(_l("GTI breach: % of the fee per started hour late"))
    gtr_fixed = _amount(_l("GTR breach: fixed amount"))
    gtr_percent = _amount(_l("GTR breach: % of the fee per started hour late"))
    escalations = FieldList(FormField(ThresholdForm))
    remove = BooleanField(_l("Remove this priority"))

    def is_blank(self) -> bool:
        texts = (self.code, self.label, self.gti, self.gtr, self.gti_fixed, self.gti_percent,
                 self.gtr_fixed, self.gtr_percent)
        return not any(field.data for field in texts) and not _kept(self.escalations)


def _kept(rows: FieldList) -> list[Any]:
    """The rows of a list that are neither ticked for removal nor left blank."""
    return [entry for entry in rows.entries
            if not entry.form.remove.data and not entry.form.is_blank()]


class ContractForm(FlaskForm):
    """The whole contract. `reference` and `organisation` are typed once, when it is created."""

    reference = _text(_l("Reference"), render_kw={"maxlength": 64, "autocomplete": "off"})
    organisation = SelectField(_l("Organisation"), validate_choice=False)
    title = _text(_l("Title"), render_kw={"maxlength": 200})
    starts_on = _text(_l("Starts on"), render_kw=_DATE)
    ends_on = _text(_l("Ends on (optional)"), render_kw=_DATE)
    monthly_fee = _amount(_l("Monthly fee, excl. VAT"))
    currency = _text(_l("Currency"), render_kw={"maxlength": 3, "autocomplete": "off"})
    vat_rate = _amount(_l("VAT rate (%)"))
    credit_cap_percent = _amount(_l("Credit cap (% of the monthly fee)"))
    credits_subject_to_vat = BooleanField(_l("Credits are subject to VAT"))
    availability_target = _amount(_l("Availability target (%), optional"))
    availability_calendar = SelectField(_l("Availability measured on"), validate_choice=False)
    tiers = FieldList(FormField(TierForm))
    priorities = FieldList(FormField(PriorityForm))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Errors about the list as a whole ("at least one priority"), shown above its rows.
        self.priorities_errors: list[str] = []

    def set_choices(self, *, organisations: list[tuple[str, str]], calendars: list[str]) -> None:
        choose = SelectChoice("", _l("Choose…"))
        self.organisation.choices = [choose] + [SelectChoice(code, label)
                                                for code, label in organisations]
        calendar_choices = [SelectChoice(code) for code in calendars]
        self.availability_calendar.choices = [
            SelectChoice("", _l("24/7 in the contract's zone")), *calendar_choices]
        for entry in self.priorities.entries:
            entry.form.calendar.choices = [choose, *calendar_choices]

    # -- rows ------------------------------------------------------------------------------------

    def drop_removed_rows(self) -> None:
        """Forget the rows ticked for removal: the page comes back without them."""
        for rows in (self.tiers, self.priorities):
            rows.entries = [entry for entry in rows.entries if not entry.form.remove.data]
        for entry in self.priorities.entries:
            thresholds = entry.form.escalations
            thresholds.entries = [e for e in thresholds.entries if not e.form.remove.data]

    def add_row(self, which: str) -> bool:
        """One more blank row: "priority", "tier", or "threshold-N" for priority row N; False when
        `which` names no list."""
        if which == "priority":
            self.priorities.append_entry()
            return True
        if which == "tier":
            self.tiers.append_entry()
            return True
        if which.startswith("threshold-") and which.removeprefix("threshold-").isdigit():
            position = int(which.removeprefix("threshold-"))
            if position < len(self.priorities.entries):
                self.priorities.entries[position].form.escalations.append_entry()
                return True
        return False

    # -- to the import ---------------------------------------------------------------------------

    def document(self) -> tuple[dict[str, Any], "FieldMap"]:
        """The contract as the import document writes it, and where each of its paths is shown."""
        fields = FieldMap()
        given: dict[str, Any] = {}
        for name in ("reference", "organisation", "title", "starts_on", "monthly_fee",
                     "currency", "vat_rate", "credit_cap_percent"):
            field = getattr(self, name)
            fields.add(name, field)
            if field.data:
                given[name] = field.data
        fields.add("ends_on", self.ends_on)
        given["ends_on"] = self.ends_on.data or None
        fields.add("credits_subject_to_vat", self.credits_subject_to_vat)
        given["credits_subject_to_vat"] = bool(self.credits_subject_to_vat.data)

        tiers = _kept(self.tiers)
        fields.add("availability", self.availability_target)
        fields.add("availability.target_percent", self.availability_target)
        fields.add("availability.calendar", self.availability_calendar)
        fields.add("availability.tiers", self.availability_target)
        if self.availability_target.data or self.availability_calendar.data or tiers:
            availability: dict[str, Any] = {"tiers": []}
            if self.availability_target.data:
                availability["target_percent"] = self.availability_target.data
            if self.availability_calendar.data:
                availability["calendar"] = self.availability_calendar.data
            for index, entry in enumerate(tiers):
                row = entry.form
                where = f"availability.tiers[{index}]"
                fields.add(where, row.below_percent)
                fields.add(f"{where}.below_percent", row.below_percent)
                fields.add(f"{where}.credit_percent", row.credit_percent)
                availability["tiers"].append(_present(below_percent=row.below_percent.data,
                                                      credit_percent=row.credit_percent.data))
            given["availability"] = availability

        given["priorities"] = []
        fields.add_list("priorities", self.priorities_errors)
        for index, entry in enumerate(_kept(self.priorities)):
            given["priorities"].append(_priority(entry.form, f"priorities[{index}]", fields))
        return given, fields

    def fill(self, contract: Contract) -> None:
        """The form as the contract stands: its current terms, calendars named by code."""
        terms = contract.current_version
        self.reference.data = contract.reference
        self.organisation.data = contract.organisation.code
        self.title.data = contract.title
        self.starts_on.data = contract.starts_on.isoformat()
        self.ends_on.data = contract.ends_on.isoformat() if contract.ends_on else ""
        self.monthly_fee.data = plain(terms.monthly_fee)
        self.currency.data = terms.currency
        self.vat_rate.data = decimal_text(terms.vat_rate)
        self.credit_cap_percent.data = decimal_text(terms.credit_cap_percent)
        self.credits_subject_to_vat.data = bool(terms.credits_subject_to_vat)
        self.availability_target.data = decimal_text(terms.availability_target_percent)
        self.availability_calendar.data = (terms.availability_calendar.code
                                           if terms.availability_calendar else "")
        for tier in terms.availability_tiers:
            self.tiers.append_entry({"below_percent": decimal_text(tier.below_percent),
                                     "credit_percent": decimal_text(tier.credit_percent)})
        for priority in terms.priorities:
            rules = {rule.metric.value: rule for rule in priority.penalties}
            data: dict[str, Any] = {
                "code": priority.code, "label": priority.label,
                "calendar": priority.calendar.code, "gti": clock_text(priority.gti_seconds),
                "gtr": clock_text(priority.gtr_seconds),
                "escalations": [{"at_percent": str(e.at_percent), "notify": e.notify.value}
                                for e in priority.escalations]}
            for metric, rule in rules.items():
                data[f"{metric}_fixed"] = plain(rule.fixed_amount)
                data[f"{metric}_percent"] = decimal_text(rule.percent_per_started_hour)
            self.priorities.append_entry(data)

    def error_summary(self) -> list[tuple[str, str, str]]:
        """(field id, where, message) of every error shown at a field, in the page's order, for
        a summary at the top that links to each."""
        found: list[tuple[str, str, str]] = []

        def walk(form: Form, where: str) -> None:
            for field in form:
                if isinstance(field, FieldList):
                    for position, entry in enumerate(field.entries, 1):
                        walk(entry.form, f"{where}{_ROW_NAMES[field.short_name](position)} · ")
                elif field.errors:
                    found.extend((field.id, f"{where}{field.label.text}", str(message))
                                 for message in field.errors)
        walk(self, "")
        return found

    def show_errors(self, errors: list[str], fields: "FieldMap") -> None:
        """Each `path: message` of the import under the field it names (the page's top for a
        path no field shows)."""
        for error in errors:
            path, _, message = error.partition(": ")
            target = fields.find(path.removeprefix(PREFIX))
            text = translated(message)
            if target is None:
                self.form_errors.append(f"{path.removeprefix(PREFIX)}: {text}")
            else:
                target.append(text)


_ROW_NAMES = {"tiers": lambda n: _l("Tier %(num)s", num=n),
              "priorities": lambda n: _l("Priority %(num)s", num=n),
              "escalations": lambda n: _l("Warning %(num)s", num=n)}


def _present(**values: str | None) -> dict[str, str]:
    return {key: value for key, value in values.items() if value}


def _priority(row: PriorityForm, where: str, fields: "FieldMap") -> dict[str, Any]:
    for name in ("code", "label", "calendar", "gti", "gtr"):
        fields.add(f"{where}.{name}", getattr(row, name))
    given: dict[str, Any] = _present(code=row.code.data, label=row.label.data,
                                     calendar=row.calendar.data)
    if row.gti.data:
        given["gti"] = iso_duration(row.gti.data)
    if row.gtr.data:
        given["gtr"] = iso_duration(row.gtr.data)
    penalties: dict[str, Any] = {}
    for metric in ("gti", "gtr"):
        fixed, percent = getattr(row, f"{metric}_fixed"), getattr(row, f"{metric}_percent")
        fields.add(f"{where}.penalties.{metric}", fixed)
        fields.add(f"{where}.penalties.{metric}.fixed", fixed)
        fields.add(f"{where}.penalties.{metric}.percent_per_started_hour", percent)
        if fixed.data or percent.data:
            penalties[metric] = _present(fixed=fixed.data, percent_per_started_hour=percent.data)
    fields.add(f"{where}.penalties", row.gti_fixed)
    given["penalties"] = penalties
    given["escalations"] = []
    fields.add(f"{where}.escalations", row.code)
    for index, entry in enumerate(_kept(row.escalations)):
        threshold = entry.form
        at = f"{where}.escalations[{index}]"
        fields.add(at, threshold.at_percent)
        fields.add(f"{at}.at_percent", threshold.at_percent)
        fields.add(f"{at}.notify", threshold.notify)
        text = threshold.at_percent.data
        # The import wants a whole number; anything else goes as typed for it to refuse.
        given["escalations"].append({"at_percent": int(text) if text.isdigit() else text,
                                     "notify": threshold.notify.data})
    return given


class FieldMap:
    """Which field of the form shows the errors of each path of the document."""

    def __init__(self) -> None:
        self._errors: dict[str, list[str]] = {}

    def add(self, path: str, field: Field) -> None:
        if not isinstance(field.errors, list):
            field.errors = list(field.errors)
        self._errors[path] = field.errors

    def add_list(self, path: str, errors: list[str]) -> None:
        self._errors[path] = errors

    def find(self, path: str) -> list[str] | None:
        """The errors list of the field showing `path`, or of the nearest path above it."""
        for candidate in _parents(path):
            if candidate in self._errors:
                return self._errors[candidate]
        return None


def _parents(path: str) -> Iterator[str]:
    while path:
        yield path
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""
