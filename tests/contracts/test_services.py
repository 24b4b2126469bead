"""Contract versioning: same terms keep the version, other terms make a new one with its digest."""
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from helpdesk.accounts.models import Organisation
from helpdesk.audit.models import AuditEntry
from helpdesk.audit.services import Outcome
from helpdesk.contracts.models import Contract
from helpdesk.contracts.services import (
    AvailabilityTerms,
    ContractTerms,
    PriorityTerms,
    add_calendar_version,
    terms_digest,
    upsert_contract,
    version_terms,
)
from helpdesk.extensions import db
from tests import factories

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=1)


def terms(calendar_id: int, *, monthly_fee: str = "1000.00", gti_hours: int = 2) -> ContractTerms:
    return ContractTerms(
        Decimal(monthly_fee), "EUR", Decimal("20"), Decimal("30"), True,
        AvailabilityTerms(Decimal("99.9"), calendar_id, [(Decimal("99.5"), Decimal("25")),
                                                         (Decimal("99.9"), Decimal("10"))]),
        [PriorityTerms("P1", "Critique", calendar_id, gti_hours * 3600, None,
                       [(80, "team_leads"), (50, "assignee")],
                       {"gti": (Decimal("100"), Decimal("0"))})])


def upsert(organisation: Organisation, given: ContractTerms, *, now: datetime = NOW):
    return upsert_contract("CT-1", organisation=organisation, title="Maintenance",
                           starts_on=date(2026, 1, 1), ends_on=None, terms=given, now=now,
                           actor=None, action="import")


def test_canonical_terms_write_amounts_as_fixed_point_strings_in_a_stable_order():
    canonical = terms(7, monthly_fee="1000").canonical()
    assert canonical["monthly_fee"] == "1000.00"
    assert canonical["vat_rate"] == "20.000"
    assert [t["below_percent"] for t in canonical["availability"]["tiers"]] == ["99.900", "99.500"]
    priority = canonical["priorities"][0]
    assert [e["at_percent"] for e in priority["escalations"]] == [50, 80]
    assert priority["penalties"] == {"gti": {"fixed": "100.00",
                                             "percent_per_started_hour": "0.000"}}


def test_new_contract_gets_version_one_with_the_digest_of_its_terms(app):
    with app.app_context():
        shop = factories.organisation()
        biz = factories.calendar()
        done = upsert(shop, terms(biz.id))
        assert (done.outcome, done.new_version) == (Outcome.CREATED, 1)
        version = db.session.scalar(sa.select(Contract)).current_version
        assert version.terms_digest == terms_digest(terms(biz.id).canonical())
        assert version_terms(version) == terms(biz.id).canonical()


def test_same_terms_add_no_version_and_no_audit_entry(app):
    with app.app_context():
        shop = factories.organisation()
        biz = factories.calendar()
        upsert(shop, terms(biz.id))
        entries = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
        done = upsert(shop, terms(biz.id, monthly_fee="1000"), now=LATER)
        assert (done.outcome, done.new_version) == (Outcome.UNCHANGED, None)
        assert len(db.session.scalar(sa.select(Contract)).versions) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == entries


def test_changed_terms_add_a_version_with_a_new_digest(app):
    with app.app_context():
        shop = factories.organisation()
        biz = factories.calendar()
        upsert(shop, terms(biz.id))
        done = upsert(shop, terms(biz.id, gti_hours=4), now=LATER)
        assert (done.outcome, done.new_version) == (Outcome.UPDATED, 2)
        first, second = db.session.scalar(sa.select(Contract)).versions
        assert second.effective_at == LATER
        assert second.terms_digest != first.terms_digest
        assert second.terms_digest == terms_digest(version_terms(second))
        assert [p.gti_seconds for p in first.priorities] == [2 * 3600]


def test_calendar_with_the_same_hours_gets_no_new_version(app):
    with app.app_context():
        biz = factories.calendar()
        assert add_calendar_version("biz-fr", biz.engine(), current=biz, now=NOW, actor=None,
                                    action="import") is None


def test_calendar_with_other_hours_gets_the_next_version(app):
    with app.app_context():
        biz = factories.calendar()
        always = factories.calendar(code="24x7", always=True)
        row = add_calendar_version("biz-fr", always.engine(), current=biz, now=NOW, actor=None,
                                   action="import")
        assert (row.code, row.version, row.is_always) == ("biz-fr", 2, True)
