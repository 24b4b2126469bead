"""Two-factor sign-in: codes from an authenticator app (each accepted once, within a step of the
clock), one-time recovery codes, enrolment with a QR code, the code step of sign-in, and a
setting that requires it of some roles."""
import re
from datetime import timedelta
from types import SimpleNamespace

import pyotp
import pytest
import sqlalchemy as sa

from helpdesk import create_app
from helpdesk.accounts import two_factor
from helpdesk.accounts.models import RecoveryCode
from helpdesk.accounts.roles import Role
from helpdesk.accounts.services import find_user
from helpdesk.audit.models import AuditEntry
from helpdesk.clock import now_utc
from helpdesk.config import ConfigError, load_config
from helpdesk.extensions import db
from tests import factories
from tests.conftest import TEST_START, csrf_token, login

STEP = timedelta(seconds=30)
SECRET_ON_PAGE = re.compile(r'<code id="totp-secret">([A-Z2-7]+)</code>')
RECOVERY_ON_PAGE = re.compile(r"<li><code>([a-z0-9-]+)</code></li>")
WRONG_CODE = "Wrong code"


@pytest.fixture(autouse=True)
def frozen(clock):
    """Codes change every 30 seconds: time moves only when a test says so."""
    return clock.freeze(TEST_START)


def _code(secret: str, at=None) -> str:
    return pyotp.TOTP(secret).at(at or now_utc())


@pytest.fixture
def enrolled(app, world, clock):
    """The technician with two-factor sign-in on at TEST_START; the clock is then two steps
    later, so that the enrolment's code is out of reach of the next one typed."""
    with app.app_context():
        user = find_user(world.tech)
        secret = two_factor.enrolment_secret(user)
        assert two_factor.verify_totp(user, _code(secret), now=now_utc())
        codes = two_factor.enable_two_factor(user, now=now_utc())
        db.session.commit()
    clock.advance(2 * STEP)
    return SimpleNamespace(email=world.tech, secret=secret, codes=codes)


def _verify(app, email, code, at=None) -> bool:
    with app.app_context():
        accepted = two_factor.verify_second_factor(find_user(email), code, now=at or now_utc())
        db.session.commit()
        return accepted


def _audited(app, email) -> list[tuple[str, dict]]:
    with app.app_context():
        return [(entry.action, entry.changes) for entry in db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.entity == "user",
                                        AuditEntry.entity_id == email).order_by(AuditEntry.id))]


# --- codes ----------------------------------------------------------------------------------

def test_code_of_the_current_step_is_accepted(app, enrolled):
    assert _verify(app, enrolled.email, _code(enrolled.secret))


def test_code_typed_with_a_space_is_accepted(app, enrolled):
    code = _code(enrolled.secret)
    assert _verify(app, enrolled.email, f"{code[:3]} {code[3:]}")


@pytest.mark.parametrize("offset", [-1, 1], ids=["previous-step", "next-step"])
def test_code_of_a_neighbouring_step_is_accepted_for_clock_drift(app, enrolled, offset):
    assert _verify(app, enrolled.email, _code(enrolled.secret, now_utc() + offset * STEP))


@pytest.mark.parametrize("offset", [-2, 2], ids=["two-steps-old", "two-steps-ahead"])
def test_code_two_steps_away_is_refused(app, enrolled, offset):
    assert not _verify(app, enrolled.email, _code(enrolled.secret, now_utc() + offset * STEP))


def test_code_already_used_is_refused(app, enrolled):
    code = _code(enrolled.secret)
    assert _verify(app, enrolled.email, code)
    assert not _verify(app, enrolled.email, code)


def test_code_of_a_step_before_the_last_accepted_is_refused(app, enrolled):
    assert _verify(app, enrolled.email, _code(enrolled.secret))
    assert not _verify(app, enrolled.email, _code(enrolled.secret, now_utc() - STEP))


def test_code_of_the_enrolment_cannot_sign_in(app, enrolled):
    assert not _verify(app, enrolled.email, _code(enrolled.secret, TEST_START), at=TEST_START)


