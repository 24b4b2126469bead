"""Configuration: only two environments; production refuses weak secrets, needs the host names it
serves and sends secure cookies; development keeps a generated secret in the instance folder."""
import stat

import pytest

from helpdesk import create_app
from helpdesk.config import ConfigError, load_config
from helpdesk.extensions import db
from tests import factories
from tests.conftest import CSRF_PATTERN

STRONG = "b2f1c0d8e7a6954433221100ffeeddccbbaa99887766"
PRODUCTION = {"HELPDESK_ENV": "production", "SECRET_KEY": STRONG,
              "TRUSTED_HOSTS": "helpdesk.example", "BASE_URL": "https://helpdesk.example"}


@pytest.mark.parametrize("value", ["prod", "Production", "production ", "dev", "staging"])
def test_an_unknown_environment_is_refused_naming_the_accepted_ones(tmp_path, value):
    with pytest.raises(ConfigError, match=r"HELPDESK_ENV must be 'development' or 'production', "
                                          rf"not {value!r}\."):
        load_config(str(tmp_path), {**PRODUCTION, "HELPDESK_ENV": value})


def test_an_unknown_environment_stops_the_application_from_starting(tmp_path, monkeypatch):
    monkeypatch.setenv("HELPDESK_ENV", "prod")
    with pytest.raises(ConfigError, match="HELPDESK_ENV"):
        create_app({"INSTANCE_PATH": str(tmp_path)})


@pytest.mark.parametrize("env", [{}, {"HELPDESK_ENV": ""}], ids=["unset", "empty"])
def test_an_unset_environment_is_development(tmp_path, env):
    assert load_config(str(tmp_path), env)["HELPDESK_ENV"] == "development"


