"""Organisations and users created or updated by key, audited when something changed."""
from datetime import UTC, datetime

import sqlalchemy as sa

from helpdesk.accounts.models import OrganisationKind
from helpdesk.accounts.roles import Role
from helpdesk.accounts.services import (
    OrganisationFields,
    UserFields,
    authenticate,
    find_organisation,
    find_user,
    upsert_organisation,
    upsert_user,
)
from helpdesk.audit.models import AuditEntry
from helpdesk.audit.services import Outcome
from helpdesk.clock import now_utc
from helpdesk.extensions import db
from tests import factories

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
PASSWORD = "a long enough password"
SHOP: OrganisationFields = {"name": "Boutique", "kind": OrganisationKind.CLIENT,
                            "address": "1 rue Exemple", "company_id": "", "vat_number": ""}
CLAIRE: UserFields = {"name": "Claire", "role": Role.CLIENT, "organisation": "shop",
                      "timezone": "Europe/Paris", "language": "fr", "active": True}


def audited(entity: str) -> list[dict]:
    return [entry.changes for entry in db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.entity == entity).order_by(AuditEntry.id))]


def test_upsert_organisation_creates_it_then_leaves_it_unchanged(app):
    with app.app_context():
        context = {"given": SHOP.keys(), "now": NOW, "actor": None, "action": "import"}
        assert upsert_organisation("shop", SHOP, **context) is Outcome.CREATED
        assert upsert_organisation("shop", SHOP, **context) is Outcome.UNCHANGED
        assert find_organisation("shop").address == "1 rue Exemple"
        assert len(audited("organisation")) == 1


def test_upsert_organisation_changes_only_the_given_fields(app):
    with app.app_context():
        factories.organisation(code="shop", name="Boutique", address="old address")
        outcome = upsert_organisation("shop", SHOP | {"name": "Renamed"}, given={"name", "kind"},
                                      now=NOW, actor=None, action="import")
        assert outcome is Outcome.UPDATED
        shop = find_organisation("shop")
        assert (shop.name, shop.address) == ("Renamed", "old address")
        assert audited("organisation") == [{"name": ["Boutique", "Renamed"]}]


def test_upsert_user_creates_a_user_who_can_sign_in(app):
    with app.app_context():
        factories.organisation(code="shop")
        outcome = upsert_user("claire@shop.example", CLAIRE, given=CLAIRE.keys(),
                              password=PASSWORD, now=NOW, actor=None, action="import")
        assert outcome is Outcome.CREATED
        user = authenticate("claire@shop.example", PASSWORD, now=now_utc())
        assert (user.name, user.organisation.code, user.created_at) == ("Claire", "shop", NOW)
        assert audited("user")[0]["password"] == [None, "(set)"]


def test_upsert_user_keeps_fields_not_given_and_the_password_when_none(app):
    with app.app_context():
        shop = factories.organisation(code="shop")
        factories.user(email="claire@shop.example", organisation=shop, name="Old Name",
                       language="en")
        outcome = upsert_user("claire@shop.example", CLAIRE | {"organisation": None},
                              given={"name", "role"}, password=None, now=NOW, actor=None,
                              action="import")
        assert outcome is Outcome.UPDATED
        user = find_user("claire@shop.example")
        assert (user.name, user.language, user.organisation.code) == ("Claire", "en", "shop")
        assert authenticate("claire@shop.example", factories.PASSWORD, now=now_utc()) is not None
        assert audited("user") == [{"name": ["Old Name", "Claire"]}]
