"""Users in the administration: a list filtered by role, organisation and activity; a new user
is invited by mail and chooses their own password through a single-use link that expires;
an account is edited (name, role, organisation, zone, language), deactivated (its sessions
and tokens end) and reactivated. The import's validation judges the form."""
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from helpdesk.accounts.models import AccountMail, AccountMailKind, ApiToken, User, UserSession
from helpdesk.accounts.roles import Role
from helpdesk.accounts.services import find_user
from helpdesk.audit.models import AuditEntry
from helpdesk.clock import now_utc
from helpdesk.escalation.jobs import run_sender
from helpdesk.extensions import db
from tests import factories
from tests.api.helpers import api_token, sign_in
from tests.conftest import TEST_START, csrf_token, login

BASE_URL = "https://helpdesk.example.test"
LINK = re.compile(re.escape(BASE_URL) + r"(/invitation/[A-Za-z0-9_.-]+)")
PASSWORD = "my very own passphrase"
NEWCOMER = {"email": "Nina.New@Shop.example", "name": "Nina New", "role": "client",
            "organisation": "shop", "timezone": "America/Montreal", "language": "en"}


@pytest.fixture
def app_config(mailbox):
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": mailbox.port, "SMTP_STARTTLS": False,
            "BASE_URL": BASE_URL}


@pytest.fixture
def admin(app, client, world):
    return sign_in(app, client, world.admin)


def _post(client, path, data):
    return client.post(path, data={"csrf_token": csrf_token(client, "/admin/users/new"), **data})


def _invite(client, **changes):
    return _post(client, "/admin/users/new", {**NEWCOMER, **changes})


def _user_id(app, email) -> int:
    with app.app_context():
        return find_user(email).id


def _users(app) -> dict[str, tuple]:
    with app.app_context():
        return {u.email: (u.name, u.role, u.organisation.code if u.organisation else None,
                          u.timezone, u.language, u.is_active_account, u.password_hash)
                for u in db.session.scalars(sa.select(User))}


def _audit(app, email):
    with app.app_context():
        return [(entry.action, entry.actor.email if entry.actor else None, entry.changes)
                for entry in db.session.scalars(
                    sa.select(AuditEntry).where(AuditEntry.entity == "user",
                                                AuditEntry.entity_id == email)
                    .order_by(AuditEntry.id))]


def _mailed_links(app, mailbox) -> list[str]:
    run_sender(app, now=now_utc())
    return [LINK.search(mail.get_content()).group(1) for mail in mailbox.messages()
            if LINK.search(mail.get_content())]


def _choose(client, link, password=PASSWORD):
    token = csrf_token(client, "/login")
    return client.post(link, data={"new_password": password, "confirm": password,
                                   "csrf_token": token})


# -- the list --------------------------------------------------------------------------------

def test_the_list_shows_active_users_and_filters_by_role_organisation_and_activity(app,
                                                                                  admin,
                                                                                  world):
    def names(query):
        page = admin.get(f"/admin/users{query}").get_data(as_text=True)
        return {name for name in ("Claire Client", "Oscar Other", "Tom Tech", "Lea Lead")
                if name in page}

    assert names("") == {"Claire Client", "Oscar Other", "Tom Tech", "Lea Lead"}
    assert names("?role=technician") == {"Tom Tech"}
    assert names("?organisation=other") == {"Oscar Other"}
    assert names("?q=claire") == {"Claire Client"}
    _post(admin, f"/admin/users/{_user_id(app, world.tech)}/deactivate", {})
    assert "Tom Tech" not in names("")
    assert names("?standing=former") == {"Tom Tech"}
    assert "Tom Tech" in names("?standing=all")


def test_an_unknown_filter_value_is_ignored(admin):
    response = admin.get("/admin/users?role=emperor&organisation=nowhere&standing=x")
    assert response.status_code == 200
    assert "Claire Client" in response.get_data(as_text=True)


# -- inviting --------------------------------------------------------------------------------

def test_an_invited_user_is_created_without_a_password_and_audited_with_the_admin(app, admin):
    response = _invite(admin)
    assert response.headers["Location"] == "/admin/users"
    name, role, organisation, zone, language, active, password_hash = _users(app)[
        "nina.new@shop.example"]
    assert (name, role, organisation, zone, language, active) == (
        "Nina New", Role.CLIENT, "shop", "America/Montreal", "en", True)
    assert password_hash.startswith("!")
    assert [(action, actor) for action, actor, _ in _audit(app, "nina.new@shop.example")] == [
        ("create", "admin@provider.example"), ("invitation_sent", "admin@provider.example")]
    refused = app.test_client()
    page = refused.post("/login", data={"email": "nina.new@shop.example", "password": "!",
                                        "csrf_token": csrf_token(refused)})
    assert page.status_code != 302


