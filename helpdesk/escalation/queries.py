"""Reads of breaches, notifications and the scheduler's health."""
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from helpdesk.accounts.models import User
from helpdesk.bulk import among
from helpdesk.contracts.models import Contract, Metric
from helpdesk.escalation.models import (
    Breach,
    EscalationEvent,
    Notification,
    NotificationState,
    SchedulerHeartbeat,
)
from helpdesk.extensions import db
from helpdesk.tickets.clocks import BREACH_LEVEL
from helpdesk.tickets.models import format_number


def unread_count(user: User) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.recipient_id == user.id, Notification.read_at.is_(None))) or 0


def notification_page(user: User, *, before_id: int | None, limit: int) -> list[Notification]:
    """The user's notifications newest first, keyset-paginated by id, with what their lines
    are worded from."""
    query = (sa.select(Notification).where(Notification.recipient_id == user.id)
             .order_by(Notification.id.desc()).limit(limit)
             .options(selectinload(Notification.event).selectinload(EscalationEvent.ticket)))
    if before_id is not None:
        query = query.where(Notification.id < before_id)
    return list(db.session.scalars(query))


def breaches(*, month: str, contract_reference: str | None = None,
             organisation_id: int | None = None, metric: Metric | None = None,
             waived: bool | None = None) -> list[Breach]:
    query = (sa.select(Breach).join(Contract, Contract.id == Breach.contract_id)
             .where(Breach.billing_month == month)
             .order_by(Breach.breached_at, Breach.id))
    if contract_reference:
        query = query.where(Contract.reference == contract_reference)
    if organisation_id is not None:
        query = query.where(Contract.organisation_id == organisation_id)
    if metric is not None:
        query = query.where(Breach.metric == metric)
    if waived is not None:
        query = query.where(Breach.waived_at.is_not(None) if waived else Breach.waived_at.is_(None))
    return list(db.session.scalars(query))


@dataclass(frozen=True)
class RecordedThreshold:
    """A threshold event as a sweep wrote it (a breach at 100 %), with who is to be told."""

    ticket_number: str
    metric: Metric
    level: int
    at: datetime
    recipients: tuple[str, ...]  # e-mail addresses, in the order they were queued

    @property
    def is_breach(self) -> bool:
        return self.level == BREACH_LEVEL


def thresholds_recorded(*, after_id: int, recorded_at: datetime) -> list[RecordedThreshold]:
    """The threshold events one sweep wrote (ids past `after_id`, recorded as of
    `recorded_at`) by ticket, metric and level, with their notifications' recipients."""
    events = db.session.execute(
        sa.select(EscalationEvent.id, EscalationEvent.ticket_id, EscalationEvent.metric,
                  EscalationEvent.level, EscalationEvent.at)
        .where(EscalationEvent.id > after_id, EscalationEvent.recorded_at == recorded_at)
        .order_by(EscalationEvent.ticket_id, EscalationEvent.metric, EscalationEvent.level)).all()
    told: dict[int, list[str]] = {}
    if events:
        for event_id, email in db.session.execute(
                sa.select(Notification.event_id, User.email)
                .join(User, User.id == Notification.recipient_id)
                .where(among(Notification.event_id, [event.id for event in events]))
                .order_by(Notification.id)):
            told.setdefault(event_id, []).append(email)
    return [RecordedThreshold(format_number(event.ticket_id), event.metric, event.level, event.at,
                              tuple(told.get(event.id, ())))
            for event in events]


@dataclass(frozen=True)
class SchedulerHealth:
    last_sweep_at: datetime | None
    name: str | None
    silent_for: timedelta | None
    healthy: bool
    pending_mail: int
    oldest_pending_mail_at: datetime | None
    last_mail_error: str | None


def scheduler_health(*, now: datetime, interval_seconds: int,
                     silent_intervals: int) -> SchedulerHealth:
    beat = db.session.scalar(sa.select(SchedulerHeartbeat)
                             .order_by(SchedulerHeartbeat.last_sweep_at.desc()).limit(1))
    pending = sa.select(Notification).where(Notification.state == NotificationState.PENDING)
    count = db.session.scalar(sa.select(sa.func.count()).select_from(pending.subquery())) or 0
    oldest = db.session.scalar(sa.select(sa.func.min(Notification.created_at)).where(
        Notification.state == NotificationState.PENDING))
    error = db.session.scalar(pending.with_only_columns(Notification.last_error).where(
        Notification.last_error.is_not(None)).order_by(Notification.id.desc()).limit(1))
    if beat is None:
        return SchedulerHealth(None, None, None, False, count, oldest, error)
    silent = now - beat.last_sweep_at
    healthy = silent <= timedelta(seconds=interval_seconds * silent_intervals)
    return SchedulerHealth(beat.last_sweep_at, beat.name, silent, healthy, count, oldest, error)