def test_recovery_code_is_accepted_once(app, enrolled):
    assert _verify(app, enrolled.email, enrolled.codes[0])
    assert not _verify(app, enrolled.email, enrolled.codes[0])


def test_recovery_code_is_accepted_in_capitals_and_without_dashes(app, enrolled):
    assert _verify(app, enrolled.email, enrolled.codes[1].replace("-", "").upper())


def test_enrolment_gives_ten_different_recovery_codes_stored_only_as_digests(app, enrolled):
    assert len(set(enrolled.codes)) == 10
    with app.app_context():
        stored = set(db.session.scalars(sa.select(RecoveryCode.code_hash)))
    assert len(stored) == 10 and stored.isdisjoint(enrolled.codes)


def test_new_recovery_codes_replace_the_old_ones(app, enrolled):
    with app.app_context():
        fresh = two_factor.regenerate_recovery_codes(find_user(enrolled.email), now=now_utc())
        db.session.commit()
    assert not _verify(app, enrolled.email, enrolled.codes[0])
    assert _verify(app, enrolled.email, fresh[0])


def test_no_code_is_accepted_while_enrolment_is_unconfirmed(app, world):
    with app.app_context():
        secret = two_factor.enrolment_secret(find_user(world.tech))
        db.session.commit()
    assert not _verify(app, world.tech, _code(secret))


def test_audit_trail_records_each_change_and_never_the_secret(app, enrolled):
    assert _verify(app, enrolled.email, enrolled.codes[0])
    with app.app_context():
        user = find_user(enrolled.email)
        two_factor.regenerate_recovery_codes(user, now=now_utc())
        two_factor.disable_two_factor(user, roles=frozenset(), now=now_utc())
        db.session.commit()
    trail = _audited(app, enrolled.email)
    assert [action for action, _ in trail] == [
        "two_factor_enabled", "recovery_code_used", "recovery_codes_regenerated",
        "two_factor_disabled"]
    assert enrolled.secret not in repr(trail)
    assert not any(code in repr(trail) for code in enrolled.codes)


# --- the setting ----------------------------------------------------------------------------

def test_setting_names_the_roles_that_require_two_factor(tmp_path):
    config = load_config(str(tmp_path), {"TWO_FACTOR_REQUIRED_ROLES": "Admin, finance"})
    assert two_factor.required_roles(config["TWO_FACTOR_REQUIRED_ROLES"]) == {Role.ADMIN,
                                                                              Role.FINANCE}


PRODUCTION = {"HELPDESK_ENV": "production", "SECRET_KEY": "0f3a9c27e1b84d56a7c2e9f01b3d5c78",
              "TRUSTED_HOSTS": "helpdesk.example.test",
              "BASE_URL": "https://helpdesk.example.test"}


@pytest.mark.parametrize("env, roles", [
    ({}, set()),
    (PRODUCTION, {"admin", "finance"}),
    (PRODUCTION | {"TWO_FACTOR_REQUIRED_ROLES": ""}, set()),
], ids=["development", "production", "production-turned-off"])
def test_setting_defaults_to_none_in_development_and_admin_and_finance_in_production(
        tmp_path, env, roles):
    assert set(load_config(str(tmp_path), env)["TWO_FACTOR_REQUIRED_ROLES"]) == roles


def test_setting_with_an_unknown_role_stops_the_start_up(tmp_path, monkeypatch):
    monkeypatch.setenv("TWO_FACTOR_REQUIRED_ROLES", "admin,admins")
    with pytest.raises(ConfigError, match="unknown roles admins"):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'db.sqlite3'}",
                    "SECRET_KEY": "x" * 40, "INSTANCE_PATH": str(tmp_path)})


# --- pages ----------------------------------------------------------------------------------

def _post(client, path, data, token_from="/login"):
    return client.post(path, data={"csrf_token": csrf_token(client, token_from), **data})


def _enrol_page(client):
    page = client.get("/account/two-factor/enrol").get_data(as_text=True)
    return page, SECRET_ON_PAGE.search(page).group(1)


