"""Contracts and their terms. Terms are versioned: a ticket keeps the version it was opened under."""
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.accounts.models import Organisation
from helpdesk.clock import now_utc
from helpdesk.db import str_enum
from helpdesk.extensions import db
from helpdesk.sla.calendar import Calendar as EngineCalendar

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Money = sa.Numeric(12, 2)
Percent = sa.Numeric(7, 3)


class Metric(StrEnum):
    GTI = "gti"
    GTR = "gtr"


class NotifyTarget(StrEnum):
    ASSIGNEE = "assignee"
    TEAM_LEADS = "team_leads"
    CLIENT = "client"


class Calendar(db.Model):
    """Service hours. Each row is an immutable version; the newest version of a code is current."""

    __tablename__ = "calendars"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(64))
    version: Mapped[int]
    timezone: Mapped[str] = mapped_column(sa.String(64))
    is_always: Mapped[bool] = mapped_column(default=False)
    weekly: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    holidays_country: Mapped[str | None] = mapped_column(sa.String(8))
    holidays_subdiv: Mapped[str | None] = mapped_column(sa.String(16))
    closures: Mapped[list] = mapped_column(sa.JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=now_utc)

    __table_args__ = (sa.UniqueConstraint("code", "version"),)

    def definition(self) -> dict:
        """What makes two versions the same calendar."""
        return {
            "timezone": self.timezone,
            "always": self.is_always,
            "weekly": self.weekly,
            "holidays": [self.holidays_country, self.holidays_subdiv],
            "closures": sorted(self.closures),
        }

    def engine(self) -> EngineCalendar:
        # A row is an immutable version, so its engine can be built once per loaded instance.
        cached = self.__dict__.get("_engine")
        if cached is None:
            cached = self.__dict__["_engine"] = self._build_engine()
        return cached

    def _build_engine(self) -> EngineCalendar:
        if self.is_always:
            return EngineCalendar.always(timezone=self.timezone)
        return EngineCalendar(
            timezone=self.timezone,
            weekly={
                WEEKDAYS.index(day): [tuple(window) for window in windows]
                for day, windows in self.weekly.items()
            },
            holidays_country=self.holidays_country,
            holidays_subdiv=self.holidays_subdiv,
            closures=[date.fromisoformat(d) for d in self.closures],
        )

    def describe(self) -> str:
        described = self.__dict__.get("_description")
        if described is None:
            described = self.__dict__["_description"] = self.engine().describe()
        return described


class Contract(db.Model):
    __tablename__ = "contracts"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(64), unique=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    starts_on: Mapped[date]
    ends_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=now_utc)

    organisation: Mapped[Organisation] = relationship()
    versions: Mapped[list["ContractVersion"]] = relationship(
        back_populates="contract", order_by="ContractVersion.version"
    )

    @property
    def current_version(self) -> "ContractVersion":
        return self.versions[-1]

    def is_active_on(self, day: date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)

    def local_day(self, at: datetime) -> date:
        """The day `at` falls on in the contract's zone, the zone its start and end dates are
        days of: at 23:30 UTC on 31 December it is already 1 January in Paris."""
        return at.astimezone(ZoneInfo(self.current_version.timezone)).date()

    def is_active_at(self, at: datetime) -> bool:
        return self.is_active_on(self.local_day(at))