def test_the_invitation_mail_is_in_the_users_language_with_a_link_on_base_url(app, admin,
                                                                            mailbox):
    _invite(admin, language="fr")
    run_sender(app, now=now_utc())
    [mail] = mailbox.messages()
    assert mail["To"] == "nina.new@shop.example"
    assert mail["Subject"] == "Votre compte sur le helpdesk est prêt"
    body = mail.get_content()
    assert LINK.search(body)
    # seven days later, in the newcomer's zone (Montreal, 5 h behind UTC in December)
    assert "7 déc. 2026" in body
    with app.app_context():
        assert db.session.scalars(sa.select(AccountMail.secret)).all() == [None]


def test_the_invitation_link_sets_the_password_once(app, admin, mailbox):
    _invite(admin)
    [link] = _mailed_links(app, mailbox)
    newcomer = app.test_client()
    page = newcomer.get(link).get_data(as_text=True)
    assert "Welcome, Nina New." in page
    response = _choose(newcomer, link)
    assert response.headers["Location"] == "/login"
    login(app.test_client(), "nina.new@shop.example", PASSWORD)
    again = app.test_client().get(link, follow_redirects=True).get_data(as_text=True)
    assert "This invitation has already been used" in again
    assert _audit(app, "nina.new@shop.example")[-1][:2] == (
        "invitation_accepted", "nina.new@shop.example")
    with app.app_context():
        # choosing a first password is no change to warn the owner about
        kinds = db.session.scalars(sa.select(AccountMail.kind)).all()
    assert kinds == [AccountMailKind.INVITATION]


def test_the_invitation_link_expires_after_seven_days(app, admin, mailbox, clock):
    clock.freeze(TEST_START)
    _invite(admin)
    [link] = _mailed_links(app, mailbox)
    clock.freeze(TEST_START + timedelta(days=7, minutes=1))
    newcomer = app.test_client()
    page = newcomer.get(link, follow_redirects=True).get_data(as_text=True)
    assert "This invitation has expired." in page
    _choose(newcomer, link)
    assert _users(app)["nina.new@shop.example"][6].startswith("!")


def test_a_tampered_invitation_link_is_refused(app, admin, mailbox):
    _invite(admin)
    [link] = _mailed_links(app, mailbox)
    page = app.test_client().get(link[:-3] + "abc", follow_redirects=True).get_data(as_text=True)
    assert "This invitation link is not valid." in page


def test_a_reset_link_does_not_pass_for_an_invitation(app, admin, mailbox):
    _invite(admin)
    [link] = _mailed_links(app, mailbox)
    token = link.removeprefix("/invitation/")
    page = app.test_client().get(f"/password/reset/{token}", follow_redirects=True)
    assert "This reset link is not valid." in page.get_data(as_text=True)


def test_sending_the_invitation_again_seals_the_earlier_link(app, admin, mailbox, clock):
    clock.freeze(TEST_START)
    _invite(admin)
    [first] = _mailed_links(app, mailbox)
    clock.freeze(TEST_START + timedelta(minutes=5))
    user_id = _user_id(app, "nina.new@shop.example")
    response = _post(admin, f"/admin/users/{user_id}/invitation", {})
    assert response.headers["Location"] == f"/admin/users/{user_id}"
    second = [link for link in _mailed_links(app, mailbox) if link != first]
    assert len(second) == 1
    newcomer = app.test_client()
    _choose(newcomer, first)
    assert _users(app)["nina.new@shop.example"][6].startswith("!")
    assert _choose(newcomer, second[0]).headers["Location"] == "/login"
    login(app.test_client(), "nina.new@shop.example", PASSWORD)


def test_no_invitation_is_sent_to_someone_who_has_a_password(app, admin, world):
    response = _post(admin, f"/admin/users/{_user_id(app, world.client)}/invitation", {})
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "client@shop.example has already chosen a password" in page
    with app.app_context():
        assert db.session.scalars(sa.select(AccountMail)).all() == []


def test_an_invalid_invitation_gets_a_message_at_each_field_and_sends_nothing(app, admin):
    before = _users(app)
    response = _invite(admin, email="not an address", name="")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Not a valid e-mail address." in page
    assert 'aria-describedby="name-errors"' in page
    without_organisation = _invite(admin, organisation="")
    assert without_organisation.status_code == 422
    page = without_organisation.get_data(as_text=True)
    assert "A client user belongs to an organisation." in page
    assert 'aria-describedby="organisation-hint organisation-errors"' in page
    assert _users(app) == before
    with app.app_context():
        assert db.session.scalars(sa.select(AccountMail)).all() == []


def test_a_choice_outside_the_lists_is_refused(app, admin):
    before = _users(app)
    response = _invite(admin, timezone="Mars/Olympus", role="emperor")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="timezone-errors"' in page and 'id="role-errors"' in page
    assert _users(app) == before


def test_an_address_already_in_use_is_refused_at_its_field(app, admin, world):
    before = _users(app)
    response = _invite(admin, email="CLIENT@shop.example")
    assert response.status_code == 422
    assert "A user with this e-mail address already exists." in response.get_data(as_text=True)
    assert _users(app) == before


def test_staff_are_invited_without_an_organisation(app, admin):
    _invite(admin, email="new.tech@provider.example", role="technician", organisation="")
    assert _users(app)["new.tech@provider.example"][1:3] == (Role.TECHNICIAN, None)


# -- editing, deactivating, reactivating -----------------------------------------------------

