"""The edge's one commit: a request (or a command) runs its use case in `committed()`, which
commits what it did, or rolls it back when the rules refuse it and hands the refusal to the caller
to show. Services only flush; this is where their work becomes durable."""
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from helpdesk.errors import DomainError
from helpdesk.extensions import db

T = TypeVar("T")


@dataclass
class Attempt:
    """How the block went: `refusal` is the domain error that rolled it back, None once
    committed."""

    refusal: DomainError | None = None
    _held: ExitStack = field(default_factory=ExitStack, repr=False)

    def hold(self, context: AbstractContextManager[T]) -> T:
        """Enter `context` (an upload stored on disk) and keep it open until the commit, so that
        whatever ends the block, a refusal or the commit failing, goes through it first."""
        return self._held.enter_context(context)


@contextmanager
def committed() -> Iterator[Attempt]:
    """Commit the session when the block ends; on a DomainError roll back instead and keep the
    error in the attempt rather than raise it. Any other error goes up as it is (a commit that
    fails too), for the end of the request to roll back.

    A `return` inside the block commits too: return after it instead."""
    attempt = Attempt()
    try:
        with attempt._held:
            yield attempt
            db.session.commit()
    except DomainError as error:
        db.session.rollback()
        attempt.refusal = error