class ContractVersion(db.Model):
    """One immutable set of terms of a contract."""

    __tablename__ = "contract_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(sa.ForeignKey("contracts.id"), index=True)
    version: Mapped[int]
    effective_at: Mapped[datetime]
    monthly_fee: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(sa.String(3))
    vat_rate: Mapped[Decimal] = mapped_column(Percent)
    credit_cap_percent: Mapped[Decimal] = mapped_column(Percent)
    credits_subject_to_vat: Mapped[bool] = mapped_column(default=True)
    availability_target_percent: Mapped[Decimal | None] = mapped_column(Percent)
    availability_calendar_id: Mapped[int | None] = mapped_column(sa.ForeignKey("calendars.id"))
    terms_digest: Mapped[str] = mapped_column(sa.String(64))

    contract: Mapped[Contract] = relationship(back_populates="versions")
    availability_calendar: Mapped[Calendar | None] = relationship()
    availability_tiers: Mapped[list["AvailabilityTier"]] = relationship(
        order_by="AvailabilityTier.below_percent.desc()", cascade="all, delete-orphan"
    )
    priorities: Mapped[list["Priority"]] = relationship(
        back_populates="contract_version", order_by="Priority.position", cascade="all, delete-orphan"
    )

    __table_args__ = (sa.UniqueConstraint("contract_id", "version"),)

    def priority(self, code: str) -> "Priority | None":
        return next((p for p in self.priorities if p.code == code), None)

    @hybrid_property
    def timezone(self) -> str:
        """The zone the contract's months are counted in: its availability calendar's, else its
        first priority's (the import format has no zone of its own for a contract)."""
        if self.availability_calendar is not None:
            return self.availability_calendar.timezone
        return self.priorities[0].calendar.timezone

    @timezone.inplace.expression
    @classmethod
    def _timezone_expression(cls) -> sa.ColumnElement[str]:
        availability = (sa.select(Calendar.timezone)
                        .where(Calendar.id == cls.availability_calendar_id).scalar_subquery())
        first_priority = (sa.select(Calendar.timezone)
                          .join(Priority, Priority.calendar_id == Calendar.id)
                          .where(Priority.contract_version_id == cls.id)
                          .order_by(Priority.position).limit(1).scalar_subquery())
        return sa.func.coalesce(availability, first_priority)


class AvailabilityTier(db.Model):
    __tablename__ = "availability_tiers"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contract_versions.id"), index=True
    )
    below_percent: Mapped[Decimal] = mapped_column(Percent)
    credit_percent: Mapped[Decimal] = mapped_column(Percent)


class Priority(db.Model):
    __tablename__ = "priorities"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contract_versions.id"), index=True
    )
    code: Mapped[str] = mapped_column(sa.String(16))
    label: Mapped[str] = mapped_column(sa.String(100))
    position: Mapped[int]
    calendar_id: Mapped[int] = mapped_column(sa.ForeignKey("calendars.id"))
    gti_seconds: Mapped[int]
    gtr_seconds: Mapped[int | None]

    contract_version: Mapped[ContractVersion] = relationship(back_populates="priorities")
    calendar: Mapped[Calendar] = relationship()
    escalations: Mapped[list["EscalationThreshold"]] = relationship(
        order_by="EscalationThreshold.at_percent", cascade="all, delete-orphan"
    )
    penalties: Mapped[list["PenaltyRule"]] = relationship(cascade="all, delete-orphan")

    __table_args__ = (sa.UniqueConstraint("contract_version_id", "code"),)

    @property
    def gti(self) -> timedelta:
        return timedelta(seconds=self.gti_seconds)

    @property
    def gtr(self) -> timedelta | None:
        return None if self.gtr_seconds is None else timedelta(seconds=self.gtr_seconds)

    def target(self, metric: Metric) -> timedelta | None:
        return self.gti if metric == Metric.GTI else self.gtr


class EscalationThreshold(db.Model):
    __tablename__ = "escalation_thresholds"

    id: Mapped[int] = mapped_column(primary_key=True)
    priority_id: Mapped[int] = mapped_column(sa.ForeignKey("priorities.id"), index=True)
    at_percent: Mapped[int]
    notify: Mapped[NotifyTarget] = mapped_column(str_enum(NotifyTarget, 16))

    __table_args__ = (
        sa.CheckConstraint("at_percent > 0 AND at_percent <= 100", name="at_percent_range"),
    )


class PenaltyRule(db.Model):
    __tablename__ = "penalty_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    priority_id: Mapped[int] = mapped_column(sa.ForeignKey("priorities.id"), index=True)
    metric: Mapped[Metric] = mapped_column(str_enum(Metric, 8))
    fixed_amount: Mapped[Decimal] = mapped_column(Money)
    percent_per_started_hour: Mapped[Decimal] = mapped_column(Percent)

    __table_args__ = (sa.UniqueConstraint("priority_id", "metric"),)
