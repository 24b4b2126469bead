"""What the contract pages show beyond the form: the consequences of proposed terms before they
are saved, and each version's changes in words.

Terms are compared in their canonical form (`contracts.services.ContractTerms.canonical`), the
form the versions' digests are taken of; credits come from billing's own computation."""
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _

from helpdesk.accounts import queries as account_queries
from helpdesk.audit.queries import trail
from helpdesk.billing.credits import ZERO, CreditComputation, LineKind, PenaltyRule, Tier
from helpdesk.billing.what_if import MonthComparison, ProposedTerms, compare_month
from helpdesk.contracts.importer import contract_terms
from helpdesk.contracts.models import Calendar, Contract, NotifyTarget
from helpdesk.contracts.queries import calendars_by_id, current_calendar
from helpdesk.contracts.schema import ContractIn
from helpdesk.contracts.services import Terms, terms_digest, version_terms
from helpdesk.contracts.wording import notify_label
from helpdesk.formatting import duration, money, percent
from helpdesk.month import Month
from helpdesk.tickets.queries import OpenTerms, open_tickets_by_terms

# The audit trail's name for a change made on the contract form.
AUDIT_ACTION = "admin"
# The contract's own fields the audit trail records beside its terms.
CONTRACT_FIELDS = ("organisation", "title", "starts_on", "ends_on")


def organisation_choices() -> list[tuple[str, str]]:
    """(code, "name (code)") of the organisations a new contract may be for: not archived."""
    return [(row.code, f"{row.name} ({row.code})")
            for row in account_queries.organisations_to_choose()]


def _calendar_id(code: str) -> int:
    calendar = current_calendar(code)
    assert calendar is not None, code  # the import's validation knows every code
    return calendar.id


def proposed_canonical(given: ContractIn) -> Terms:
    """The terms a save would store, in canonical form."""
    return contract_terms(given, _calendar_id).canonical()


# -- the what-if panel ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class WhatIf:
    """What saving these terms would do."""

    changes: list[Change]  # against the current version; all the terms for a new contract
    new_version: int | None  # None: the terms are the current ones, no version is added
    open_tickets: list[OpenTerms]
    month: str | None  # the month compared: the last one ended in the contract's zone
    comparison: MonthComparison | None  # None: no contract yet, or not in force that month

    @property
    def open_count(self) -> int:
        return sum(row.count for row in self.open_tickets)


def what_if(contract: Contract | None, given: ContractIn, *, now: datetime) -> WhatIf:
    proposed = proposed_canonical(given)
    if contract is None:
        return WhatIf(terms_changes(None, proposed), 1, [], None, None)
    latest = contract.current_version
    current = version_terms(latest)
    same = terms_digest(current) == terms_digest(proposed)
    month = str(Month.of(now, latest.timezone).previous())
    return WhatIf(terms_changes(current, proposed), None if same else latest.version + 1,
                  open_tickets_by_terms(contract), month,
                  compare_month(contract, month, _for_billing(given)))


def _for_billing(given: ContractIn) -> ProposedTerms:
    availability = given.availability
    calendar = None
    if availability is not None and availability.calendar is not None:
        stored = current_calendar(availability.calendar)
        calendar = stored.engine() if stored is not None else None
    rules = {(priority.code, metric): PenaltyRule(rule.fixed, rule.percent_per_started_hour)
             for priority in given.priorities
             for metric in ("gti", "gtr")
             if (rule := getattr(priority.penalties, metric)) is not None}
    return ProposedTerms(
        monthly_fee=given.monthly_fee, currency=given.currency, vat_rate=given.vat_rate,
        credit_cap_percent=given.credit_cap_percent,
        credits_subject_to_vat=given.credits_subject_to_vat,
        availability_target_percent=availability.target_percent if availability else None,
        tiers=tuple(Tier(t.below_percent, t.credit_percent)
                    for t in (availability.tiers if availability else ())),
        availability_calendar=calendar,
        priority_codes=frozenset(p.code for p in given.priorities), rules=rules)


# -- terms in words ------------------------------------------------------------------------------

NONE = "—"


def _calendar_names(*terms: Terms | None) -> Callable[[int | None], str]:
    ids = set()
    for one in terms:
        if one is None:
            continue
        if one["availability"]:
            ids.add(one["availability"]["calendar_id"])
        ids.update(p["calendar_id"] for p in one["priorities"])
    rows: dict[int, Calendar] = calendars_by_id(i for i in ids if i is not None)

    def name(calendar_id: int | None) -> str:
        row = rows.get(calendar_id) if calendar_id is not None else None
        if row is None:
            return _("24/7 in the contract's zone") if calendar_id is None else str(calendar_id)
        return _("%(code)s (version %(version)s)", code=row.code, version=row.version)
    return name


def _penalty(rule: dict[str, str] | None, currency: str) -> str:
    if rule is None:
        return _("none")
    fixed, per_hour = Decimal(rule["fixed"]), Decimal(rule["percent_per_started_hour"])
    if not per_hour:
        return money(fixed, currency)
    if not fixed:
        return _("%(percent)s of the fee per started hour late", percent=percent(per_hour, 3))
    return _("%(amount)s + %(percent)s of the fee per started hour late",
             amount=money(fixed, currency), percent=percent(per_hour, 3))