def test_enrolment_turns_two_factor_on_with_a_code_of_the_key_shown(app, client, world):
    login(client, world.tech)
    page, secret = _enrol_page(client)
    assert 'src="data:image/svg+xml' in page
    response = _post(client, "/account/two-factor/enrol", {"code": _code(secret)},
                     "/account/two-factor/enrol")
    shown = RECOVERY_ON_PAGE.findall(response.get_data(as_text=True))
    assert len(shown) == 10
    with app.app_context():
        assert find_user(world.tech).has_two_factor


def test_enrolment_qr_code_holds_the_key_for_the_users_email(app, client, world):
    login(client, world.tech)
    _, secret = _enrol_page(client)
    uri = two_factor.provisioning_uri(secret, email=world.tech, issuer="Helpdesk Services SAS")
    assert pyotp.parse_uri(uri).secret == secret
    assert "tech%40provider.example" in uri and "issuer=Helpdesk%20Services%20SAS" in uri


def test_enrolment_page_reloaded_shows_the_same_key(client, world):
    login(client, world.tech)
    assert _enrol_page(client)[1] == _enrol_page(client)[1]


def test_enrolment_with_a_wrong_code_says_so_and_leaves_two_factor_off(app, client, world):
    login(client, world.tech)
    _, secret = _enrol_page(client)
    wrong = f"{(int(_code(secret)) + 1) % 1_000_000:06d}"
    page = _post(client, "/account/two-factor/enrol", {"code": wrong},
                 "/account/two-factor/enrol").get_data(as_text=True)
    assert WRONG_CODE in page and not RECOVERY_ON_PAGE.search(page)
    with app.app_context():
        assert not find_user(world.tech).has_two_factor


def test_sign_in_asks_for_the_code_before_any_page(client, enrolled):
    assert login(client, enrolled.email).headers["Location"] == "/login/code"
    assert client.get("/queue").headers["Location"].startswith("/login")
    response = _post(client, "/login/code", {"code": _code(enrolled.secret)}, "/login/code")
    assert response.headers["Location"] == "/queue"
    assert client.get("/queue").status_code == 200


@pytest.mark.parametrize("path", ["/queue", "/tickets", "/contracts", "/account/two-factor",
                                  "/notifications"])
def test_password_alone_reaches_no_page_when_a_code_is_due(client, enrolled, path):
    login(client, enrolled.email)
    assert client.get(path).headers["Location"].startswith("/login")


def test_sign_in_goes_on_to_the_page_asked_for_after_the_code(client, enrolled):
    _post(client, "/login?next=/contracts", {"email": enrolled.email,
                                             "password": factories.PASSWORD})
    response = _post(client, "/login/code", {"code": _code(enrolled.secret)}, "/login/code")
    assert response.headers["Location"] == "/contracts"


def test_sign_in_with_a_wrong_code_says_wrong_code_and_signs_nobody_in(client, enrolled):
    login(client, enrolled.email)
    wrong = f"{(int(_code(enrolled.secret)) + 1) % 1_000_000:06d}"
    response = _post(client, "/login/code", {"code": wrong}, "/login/code")
    assert response.status_code == 200 and WRONG_CODE in response.get_data(as_text=True)
    assert client.get("/queue").headers["Location"].startswith("/login")


def test_wrong_codes_are_throttled_like_wrong_passwords(client, enrolled, clock):
    login(client, enrolled.email)
    wrong = f"{(int(_code(enrolled.secret)) + 1) % 1_000_000:06d}"
    pages = [_post(client, "/login/code", {"code": wrong}, "/login/code").get_data(as_text=True)
             for _ in range(6)]
    assert [WRONG_CODE in page for page in pages] == [True] * 6
    # The sixth failure asks for a second's wait: even the right code is not heard before.
    right = _post(client, "/login/code", {"code": _code(enrolled.secret)}, "/login/code")
    assert "Too many attempts. Try again in 1 second." in right.get_data(as_text=True)
    clock.advance(timedelta(seconds=1))
    right = _post(client, "/login/code", {"code": _code(enrolled.secret)}, "/login/code")
    assert right.headers["Location"] == "/queue"


