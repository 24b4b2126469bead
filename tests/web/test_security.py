"""What production promises the browser and the network: HSTS on every answer, requests for a
host it does not serve refused (never redirected there), and the client's real address read
behind a configured number of reverse proxies only."""
import pytest
from flask import request

from helpdesk import create_app
from helpdesk.extensions import db

HTTPS = "https://helpdesk.example"
PRODUCTION = {"HELPDESK_ENV": "production", "TRUSTED_HOSTS": ["helpdesk.example"]}
HSTS = "max-age=63072000; includeSubDomains"


@pytest.fixture
def app_config(request) -> dict:
    return getattr(request, "param", {})


@pytest.fixture
def production(app):
    """The test app, with the settings production would have read from its environment."""
    overrides = {key: app.config[key] for key in
                 ("SQLALCHEMY_DATABASE_URI", "INSTANCE_PATH", "SECRET_KEY", "TESTING",
                  "BABEL_DEFAULT_LOCALE")}
    production = create_app({**overrides, **PRODUCTION})
    yield production
    with production.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("path", ["/login", "/static/css/app.css", "/no-such-page", "/"],
                         ids=["page", "static file", "not found", "redirect"])
def test_production_sends_hsts_on_every_answer(production, path):
    with production.test_client().get(path, base_url=HTTPS) as response:  # closes the file
        assert response.headers["Strict-Transport-Security"] == HSTS


def test_development_sends_no_hsts(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers


def test_production_answers_its_trusted_host(production):
    assert production.test_client().get("/login", base_url=HTTPS).status_code == 200


@pytest.mark.parametrize("path", ["/", "/login", "/api/v1/tickets"])
def test_production_refuses_a_request_for_another_host(production, path):
    response = production.test_client().get(path, base_url="https://evil.example")
    assert response.status_code == 400
    assert "does not answer for that host name" in response.get_data(as_text=True)
    assert "evil.example" not in response.headers.get("Location", "")
    assert "Strict-Transport-Security" in response.headers


def test_production_refuses_a_forwarded_host_it_does_not_serve(app):
    with_proxy = create_app({**{key: app.config[key] for key in
                                ("SQLALCHEMY_DATABASE_URI", "INSTANCE_PATH", "SECRET_KEY")},
                             **PRODUCTION, "PROXY_COUNT": 1})
    try:
        response = with_proxy.test_client().get(
            "/", base_url=HTTPS, headers={"X-Forwarded-Host": "evil.example"})
        assert response.status_code == 400
        assert "evil.example" not in response.headers.get("Location", "")
    finally:
        with with_proxy.app_context():
            db.engine.dispose()


def _address_route(app):
    app.add_url_rule("/whoami", "whoami", lambda: request.remote_addr or "")


@pytest.mark.parametrize("app_config", [{"PROXY_COUNT": 1}], indirect=True)
def test_behind_one_proxy_the_client_address_is_the_forwarded_one(app):
    _address_route(app)
    response = app.test_client().get("/whoami", headers={"X-Forwarded-For": "203.0.113.7"},
                                     environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert response.get_data(as_text=True) == "203.0.113.7"


@pytest.mark.parametrize("app_config", [{"PROXY_COUNT": 1}], indirect=True)
def test_behind_one_proxy_only_the_address_it_added_is_believed(app):
    _address_route(app)
    response = app.test_client().get(
        "/whoami", headers={"X-Forwarded-For": "198.51.100.9, 203.0.113.7"},
        environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert response.get_data(as_text=True) == "203.0.113.7"


def test_without_proxies_a_forwarded_address_is_ignored(app):
    _address_route(app)
    response = app.test_client().get("/whoami", headers={"X-Forwarded-For": "203.0.113.7"},
                                     environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert response.get_data(as_text=True) == "10.0.0.2"