def _lines(terms: Terms | None, calendar: Callable[[int | None], str]) -> dict[str, tuple[str, str]]:
    """key → (label, value) of each term, in reading order."""
    if terms is None:
        return {}
    currency = terms["currency"]
    lines = {
        "monthly_fee": (_("Monthly fee"), money(Decimal(terms["monthly_fee"]), currency)),
        "currency": (_("Currency"), currency),
        "vat_rate": (_("VAT rate"), percent(Decimal(terms["vat_rate"]), 3)),
        "credit_cap_percent": (_("Credit cap"), percent(Decimal(terms["credit_cap_percent"]), 3)),
        "credits_subject_to_vat": (_("Credits subject to VAT"),
                                   _("yes") if terms["credits_subject_to_vat"] else _("no")),
    }
    availability = terms["availability"]
    if availability is None:
        lines["availability"] = (_("Availability target"), _("none"))
    else:
        lines["availability"] = (_("Availability target"),
                                 percent(Decimal(availability["target_percent"]), 3))
        lines["availability_calendar"] = (_("Availability measured on"),
                                          calendar(availability["calendar_id"]))
        lines["tiers"] = (_("Availability tiers"), "; ".join(
            _("below %(threshold)s → %(credit)s of the fee",
              threshold=percent(Decimal(t["below_percent"]), 3),
              credit=percent(Decimal(t["credit_percent"]), 3))
            for t in availability["tiers"]) or _("none"))
    lines["priorities"] = (_("Priorities"), ", ".join(p["code"] for p in terms["priorities"]))
    for priority in terms["priorities"]:
        code = priority["code"]
        key = f"priority:{code}:"

        def label(what: str, code: str = code) -> str:
            return _("%(priority)s: %(what)s", priority=code, what=what)
        lines[key + "label"] = (label(_("label")), priority["label"])
        lines[key + "calendar"] = (label(_("service hours")), calendar(priority["calendar_id"]))
        lines[key + "gti"] = (label(_("GTI")), duration(priority["gti_seconds"]))
        lines[key + "gtr"] = (label(_("GTR")), duration(priority["gtr_seconds"]))
        lines[key + "escalations"] = (label(_("warnings")), ", ".join(
            _("%(percent)s → %(whom)s", percent=percent(e["at_percent"]),
              whom=notify_label(NotifyTarget(e["notify"])))
            for e in priority["escalations"]) or _("none"))
        for metric in ("gti", "gtr"):
            lines[key + "penalty:" + metric] = (
                label(_("%(clock)s penalty", clock=metric.upper())),
                _penalty(priority["penalties"].get(metric), currency))
    return lines


def terms_changes(before: Terms | None, after: Terms) -> list[Change]:
    """Each term that differs, in words: all of `after` when there is no `before`."""
    calendar = _calendar_names(before, after)
    old, new = _lines(before, calendar), _lines(after, calendar)
    changes = []
    for key in [*new, *(key for key in old if key not in new)]:
        label, after_value = new.get(key, (None, NONE))
        before_label, before_value = old.get(key, (label, NONE))
        if before_value != after_value:
            changes.append(Change(label or before_label or key, before_value, after_value))
    return changes


# -- the history ---------------------------------------------------------------------------------

ACTIONS = {"import": lambda: _("import"), AUDIT_ACTION: lambda: _("contract form")}


@dataclass
class HistoryItem:
    at: datetime
    actor: str | None  # None: no one recorded (the demo data, a script)
    action: str | None
    version: int | None  # the version this change created, if any
    terms: list[Change] = field(default_factory=list)
    fields: list[Change] = field(default_factory=list)


def _field_changes(changes: dict[str, list[Any]]) -> list[Change]:
    labels = {"organisation": _("Organisation"), "title": _("Title"),
              "starts_on": _("Starts on"), "ends_on": _("Ends on")}
    return [Change(labels[name], str(changes[name][0] or NONE), str(changes[name][1] or NONE))
            for name in CONTRACT_FIELDS if name in changes]


def contract_history(contract: Contract) -> list[HistoryItem]:
    """Each change of the contract, newest first: who, when, how, and the terms of each version
    against the version before, from the versions' stored terms."""
    versions = {version.version: version for version in contract.versions}
    terms = {number: version_terms(version) for number, version in versions.items()}
    items: list[HistoryItem] = []
    recorded: set[int] = set()
    for entry in trail("contract", contract.reference):
        number = entry.changes.get("version", [None, None])[1]
        if number is not None:
            recorded.add(number)
        label = ACTIONS.get(entry.action)
        items.append(HistoryItem(
            entry.at, entry.actor.name if entry.actor else None,
            label() if label else entry.action, number,
            terms_changes(terms.get(number - 1), terms[number]) if number in terms else [],
            _field_changes(entry.changes)))
    for number, version in versions.items():
        if number not in recorded:
            items.append(HistoryItem(version.effective_at, None, None, number,
                                     terms_changes(terms.get(number - 1), terms[number])))
    items.sort(key=lambda item: (item.at, item.version or 0), reverse=True)
    return items


@dataclass(frozen=True)
class CreditSummary:
    """A month's credit by kind of line, as the what-if panel compares them."""

    currency: str
    breaches: Decimal
    availability: Decimal
    cap: Decimal
    total_excl_vat: Decimal
    vat: Decimal
    total_incl_vat: Decimal
    subject_to_vat: bool


def credit_summary(computation: CreditComputation) -> CreditSummary:
    def total(kind: LineKind) -> Decimal:
        return sum((line.amount for line in computation.lines if line.kind is kind), ZERO)
    return CreditSummary(computation.currency, total(LineKind.BREACH),
                         total(LineKind.AVAILABILITY), total(LineKind.CAP),
                         computation.total_excl_vat, computation.vat, computation.total_incl_vat,
                         computation.credits_subject_to_vat)
