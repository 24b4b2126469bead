"""Organisations in the administration: a list searched by code or name, a form to create or
edit one (a client's legal details are printed on its credit notes) judged by the import's
validation, and archiving a client that left: its people are signed out and stay out, it is
offered for no new user, and restoring it lets them back in."""
import pytest
import sqlalchemy as sa

from helpdesk.accounts.models import ApiToken, Organisation, OrganisationKind, UserSession
from helpdesk.accounts.services import find_organisation, find_user
from helpdesk.audit.models import AuditEntry
from helpdesk.errors import DomainError
from helpdesk.extensions import db
from tests import factories
from tests.api.helpers import api_token, open_ticket, sign_in
from tests.conftest import csrf_token, login

FORM = {"code": "acme", "name": "ACME Industries SA", "kind": "client",
        "address": "1 avenue du Port\n44000 Nantes", "company_id": "RCS Nantes 123 456 789",
        "vat_number": "FR12123456789"}


@pytest.fixture
def admin(app, client, world):
    return sign_in(app, client, world.admin)


def _post(client, path, data):
    return client.post(path, data={"csrf_token": csrf_token(client, "/admin/organisations/new"),
                                   **data})


def _organisations(app) -> dict[str, tuple]:
    with app.app_context():
        return {o.code: (o.name, o.kind, o.address, o.company_id, o.vat_number, o.archived_at)
                for o in db.session.scalars(sa.select(Organisation))}


def _audit(app, entity_id):
    with app.app_context():
        return [(entry.action, entry.actor.email if entry.actor else None, entry.changes)
                for entry in db.session.scalars(
                    sa.select(AuditEntry).where(AuditEntry.entity == "organisation",
                                                AuditEntry.entity_id == entity_id)
                    .order_by(AuditEntry.id))]


def _archive(client, code):
    return _post(client, f"/admin/organisations/{code}/archive", {})


# -- the list --------------------------------------------------------------------------------

def test_the_list_shows_the_current_organisations_and_finds_one_by_code_or_name(admin):
    page = admin.get("/admin/organisations").get_data(as_text=True)
    assert "Boutique Exemple SARL" in page and "Autre Client SA" in page
    by_name = admin.get("/admin/organisations?q=boutique").get_data(as_text=True)
    assert "Boutique Exemple SARL" in by_name and "Autre Client SA" not in by_name
    by_code = admin.get("/admin/organisations?q=OTH").get_data(as_text=True)
    assert "Autre Client SA" in by_code and "Boutique Exemple SARL" not in by_code


def test_a_search_with_sql_wildcards_matches_them_literally(admin):
    page = admin.get("/admin/organisations?q=%25").get_data(as_text=True)
    assert "No organisation matches this search." in page


def test_archived_organisations_are_hidden_until_the_filter_asks_for_them(admin):
    _archive(admin, "other")
    assert "Autre Client SA" not in admin.get("/admin/organisations").get_data(as_text=True)
    archived = admin.get("/admin/organisations?standing=former").get_data(as_text=True)
    assert "Autre Client SA" in archived and "Boutique Exemple SARL" not in archived
    every = admin.get("/admin/organisations?standing=all").get_data(as_text=True)
    assert "Autre Client SA" in every and "Boutique Exemple SARL" in every


# -- creating and editing ----------------------------------------------------------------------

def test_an_admin_creates_a_client_with_its_legal_details_and_the_trail_says_who(app, admin):
    response = _post(admin, "/admin/organisations/new", FORM)
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/organisations"
    assert _organisations(app)["acme"] == (
        "ACME Industries SA", OrganisationKind.CLIENT, "1 avenue du Port\n44000 Nantes",
        "RCS Nantes 123 456 789", "FR12123456789", None)
    [(action, actor, changes)] = _audit(app, "acme")
    assert (action, actor) == ("create", "admin@provider.example")
    assert changes["vat_number"] == [None, "FR12123456789"]


def test_an_invalid_organisation_gets_a_message_at_each_field_and_nothing_is_written(app,
                                                                                    admin):
    before = _organisations(app)
    response = _post(admin, "/admin/organisations/new",
                     {**FORM, "code": "no spaces!", "name": "   ", "company_id": "9" * 65})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="code-errors"' in page and 'id="name-errors"' in page
    assert 'id="company_id-errors"' in page and 'id="vat_number-errors"' not in page
    assert "1 to 64 letters, digits" in page and "At most 64 characters." in page
    assert 'aria-describedby="name-errors"' in page
    assert _organisations(app) == before
    assert _audit(app, "no spaces!") == []


def test_the_form_speaks_french_to_a_french_admin(app, admin):
    admin.post("/language", data={"language": "fr",
                                  "csrf_token": csrf_token(admin, "/admin/organisations")})
    page = _post(admin, "/admin/organisations/new", {**FORM, "name": ""}).get_data(as_text=True)
    assert "Ce champ est obligatoire." in page


def test_a_code_already_taken_is_refused_at_its_field(app, admin):
    response = _post(admin, "/admin/organisations/new", {**FORM, "code": "shop"})
    assert response.status_code == 422
    assert "An organisation with this code already exists." in response.get_data(as_text=True)
    assert _organisations(app)["shop"][0] == "Boutique Exemple SARL"


