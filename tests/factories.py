"""Plain factory functions: keyword defaults, they flush and never commit."""
import hashlib
from datetime import UTC, date, datetime
from decimal import Decimal

from helpdesk.accounts.models import Organisation, OrganisationKind, User
from helpdesk.accounts.roles import Role
from helpdesk.contracts.models import (
    AvailabilityTier,
    Calendar,
    Contract,
    ContractVersion,
    EscalationThreshold,
    Metric,
    NotifyTarget,
    PenaltyRule,
    Priority,
)
from helpdesk.extensions import db

PASSWORD = "correct horse battery"
BUSINESS_WEEK = {day: [["08:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
_password_hashes: dict[str, str] = {}


def organisation(*, code="shop", name="Boutique Exemple SARL", kind=OrganisationKind.CLIENT,
                 **fields) -> Organisation:
    org = Organisation(code=code, name=name, kind=kind, **fields)
    db.session.add(org)
    db.session.flush()
    return org


def user(*, email, role=Role.CLIENT, organisation=None, name=None, password=PASSWORD,
         timezone="Europe/Paris", language="en") -> User:
    account = User(email=email, role=role, organisation=organisation,
                   name=name or email.split("@")[0].title(), timezone=timezone,
                   language=language)
    # argon2id is deliberately slow: hash each distinct password once per run.
    if password not in _password_hashes:
        account.set_password(password)
        _password_hashes[password] = account.password_hash
    account.password_hash = _password_hashes[password]
    db.session.add(account)
    db.session.flush()
    return account


def calendar(*, code="biz-fr", timezone="Europe/Paris", always=False, weekly=None,
             holidays_country="FR", closures=()) -> Calendar:
    row = Calendar(code=code, version=1, timezone=timezone, is_always=always,
                   weekly={} if always else (weekly or BUSINESS_WEEK),
                   holidays_country=None if always else holidays_country,
                   holidays_subdiv=None, closures=list(closures))
    db.session.add(row)
    db.session.flush()
    return row


def contract(*, organisation, reference="CT-1", calendars, title="Maintenance",
             starts_on=date(2026, 1, 1), ends_on=None, priorities=None,
             monthly_fee=Decimal("1000.00")) -> Contract:
    """A contract with one version; `priorities` as (code, label, calendar code, gti h, gtr h)."""
    row = Contract(reference=reference, organisation=organisation, title=title,
                   starts_on=starts_on, ends_on=ends_on)
    version = ContractVersion(
        contract=row, version=1, effective_at=datetime(2026, 1, 1, tzinfo=UTC),
        monthly_fee=monthly_fee, currency="EUR", vat_rate=Decimal("20"),
        credit_cap_percent=Decimal("30"), credits_subject_to_vat=True,
        availability_target_percent=Decimal("99.9"), availability_calendar=calendars["24x7"],
        terms_digest=hashlib.sha256(reference.encode()).hexdigest())
    version.availability_tiers = [
        AvailabilityTier(below_percent=Decimal("99.9"), credit_percent=Decimal("10")),
        AvailabilityTier(below_percent=Decimal("99.5"), credit_percent=Decimal("25")),
    ]
    specs = priorities or [("P1", "Critique", "24x7", 2, 8), ("P3", "Normale", "biz-fr", 8, None)]
    for position, (code, label, calendar_code, gti, gtr) in enumerate(specs):
        priority = Priority(code=code, label=label, position=position,
                            calendar=calendars[calendar_code], gti_seconds=gti * 3600,
                            gtr_seconds=None if gtr is None else gtr * 3600)
        priority.escalations = [EscalationThreshold(at_percent=50, notify=NotifyTarget.ASSIGNEE),
                                EscalationThreshold(at_percent=80, notify=NotifyTarget.TEAM_LEADS)]
        priority.penalties = [PenaltyRule(metric=Metric.GTI, fixed_amount=Decimal("100.00"),
                                          percent_per_started_hour=Decimal("0"))]
        version.priorities.append(priority)
    db.session.add(row)
    db.session.flush()
    return row


def world() -> dict:
    calendars = {"biz-fr": calendar(), "24x7": calendar(code="24x7", always=True)}
    shop = organisation(code="shop", name="Boutique Exemple SARL")
    other = organisation(code="other", name="Autre Client SA")
    data = {
        "calendars": calendars,
        "shop": shop,
        "other": other,
        "client": user(email="client@shop.example", organisation=shop, name="Claire Client"),
        "other_client": user(email="client@other.example", organisation=other,
                             name="Oscar Other"),
        "tech": user(email="tech@provider.example", role=Role.TECHNICIAN, name="Tom Tech"),
        "tech2": user(email="tech2@provider.example", role=Role.TECHNICIAN, name="Tina Tech"),
        "lead": user(email="lead@provider.example", role=Role.TEAM_LEAD, name="Lea Lead"),
        "finance": user(email="finance@provider.example", role=Role.FINANCE, name="Fin Ance"),
        "admin": user(email="admin@provider.example", role=Role.ADMIN, name="Ada Admin"),
    }
    data["contract"] = contract(organisation=shop, reference="CT-SHOP", calendars=calendars)
    data["other_contract"] = contract(organisation=other, reference="CT-OTHER",
                                      calendars=calendars)
    return data


def handle(row):
    """What a test keeps of a row once its session is gone: the key people use for it."""
    if isinstance(row, User):
        return row.email
    if isinstance(row, Contract):
        return row.reference
    if isinstance(row, Organisation):
        return row.id
    return row
