"""Months people type on pages (a form field, a query string): `helpdesk.month.Month` reads them,
this says what is wrong in the reader's language."""
from collections.abc import Callable
from typing import TypeAlias

from flask import flash, request
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field
from wtforms.validators import ValidationError

from helpdesk.month import FIRST, LAST, Month, MonthError, MonthOutOfRange

BOUNDS_MESSAGE = _l("The month must lie between %(first)s and %(last)s.", first=str(FIRST),
                    last=str(LAST))


# What a person is told: a plain or a lazily translated message.
Message: TypeAlias = str | LazyString


def refusal(error: MonthError, shape_message: Message) -> Message:
    """What to tell someone whose month `Month.parse` refused: the bounds when it was out of
    them, else `shape_message` (the form's "looks like 2026-10")."""
    return BOUNDS_MESSAGE if isinstance(error, MonthOutOfRange) else shape_message


def month_check(shape_message: Message) -> Callable[[FlaskForm, Field], None]:
    """A form validator: the field holds a month `Month.parse` reads."""
    def check(form: FlaskForm, field: Field) -> None:
        try:
            Month.parse(field.data)
        except MonthError as error:
            raise ValidationError(refusal(error, shape_message)) from None
    return check


def month_in_query(default: Month, shape_message: Message) -> tuple[Month, int]:
    """The `month` of the query string and the status to answer with: `default` when there is
    none; when it is not a month, `default` too, a flashed message saying why and 400, so the
    page still helps while the address is refused."""
    text = request.args.get("month")
    if not text:
        return default, 200
    try:
        return Month.parse(text), 200
    except MonthError as error:
        flash(str(refusal(error, shape_message)), "error")
        return default, 400
