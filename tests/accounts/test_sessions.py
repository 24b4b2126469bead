"""Signing in and out: messages that reveal nothing, cookies the browser guards, sessions that
really end, and no bouncing to other sites."""
import re
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from helpdesk.accounts.models import User, UserSession
from helpdesk.extensions import db
from tests import factories
from tests.conftest import TEST_START, csrf_token, login

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


# -- lifetimes ---------------------------------------------------------------------------------

def test_a_session_ends_after_twelve_idle_hours(app, client, world, clock):
    clock.freeze(TEST_START)
    login(client, world.client)
    clock.freeze(TEST_START + timedelta(hours=11, minutes=59))
    assert client.get("/tickets").status_code == 200
    clock.freeze(TEST_START + timedelta(hours=23, minutes=58))  # 11 h 59 after the last use
    assert client.get("/tickets").status_code == 200
    clock.freeze(TEST_START + timedelta(hours=36))
    assert client.get("/tickets").headers["Location"].startswith("/login")
    assert _session_rows(app) == 0


def test_a_busy_session_still_ends_thirty_days_after_signing_in(app, client, world, clock):
    clock.freeze(TEST_START)
    login(client, world.client)
    for day in range(1, 30):
        clock.freeze(TEST_START + timedelta(days=day))
        client.get("/tickets")
    clock.freeze(TEST_START + timedelta(days=30, seconds=1))
    assert client.get("/tickets").headers["Location"].startswith("/login")


@pytest.mark.parametrize("app_config", [{"SESSION_IDLE_MINUTES": 30}])
def test_the_lifetimes_come_from_the_settings(app, client, world, clock):
    clock.freeze(TEST_START)
    login(client, world.client)
    clock.freeze(TEST_START + timedelta(minutes=31))
    assert client.get("/tickets").headers["Location"].startswith("/login")


def _last_seen(app) -> datetime:
    with app.app_context():
        return db.session.scalar(sa.select(UserSession.last_seen_at))


def test_the_last_use_is_written_at_most_once_a_minute(app, client, world, clock):
    clock.freeze(TEST_START)
    login(client, world.client)
    clock.freeze(TEST_START + timedelta(seconds=59))
    client.get("/tickets")
    assert _last_seen(app) == TEST_START
    clock.freeze(TEST_START + timedelta(seconds=61))
    client.get("/tickets")
    assert _last_seen(app) == TEST_START + timedelta(seconds=61)


# -- "Your sessions" ---------------------------------------------------------------------------

def test_the_sessions_page_lists_each_browser_and_marks_this_one(app, client, world):
    phone = app.test_client()
    phone.get("/login", headers={"User-Agent": "PhoneBrowser/1.0"})
    token = csrf_token(phone)
    phone.post("/login", data={"email": world.client, "password": factories.PASSWORD,
                               "csrf_token": token},
               headers={"User-Agent": "PhoneBrowser/1.0"}, environ_base={"REMOTE_ADDR": "192.0.2.9"})
    login(client, world.client)
    page = client.get("/account/sessions").get_data(as_text=True)
    assert "PhoneBrowser/1.0" in page and "192.0.2.9" in page
    assert page.count("This session") == 1
    assert page.count('/end"') == 1  # one other session to sign out


def test_signing_out_another_session_ends_it(app, client, world):
    other = app.test_client()
    login(other, world.client)
    login(client, world.client)
    with app.app_context():
        other_id = db.session.scalar(sa.select(sa.func.min(UserSession.id)))
    token = csrf_token(client, "/account/sessions")
    response = client.post(f"/account/sessions/{other_id}/end", data={"csrf_token": token})
    assert response.headers["Location"] == "/account/sessions"
    assert other.get("/tickets").headers["Location"].startswith("/login")
    assert client.get("/tickets").status_code == 200


def test_nobody_ends_a_session_of_someone_else(app, client, world):
    victim = app.test_client()
    login(victim, world.other_client)
    with app.app_context():
        victim_id = db.session.scalar(sa.select(UserSession.id))
    login(client, world.client)
    token = csrf_token(client, "/account/sessions")
    page = client.post(f"/account/sessions/{victim_id}/end", data={"csrf_token": token},
                       follow_redirects=True).get_data(as_text=True)
    assert "This session has already ended." in page
    assert victim.get("/tickets").status_code == 200


def test_sign_out_everywhere_ends_every_session_of_the_user_only(app, client, world):
    laptop, someone_else = app.test_client(), app.test_client()
    login(laptop, world.client)
    login(someone_else, world.tech)
    login(client, world.client)
    token = csrf_token(client, "/account/sessions")
    response = client.post("/account/sessions/end-all", data={"csrf_token": token})
    assert response.headers["Location"] == "/login"
    assert client.get("/tickets").headers["Location"].startswith("/login")
    assert laptop.get("/tickets").headers["Location"].startswith("/login")
    assert someone_else.get("/queue").status_code == 200