@pytest.mark.parametrize("secret", [
    None, "", "dev", "changeme", "secret", "x" * 31, "a" * 40, "abc" * 12,
    "0123456789abcdef" * 2, "0123456789abcdefghij" * 2 + "0123",
    "bench-" + "y" * 40, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1234567890"],
    ids=["unset", "empty", "dev", "changeme", "secret", "too-short", "one-character",
         "short-block-repeated", "varied-block-repeated", "varied-block-repeated-then-cut",
         "few-characters", "eleven-characters"])
def test_production_refuses_to_start_without_a_strong_secret(tmp_path, secret):
    env = {key: value for key, value in PRODUCTION.items() if key != "SECRET_KEY"}
    if secret is not None:
        env["SECRET_KEY"] = secret
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config(str(tmp_path), env)


def test_production_accepts_a_secret_of_32_varied_characters(tmp_path):
    secret = "0123456789abcdef0123456789abcdeX"
    assert load_config(str(tmp_path), {**PRODUCTION, "SECRET_KEY": secret})["SECRET_KEY"] == secret


def test_production_refuses_to_start_without_trusted_hosts(tmp_path):
    env = {key: value for key, value in PRODUCTION.items() if key != "TRUSTED_HOSTS"}
    with pytest.raises(ConfigError, match="needs TRUSTED_HOSTS"):
        load_config(str(tmp_path), env)


def test_trusted_hosts_are_read_as_a_comma_separated_list(tmp_path):
    env = {**PRODUCTION, "TRUSTED_HOSTS": " helpdesk.example, .support.example ,"}
    assert load_config(str(tmp_path), env)["TRUSTED_HOSTS"] == ["helpdesk.example",
                                                                ".support.example"]


def test_development_answers_any_host_unless_told_otherwise(tmp_path):
    assert load_config(str(tmp_path), {})["TRUSTED_HOSTS"] is None
    assert load_config(str(tmp_path), {"TRUSTED_HOSTS": "127.0.0.1"})["TRUSTED_HOSTS"] == [
        "127.0.0.1"]


@pytest.mark.parametrize("hosts", ["helpdesk.example", ".example",
                                   "other.example, helpdesk.example"])
def test_base_url_may_name_any_trusted_host(tmp_path, hosts):
    env = {**PRODUCTION, "TRUSTED_HOSTS": hosts, "BASE_URL": "https://helpdesk.example:8443/"}
    assert load_config(str(tmp_path), env)["BASE_URL"] == "https://helpdesk.example:8443/"


@pytest.mark.parametrize("env", [PRODUCTION, {}], ids=["production", "development"])
def test_a_base_url_whose_host_is_not_trusted_is_refused(tmp_path, env):
    env = {**env, "TRUSTED_HOSTS": "helpdesk.example", "BASE_URL": "https://support.example"}
    with pytest.raises(ConfigError, match="BASE_URL 'https://support.example' names a host "
                                          "missing from TRUSTED_HOSTS"):
        load_config(str(tmp_path), env)


@pytest.mark.parametrize(("value", "count"), [(None, 0), ("", 0), ("0", 0), ("2", 2)])
def test_proxy_count_is_read_as_a_number_defaulting_to_zero(tmp_path, value, count):
    env = {} if value is None else {"PROXY_COUNT": value}
    assert load_config(str(tmp_path), env)["PROXY_COUNT"] == count


@pytest.mark.parametrize("value", ["-1", "two", "1.5"])
def test_proxy_count_that_is_not_a_count_is_refused(tmp_path, value):
    with pytest.raises(ConfigError, match=rf"PROXY_COUNT .* not {value!r}"):
        load_config(str(tmp_path), {"PROXY_COUNT": value})


def test_production_never_generates_a_secret_file(tmp_path):
    with pytest.raises(ConfigError):
        load_config(str(tmp_path), {"HELPDESK_ENV": "production"})
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize("key", ["SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE",
                                 "SESSION_COOKIE_HTTPONLY", "REMEMBER_COOKIE_HTTPONLY"])
def test_production_cookies_are_secure_and_httponly(tmp_path, key):
    assert load_config(str(tmp_path), PRODUCTION)[key] is True


def test_production_cookies_are_samesite_lax(tmp_path):
    config = load_config(str(tmp_path), PRODUCTION)
    assert (config["SESSION_COOKIE_SAMESITE"], config["REMEMBER_COOKIE_SAMESITE"]) == ("Lax", "Lax")


def test_production_uses_the_given_secret(tmp_path):
    assert load_config(str(tmp_path), PRODUCTION)["SECRET_KEY"] == STRONG


# A second app, on its own engine, signs the world's client in: the world must be committed.
@pytest.mark.real_commits
def test_production_session_cookie_is_sent_with_secure_flag(app, world, tmp_path, monkeypatch):
    for name, value in PRODUCTION.items():
        monkeypatch.setenv(name, value)
    production = create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                             "INSTANCE_PATH": str(tmp_path / "production")})
    try:
        browser = production.test_client()
        https = {"base_url": "https://helpdesk.example",
                 "headers": {"Referer": "https://helpdesk.example/login"}}
        page = browser.get("/login", **https).get_data(as_text=True)
        response = browser.post("/login", data={
            "email": world.client, "password": factories.PASSWORD,
            "csrf_token": CSRF_PATTERN.search(page).group(1)}, **https)
        assert response.status_code == 302
        cookie = next(value for value in response.headers.getlist("Set-Cookie")
                      if value.startswith("session="))
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    finally:
        with production.app_context():
            db.engine.dispose()


def test_development_cookies_are_not_marked_secure(tmp_path):
    assert load_config(str(tmp_path), {})["SESSION_COOKIE_SECURE"] is False


def test_development_generates_a_secret_once_in_the_instance_folder(tmp_path):
    first = load_config(str(tmp_path), {})["SECRET_KEY"]
    second = load_config(str(tmp_path), {})["SECRET_KEY"]
    assert first == second
    assert len(first) >= 32
    assert (tmp_path / "secret_key").read_text().strip() == first


def test_development_secret_file_is_private(tmp_path):
    load_config(str(tmp_path), {})
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600


def test_each_installation_gets_its_own_secret(tmp_path):
    assert (load_config(str(tmp_path / "one"), {})["SECRET_KEY"]
            != load_config(str(tmp_path / "two"), {})["SECRET_KEY"])


def test_development_uses_a_given_secret_without_writing_one(tmp_path):
    assert load_config(str(tmp_path), {"SECRET_KEY": "given"})["SECRET_KEY"] == "given"
    assert not (tmp_path / "secret_key").exists()


def test_postgresql_url_is_given_the_psycopg_driver(tmp_path):
    config = load_config(str(tmp_path), {"DATABASE_URL": "postgresql://u@db/helpdesk"})
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db/helpdesk"
