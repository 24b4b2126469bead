"""Signing in and out: messages that reveal nothing, cookies the browser guards, sessions that
really end, and no bouncing to other sites."""
import re

import sqlalchemy as sa

from helpdesk.accounts.models import User, UserSession
from helpdesk.extensions import db
from tests import factories
from tests.conftest import csrf_token, login

FAILURE = "Wrong e-mail or password."


def _attempt(client, email, password, path="/login"):
    token = csrf_token(client)
    return client.post(path, data={"email": email, "password": password, "csrf_token": token})


def _session_rows(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(UserSession))


HOMES = {"client": "/tickets", "finance": "/tickets", "tech": "/queue", "lead": "/queue",
         "admin": "/queue"}


def test_sign_in_sends_each_role_to_its_home(app, world):
    observed = {}
    for person in HOMES:
        browser = app.test_client()
        home = login(browser, getattr(world, person)).headers["Location"]
        observed[person] = (home, browser.get(home).status_code)
    assert observed == {person: (home, 200) for person, home in HOMES.items()}


def test_sign_in_accepts_the_email_in_any_case(client, world):
    assert login(client, world.client.upper()).status_code == 302


WRONG_CREDENTIALS = {
    "wrong-password": ("client@shop.example", "wrong password"),
    "unknown-email": ("nobody@shop.example", factories.PASSWORD),
    "password-in-wrong-case": ("CLIENT@shop.example", "Correct Horse Battery"),
}


def test_sign_in_failure_says_wrong_email_or_password(app, client, world):
    observed = {name: FAILURE in _attempt(client, *credentials).get_data(as_text=True)
                for name, credentials in WRONG_CREDENTIALS.items()}
    assert observed == dict.fromkeys(WRONG_CREDENTIALS, True)
    assert _session_rows(app) == 0
    assert client.get("/tickets").headers["Location"].startswith("/login")


INCOMPLETE = {
    "no-email": ("", factories.PASSWORD, "This field is required."),
    "no-password": ("client@shop.example", "", "This field is required."),
    "malformed-email": ("not-an-email", factories.PASSWORD, "Invalid email address."),
}


def test_sign_in_with_an_incomplete_form_names_the_field(app, client, world):
    observed = {}
    for name, (email, password, message) in INCOMPLETE.items():
        page = _attempt(client, email, password).get_data(as_text=True)
        observed[name] = (message in page, FAILURE in page)
    assert observed == dict.fromkeys(INCOMPLETE, (True, False))
    assert _session_rows(app) == 0


def _without_token_and_email(page: str) -> str:
    page = re.sub(r'name="csrf_token"[^>]*value="[^"]+"', "", page)
    page = re.sub(r'csrf_token" value="[^"]+"', "", page)
    return re.sub(r'value="[^"]*@[^"]*"', "", page)


def test_wrong_password_and_unknown_email_answer_the_same_page(client, world):
    wrong_password = _attempt(client, world.client, "not the password")
    unknown_email = _attempt(client, "nobody@shop.example", factories.PASSWORD)
    assert wrong_password.status_code == unknown_email.status_code
    assert FAILURE in wrong_password.get_data(as_text=True)
    assert (_without_token_and_email(wrong_password.get_data(as_text=True))
            == _without_token_and_email(unknown_email.get_data(as_text=True)))


def test_deactivated_account_gets_the_same_failure_message(app, client, world):
    with app.app_context():
        db.session.execute(sa.update(User).where(User.email == world.client)
                           .values(is_active_account=False))
        db.session.commit()
    assert FAILURE in _attempt(client, world.client, factories.PASSWORD).get_data(as_text=True)
    assert _session_rows(app) == 0


def test_session_cookie_is_httponly_and_samesite_lax(client, world):
    response = login(client, world.client)
    cookie = next(value for value in response.headers.getlist("Set-Cookie")
                  if value.startswith("session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_signed_in_user_visiting_the_sign_in_page_is_sent_home(client, world):
    login(client, world.tech)
    assert client.get("/login").headers["Location"] == "/queue"


def _sign_out(client):
    return client.post("/logout", data={"csrf_token": csrf_token(client, "/tickets")})


def test_sign_out_ends_the_server_side_session(app, client, world):
    login(client, world.client)
    assert _session_rows(app) == 1
    response = _sign_out(client)
    assert response.headers["Location"] == "/login"
    assert client.get("/tickets").headers["Location"].startswith("/login")
    assert _session_rows(app) == 0


def test_copied_session_cookie_works_in_another_browser(app, client, world):
    login(client, world.client)
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    assert thief.get("/tickets").status_code == 200


def test_session_cookie_replayed_after_sign_out_is_refused(app, client, world):
    login(client, world.client)
    copied = client.get_cookie("session").value
    _sign_out(client)
    replay = app.test_client()
    replay.set_cookie("session", copied)
    response = replay.get("/tickets")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_sign_out_ends_only_that_browser_session(app, world):
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, world.client)
    login(phone, world.client)
    _sign_out(laptop)
    assert phone.get("/tickets").status_code == 200
    assert _session_rows(app) == 1


def test_sign_out_needs_a_signed_in_user(client):
    response = client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert response.headers["Location"].startswith("/login")


OFF_SITE = ["//evil.example", "//evil.example/tickets", "https://evil.example",
            "http://evil.example/login", "/\\evil.example", "\\\\evil.example",
            "javascript:alert(1)", "evil.example", "/%5Cevil.example", "%2F%2Fevil.example",
            # browsers drop tabs and line breaks: these would become //evil.example
            "/%09/evil.example", "/%0A/evil.example", "/%0D/evil.example"]


def _sign_in_with_next(browser, world, target):
    token = csrf_token(browser)
    return browser.post(f"/login?next={target}",
                        data={"email": world.client, "password": factories.PASSWORD,
                              "csrf_token": token})


def test_sign_in_refuses_to_redirect_to_another_site(app, world):
    observed = {target: _sign_in_with_next(app.test_client(), world, target).headers["Location"]
                for target in OFF_SITE}
    assert observed == dict.fromkeys(OFF_SITE, "/tickets")


def test_sign_in_follows_a_local_next_path(client, world):
    token = csrf_token(client)
    response = client.post("/login?next=/tickets/new",
                           data={"email": world.client, "password": factories.PASSWORD,
                                 "csrf_token": token})
    assert response.headers["Location"] == "/tickets/new"
