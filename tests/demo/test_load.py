"""Demo data: what `flask helpdesk demo` loads, through the importer, any number of times."""
import copy
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from helpdesk.accounts.models import Organisation, OrganisationKind, User
from helpdesk.accounts.roles import Role
from helpdesk.accounts.services import authenticate
from helpdesk.clock import now_utc
from helpdesk.contracts.models import Contract
from helpdesk.contracts.schema import validate_import
from helpdesk.demo.load import DEMO_ACCOUNTS, DEMO_DOCUMENT, DEMO_PASSWORD, load_demo
from helpdesk.extensions import db
from tests.contracts.documents import EXAMPLE, row_counts

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def contract(reference: str) -> Contract:
    return db.session.scalar(sa.select(Contract).where(Contract.reference == reference))


def test_demo_document_is_a_valid_import_document(app):
    with app.app_context():
        assert validate_import(copy.deepcopy(DEMO_DOCUMENT))[1] == []


def test_demo_first_contract_is_the_design_example_plus_p2(app):
    demo = copy.deepcopy(DEMO_DOCUMENT["contracts"][0])
    p2 = demo["priorities"].pop(1)
    assert demo == EXAMPLE["contracts"][0]
    assert (p2["code"], p2["label"], p2["calendar"], p2["gti"], p2["gtr"]) == (
        "P2", "Haute", "biz-fr", "PT4H", "PT16H")


def test_demo_loads_organisations_calendars_and_contracts(app):
    with app.app_context():
        report = load_demo(now=NOW)
        db.session.commit()
        assert report.counts["contracts"].created == 2
        shop = db.session.scalar(sa.select(Organisation).where(Organisation.code == "shop-cholet"))
        assert (shop.name, shop.kind) == ("Boutique Exemple SARL", OrganisationKind.CLIENT)
        assert "Cholet" in shop.address and shop.vat_number.startswith("FR")
        assert len(shop.company_id) == 9
        first = contract("CT-2026-001").current_version
        assert [(p.code, p.label, p.calendar.code, p.gti, p.gtr) for p in first.priorities] == [
            ("P1", "Critique", "24x7", timedelta(hours=2), timedelta(hours=8)),
            ("P2", "Haute", "biz-fr", timedelta(hours=4), timedelta(hours=16)),
            ("P3", "Normale", "biz-fr", timedelta(hours=8), None),
        ]
        second = contract("CT-2026-002")
        assert second.organisation.code == "atelier-nantes"
        assert second.organisation.kind == OrganisationKind.CLIENT
        biz = first.priorities[1].calendar
        assert (biz.timezone, biz.holidays_country) == ("Europe/Paris", "FR")
        assert sorted(biz.weekly) == ["fri", "mon", "thu", "tue", "wed"]
        assert biz.weekly["mon"] == [["08:00", "18:00"]]


def test_demo_loaded_twice_changes_nothing_the_second_time(app):
    with app.app_context():
        load_demo(now=NOW)
        db.session.commit()
        before = row_counts()
        report = load_demo(now=NOW + timedelta(days=1))
        db.session.commit()
        assert row_counts() == before
        assert all(c.created == c.updated == 0 for c in report.counts.values())
        assert report.contract_versions == [] and report.calendar_versions == []


def test_demo_accounts_authenticate_with_their_roles(app):
    assert [(email, role) for email, role, _password in DEMO_ACCOUNTS] == [
        ("client@example.com", "client"),
        ("other-client@example.com", "client"),
        ("tech@example.com", "technician"),
        ("lead@example.com", "team_lead"),
        ("finance@example.com", "finance"),
        ("admin@example.com", "admin"),
    ]
    assert {password for _email, _role, password in DEMO_ACCOUNTS} == {DEMO_PASSWORD}
    with app.app_context():
        load_demo(now=NOW)
        db.session.commit()
        for email, role, password in DEMO_ACCOUNTS:
            user = authenticate(email, password, now=now_utc())
            assert user is not None, email
            assert (user.role, user.timezone, user.language) == (Role(role), "Europe/Paris",
                                                                 "fr")
        organisations = {user.email: user.organisation.code
                         for user in db.session.scalars(sa.select(User)) if user.organisation}
        assert organisations == {"client@example.com": "shop-cholet",
                                 "other-client@example.com": "atelier-nantes"}
