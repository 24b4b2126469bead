"""Every browser POST carries the CSRF token of its session; without it: 400, nothing written."""
import sqlalchemy as sa

from helpdesk.accounts.models import UserSession
from helpdesk.extensions import db
from tests import factories
from tests.api.helpers import api_token, bearer, open_ticket, row_counts, sign_in, status_of
from tests.conftest import csrf_token

MESSAGE = "The form expired or was not sent by this site."
INCIDENT = {"contract": "CT-SHOP", "priority": "CT-SHOP|P1", "title": "Site down",
            "description": "500s."}


def _session_rows(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(UserSession))


def _refused(response) -> None:
    assert response.status_code == 400
    assert MESSAGE in response.get_data(as_text=True)


def _refusal(response) -> tuple[int, bool]:
    return response.status_code, MESSAGE in response.get_data(as_text=True)


def test_sign_in_without_a_valid_token_is_refused(app, client, world):
    client.get("/login")
    credentials = {"email": world.client, "password": factories.PASSWORD}
    tokens = {"missing": {}, "empty": {"csrf_token": ""}, "forged": {"csrf_token": "forged"}}
    observed = {name: _refusal(client.post("/login", data=credentials | token))
                for name, token in tokens.items()}
    assert observed == dict.fromkeys(tokens, (400, True))
    assert _session_rows(app) == 0
    assert client.get("/tickets").status_code == 302


def test_token_of_another_browser_is_refused(app, client, world):
    other_browser = app.test_client()
    token = csrf_token(other_browser)
    client.get("/login")
    _refused(client.post("/login", data={"email": world.client, "password": factories.PASSWORD,
                                         "csrf_token": token}))
    assert _session_rows(app) == 0


def test_new_incident_without_token_is_refused_and_writes_nothing(app, client, world):
    sign_in(app, client, world.client)
    before = row_counts(app)
    _refused(client.post("/tickets/new", data=INCIDENT))
    assert row_counts(app) == before


ACTIONS = [("tech", "take", {}), ("client", "reply", {"body": "Hello"}),
           ("tech", "note", {"body": "Secret"}), ("tech", "cancel", {"reason": "Spam"})]


def test_ticket_action_without_token_is_refused_and_writes_nothing(app, world):
    number = open_ticket(app, requester=world.client)
    browsers = {person: sign_in(app, app.test_client(), getattr(world, person))
                for person in ("tech", "client")}
    before = row_counts(app)
    observed = {action: _refusal(browsers[person].post(f"/tickets/{number}/actions/{action}",
                                                       data=data))
                for person, action, data in ACTIONS}
    assert observed == {action: (400, True) for _, action, _ in ACTIONS}
    assert row_counts(app) == before
    assert status_of(app, number) == "new"


def test_sign_out_without_token_is_refused_and_keeps_the_session(app, client, world):
    sign_in(app, client, world.client)
    _refused(client.post("/logout"))
    assert client.get("/tickets").status_code == 200
    assert _session_rows(app) == 1


def test_api_needs_no_csrf_token_with_a_bearer_token(app, client, world):
    response = client.post("/api/v1/tickets", headers=bearer(api_token(app, world.client)),
                           json={"contract": "CT-SHOP", "priority": "P1", "title": "Down",
                                 "description": "Down."})
    assert response.status_code == 201
