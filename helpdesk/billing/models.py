"""Credit notes: drafts built by closing a month, frozen and numbered when issued."""
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, UOWTransaction, mapped_column, relationship

from helpdesk.accounts.models import Organisation, User
from helpdesk.billing.credits import LineKind
from helpdesk.contracts.models import Contract, Metric, Money, Percent
from helpdesk.db import str_enum
from helpdesk.extensions import db


class CreditNoteStatus(StrEnum):
    DRAFT = "draft"  # replaced whenever the month is closed again
    ISSUED = "issued"  # numbered and frozen: a correction is a new document


class CreditNote(db.Model):
    """One contract's credit for one month. Everything it shows is copied into it, so that no
    later change to tickets, breaches, waivers, contracts or organisations alters it."""

    __tablename__ = "credit_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(sa.ForeignKey("contracts.id"))
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    contract_version_id: Mapped[int] = mapped_column(sa.ForeignKey("contract_versions.id"))
    month: Mapped[str] = mapped_column(sa.String(7))
    status: Mapped[CreditNoteStatus] = mapped_column(str_enum(CreditNoteStatus, 16),
                                                     default=CreditNoteStatus.DRAFT)
    number: Mapped[str | None] = mapped_column(sa.String(24), unique=True)
    sequence_year: Mapped[int | None]
    sequence_number: Mapped[int | None]
    issue_date: Mapped[date | None]
    issued_at: Mapped[datetime | None]
    issued_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    closed_at: Mapped[datetime]  # the closing instant the computation was made as of
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    timezone: Mapped[str] = mapped_column(sa.String(64))
    currency: Mapped[str] = mapped_column(sa.String(3))
    monthly_fee: Mapped[Decimal] = mapped_column(Money)
    vat_rate: Mapped[Decimal] = mapped_column(Percent)
    credits_subject_to_vat: Mapped[bool]
    credit_cap_percent: Mapped[Decimal] = mapped_column(Percent)
    availability_target_percent: Mapped[Decimal | None] = mapped_column(Percent)
    availability_percent: Mapped[Decimal] = mapped_column(sa.Numeric(10, 6))
    downtime_seconds: Mapped[int]
    total_excl_vat: Mapped[Decimal] = mapped_column(Money)
    vat: Mapped[Decimal] = mapped_column(Money)
    total_incl_vat: Mapped[Decimal] = mapped_column(Money)
    invoice_number: Mapped[str | None] = mapped_column(sa.String(64))
    invoice_date: Mapped[date | None]
    contract_reference: Mapped[str] = mapped_column(sa.String(64))
    contract_title: Mapped[str] = mapped_column(sa.String(200))
    seller: Mapped[dict] = mapped_column(sa.JSON)  # name, address, company_id, vat_number
    client: Mapped[dict] = mapped_column(sa.JSON)
    reason: Mapped[str] = mapped_column(sa.Text)

    contract: Mapped[Contract] = relationship()
    organisation: Mapped[Organisation] = relationship()
    issued_by: Mapped[User | None] = relationship(foreign_keys=[issued_by_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])
    lines: Mapped[list["CreditNoteLine"]] = relationship(
        back_populates="credit_note", order_by="CreditNoteLine.position",
        cascade="all, delete-orphan")

    __table_args__ = (
        # One document per contract and month: closing again replaces the draft, and a month
        # with an issued note is not closed again.
        sa.UniqueConstraint("contract_id", "month"),
        sa.UniqueConstraint("sequence_year", "sequence_number"),
        sa.Index("ix_credit_notes_month_status", "month", "status"),
        sa.Index("ix_credit_notes_organisation_id_month", "organisation_id", "month"),
    )

    @property
    def is_issued(self) -> bool:
        return self.status == CreditNoteStatus.ISSUED

    @property
    def invoice_reference(self) -> str:
        """The invoice the credit relates to: as finance gave it, else the period's invoice."""
        if self.invoice_number:
            when = f" of {self.invoice_date:%Y-%m-%d}" if self.invoice_date else ""
            return f"invoice {self.invoice_number}{when}"
        return f"the invoice of {self.month} under contract {self.contract_reference}"


class CreditNoteLine(db.Model):
    __tablename__ = "credit_note_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    credit_note_id: Mapped[int] = mapped_column(
        sa.ForeignKey("credit_notes.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    kind: Mapped[LineKind] = mapped_column(str_enum(LineKind, 16))
    breach_id: Mapped[int | None] = mapped_column(sa.ForeignKey("breaches.id"))
    description: Mapped[str] = mapped_column(sa.String(500))
    ticket_number: Mapped[str | None] = mapped_column(sa.String(32))
    metric: Mapped[Metric | None] = mapped_column(str_enum(Metric, 8))
    priority_code: Mapped[str | None] = mapped_column(sa.String(16))
    due_at: Mapped[datetime | None]
    stopped_at: Mapped[datetime | None]
    counted_until: Mapped[datetime | None]
    delay_seconds: Mapped[int | None]
    started_hours: Mapped[int | None]
    availability_percent: Mapped[Decimal | None] = mapped_column(sa.Numeric(10, 6))
    target_percent: Mapped[Decimal | None] = mapped_column(Percent)
    amount: Mapped[Decimal] = mapped_column(Money)

    credit_note: Mapped[CreditNote] = relationship(back_populates="lines")


class CreditNoteCounter(db.Model):
    """The last number issued in a year. Incremented in the issuing transaction, so a rolled-back
    issue gives its number back: the sequence has no holes (a database sequence would)."""

    __tablename__ = "credit_note_counters"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(default=0)


class IssuedCreditNoteChanged(RuntimeError):
    """An issued credit note is a legal document: any change to it is a programming error."""


def _was_issued(note: CreditNote) -> bool:
    history = sa.inspect(note).attrs.status.history
    before = history.deleted[0] if history.deleted else note.status
    return before == CreditNoteStatus.ISSUED


@sa.event.listens_for(Session, "before_flush")
def _refuse_changes_to_issued_notes(session: Session, _context: UOWTransaction,
                                    _instances: Sequence[object] | None) -> None:
    for instance in (*session.dirty, *session.deleted, *session.new):
        if isinstance(instance, CreditNote):
            note = instance
            changed = instance in session.deleted or session.is_modified(instance)
        elif isinstance(instance, CreditNoteLine):
            note = instance.credit_note
            changed = instance in session.new or instance in session.deleted \
                or session.is_modified(instance)
        else:
            continue
        if note is not None and note.id is not None and changed and _was_issued(note):
            raise IssuedCreditNoteChanged(
                f"credit note {note.number} is issued and can no longer change")
