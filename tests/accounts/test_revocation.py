"""Access ends with the terms it was granted under: changing a user's password, role or activity
ends all their browser sessions and revokes all their API tokens at once, on every host (both
are rows checked on each request). A reactivated user starts with none."""
import pytest

from helpdesk.accounts.roles import Role
from helpdesk.accounts.services import UserFields, find_user, upsert_user
from helpdesk.clock import now_utc
from helpdesk.extensions import db
from tests import factories
from tests.api.helpers import api_token, bearer
from tests.conftest import login


def _user_fields(user) -> UserFields:
    return {"name": user.name, "role": user.role, "organisation": user.organisation.code
            if user.organisation else None, "timezone": user.timezone,
            "language": user.language, "active": user.is_active_account}


def _update(app, email, *, password=None, **changes):
    with app.app_context():
        fields = _user_fields(find_user(email)) | changes
        upsert_user(email, fields, given=set(changes), password=password, now=now_utc(),
                    actor=None, action="admin")
        db.session.commit()


@pytest.fixture
def signed_in(app, world):
    """The technician, with a browser session and an API token."""
    browser = app.test_client()
    login(browser, world.tech)
    return browser, api_token(app, world.tech)


def _access(app, browser, token) -> tuple[int, int]:
    return (browser.get("/queue").status_code,
            app.test_client().get("/api/v1/tickets", headers=bearer(token)).status_code)


CHANGES = {
    "role": {"role": Role.TEAM_LEAD},
    "deactivation": {"active": False},
    "password": {},
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_change_of_terms_ends_sessions_and_revokes_tokens(app, world, signed_in, change):
    browser, token = signed_in
    assert _access(app, browser, token) == (200, 200)
    password = "another long password" if change == "password" else None
    _update(app, world.tech, password=password, **CHANGES[change])
    assert _access(app, browser, token) == (302, 401)


def test_a_reactivated_user_does_not_get_the_old_sessions_and_tokens_back(app, world, signed_in):
    browser, token = signed_in
    _update(app, world.tech, active=False)
    _update(app, world.tech, active=True)
    assert _access(app, browser, token) == (302, 401)
    login(app.test_client(), world.tech)


def test_a_change_of_name_or_language_keeps_access(app, world, signed_in):
    browser, token = signed_in
    _update(app, world.tech, name="Renamed Tech", language="fr")
    assert _access(app, browser, token) == (200, 200)


def test_setting_the_same_password_again_keeps_access(app, world, signed_in):
    browser, token = signed_in
    _update(app, world.tech, password=factories.PASSWORD)
    assert _access(app, browser, token) == (200, 200)
