"""POST /api/v1/tickets/NUMBER/actions: the web's rules, answered in JSON.

The tables run in one test each, a fresh ticket per row (one application set-up per table keeps
the suite fast on PostgreSQL); a failure lists every row that answered otherwise.
"""
import json

import pytest

from helpdesk.tickets.workflow import ACTION_PHRASES, Action
from tests.api.helpers import (
    assert_problem,
    bearer,
    bring_to,
    error_fields,
    open_ticket,
    row_counts,
    status_of,
)


def _act(client, token, number, body):
    return client.post(f"/api/v1/tickets/{number}/actions", json=body, headers=bearer(token))


@pytest.fixture
def ticket(app, world):
    """A new P1 ticket of the shop, opened by its client."""
    return open_ticket(app, requester=world.client)


# (status before, person, action body, status after, what the answer shows: {path: value})
ALLOWED = [
    ("new", "tech", {"action": "take"}, "in_progress",
     {"assignee": "tech@provider.example", "sla.gti.status": "met"}),
    ("reopened", "tech", {"action": "take"}, "in_progress", {"sla.gtr.status": "running"}),
    ("new", "tech", {"action": "reply", "body": "On it."}, "in_progress",
     {"sla.gti.status": "met", "messages.0.body": "On it."}),
    ("new", "client", {"action": "reply", "body": "Also the checkout."}, "new",
     {"sla.gti.status": "running", "messages.0.author": "client@shop.example",
      "messages.0.internal": False}),
    ("waiting_on_client", "client", {"action": "reply", "body": "Here it is."}, "in_progress",
     {"sla.gtr.status": "running"}),
    ("new", "tech", {"action": "note", "body": "Probably the cache."}, "new",
     {"messages.0.internal": True, "sla.gti.status": "running"}),
    ("closed", "tech", {"action": "note", "body": "For the record."}, "closed",
     {"messages.0.internal": True}),
    ("in_progress", "tech", {"action": "wait"}, "waiting_on_client",
     {"sla.gtr.status": "paused", "sla.gtr.due_at": None, "sla.gti.status": "met"}),
    ("waiting_on_client", "tech", {"action": "resume"}, "in_progress",
     {"sla.gtr.status": "running"}),
    ("in_progress", "tech", {"action": "resolve"}, "resolved", {"sla.gtr.status": "met"}),
    ("waiting_on_client", "lead", {"action": "resolve"}, "resolved", {"sla.gtr.status": "met"}),
    ("resolved", "client", {"action": "confirm"}, "closed", {"sla.gtr.status": "met"}),
    ("resolved", "client", {"action": "reopen", "reason": "Still down."}, "reopened",
     {"resolved_at": None, "sla.gtr.status": "running"}),
    ("resolved", "client", {"action": "reopen"}, "reopened", {}),
    ("new", "tech", {"action": "cancel", "reason": "Duplicate of T-000001."}, "cancelled",
     {"sla.gti.status": "cancelled", "sla.gtr.status": "cancelled"}),
    ("new", "tech", {"action": "reprioritise", "priority": "P3", "reason": "Not critical."},
     "new", {"priority": "P3", "sla.gtr": None}),
    ("in_progress", "admin", {"action": "assign", "assignee": "TECH2@provider.example"},
     "in_progress", {"assignee": "tech2@provider.example"}),
]


def _name(status, person, body) -> str:
    return f"{person} {body['action']}s a {status} ticket" + (" with " + ", ".join(
        sorted(set(body) - {"action"})) if len(body) > 1 else "")


def _pick(document, path: str):
    for part in path.split("."):
        document = document[int(part)] if part.isdigit() else document[part]
    return document


def _fresh(app, world, status) -> str:
    number = open_ticket(app, requester=world.client)
    bring_to(app, number, status, world=world)
    return number


def test_each_allowed_action_moves_the_ticket_and_answers_with_it(app, client, tokens, world):
    observed, expected = {}, {}
    for before, person, body, after, shows in ALLOWED:
        number = _fresh(app, world, before)
        response = _act(client, getattr(tokens, person), number, body)
        answer = response.get_json()
        name = _name(before, person, body)
        observed[name] = (response.status_code, answer.get("status"), status_of(app, number),
                          {path: _pick(answer, path) for path in shows})
        expected[name] = (200, after, after, shows)
    assert len(observed) == len(ALLOWED)
    assert observed == expected


