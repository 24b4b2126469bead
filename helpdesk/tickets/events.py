"""What the tickets domain announces to the layers above it, which it must not import.

A clock that stops after its due time ends a breach, and breaches are escalation's: tickets only
say that the late clock stopped. Handlers run at once, in the same transaction, so a breach is
closed with the change that stopped its clock or not at all. The application factory subscribes
them (`helpdesk.create_app`), so the whole flow reads in one place.
"""
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from helpdesk.contracts.models import Metric


@dataclass(frozen=True)
class LateClockStopped:
    ticket_id: int
    metric: Metric
    stopped_at: datetime
    delay_seconds: int


Handler = Callable[[LateClockStopped], None]
_handlers: list[Handler] = []


def subscribe(handler: Handler) -> None:
    """Idempotent: every application built in the process subscribes the same handlers."""
    if handler not in _handlers:
        _handlers.append(handler)


def announce(event: LateClockStopped) -> None:
    for handler in _handlers:
        handler(event)