def test_sign_in_with_a_recovery_code_works_once(app, enrolled):
    observed = []
    for _ in range(2):
        browser = app.test_client()
        login(browser, enrolled.email)
        response = _post(browser, "/login/code", {"code": enrolled.codes[0]}, "/login/code")
        observed.append(response.status_code)
    assert observed == [302, 200]


def test_pending_sign_in_expires_after_five_minutes(client, clock, enrolled):
    login(client, enrolled.email)
    clock.advance(timedelta(minutes=5, seconds=1))
    response = client.get("/login/code")
    assert response.headers["Location"] == "/login"
    assert "Your sign-in expired" in client.get("/login").get_data(as_text=True)


def test_code_page_without_a_password_first_sends_to_sign_in(client, enrolled):
    assert client.get("/login/code").headers["Location"] == "/login"


def test_password_alone_signs_in_without_two_factor(client, world):
    assert login(client, world.tech).headers["Location"] == "/queue"


def test_required_role_is_made_to_enrol_before_signing_in(app, client, world):
    app.config["TWO_FACTOR_REQUIRED_ROLES"] = ("admin",)
    assert login(client, world.admin).headers["Location"] == "/account/two-factor/enrol"
    assert client.get("/queue").headers["Location"].startswith("/login")
    page, secret = _enrol_page(client)
    assert "Your role requires a second factor" in page
    response = _post(client, "/account/two-factor/enrol", {"code": _code(secret)},
                     "/account/two-factor/enrol")
    assert len(RECOVERY_ON_PAGE.findall(response.get_data(as_text=True))) == 10
    assert client.get("/queue").status_code == 200


def test_required_role_cannot_turn_two_factor_off(app, client, enrolled):
    app.config["TWO_FACTOR_REQUIRED_ROLES"] = ("technician",)
    login(client, enrolled.email)
    _post(client, "/login/code", {"code": _code(enrolled.secret)}, "/login/code")
    recovery = enrolled.codes[0]
    response = _post(client, "/account/two-factor/disable", {"disable-code": recovery},
                     "/account/two-factor")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your role requires two-factor sign-in: it cannot be turned off." in page
    with app.app_context():
        assert find_user(enrolled.email).has_two_factor
    assert _verify(app, enrolled.email, recovery)  # refused before the code was spent


def _signed_in(client, enrolled, clock):
    login(client, enrolled.email)
    _post(client, "/login/code", {"code": _code(enrolled.secret)}, "/login/code")
    clock.advance(STEP)


def test_turning_two_factor_off_takes_a_code(app, client, clock, enrolled):
    _signed_in(client, enrolled, clock)
    response = _post(client, "/account/two-factor/disable",
                     {"disable-code": _code(enrolled.secret)}, "/account/two-factor")
    assert "Two-factor sign-in is off." in client.get(response.headers["Location"]).get_data(
        as_text=True)
    with app.app_context():
        assert not find_user(enrolled.email).has_two_factor
    client.post("/logout", data={"csrf_token": csrf_token(client, "/queue")})
    assert login(client, enrolled.email).headers["Location"] == "/queue"


def test_turning_two_factor_off_with_a_wrong_code_changes_nothing(app, client, clock, enrolled):
    _signed_in(client, enrolled, clock)
    response = _post(client, "/account/two-factor/disable", {"disable-code": "000000"},
                     "/account/two-factor")
    assert WRONG_CODE in response.get_data(as_text=True)
    with app.app_context():
        assert find_user(enrolled.email).has_two_factor


def test_new_recovery_codes_are_shown_once_and_the_old_stop_working(app, client, clock,
                                                                   enrolled):
    _signed_in(client, enrolled, clock)
    response = _post(client, "/account/two-factor/recovery-codes",
                     {"codes-code": _code(enrolled.secret)}, "/account/two-factor")
    fresh = RECOVERY_ON_PAGE.findall(response.get_data(as_text=True))
    assert len(fresh) == 10 and set(fresh).isdisjoint(enrolled.codes)
    assert not RECOVERY_ON_PAGE.search(client.get("/account/two-factor").get_data(as_text=True))
    assert not _verify(app, enrolled.email, enrolled.codes[1])
    assert _verify(app, enrolled.email, fresh[1])
