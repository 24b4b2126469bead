"""The import applied: create or update by key, new versions for changed terms, all audited."""
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from helpdesk.accounts.models import Organisation, OrganisationKind, User
from helpdesk.accounts.roles import Role
from helpdesk.accounts.services import authenticate
from helpdesk.audit.models import AuditEntry
from helpdesk.clock import now_utc
from helpdesk.contracts.importer import apply_import
from helpdesk.contracts.models import Calendar, Contract, Metric, NotifyTarget
from helpdesk.contracts.schema import validate_import
from helpdesk.contracts.services import terms_digest, version_terms
from helpdesk.extensions import db
from helpdesk.tickets.services import open_ticket
from tests import factories
from tests.contracts.documents import EXAMPLE, PASSWORD, example, row_counts

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=1)


def imported(document: dict, *, now: datetime = NOW):
    plan, errors = validate_import(document)
    assert errors == []
    report = apply_import(plan, now=now)
    db.session.commit()
    return report


def contract(reference: str) -> Contract:
    return db.session.scalar(sa.select(Contract).where(Contract.reference == reference))


def current_calendar(code: str) -> Calendar:
    return db.session.scalar(sa.select(Calendar).where(Calendar.code == code)
                             .order_by(Calendar.version.desc()).limit(1))


def audit(entity: str, entity_id: str) -> list[AuditEntry]:
    return db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.entity == entity, AuditEntry.entity_id == entity_id)
        .order_by(AuditEntry.id)).all()


# -- the example imports --------------------------------------------------------------------


def test_design_example_creates_every_row(app):
    with app.app_context():
        report = imported(example())
        counts = {kind: (c.created, c.updated, c.unchanged) for kind, c in report.counts.items()}
        assert counts == {"calendars": (2, 0, 0), "organisations": (1, 0, 0),
                          "users": (1, 0, 0), "contracts": (1, 0, 0)}
        assert [(v.key, v.version) for v in report.contract_versions] == [("CT-2026-001", 1)]

        shop = db.session.scalar(sa.select(Organisation).where(Organisation.code == "shop-cholet"))
        assert (shop.name, shop.kind, shop.vat_number) == (
            "Boutique Exemple SARL", OrganisationKind.CLIENT, "FR00123456789")
        biz = current_calendar("biz-fr")
        assert (biz.version, biz.timezone, biz.holidays_country, biz.closures) == (
            1, "Europe/Paris", "FR", ["2026-12-24"])
        assert biz.weekly["mon"] == [["08:00", "18:00"]] and "sat" not in biz.weekly
        assert current_calendar("24x7").is_always

        terms = contract("CT-2026-001").current_version
        assert terms.version == 1 and terms.effective_at == NOW
        assert (terms.monthly_fee, terms.currency, terms.vat_rate, terms.credit_cap_percent) == (
            Decimal("1000.00"), "EUR", Decimal("20"), Decimal("30"))
        assert terms.availability_target_percent == Decimal("99.9")
        assert terms.availability_calendar.code == "24x7"
        assert [(t.below_percent, t.credit_percent) for t in terms.availability_tiers] == [
            (Decimal("99.9"), Decimal("10")), (Decimal("99.5"), Decimal("25"))]
        assert terms.terms_digest == terms_digest(version_terms(terms))

        p1, p3 = terms.priorities
        assert (p1.code, p1.label, p1.calendar.code, p1.gti, p1.gtr) == (
            "P1", "Critique", "24x7", timedelta(hours=2), timedelta(hours=8))
        assert [(e.at_percent, e.notify) for e in p1.escalations] == [
            (50, NotifyTarget.ASSIGNEE), (80, NotifyTarget.TEAM_LEADS)]
        assert {(r.metric, r.fixed_amount, r.percent_per_started_hour) for r in p1.penalties} == {
            (Metric.GTI, Decimal("100.00"), Decimal("0")),
            (Metric.GTR, Decimal("0"), Decimal("2"))}
        assert (p3.code, p3.calendar.code, p3.gti, p3.gtr) == (
            "P3", "biz-fr", timedelta(hours=8), None)


def test_imported_user_can_authenticate_with_lower_cased_email(app):
    document = example()
    document["users"][0]["email"] = "Client@Shop.Example"
    with app.app_context():
        imported(document)
        user = authenticate("client@shop.example", PASSWORD, now=now_utc())
        assert user is not None
        assert (user.email, user.role, user.organisation.code, user.language) == (
            "client@shop.example", Role.CLIENT, "shop-cholet", "fr")


def test_document_may_omit_sections(app):
    with app.app_context():
        report = imported({"calendars": [EXAMPLE["calendars"][1]]})
        assert report.counts["calendars"].created == 1


# -- references -----------------------------------------------------------------------------


def test_references_may_name_rows_already_in_the_database(app, world):
    document = {"users": [{"email": "new@shop.example", "name": "Nina New", "role": "client",
                           "organisation": "shop", "password": PASSWORD}],
                "contracts": [example()["contracts"][0] | {"reference": "CT-NEW",
                                                           "organisation": "shop"}]}
    with app.app_context():
        report = imported(document)
        assert (report.counts["users"].created, report.counts["contracts"].created) == (1, 1)
        assert contract("CT-NEW").current_version.priorities[1].calendar.code == "biz-fr"


