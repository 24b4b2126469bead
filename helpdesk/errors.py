"""Domain errors: raised by services, turned into messages by views and problems by the API."""


class DomainError(Exception):
    """A request the rules refuse; the message is meant for the person who made it."""

    status_code = 422

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    status_code = 404


class Forbidden(DomainError):
    status_code = 403


class Conflict(DomainError):
    """The action does not fit the current state (e.g. an illegal status transition)."""

    status_code = 409
