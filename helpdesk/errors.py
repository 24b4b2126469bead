"""Domain errors: raised by services, turned into messages by views and problems by the API.

A message is an English template with named parameters, e.g.
`Conflict("Credit note %(number)s was already issued.", number=note.number)`. `message` is the
English text (the API, the CLI and logs keep it stable); views show it in the reader's language
with `helpdesk.web.errors.error_message`. The first argument of these classes is extracted into
the catalogue (see `helpdesk.web.translations_cli.KEYWORDS`), so services stay free of Flask.
A `Month` parameter reads as its English name in `message` ("June 2025") and in the reader's
language where a person reads it.
"""
from helpdesk.month import Month


def N_(message: str) -> str:
    """Marks a message for the catalogue where it is declared; it is translated where it is shown."""
    return message


class Term(str):
    """A parameter that is itself a catalogue message (a status, a field's name): English in
    `message`, translated with the sentence where a person reads it."""


class DomainError(Exception):
    """A request the rules refuse; the message is meant for the person who made it."""

    status_code = 422

    def __init__(self, message: str, *, field: str | None = None,
                 **params: object) -> None:
        self.template = message
        self.params = params
        english = {name: _english(value) for name, value in params.items()}
        self.message = message % english if params else message
        super().__init__(self.message)
        self.field = field


class NotFound(DomainError):
    status_code = 404


class Forbidden(DomainError):
    status_code = 403


class Conflict(DomainError):
    """The action does not fit the current state (e.g. an illegal status transition)."""

    status_code = 409


def _english(value: object) -> object:
    return value.label if isinstance(value, Month) else value
