"""The import's validation, put under a form's fields, in the reader's language.

A form builds its piece of an import document and `validate_import` judges it, as it judges a
file: each `path: message` it returns is shown under the field the path names. The import's
messages (contracts/schema.py) are English, for the authors of files; this table says them in the
reader's language, and one it does not know is shown as the import wrote it."""
import re
from collections.abc import Callable, Mapping

from flask_babel import gettext as _
from flask_wtf import FlaskForm

from helpdesk.text import BIDI_REFUSAL

# Field names the import's cross-field messages mention, as the forms label them.
_FIELD_NAMES = {"starts_on": lambda: _("the start date")}


def _field(name: str) -> str:
    known = _FIELD_NAMES.get(name)
    return known() if known else name


_MESSAGES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"required"), lambda m: _("This field is required.")),
    (re.compile(r"must not be empty"), lambda m: _("This field is required.")),
    (re.compile(r"not a valid e-mail address"), lambda m: _("Not a valid e-mail address.")),
    (re.compile(r"required for a client user"),
     lambda m: _("A client user belongs to an organisation.")),
    (re.compile(r"must be at most (\d+) characters"),
     lambda m: _("At most %(num)s characters.", num=m[1])),
    (re.compile(r"must be 1 to (\d+) letters, digits, .*"),
     lambda m: _("1 to %(num)s letters, digits, “.”, “_” or “-”, starting with a letter or a "
                 "digit.", num=m[1])),
    (re.compile(r'must be a decimal string such as "([^"]*)"'),
     lambda m: _("A number such as %(example)s.", example=m[1])),
    (re.compile(r"must not be negative"), lambda m: _("Must not be negative.")),
    (re.compile(r"must have at most (\d+) decimal places"),
     lambda m: _("At most %(num)s decimal places.", num=m[1])),
    (re.compile(r"must be at most ([0-9.]+)"), lambda m: _("At most %(max)s.", max=m[1])),
    (re.compile(r'must be 3 capital letters such as "EUR"'),
     lambda m: _("Three capital letters, such as EUR.")),
    (re.compile(r'must be a date such as .*'), lambda m: _("A date such as 2026-01-31.")),
    (re.compile(r"must be longer than zero"), lambda m: _("Must be longer than zero.")),
    (re.compile(r"must be a whole number of seconds"),
     lambda m: _("Must be a whole number of seconds.")),
    (re.compile(r"(must be an ISO 8601 duration|not an ISO 8601 duration).*"),
     lambda m: _("Write hours and minutes, such as 4:00 or 0:30.")),
    (re.compile(r"must be a whole number from 1 to 100"),
     lambda m: _("A whole number from 1 to 100.")),
    (re.compile(r"must be one of .*"), lambda m: _("Not one of the choices.")),
    (re.compile(r"must be true or false"), lambda m: _("Yes or no.")),
    (re.compile(r"unknown organisation '(.*)'"),
     lambda m: _("Unknown organisation “%(code)s”.", code=m[1])),
    (re.compile(r"contract (.*) belongs to '(.*)' and cannot move to another organisation"),
     lambda m: _("Contract %(reference)s belongs to “%(code)s” and cannot move to another "
                 "organisation.", reference=m[1], code=m[2])),
    (re.compile(r"must not be before (\w+)"),
     lambda m: _("Must not be before %(field)s.", field=_field(m[1]))),
    (re.compile(r"unknown calendar '(.*)'"), lambda m: _("Unknown calendar “%(code)s”.", code=m[1])),
    (re.compile(r"duplicate tier (.*)"),
     lambda m: _("Another tier has the threshold %(value)s.", value=m[1])),
    (re.compile(r"at least one priority is required"),
     lambda m: _("At least one priority is required.")),
    (re.compile(r"duplicate priority '(.*)'"),
     lambda m: _("Another priority has the code “%(code)s”.", code=m[1])),
    (re.compile(r"the priority has no gtr"),
     lambda m: _("A GTR penalty needs a GTR.")),
    (re.compile(r"duplicate threshold (.*)"),
     lambda m: _("Another threshold of this priority is at %(value)s %%.", value=m[1])),
    (re.compile(r"unknown time zone '(.*)'"),
     lambda m: _("Unknown time zone “%(zone)s”.", zone=m[1])),
    (re.compile(r"must be an IANA time zone .*"),
     lambda m: _("Choose a time zone such as Europe/Paris.")),
    (re.compile(r"no opening window .*"),
     lambda m: _("No opening window: add one, or choose 24/7.")),
    (re.compile(r"a 24/7 calendar takes no .*"),
     lambda m: _("A 24/7 calendar takes no windows, holidays or closures.")),
    (re.compile(r"unknown country '(.*)' for public holidays"),
     lambda m: _("No public holidays are known for “%(country)s”.", country=m[1])),
    (re.compile(r"unknown subdivision '(.*)' of (.*)"),
     lambda m: _("“%(subdivision)s” is not a subdivision of %(country)s: choose one of the "
                 "list.", subdivision=m[1], country=m[2])),
    (re.compile(r"malformed time '', expected 'HH:MM'"),
     lambda m: _("Give both the start and the end of the window.")),
    (re.compile(r"malformed time '(.*)', expected 'HH:MM'"),
     lambda m: _("“%(time)s” is not a time: write it as HH:MM, such as 08:30.", time=m[1])),
    (re.compile(r"'(.*)' is not a time of day"),
     lambda m: _("“%(time)s” is not a time of day.", time=m[1])),
    (re.compile(r"a window cannot start at 24:00"),
     lambda m: _("A window cannot start at 24:00.")),
    (re.compile(r"window (\S+)–(\S+) must start before it ends .*"),
     lambda m: _("%(start)s–%(end)s must start before it ends. A window does not cross "
                 "midnight: split it, ending the first part at 24:00.", start=m[1], end=m[2])),
    (re.compile(r"windows (\S+) and (\S+) overlap"),
     lambda m: _("Windows %(first)s and %(second)s overlap.", first=m[1], second=m[2])),
    (re.compile(re.escape(BIDI_REFUSAL)),
     lambda m: _("Must not contain Unicode direction controls.")),
]


def translated(message: str) -> str:
    """One of the import's messages in the reader's language."""
    for pattern, render in _MESSAGES:
        match = pattern.fullmatch(message)
        if match:
            return render(match)
    return message


def show_errors(form: FlaskForm, errors: list[str], *, prefix: str,
                fields: Mapping[str, str], ignored: frozenset[str] = frozenset()) -> None:
    """Put each `prefix.key: message` under the form field `fields[key]`; a path the form
    has no field for is shown above the form."""
    for error in errors:
        path, _separator, message = error.partition(": ")
        key = path.removeprefix(prefix).lstrip(".")
        if key in ignored:
            continue
        name = fields.get(key.split(".", 1)[0].split("[", 1)[0])
        if name is None:
            form.form_errors.append(translated(message) if path == prefix else error)
        else:
            form[name].errors.append(translated(message))