def test_editing_keeps_the_code_and_audits_the_legal_details_before_and_after(app, admin):
    page = admin.get("/admin/organisations/shop").get_data(as_text=True)
    assert 'value="shop"' in page and "readonly" in page
    response = _post(admin, "/admin/organisations/shop",
                     {**FORM, "code": "renamed", "name": "Boutique Exemple SAS"})
    assert response.status_code == 302
    organisations = _organisations(app)
    assert "renamed" not in organisations
    assert organisations["shop"][0] == "Boutique Exemple SAS"
    assert organisations["shop"][4] == "FR12123456789"
    [(action, actor, changes)] = _audit(app, "shop")
    assert (action, actor) == ("update", "admin@provider.example")
    assert changes["name"] == ["Boutique Exemple SARL", "Boutique Exemple SAS"]
    assert changes["vat_number"] == ["", "FR12123456789"]


def test_saving_an_unchanged_organisation_writes_no_audit_entry(app, admin):
    current = {"code": "shop", "name": "Boutique Exemple SARL", "kind": "client"}
    with app.app_context():
        shop = find_organisation("shop")
        current |= {"address": shop.address, "company_id": shop.company_id,
                    "vat_number": shop.vat_number}
    _post(admin, "/admin/organisations/shop", current)
    assert _audit(app, "shop") == []


def test_an_invalid_edit_changes_nothing(app, admin):
    before = _organisations(app)
    response = _post(admin, "/admin/organisations/shop", {**FORM, "code": "shop", "name": ""})
    assert response.status_code == 422
    assert _organisations(app) == before


def test_the_organisation_page_leads_to_its_users(admin):
    page = admin.get("/admin/organisations/shop").get_data(as_text=True)
    assert 'href="/admin/users?organisation=shop&amp;standing=all"' in page
    users = admin.get("/admin/users?organisation=shop&standing=all").get_data(as_text=True)
    assert "Claire Client" in users and "Oscar Other" not in users


def test_an_unknown_organisation_is_not_found(admin):
    assert admin.get("/admin/organisations/nowhere").status_code == 404


# -- archiving ---------------------------------------------------------------------------------

def test_archiving_signs_its_people_out_and_they_can_no_longer_sign_in(app, admin, world):
    signed_in = sign_in(app, app.test_client(), world.client)
    token = api_token(app, world.client)
    response = _archive(admin, "shop")
    assert response.headers["Location"] == "/admin/organisations/shop"
    assert signed_in.get("/tickets").headers["Location"].startswith("/login")
    assert app.test_client().get("/api/v1/tickets",
                                 headers={"Authorization": f"Bearer {token}"}).status_code == 401
    refused = app.test_client()
    page = refused.post("/login", data={"email": world.client, "password": factories.PASSWORD,
                                        "csrf_token": csrf_token(refused)})
    assert page.status_code != 302
    with app.app_context():
        client_user = find_user(world.client)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(UserSession)
                                 .where(UserSession.user_id == client_user.id)) == 0
        assert db.session.scalar(sa.select(ApiToken.revoked_at)) is not None
        assert client_user.is_active_account  # the account itself is untouched
    [(action, actor, changes)] = _audit(app, "shop")
    assert (action, actor, changes["archived_at"][0]) == ("archive", "admin@provider.example",
                                                          None)
    # the other organisation's people are not concerned
    login(app.test_client(), world.other_client)


def test_restoring_lets_its_active_people_sign_in_again(app, admin, world):
    _archive(admin, "shop")
    response = _post(admin, "/admin/organisations/shop/restore", {})
    assert response.headers["Location"] == "/admin/organisations/shop"
    login(app.test_client(), world.client)
    assert [action for action, _, _ in _audit(app, "shop")] == ["archive", "restore"]
    assert _organisations(app)["shop"][5] is None


def test_archiving_twice_is_refused_and_said(app, admin):
    _archive(admin, "shop")
    page = _archive(admin, "shop")
    assert "shop is already archived." in admin.get(page.headers["Location"]).get_data(
        as_text=True)
    assert len(_audit(app, "shop")) == 1


def test_the_providers_own_organisation_cannot_be_archived(app, admin):
    with app.app_context():
        factories.organisation(code="provider", name="Helpdesk Services SAS",
                               kind=OrganisationKind.INTERNAL)
        db.session.commit()
    page = admin.get("/admin/organisations/provider").get_data(as_text=True)
    assert "/admin/organisations/provider/archive" not in page
    _archive(admin, "provider")
    assert _organisations(app)["provider"][5] is None
    assert _audit(app, "provider") == []


def test_staff_cannot_open_a_ticket_under_an_archived_organisations_contract(app, admin,
                                                                             world):
    _archive(admin, "other")
    with pytest.raises(DomainError, match="no ticket can be opened"):
        open_ticket(app, requester=world.tech, contract="CT-OTHER")
    open_ticket(app, requester=world.tech, contract="CT-SHOP")


def test_an_archived_organisation_is_offered_for_no_new_user(admin):
    _archive(admin, "other")
    page = admin.get("/admin/users/new").get_data(as_text=True)
    assert 'value="shop"' in page and 'value="other"' not in page


# -- only for admins ---------------------------------------------------------------------------

@pytest.mark.parametrize("person", ["client", "tech", "lead", "finance"])
def test_other_roles_find_neither_the_pages_nor_the_actions(app, client, world, person):
    sign_in(app, client, getattr(world, person))
    before = _organisations(app)
    assert client.get("/admin/organisations").status_code == 404
    assert client.get("/admin/organisations/shop").status_code == 404
    token = csrf_token(client, "/tickets")
    for path, data in (("/admin/organisations/new", FORM),
                       ("/admin/organisations/shop", {**FORM, "code": "shop"}),
                       ("/admin/organisations/shop/archive", {})):
        assert client.post(path, data={"csrf_token": token, **data}).status_code == 404
    assert _organisations(app) == before
