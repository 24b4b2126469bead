"""Apply a validated import (DESIGN §5): create or update by key — calendars and organisations by
code, users by e-mail, contracts by reference — through the services that own them. Flushes,
never commits.

`schema.validate_import` checks the whole document first, so nothing is written unless
everything is right.
"""
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from helpdesk.accounts.models import User
from helpdesk.accounts.services import find_organisation, upsert_organisation, upsert_user
from helpdesk.audit.services import Outcome
from helpdesk.contracts.models import Calendar, Metric
from helpdesk.contracts.schema import SECTIONS, ContractIn, ImportPlan
from helpdesk.contracts.services import (
    AvailabilityTerms,
    ContractTerms,
    PriorityTerms,
    add_calendar_version,
    refresh_contracts,
    upsert_contract,
)
from helpdesk.extensions import db

AUDIT_ACTION = "import"


@dataclass
class KindCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass(frozen=True)
class NewVersion:
    key: str
    version: int
    reason: str


@dataclass
class ImportReport:
    """What an import did, for printing."""

    counts: dict[str, KindCounts] = field(
        default_factory=lambda: {name: KindCounts() for name in SECTIONS})
    calendar_versions: list[NewVersion] = field(default_factory=list)
    contract_versions: list[NewVersion] = field(default_factory=list)

    def count(self, kind: str, outcome: Outcome) -> None:
        counts = self.counts[kind]
        setattr(counts, outcome, getattr(counts, outcome) + 1)

    def lines(self) -> list[str]:
        lines = [f"{kind}: {c.created} created, {c.updated} updated, {c.unchanged} unchanged"
                 for kind, c in self.counts.items()]
        lines += [f"new calendar version: {v.key} v{v.version} ({v.reason})"
                  for v in self.calendar_versions]
        lines += [f"new contract version: {v.key} v{v.version} ({v.reason})"
                  for v in self.contract_versions]
        return lines


class _Calendars:
    """The current (newest) version of each calendar code, as the import changes them."""

    def __init__(self) -> None:
        self._current: dict[str, Calendar | None] = {}

    def current(self, code: str) -> Calendar | None:
        if code not in self._current:
            self._current[code] = db.session.scalar(
                sa.select(Calendar).where(Calendar.code == code)
                .order_by(Calendar.version.desc()).limit(1))
        return self._current[code]

    def set(self, row: Calendar) -> None:
        self._current[row.code] = row

    def stored(self, code: str) -> Calendar:
        # Validation made sure every code a contract names exists, in the file or stored.
        row = self.current(code)
        assert row is not None, code
        return row


def _apply_calendars(plan: ImportPlan, calendars: _Calendars, report: ImportReport, *,
                     now: datetime, actor: User | None, action: str) -> set[str]:
    changed: set[str] = set()
    for given in plan.calendars:
        current = calendars.current(given.code)
        row = add_calendar_version(given.code, given.engine(), current=current, now=now,
                                   actor=actor, action=action)
        if row is None:
            report.count("calendars", Outcome.UNCHANGED)
            continue
        calendars.set(row)
        if current is None:
            report.count("calendars", Outcome.CREATED)
        else:
            changed.add(row.code)
            report.count("calendars", Outcome.UPDATED)
            report.calendar_versions.append(NewVersion(row.code, row.version, "definition changed"))
    return changed


def _apply_accounts(plan: ImportPlan, report: ImportReport, *, now: datetime,
                    actor: User | None, action: str) -> None:
    for organisation in plan.organisations:
        report.count("organisations", upsert_organisation(
            organisation.code, organisation.fields(), given=organisation.model_fields_set,
            now=now, actor=actor, action=action))
    for user in plan.users:
        report.count("users", upsert_user(
            user.email, user.fields(), given=user.model_fields_set, password=user.password,
            now=now, actor=actor, action=action))


def contract_terms(given: ContractIn, calendar_id: Callable[[str], int]) -> ContractTerms:
    """The terms of a contract of the document, calendars named by the id `calendar_id` gives
    each code."""
    availability = None
    if given.availability is not None:
        wanted = given.availability
        availability = AvailabilityTerms(
            wanted.target_percent,
            None if wanted.calendar is None else calendar_id(wanted.calendar),
            [(tier.below_percent, tier.credit_percent) for tier in wanted.tiers])
    priorities = [
        PriorityTerms(p.code, p.label, calendar_id(p.calendar), int(p.gti.total_seconds()),
                      None if p.gtr is None else int(p.gtr.total_seconds()),
                      [(e.at_percent, e.notify) for e in p.escalations],
                      {metric: (rule.fixed, rule.percent_per_started_hour)
                       for metric in (Metric.GTI.value, Metric.GTR.value)
                       if (rule := getattr(p.penalties, metric)) is not None})
        for p in given.priorities
    ]
    return ContractTerms(given.monthly_fee, given.currency, given.vat_rate,
                         given.credit_cap_percent, given.credits_subject_to_vat, availability,
                         priorities)


def _apply_contracts(plan: ImportPlan, calendars: _Calendars, report: ImportReport, *,
                     now: datetime, actor: User | None, action: str) -> None:
    for given in plan.contracts:
        organisation = find_organisation(given.organisation)
        assert organisation is not None, given.organisation  # checked by validation
        done = upsert_contract(
            given.reference, organisation=organisation, title=given.title,
            starts_on=given.starts_on, ends_on=given.ends_on,
            keep_ends_on="ends_on" not in given.model_fields_set,
            terms=contract_terms(given, lambda code: calendars.stored(code).id),
            now=now, actor=actor, action=action)
        if done.new_version is not None:
            report.contract_versions.append(NewVersion(
                given.reference, done.new_version,
                "new contract" if done.outcome is Outcome.CREATED else "terms changed"))
        report.count("contracts", done.outcome)


def apply_import(plan: ImportPlan, *, now: datetime, actor: User | None = None,
                 action: str = AUDIT_ACTION) -> ImportReport:
    """Write a validated plan: create or update by key; new versions for changed terms. Flushes.

    `action` names the change in the audit trail: an import, or a page that applies a piece of
    the import document (the administration's contract form)."""
    report = ImportReport()
    calendars = _Calendars()
    changed = _apply_calendars(plan, calendars, report, now=now, actor=actor, action=action)
    _apply_accounts(plan, report, now=now, actor=actor, action=action)
    _apply_contracts(plan, calendars, report, now=now, actor=actor, action=action)
    refreshed = refresh_contracts(changed, current_calendar=calendars.stored,
                                  skip={c.reference for c in plan.contracts},
                                  now=now, actor=actor, action=action)
    for contract in refreshed:
        report.count("contracts", Outcome.UPDATED)
        reason = "calendar " + ", ".join(
            f"{code} now v{calendars.stored(code).version}" for code in contract.calendars)
        report.contract_versions.append(NewVersion(contract.reference, contract.version, reason))
    db.session.flush()
    return report