# -- re-importing ---------------------------------------------------------------------------


def test_reimport_unchanged_changes_nothing(app):
    with app.app_context():
        imported(example())
        before = row_counts()
        report = imported(example(), now=LATER)
        assert row_counts() == before
        assert report.contract_versions == [] and report.calendar_versions == []
        assert all(c.created == c.updated == 0 for c in report.counts.values())
        assert report.counts["contracts"].unchanged == 1


def test_reimport_with_equivalent_notation_is_unchanged(app):
    document = example()
    document["contracts"][0]["monthly_fee"] = "1000"
    document["contracts"][0]["priorities"][0]["gti"] = "PT120M"
    document["calendars"][0]["weekly"]["mon"] = [["08:00", "12:00"], ["12:00", "18:00"]]
    with app.app_context():
        imported(example())
        report = imported(document, now=LATER)
        assert report.contract_versions == [] and report.calendar_versions == []


def test_changed_gti_creates_a_new_version_and_old_ticket_keeps_its_terms(app):
    with app.app_context():
        imported(example())
        client = db.session.scalar(sa.select(User).where(User.email == "client@shop.example"))
        ticket = open_ticket(actor=client, contract=contract("CT-2026-001"), priority_code="P3",
                             title="Page panier en erreur", description="Erreur 500.", now=NOW)
        db.session.commit()
        old_version_id, old_priority_id = ticket.contract_version_id, ticket.priority_id

        document = example()
        document["contracts"][0]["priorities"][1]["gti"] = "PT4H"
        report = imported(document, now=LATER)

        assert [(v.key, v.version, v.reason) for v in report.contract_versions] == [
            ("CT-2026-001", 2, "terms changed")]
        versions = contract("CT-2026-001").versions
        assert [(v.version, v.effective_at) for v in versions] == [(1, NOW), (2, LATER)]
        assert versions[1].priority("P3").gti == timedelta(hours=4)
        assert versions[0].priority("P3").gti == timedelta(hours=8)
        db.session.refresh(ticket)
        assert (ticket.contract_version_id, ticket.priority_id) == (old_version_id,
                                                                    old_priority_id)
        assert ticket.priority.gti == timedelta(hours=8)
        entry = audit("contract", "CT-2026-001")[-1]
        assert entry.changes["version"] == [1, 2]


def test_changed_title_is_audited_without_a_new_version(app):
    document = example()
    document["contracts"][0]["title"] = "Maintenance boutique en ligne"
    with app.app_context():
        imported(example())
        report = imported(document, now=LATER)
        assert report.counts["contracts"].updated == 1 and report.contract_versions == []
        assert contract("CT-2026-001").title == "Maintenance boutique en ligne"
        assert audit("contract", "CT-2026-001")[-1].changes == {
            "title": ["Maintenance e-commerce", "Maintenance boutique en ligne"]}


def test_contract_cannot_move_to_another_organisation(app):
    document = example()
    document["organisations"].append({"code": "elsewhere", "name": "Ailleurs SAS",
                                      "kind": "client"})
    document["contracts"][0]["organisation"] = "elsewhere"
    with app.app_context():
        imported(example())
        before = row_counts()
        plan, errors = validate_import(document)
        assert plan is None
        assert errors == ["contracts[0].organisation: contract CT-2026-001 belongs to "
                          "'shop-cholet' and cannot move to another organisation"]
        assert row_counts() == before


def test_calendar_change_creates_calendar_and_contract_versions(app):
    document = example()
    document["calendars"][0]["weekly"]["fri"] = [["08:00", "17:00"]]
    with app.app_context():
        imported(example())
        old_biz = current_calendar("biz-fr")
        report = imported(document, now=LATER)
        new_biz = current_calendar("biz-fr")
        assert (old_biz.version, new_biz.version) == (1, 2)
        assert old_biz.weekly["fri"] == [["08:00", "18:00"]]
        assert new_biz.weekly["fri"] == [["08:00", "17:00"]]
        assert [(v.key, v.version) for v in report.calendar_versions] == [("biz-fr", 2)]
        versions = contract("CT-2026-001").versions
        assert [v.version for v in versions] == [1, 2]
        assert versions[0].priority("P3").calendar_id == old_biz.id
        assert versions[1].priority("P3").calendar_id == new_biz.id
        assert versions[1].priority("P1").calendar.code == "24x7"


def test_calendar_change_gives_contracts_outside_the_file_a_new_version(app, world):
    with app.app_context():
        biz_v1 = current_calendar("biz-fr")
        before = [v.version for v in contract("CT-SHOP").versions]
        calendar = example()["calendars"][0] | {"holidays": None}
        report = imported({"calendars": [calendar]}, now=LATER)
        biz_v2 = current_calendar("biz-fr")
        assert biz_v2.version == 2 and biz_v2.holidays_country is None
        assert sorted((v.key, v.version) for v in report.contract_versions) == [
            ("CT-OTHER", 2), ("CT-SHOP", 2)]
        assert report.contract_versions[0].reason == "calendar biz-fr now v2"
        shop = contract("CT-SHOP")
        assert [v.version for v in shop.versions] == before + [2]
        old, new = shop.versions
        assert old.priority("P3").calendar_id == biz_v1.id
        assert new.priority("P3").calendar_id == biz_v2.id
        assert version_terms(new) | {"priorities": None} == version_terms(old) | {
            "priorities": None}
        assert new.effective_at == LATER


