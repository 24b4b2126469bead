"""The account services behind the administration: an invited user has no password until they
choose one through a signed link (the reset link's mechanism, under its own salt and lifetime);
an archived organisation's people cannot sign in; an admin keeps their own role."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from helpdesk.accounts.mail import compose
from helpdesk.accounts.models import AccountMail, AccountMailKind, OrganisationKind
from helpdesk.accounts.roles import Role
from helpdesk.accounts.services import (
    accept_invitation,
    archive_organisation,
    authenticate,
    find_organisation,
    find_user,
    invite_user,
    restore_organisation,
    send_invitation,
    set_user_active,
    update_user,
    user_for_invitation,
    user_for_reset,
)
from helpdesk.errors import DomainError
from helpdesk.extensions import db
from tests import factories
from tests.conftest import TEST_START

SECRET = "s" * 40
WEEK = timedelta(days=7)
FIELDS = {"name": "Nina New", "role": Role.CLIENT, "organisation": "shop",
          "timezone": "Europe/Paris", "language": "en", "active": True}


@pytest.fixture
def ctx(app, world):
    with app.app_context():
        yield world


def _invite(email="nina@shop.example", at=TEST_START):
    return invite_user(email, FIELDS, now=at, actor=find_user("admin@provider.example"),
                       secret_key=SECRET)


def _token(user) -> str:
    return db.session.scalars(sa.select(AccountMail.secret).where(
        AccountMail.user_id == user.id, AccountMail.kind == AccountMailKind.INVITATION)
        .order_by(AccountMail.id.desc())).first()


def test_an_invited_user_cannot_sign_in_until_they_choose_a_password(ctx):
    user = _invite()
    assert not user.has_password
    assert authenticate(user.email, "!", now=TEST_START) is None
    accept_invitation(_token(user), "a chosen passphrase", now=TEST_START + WEEK,
                      secret_key=SECRET, max_age=WEEK)
    assert user.has_password
    assert authenticate(user.email, "a chosen passphrase", now=TEST_START + WEEK) == user


def test_an_invitation_works_once(ctx):
    user = _invite()
    token = _token(user)
    accept_invitation(token, "a chosen passphrase", now=TEST_START, secret_key=SECRET,
                      max_age=WEEK)
    with pytest.raises(DomainError, match="already been used"):
        user_for_invitation(token, now=TEST_START, secret_key=SECRET, max_age=WEEK)


def test_an_invitation_expires_after_its_lifetime(ctx):
    user = _invite()
    with pytest.raises(DomainError, match="expired"):
        user_for_invitation(_token(user), now=TEST_START + WEEK + timedelta(seconds=1),
                            secret_key=SECRET, max_age=WEEK)


def test_an_invitation_is_no_reset_link(ctx):
    user = _invite()
    with pytest.raises(DomainError, match="reset link is not valid"):
        user_for_reset(_token(user), now=TEST_START, secret_key=SECRET, max_age=WEEK)


def test_a_new_invitation_seals_the_earlier_one(ctx):
    user = _invite()
    first = _token(user)
    send_invitation(user, now=TEST_START, actor=None, secret_key=SECRET)
    with pytest.raises(DomainError, match="already been used or replaced"):
        user_for_invitation(first, now=TEST_START, secret_key=SECRET, max_age=WEEK)
    assert user_for_invitation(_token(user), now=TEST_START, secret_key=SECRET,
                               max_age=WEEK) == user


def test_no_invitation_for_an_existing_address_or_a_user_with_a_password(ctx):
    with pytest.raises(DomainError) as taken:
        _invite(ctx.client)
    assert taken.value.field == "email"
    with pytest.raises(DomainError, match="already chosen a password"):
        send_invitation(find_user(ctx.client), now=TEST_START, actor=None, secret_key=SECRET)


def test_the_invitation_mail_names_the_link_and_when_it_ends(ctx):
    user = _invite()
    mail = db.session.scalars(sa.select(AccountMail)).one()
    message = compose(mail, now=TEST_START, mail_from="desk@example.test",
                      base_url="https://desk.example.test/", domain="desk.example.test",
                      reset_lifetime=timedelta(minutes=30), invitation_lifetime=WEEK)
    body = message.get_content()
    assert message["Subject"] == "Your helpdesk account is ready"
    assert f"https://desk.example.test/invitation/{_token(user)}" in body
    assert "Choose your password here, before 7 Dec 2026, 10:00 CET:" in body


def test_an_archived_organisations_people_cannot_sign_in_until_it_is_restored(ctx):
    shop = find_organisation("shop")
    archive_organisation(shop, now=TEST_START, actor=None)
    assert authenticate(ctx.client, factories.PASSWORD, now=TEST_START) is None
    restore_organisation(shop, now=TEST_START, actor=None)
    assert authenticate(ctx.client, factories.PASSWORD, now=TEST_START) is not None


def test_the_providers_own_organisation_is_never_archived(ctx):
    provider = factories.organisation(code="provider", kind=OrganisationKind.INTERNAL)
    with pytest.raises(DomainError, match="cannot be archived"):
        archive_organisation(provider, now=TEST_START, actor=None)


def test_an_admin_keeps_their_own_role_and_activity(ctx):
    admin = find_user(ctx.admin)
    with pytest.raises(DomainError, match="your own role"):
        set_user_active(admin, False, now=TEST_START, actor=admin)
    with pytest.raises(DomainError, match="your own role"):
        update_user(admin, {"name": "Ada", "role": Role.TECHNICIAN, "organisation": None,
                            "timezone": "UTC", "language": "en", "active": True},
                    now=TEST_START, actor=admin)
    assert admin.role == Role.ADMIN and admin.is_active
