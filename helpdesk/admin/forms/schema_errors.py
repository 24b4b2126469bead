"""The import's validation, put under a form's fields.

A form builds its piece of an import document and `validate_import` judges it, as it judges a
file: each `path: message` it returns is shown under the field the path names. The import's
messages are English for the authors of files; the usual ones are said in the reader's
language here, the rare others shown as they are."""
import re
from collections.abc import Mapping

from flask_babel import gettext as _
from flask_wtf import FlaskForm

from helpdesk.text import BIDI_REFUSAL

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"required"), "required"),
    (re.compile(r"must not be empty"), "empty"),
    (re.compile(r"must be at most (\d+) characters"), "too_long"),
    (re.compile(r"must be 1 to (\d+) letters, digits, .*"), "code"),
    (re.compile(r"not a valid e-mail address"), "email"),
    (re.compile(r"required for a client user"), "client_organisation"),
    (re.compile(r"unknown organisation '.*'"), "unknown_organisation"),
    (re.compile(re.escape(BIDI_REFUSAL)), "bidi"),
]


def _said(kind: str, match: re.Match[str]) -> str:
    if kind == "required" or kind == "empty":
        return _("This field is required.")
    if kind == "too_long":
        return _("At most %(count)s characters.", count=int(match.group(1)))
    if kind == "code":
        return _("1 to %(count)s letters, digits, “.”, “_” or “-”, starting with a letter or "
                 "a digit.", count=int(match.group(1)))
    if kind == "email":
        return _("Not a valid e-mail address.")
    if kind == "client_organisation":
        return _("A client user belongs to an organisation.")
    if kind == "unknown_organisation":
        return _("No such organisation.")
    return _("Direction controls (such as U+202E) are refused: they can disguise what a text "
             "says.")


def translated(message: str) -> str:
    for pattern, kind in _PATTERNS:
        match = pattern.fullmatch(message)
        if match:
            return _said(kind, match)
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