def test_unchanged_calendar_gives_no_version(app, world):
    with app.app_context():
        calendar = {"code": "biz-fr", "timezone": "Europe/Paris",
                    "weekly": factories.BUSINESS_WEEK, "holidays": {"country": "FR"}}
        report = imported({"calendars": [calendar]}, now=LATER)
        assert report.counts["calendars"].unchanged == 1
        assert report.contract_versions == []


# -- organisations and users ----------------------------------------------------------------


def test_organisation_is_updated_in_place_and_audited(app):
    document = example()
    document["organisations"][0]["address"] = "2 rue Exemple, 49300 Cholet"
    with app.app_context():
        imported(example())
        report = imported(document, now=LATER)
        assert report.counts["organisations"].updated == 1
        shop = db.session.scalar(sa.select(Organisation).where(Organisation.code == "shop-cholet"))
        assert shop.address == "2 rue Exemple, 49300 Cholet"
        entry = audit("organisation", "shop-cholet")[-1]
        assert (entry.action, entry.at, entry.changes) == ("import", LATER, {
            "address": ["1 rue Exemple, 49300 Cholet", "2 rue Exemple, 49300 Cholet"]})


def test_organisation_keeps_fields_the_file_omits(app):
    with app.app_context():
        imported(example())
        imported({"organisations": [{"code": "shop-cholet", "name": "Boutique Exemple SARL",
                                     "kind": "client"}]}, now=LATER)
        shop = db.session.scalar(sa.select(Organisation).where(Organisation.code == "shop-cholet"))
        assert shop.vat_number == "FR00123456789"


def test_user_is_updated_by_email_and_keeps_password_when_none_given(app, world):
    with app.app_context():
        before = db.session.scalar(sa.select(User).where(User.email == "client@shop.example"))
        old_hash = before.password_hash
        report = imported({"users": [{"email": "CLIENT@shop.example", "name": "Claire Cliente",
                                      "role": "client", "language": "fr"}]}, now=LATER)
        assert report.counts["users"].updated == 1
        user = db.session.scalar(sa.select(User).where(User.email == "client@shop.example"))
        assert (user.name, user.language, user.organisation.code) == ("Claire Cliente", "fr",
                                                                      "shop")
        assert user.password_hash == old_hash
        assert audit("user", "client@shop.example")[-1].changes == {
            "language": ["en", "fr"], "name": ["Claire Client", "Claire Cliente"]}


def test_user_password_is_rehashed_when_given_and_never_logged(app, world):
    with app.app_context():
        old_hash = db.session.scalar(sa.select(User.password_hash)
                                     .where(User.email == "tech@provider.example"))
        imported({"users": [{"email": "tech@provider.example", "name": "Tom Tech",
                             "role": "technician", "password": PASSWORD}]}, now=LATER)
        user = authenticate("tech@provider.example", PASSWORD, now=now_utc())
        assert user is not None and user.password_hash != old_hash
        assert authenticate("tech@provider.example", factories.PASSWORD, now=now_utc()) is None
        entry = audit("user", "tech@provider.example")[-1]
        assert entry.changes == {"password": ["(hidden)", "(changed)"]}
        assert PASSWORD not in str(entry.changes)


def test_user_given_the_same_password_is_unchanged(app, world):
    with app.app_context():
        old_hash = db.session.scalar(sa.select(User.password_hash)
                                     .where(User.email == "tech@provider.example"))
        report = imported({"users": [{"email": "tech@provider.example", "name": "Tom Tech",
                                      "role": "technician", "password": factories.PASSWORD}]})
        assert report.counts["users"].unchanged == 1
        assert db.session.scalar(sa.select(User.password_hash)
                                 .where(User.email == "tech@provider.example")) == old_hash


def test_new_user_audit_hides_the_password(app):
    with app.app_context():
        imported(example())
        changes = audit("user", "client@shop.example")[-1].changes
        assert changes["password"] == [None, "(set)"]
        assert changes["organisation"] == [None, "shop-cholet"]
        assert PASSWORD not in str(changes)


def test_existing_client_keeps_its_organisation_when_the_file_omits_it(app, world):
    with app.app_context():
        _plan, errors = validate_import({"users": [{"email": "client@shop.example",
                                                    "name": "Claire", "role": "client"}]})
        assert errors == []




def test_new_user_without_a_password_is_created_unable_to_sign_in_until_they_choose_one(app):
    document = example()
    del document["users"][0]["password"]
    with app.app_context():
        report = imported(document)
        assert report.counts["users"].created == 1
        assert authenticate("client@shop.example", PASSWORD, now=now_utc()) is None
        assert "password" not in audit("user", "client@shop.example")[-1].changes
