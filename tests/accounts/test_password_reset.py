"""A forgotten password is reset through a link mailed to the account's address: signed, for
one use, for 30 minutes, built on BASE_URL. The page answers the same whether or not the
address has an account. Signed-in people change theirs with the current one."""
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from helpdesk.accounts.models import AccountMail, AccountMailKind, ApiToken, User, UserSession
from helpdesk.audit.models import AuditEntry
from helpdesk.clock import now_utc
from helpdesk.escalation.jobs import run_sender
from helpdesk.extensions import db
from tests import factories
from tests.api.helpers import api_token
from tests.conftest import TEST_START, csrf_token, login

BASE_URL = "https://helpdesk.example.test"
NEW_PASSWORD = "a brand new passphrase"
LINK = re.compile(re.escape(BASE_URL) + r"(/password/reset/[A-Za-z0-9_.-]+)")


@pytest.fixture
def app_config(mailbox):
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": mailbox.port, "SMTP_STARTTLS": False,
            "BASE_URL": BASE_URL}


def _ask_reset(client, email, **kwargs):
    page = client.get("/password/forgot", headers=kwargs.get("headers")).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    return client.post("/password/forgot", data={"email": email, "csrf_token": token}, **kwargs)


def _mailed_link(app, mailbox) -> str:
    run_sender(app, now=now_utc())
    [mail] = [m for m in mailbox.messages() if "reset" in m["Subject"].lower()]
    return LINK.search(mail.get_content()).group(1)


def _set_password(client, path, password=NEW_PASSWORD, confirm=None):
    token = csrf_token(client, path)
    return client.post(path, data={"new_password": password, "confirm": confirm or password,
                                   "csrf_token": token})


def _mails(app) -> list[tuple[str, AccountMailKind]]:
    with app.app_context():
        return [(m.user.email, m.kind) for m in db.session.scalars(
            sa.select(AccountMail).order_by(AccountMail.id))]


def test_known_and_unknown_addresses_get_the_same_answer(app, client, world):
    known = _ask_reset(client, world.client, follow_redirects=True).get_data(as_text=True)
    unknown = _ask_reset(client, "nobody@shop.example",
                         follow_redirects=True).get_data(as_text=True)
    assert "a link to choose a new password is on its way" in known
    assert known.replace(world.client, "@") == unknown.replace("nobody@shop.example", "@")
    assert _mails(app) == [(world.client, AccountMailKind.PASSWORD_RESET)]


def test_a_deactivated_account_gets_no_link(app, client, world):
    with app.app_context():
        db.session.execute(sa.update(User).where(User.email == world.client)
                           .values(is_active_account=False))
        db.session.commit()
    _ask_reset(client, world.client)
    assert _mails(app) == []


def test_the_mailed_link_is_on_base_url_whatever_host_was_asked(app, client, world, mailbox):
    _ask_reset(client, world.client, headers={"Host": "evil.example"})
    run_sender(app, now=now_utc())
    [mail] = mailbox.messages()
    assert mail["To"] == world.client
    assert "evil.example" not in mail.get_content()
    assert LINK.search(mail.get_content())


def test_the_link_sets_a_new_password_once(app, client, world, mailbox):
    _ask_reset(client, world.client)
    link = _mailed_link(app, mailbox)
    response = _set_password(client, link)
    assert response.headers["Location"] == "/login"
    login(client, world.client, NEW_PASSWORD)
    again = app.test_client()
    page = again.get(link, follow_redirects=True).get_data(as_text=True)
    assert "This reset link has already been used. Ask for a new one." in page


def test_the_link_expires_after_thirty_minutes(app, client, world, mailbox, clock):
    clock.freeze(TEST_START)
    _ask_reset(client, world.client)
    link = _mailed_link(app, mailbox)
    clock.freeze(TEST_START + timedelta(minutes=31))
    page = client.get(link, follow_redirects=True).get_data(as_text=True)
    assert "This reset link has expired. Ask for a new one." in page
    token = csrf_token(client, "/password/forgot")
    refused = client.post(link, data={"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
                                      "csrf_token": token})
    assert refused.headers["Location"] == "/password/forgot"
    login(client, world.client, factories.PASSWORD)


