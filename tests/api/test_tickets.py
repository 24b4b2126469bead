"""POST /api/v1/tickets, GET one, GET a page: what callers outside the project rely on."""
import re
from datetime import datetime, timedelta

import sqlalchemy as sa

from helpdesk import create_app
from helpdesk.audit.models import AuditEntry
from helpdesk.extensions import db
from helpdesk.tickets.models import EventKind, Ticket, parse_number
from tests.api.helpers import PROBLEM, bearer, open_ticket

NEW = {"contract": "CT-SHOP", "priority": "P1", "title": "Site down",
       "description": "The shop returns 500 on every page."}


def _instant(text: str) -> datetime:
    assert text.endswith("Z"), text
    return datetime.fromisoformat(text)


def _create(client, token, body=None, **headers):
    return client.post("/api/v1/tickets", json=body or NEW, headers=bearer(token) | headers)


def test_create_ticket_answers_201_with_the_ticket_and_its_location(client, tokens):
    response = _create(client, tokens.client)
    assert (response.status_code, response.mimetype) == (201, "application/json")
    body = response.get_json()
    assert response.headers["Location"] == f"/api/v1/tickets/{body['number']}"
    assert re.fullmatch(r"T-\d{6}", body["number"])
    assert (body["status"], body["priority"], body["contract"]) == ("new", "P1", "CT-SHOP")
    assert (body["title"], body["description"]) == (NEW["title"], NEW["description"])
    assert _instant(body["created_at"]).tzinfo is not None


def test_create_ticket_starts_gti_and_gtr_clocks_on_a_24x7_priority(client, tokens):
    body = _create(client, tokens.client).get_json()
    created = _instant(body["created_at"])
    gti, gtr = body["sla"]["gti"], body["sla"]["gtr"]
    assert set(gti) >= {"status", "due_at", "breached_at", "elapsed_seconds"}
    assert (gti["status"], gti["breached_at"]) == ("running", None)
    assert _instant(gti["due_at"]) == created + timedelta(hours=2)
    assert _instant(gtr["due_at"]) == created + timedelta(hours=8)
    assert 0 <= gti["elapsed_seconds"] < 60


def test_create_ticket_without_gtr_target_has_null_gtr(client, tokens):
    body = _create(client, tokens.client, NEW | {"priority": "P3"}).get_json()
    assert body["sla"]["gtr"] is None
    assert body["sla"]["gti"]["status"] == "running"


def test_create_ticket_writes_ticket_event_and_audit_for_the_requester(app, client, tokens, world):
    number = _create(client, tokens.client).get_json()["number"]
    with app.app_context():
        ticket = db.session.get(Ticket, parse_number(number))
        assert (ticket.requester.email, ticket.organisation.code) == (world.client, "shop")
        assert [e.kind for e in ticket.events] == [EventKind.CREATED]
        audit = db.session.scalars(sa.select(AuditEntry).where(
            AuditEntry.entity == "ticket", AuditEntry.entity_id == number)).all()
        assert [(a.action, a.changes["status"]) for a in audit] == [("open", [None, "new"])]


# Who may open a ticket through the API: see API_ACCESS in tests/tickets/test_isolation.py.


def test_get_ticket_returns_the_ticket(client, tokens):
    created = _create(client, tokens.client).get_json()
    response = client.get(f"/api/v1/tickets/{created['number']}", headers=bearer(tokens.client))
    assert response.status_code == 200
    body = response.get_json()
    for key in ("number", "status", "priority", "contract", "created_at"):
        assert body[key] == created[key]
    assert body["sla"]["gti"]["due_at"] == created["sla"]["gti"]["due_at"]


UNKNOWN_NUMBERS = ["T-999999", "T-1", "nonsense", "T-00000A", "1", "T-%00",
                   "T-002147483648", "T-999999999999"]  # ids are 32-bit


def test_unknown_ticket_number_is_404(client, tokens):
    headers = bearer(tokens.client)
    observed = {}
    for number in UNKNOWN_NUMBERS:
        observed[f"GET {number}"] = _summary(client.get(f"/api/v1/tickets/{number}",
                                                        headers=headers))[0]
        observed[f"POST {number}"] = _summary(client.post(
            f"/api/v1/tickets/{number}/actions", json={"action": "take"}, headers=headers))[0]
    assert observed == dict.fromkeys(observed, 404)


def _walk(client, token, limit: int) -> list[list[str]]:
    pages, url = [], f"/api/v1/tickets?limit={limit}"
    while url:
        response = client.get(url, headers=bearer(token))
        assert response.status_code == 200
        body = response.get_json()
        pages.append([t["number"] for t in body["tickets"]])
        url = body["next_cursor"] and f"/api/v1/tickets?limit={limit}&cursor={body['next_cursor']}"
    return pages


def test_list_walks_every_ticket_exactly_once_newest_first(app, client, tokens, world):
    numbers = [open_ticket(app, requester=world.client, title=f"Incident {i}") for i in range(7)]
    pages = _walk(client, tokens.client, limit=3)
    assert [len(page) for page in pages] == [3, 3, 1]
    walked = [number for page in pages for number in page]
    assert walked == list(reversed(numbers))


def test_list_page_that_holds_the_last_ticket_has_no_cursor(app, client, tokens, world):
    for _ in range(3):
        open_ticket(app, requester=world.client)
    body = client.get("/api/v1/tickets?limit=3", headers=bearer(tokens.client)).get_json()
    assert (len(body["tickets"]), body["next_cursor"]) == (3, None)
    empty = client.get("/api/v1/tickets", headers=bearer(tokens.other_client)).get_json()
    assert empty == {"tickets": [], "next_cursor": None}


BAD_LIMIT = (400, "limit must be a whole number from 1 to 100.")
BAD_CURSOR = (400, "cursor is not one this API gave out.")
BAD_PAGING = {
    **{f"limit={limit!r}": (f"limit={limit}", BAD_LIMIT)
       for limit in ["0", "101", "-1", "abc", "1.5", "", "³", "٣", "1e2", " 3"]},
    **{f"cursor {name}": (f"cursor={cursor}", BAD_CURSOR)
       for name, cursor in {"punctuation": "!!!", "non-ascii": "é", "not-a-number": "abc",
                            "zero": "MA", "negative": "LTE",
                            "huge": "OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5",
                            "above-32-bits": "MjE0NzQ4MzY0OA", "long": "x" * 200}.items()},
}


def test_list_refuses_a_limit_outside_1_to_100_or_a_cursor_it_did_not_give_out(client, tokens):
    headers = bearer(tokens.client)
    observed = {name: _summary(client.get(f"/api/v1/tickets?{query}", headers=headers))
                for name, (query, _) in BAD_PAGING.items()}
    assert observed == {name: expected for name, (_, expected) in BAD_PAGING.items()}


def _summary(response) -> tuple:
    return response.status_code, response.mimetype == PROBLEM and response.get_json()["detail"]


def test_openapi_document_is_served_without_a_token(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x" * 40,
                      "INSTANCE_PATH": str(tmp_path)})
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    assert {"/tickets", "/tickets/{number}", "/tickets/{number}/actions"} <= set(spec["paths"])