# (status, person, action body, detail)
ILLEGAL = [
    ("closed", "tech", {"action": "take"}, "Cannot take in charge a ticket that is closed."),
    ("in_progress", "tech", {"action": "take"}, "Cannot take in charge a ticket that is in progress."),
    ("new", "tech", {"action": "resolve"}, "Cannot resolve a ticket that is new."),
    ("new", "tech", {"action": "wait"}, "Cannot put on hold a ticket that is new."),
    ("in_progress", "tech", {"action": "resume"}, "Cannot resume a ticket that is in progress."),
    ("cancelled", "tech", {"action": "reply", "body": "Hello?"},
     "Cannot reply to a ticket that is cancelled."),
    ("closed", "tech", {"action": "cancel", "reason": "Spam."},
     "Cannot cancel a ticket that is closed."),
    ("resolved", "tech", {"action": "reprioritise", "priority": "P3", "reason": "x"},
     "Cannot reprioritise a ticket that is resolved."),
    ("new", "client", {"action": "confirm"}, "Cannot confirm the resolution of a ticket that is new."),
    ("closed", "client", {"action": "reopen"}, "Cannot reopen a ticket that is closed."),
    ("closed", "client", {"action": "reply", "body": "Hello?"},
     "Cannot reply to a ticket that is closed."),
    # The transition is checked before the arguments: no 422 for a move that cannot happen.
    ("closed", "tech", {"action": "cancel"}, "Cannot cancel a ticket that is closed."),
]


def _refusals(app, client, tokens, world, rows) -> tuple[dict, dict]:
    """Each row on a fresh ticket: (observed, expected) {name: (status, detail, status after)}."""
    observed, expected = {}, {}
    for status, person, body, code, detail in rows:
        number = _fresh(app, world, status)
        before = row_counts(app)
        response = _act(client, getattr(tokens, person), number, body)
        problem = assert_problem(response, response.status_code)
        name = _name(status, person, body)
        observed[name] = (response.status_code, problem["detail"], status_of(app, number),
                          row_counts(app) == before)
        expected[name] = (code, detail, status, True)
    assert len(observed) == len(rows), "two rows share a name"
    return observed, expected


def test_illegal_transition_is_409_and_changes_nothing(app, client, tokens, world):
    observed, expected = _refusals(app, client, tokens, world,
                                   [(s, p, b, 409, d) for s, p, b, d in ILLEGAL])
    assert observed == expected


STAFF_ONLY = [
    {"action": "take"}, {"action": "note", "body": "x"}, {"action": "wait"},
    {"action": "resume"}, {"action": "resolve"}, {"action": "cancel", "reason": "x"},
    {"action": "cancel"}, {"action": "reprioritise", "priority": "P3", "reason": "x"},
    {"action": "reprioritise"}, {"action": "assign", "assignee": "tech@provider.example"},
    {"action": "assign"},
]


def test_client_attempting_a_staff_action_is_403_and_changes_nothing(app, client, tokens,
                                                                     world):
    rows = [("new", "client", body, 403, f"Your role cannot {ACTION_PHRASES[Action(body['action'])]} a ticket.")
            for body in STAFF_ONLY]
    observed, expected = _refusals(app, client, tokens, world, rows)
    assert observed == expected


def test_role_without_the_action_is_403_and_changes_nothing(app, client, tokens, world):
    rows = [("resolved", person, body, 403, f"Your role cannot {ACTION_PHRASES[Action(body['action'])]} a ticket.")
            for person, body in [("finance", {"action": "take"}),
                                 ("finance", {"action": "reply", "body": "x"}),
                                 ("finance", {"action": "note", "body": "x"}),
                                 ("finance", {"action": "reopen"}),
                                 ("tech", {"action": "confirm"}),
                                 ("admin", {"action": "confirm"})]]
    observed, expected = _refusals(app, client, tokens, world, rows)
    assert observed == expected


# (action body, fields named in errors[])
INCOMPLETE = [
    ({"action": "cancel"}, ["reason"]),
    ({"action": "cancel", "reason": "   "}, ["reason"]),
    ({"action": "reprioritise", "priority": "P3"}, ["reason"]),
    ({"action": "reprioritise", "reason": "Not critical."}, ["priority"]),
    ({"action": "reprioritise"}, ["priority", "reason"]),
    ({"action": "reply"}, ["body"]),
    ({"action": "reply", "body": ""}, ["body"]),
    ({"action": "note", "body": " \n "}, ["body"]),
    ({"action": "assign"}, ["assignee"]),
    ({"action": "reprioritise", "priority": "P9", "reason": "x"}, ["priority"]),
    ({"action": "reprioritise", "priority": "P1", "reason": "x"}, ["priority"]),
    ({"action": "assign", "assignee": "nobody@provider.example"}, ["assignee"]),
    ({"action": "assign", "assignee": "client@shop.example"}, ["assignee"]),
    ({"action": "take", "body": "On it."}, ["body"]),
    ({"action": "note", "body": "Fixed.", "reason": "Why not."}, ["reason"]),
]


def test_action_with_missing_or_wrong_arguments_is_422_naming_the_field(app, client, tokens,
                                                                        ticket):
    token = tokens.admin
    before = row_counts(app)
    observed = {}
    for body, _ in INCOMPLETE:
        response = _act(client, token, ticket, body)
        observed[json.dumps(body)[:60]] = (response.status_code,
                                           error_fields(response.get_json()))
    assert observed == {json.dumps(body)[:60]: (422, fields) for body, fields in INCOMPLETE}
    assert row_counts(app) == before
    assert status_of(app, ticket) == "new"