def test_an_admin_edits_name_role_organisation_zone_and_language_and_it_is_audited(app, admin,
                                                                                   world):
    user_id = _user_id(app, world.client)
    page = admin.get(f"/admin/users/{user_id}").get_data(as_text=True)
    assert 'value="client@shop.example"' in page and "readonly" in page
    response = _post(admin, f"/admin/users/{user_id}", {
        "email": "someone.else@shop.example", "name": "Claire Cliente", "role": "client",
        "organisation": "other", "timezone": "Europe/Brussels", "language": "fr"})
    assert response.headers["Location"] == "/admin/users"
    users = _users(app)
    assert "someone.else@shop.example" not in users
    assert users[world.client][:5] == ("Claire Cliente", Role.CLIENT, "other",
                                       "Europe/Brussels", "fr")
    [(action, actor, changes)] = _audit(app, world.client)
    assert (action, actor) == ("update", "admin@provider.example")
    assert changes == {"language": ["en", "fr"], "name": ["Claire Client", "Claire Cliente"],
                       "organisation": ["shop", "other"],
                       "timezone": ["Europe/Paris", "Europe/Brussels"]}


def test_an_invalid_edit_changes_nothing(app, admin, world):
    before = _users(app)
    response = _post(admin, f"/admin/users/{_user_id(app, world.tech)}", {
        "name": "Tom Tech", "role": "client", "organisation": "", "timezone": "Europe/Paris",
        "language": "fr"})
    assert response.status_code == 422
    assert "A client user belongs to an organisation." in response.get_data(as_text=True)
    assert _users(app) == before


def test_a_change_of_role_ends_the_users_sessions(app, admin, world):
    signed_in = sign_in(app, app.test_client(), world.tech)
    _post(admin, f"/admin/users/{_user_id(app, world.tech)}", {
        "name": "Tom Tech", "role": "team_lead", "organisation": "",
        "timezone": "Europe/Paris", "language": "fr"})
    assert _users(app)[world.tech][1] == Role.TEAM_LEAD
    assert signed_in.get("/queue").headers["Location"].startswith("/login")


def test_deactivating_ends_the_users_sessions_and_tokens(app, admin, world):
    signed_in = sign_in(app, app.test_client(), world.client)
    token = api_token(app, world.client)
    user_id = _user_id(app, world.client)
    response = _post(admin, f"/admin/users/{user_id}/deactivate", {})
    assert response.headers["Location"] == f"/admin/users/{user_id}"
    assert signed_in.get("/tickets").headers["Location"].startswith("/login")
    assert app.test_client().get("/api/v1/tickets",
                                 headers={"Authorization": f"Bearer {token}"}).status_code == 401
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(UserSession)
                                 .where(UserSession.user_id == user_id)) == 0
        assert db.session.scalar(sa.select(ApiToken.revoked_at)) is not None
    assert _users(app)[world.client][5] is False
    assert _audit(app, world.client)[-1] == ("update", "admin@provider.example",
                                             {"active": [True, False]})


def test_a_reactivated_user_signs_in_again(app, admin, world):
    user_id = _user_id(app, world.client)
    _post(admin, f"/admin/users/{user_id}/deactivate", {})
    _post(admin, f"/admin/users/{user_id}/reactivate", {})
    login(app.test_client(), world.client, factories.PASSWORD)
    assert [changes for _, _, changes in _audit(app, world.client)] == [
        {"active": [True, False]}, {"active": [False, True]}]


def test_an_admin_cannot_deactivate_or_demote_themselves(app, admin, world):
    user_id = _user_id(app, world.admin)
    page = admin.get(f"/admin/users/{user_id}").get_data(as_text=True)
    assert f"/admin/users/{user_id}/deactivate" not in page
    _post(admin, f"/admin/users/{user_id}/deactivate", {})
    response = _post(admin, f"/admin/users/{user_id}", {
        "name": "Ada Admin", "role": "technician", "organisation": "",
        "timezone": "Europe/Paris", "language": "fr"})
    assert response.status_code == 422
    assert "You cannot change your own role" in response.get_data(as_text=True)
    assert _users(app)[world.admin][1:6:4] == (Role.ADMIN, True)
    assert _audit(app, world.admin) == []


# -- only for admins ---------------------------------------------------------------------------

@pytest.mark.parametrize("person", ["client", "tech", "lead", "finance"])
def test_other_roles_find_neither_the_pages_nor_the_actions(app, client, world, person):
    sign_in(app, client, getattr(world, person))
    before = _users(app)
    user_id = _user_id(app, world.tech)
    assert client.get("/admin/users").status_code == 404
    assert client.get(f"/admin/users/{user_id}").status_code == 404
    token = csrf_token(client, "/tickets")
    for path, data in (("/admin/users/new", NEWCOMER),
                       (f"/admin/users/{user_id}", {**NEWCOMER, "role": "admin"}),
                       (f"/admin/users/{user_id}/deactivate", {}),
                       (f"/admin/users/{user_id}/invitation", {})):
        assert client.post(path, data={"csrf_token": token, **data}).status_code == 404
    assert _users(app) == before