def test_a_tampered_link_is_refused(app, client, world, mailbox):
    _ask_reset(client, world.client)
    link = _mailed_link(app, mailbox)
    page = client.get(link[:-3] + "abc", follow_redirects=True).get_data(as_text=True)
    assert "This reset link is not valid. Ask for a new one." in page


def test_the_reset_mail_is_sent_once_and_its_link_leaves_the_outbox(app, client, world, mailbox):
    _ask_reset(client, world.client)
    _mailed_link(app, mailbox)
    assert run_sender(app, now=now_utc()) == (0, 0)
    with app.app_context():
        assert db.session.scalars(sa.select(AccountMail.secret)).all() == [None]


def test_a_short_or_mismatched_new_password_changes_nothing(app, client, world, mailbox):
    _ask_reset(client, world.client)
    link = _mailed_link(app, mailbox)
    short = _set_password(client, link, "too short").get_data(as_text=True)
    assert "Field must be between 12 and 1024 characters long." in short
    differ = _set_password(client, link, NEW_PASSWORD, "something else entirely")
    assert "The two passwords differ." in differ.get_data(as_text=True)
    own_address = _set_password(client, link, world.client).get_data(as_text=True)
    assert "The new password cannot be your e-mail address." in own_address
    login(client, world.client, factories.PASSWORD)


def test_a_reset_ends_every_session_and_token_and_tells_the_owner(app, client, world, mailbox):
    signed_in = app.test_client()
    login(signed_in, world.client)
    api_token(app, world.client)
    _ask_reset(client, world.client)
    _set_password(client, _mailed_link(app, mailbox))
    assert signed_in.get("/tickets").headers["Location"].startswith("/login")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(UserSession)) == 0
        assert None not in db.session.scalars(sa.select(ApiToken.revoked_at)).all()
        audit = db.session.scalars(sa.select(AuditEntry.action)
                                   .where(AuditEntry.entity_id == world.client)).all()
    assert "password_reset" in audit
    assert _mails(app)[-1] == (world.client, AccountMailKind.PASSWORD_CHANGED)


def test_reset_requests_for_one_address_are_throttled(app, client, world):
    answers = [_ask_reset(client, world.client).status_code for _ in range(5)]
    assert answers == [302, 302, 302, 302, 429]
    assert [kind for _, kind in _mails(app)] == [AccountMailKind.PASSWORD_RESET] * 4


# -- changing one's password -------------------------------------------------------------------

def _change(client, current, new=NEW_PASSWORD, confirm=None):
    token = csrf_token(client, "/account/password")
    return client.post("/account/password", data={
        "current_password": current, "new_password": new, "confirm": confirm or new,
        "csrf_token": token})


def test_changing_the_password_needs_the_current_one(app, client, world):
    login(client, world.tech)
    page = _change(client, "not my password").get_data(as_text=True)
    assert "The current password is wrong." in page
    login(app.test_client(), world.tech, factories.PASSWORD)


def test_changing_the_password_ends_the_other_sessions_and_tokens_but_not_this_one(
        app, client, world):
    other = app.test_client()
    login(other, world.tech)
    login(client, world.tech)
    api_token(app, world.tech)
    response = _change(client, factories.PASSWORD)
    assert response.headers["Location"] == "/account"
    assert client.get("/queue").status_code == 200
    assert other.get("/queue").headers["Location"].startswith("/login")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(UserSession)) == 1
        assert None not in db.session.scalars(sa.select(ApiToken.revoked_at)).all()
    login(app.test_client(), world.tech, NEW_PASSWORD)
    assert _mails(app) == [(world.tech, AccountMailKind.PASSWORD_CHANGED)]


def test_the_password_changed_mail_reaches_the_owner(app, client, world, mailbox):
    login(client, world.tech)
    _change(client, factories.PASSWORD)
    run_sender(app, now=now_utc())
    [mail] = mailbox.messages()
    assert (mail["To"], mail["Subject"]) == (world.tech, "Your helpdesk password was changed")
    assert f"{BASE_URL}/password/forgot" in mail.get_content()
