"""Bad input to the API: a problem document naming what is wrong, a 4xx, and nothing written.

The refusal tables run in one test each (one application set-up per table, which keeps the suite
fast on PostgreSQL) and compare every row at once: a failure lists each row that answered
otherwise.
"""
import json

import pytest
import sqlalchemy as sa

from helpdesk.extensions import db
from helpdesk.tickets.models import Ticket, parse_number
from tests import factories
from tests.api.helpers import (
    ESCAPED,
    HOSTILE,
    PROBLEM,
    assert_problem,
    bearer,
    open_ticket,
    row_counts,
)

NEW = {"contract": "CT-SHOP", "priority": "P1", "title": "Site down",
       "description": "The shop returns 500 on every page."}


def _without(field):
    return {key: value for key, value in NEW.items() if key != field}


def _summary(response) -> tuple:
    """(status, errors[] or detail) of a problem document; anything else shows as such."""
    if response.mimetype != PROBLEM:
        return response.status_code, response.mimetype
    body = response.get_json()
    assert body["status"] == response.status_code and body["title"] and body["detail"]
    return response.status_code, body.get("errors") or body["detail"]


def _error(field, message):
    return 422, [{"field": field, "message": message}]


def _run_table(app, send, table: dict) -> None:
    """Send each row's request; every row must answer as the table says and write nothing."""
    before = row_counts(app)
    observed = {name: _summary(send(request)) for name, (request, _) in table.items()}
    assert observed == {name: expected for name, (_, expected) in table.items()}
    assert row_counts(app) == before


def _creator(client, token):
    def send(body):
        return client.post("/api/v1/tickets", json=body, headers=bearer(token))
    return send


def _raw_creator(client, token):
    def send(request):
        data, content_type = request
        headers = bearer(token)
        if content_type is not None:
            headers["Content-Type"] = content_type
        return client.post("/api/v1/tickets", data=data, headers=headers)
    return send


# name -> (JSON body, (status, errors))
MISSING_EMPTY_OVERLONG = {
    "missing-contract": (_without("contract"), _error("contract", "is required")),
    "missing-priority": (_without("priority"), _error("priority", "is required")),
    "missing-title": (_without("title"), _error("title", "is required")),
    "missing-description": (_without("description"), _error("description", "is required")),
    "empty-contract": (NEW | {"contract": ""}, _error("contract", "must not be empty")),
    "blank-priority": (NEW | {"priority": "   "}, _error("priority", "must not be empty")),
    "blank-title": (NEW | {"title": " \n\t "}, _error("title", "must not be empty")),
    "empty-description": (NEW | {"description": ""}, _error("description", "must not be empty")),
    "title-201": (NEW | {"title": "x" * 201}, _error("title", "must be at most 200 characters")),
    "description-20001": (NEW | {"description": "x" * 20_001},
                          _error("description", "must be at most 20000 characters")),
    "contract-65": (NEW | {"contract": "x" * 65},
                    _error("contract", "must be at most 64 characters")),
    "priority-17": (NEW | {"priority": "x" * 17},
                    _error("priority", "must be at most 16 characters")),
}


def test_create_refuses_missing_empty_and_overlong_fields_with_422_naming_them(app, client,
                                                                               tokens):
    _run_table(app, _creator(client, tokens.client), MISSING_EMPTY_OVERLONG)


# Each wrong type once, each field at least once.
WRONG_TYPES = {
    "number-contract": (NEW | {"contract": 42}, _error("contract", "must be a string")),
    "float-priority": (NEW | {"priority": 1.0}, _error("priority", "must be a string")),
    "boolean-title": (NEW | {"title": True}, _error("title", "must be a string")),
    "null-description": (NEW | {"description": None}, _error("description", "must be a string")),
    "list-title": (NEW | {"title": ["Site down"]}, _error("title", "must be a string")),
    "object-description": (NEW | {"description": {"text": "x"}},
                           _error("description", "must be a string")),
    "null-priority": (NEW | {"priority": None}, _error("priority", "must be a string")),
}


def test_create_refuses_fields_of_the_wrong_type_with_422(app, client, tokens):
    _run_table(app, _creator(client, tokens.client), WRONG_TYPES)


UNKNOWN_FIELDS = {
    field: (NEW | {field: "x"}, _error(field, "is not a known field"))
    for field in ("status", "organisation", "requester", "number")
}


def test_create_refuses_unknown_fields_with_422(app, client, tokens):
    _run_table(app, _creator(client, tokens.client), UNKNOWN_FIELDS)


CONTROL_CHARACTERS = {
    "nul-contract": (NEW | {"contract": "CT\x00SHOP"},
                     _error("contract", "must not contain control characters")),
    "escape-priority": (NEW | {"priority": "P\x1b1"},
                        _error("priority", "must not contain control characters")),
    "nul-title": (NEW | {"title": "Site\x00down"},
                  _error("title", "must not contain control characters")),
    "backspace-title": (NEW | {"title": "Site\x08down"},
                        _error("title", "must not contain control characters")),
    "nul-description": (NEW | {"description": "a\x00b"},
                        _error("description", "must not contain control characters")),
    "delete-description": (NEW | {"description": "a\x7fb"},
                           _error("description", "must not contain control characters")),
    "tab-in-title": (NEW | {"title": "Site\tdown"},
                     _error("title", "must not contain control characters")),
    "newline-in-title": (NEW | {"title": "Site\ndown"},
                         _error("title", "must not contain control characters")),
}


def test_create_refuses_control_characters_with_422(app, client, tokens):
    _run_table(app, _creator(client, tokens.client), CONTROL_CHARACTERS)


BIDI = ("must not contain Unicode direction controls (U+202A to U+202E, U+2066 to U+2069, U+200E, "
        "U+200F, U+061C), which can disguise what a text says")
DIRECTION_CONTROLS = {
    "right-to-left-override": (NEW | {"title": "Invoice\u202efdp.exe"}, _error("title", BIDI)),
    "right-to-left-isolate": (NEW | {"title": "Site \u2067down\u2069"}, _error("title", BIDI)),
    "left-to-right-mark": (NEW | {"title": "Site\u200e down"}, _error("title", BIDI)),
    "arabic-letter-mark": (NEW | {"title": "\u061cSite down"}, _error("title", BIDI)),
}


def test_create_refuses_direction_controls_in_the_title_with_422(app, client, tokens):
    _run_table(app, _creator(client, tokens.client), DIRECTION_CONTROLS)


def test_create_accepts_a_title_in_a_right_to_left_script(client, tokens):
    response = _creator(client, tokens.client)(NEW | {"title": "الموقع معطل"})
    assert response.status_code == 201
    assert response.get_json()["title"] == "الموقع معطل"


def test_create_reports_every_wrong_field_at_once(client, tokens):
    problem = assert_problem(client.post("/api/v1/tickets", json={"title": 1, "extra": True},
                                         headers=bearer(tokens.client)), 422)
    assert sorted(e["field"] for e in problem["errors"]) == [
        "contract", "description", "extra", "priority", "title"]
    assert "title must be a string" in problem["detail"]


NOT_AN_OBJECT = "The body must be a JSON object."
NOT_JSON = "The body is not valid JSON."
NOT_SENT_AS_JSON = "Send the body as JSON with 'Content-Type: application/json'."
APPLICATION_JSON = "application/json"
# name -> ((raw body, Content-Type), (status, detail))
BAD_BODIES = {
    "empty-list": (("[]", APPLICATION_JSON), (400, NOT_AN_OBJECT)),
    "list": (('["Site down"]', APPLICATION_JSON), (400, NOT_AN_OBJECT)),
    "string": (('"Site down"', APPLICATION_JSON), (400, NOT_AN_OBJECT)),
    "number": (("42", APPLICATION_JSON), (400, NOT_AN_OBJECT)),
    "null": (("null", APPLICATION_JSON), (400, NOT_AN_OBJECT)),
    "empty": (("", APPLICATION_JSON), (400, NOT_JSON)),
    "unclosed": (("{", APPLICATION_JSON), (400, NOT_JSON)),
    "missing-value": (('{"title": }', APPLICATION_JSON), (400, NOT_JSON)),
    "single-quotes": (("{'title': 'x'}", APPLICATION_JSON), (400, NOT_JSON)),
    "trailing-comma": (('{"title": "x",}', APPLICATION_JSON), (400, NOT_JSON)),
    "bad-utf8": ((b'{"title": "\xff\xfe"}', APPLICATION_JSON), (400, NOT_JSON)),
    "deeply-nested": (("[" * 100_000, APPLICATION_JSON), (400, NOT_JSON)),
    "huge-number": (('{"title": ' + "9" * 5000 + "}", APPLICATION_JSON), (400, NOT_JSON)),
    "no-content-type": ((json.dumps(NEW), None), (415, NOT_SENT_AS_JSON)),
    "text-plain": ((json.dumps(NEW), "text/plain"), (415, NOT_SENT_AS_JSON)),
    "form": ((json.dumps(NEW), "application/x-www-form-urlencoded"), (415, NOT_SENT_AS_JSON)),
}


def test_create_refuses_a_body_that_is_not_a_json_object_with_4xx(app, client, tokens):
    _run_table(app, _raw_creator(client, tokens.client), BAD_BODIES)


def test_create_accepts_input_at_the_edges_of_valid(client, tokens):
    edges = {
        "json-with-charset": ((json.dumps(NEW), "application/json; charset=utf-8"), 201),
        "title-of-200": ((json.dumps(NEW | {"title": "x" * 200}), APPLICATION_JSON), 201),
        "unicode-title": ((json.dumps(NEW | {"title": "Caisse éteinte — 🔥"}),
                           APPLICATION_JSON), 201),
    }
    send = _raw_creator(client, tokens.client)
    assert {name: send(request).status_code for name, (request, _) in edges.items()} == {
        name: status for name, (_, status) in edges.items()}


@pytest.fixture
def other_priority(app, world):
    """A P2 that exists only on another contract (of the other organisation)."""
    with app.app_context():
        other = db.session.get(factories.Organisation, world.other)
        calendars = {c.code: c for c in db.session.scalars(sa.select(factories.Calendar))}
        factories.contract(organisation=other, reference="CT-OTHER-2", calendars=calendars,
                           priorities=[("P2", "Haute", "24x7", 4, None)])
        db.session.commit()
    return "P2"


UNKNOWN_CONTRACT_OR_PRIORITY = {
    **{name: (NEW | {"contract": reference},
              _error("contract", f"unknown contract {reference!r}"))
       for name, reference in (("unknown-contract", "CT-NOPE"),
                               ("other-organisations-contract", "CT-OTHER"),
                               ("contract-in-wrong-case", "ct-shop"),
                               ("contract-injection", "CT-SHOP' OR '1'='1"))},
    **{name: (NEW | {"priority": code},
              _error("priority", f"Contract CT-SHOP has no priority {code!r}; choose one of "
                                 "P1, P3."))
       for name, code in (("unknown-priority", "P9"), ("priority-of-another-contract", "P2"),
                          ("priority-in-wrong-case", "p1"))},
}


def test_create_refuses_a_contract_or_priority_the_client_cannot_use(app, client, tokens,
                                                                     other_priority):
    _run_table(app, _creator(client, tokens.client), UNKNOWN_CONTRACT_OR_PRIORITY)


def test_create_keeps_tabs_and_newlines_of_the_description(app, client, tokens):
    text = "Steps:\n\t1. open the shop\r\n\t2. see the 500"
    number = _creator(client, tokens.client)(NEW | {"description": text}).get_json()["number"]
    with app.app_context():
        assert db.session.get(Ticket, parse_number(number)).description == text


def test_create_stores_markup_verbatim(app, client, tokens):
    text = f"Broken {HOSTILE} page"
    response = _creator(client, tokens.client)(NEW | {"title": text, "description": text})
    assert response.status_code == 201
    assert (response.get_json()["title"], response.get_json()["description"]) == (text, text)
    with app.app_context():
        ticket = db.session.get(Ticket, parse_number(response.get_json()["number"]))
        assert (ticket.title, ticket.description) == (text, text)
        assert ESCAPED not in ticket.title


# --- actions ----------------------------------------------------------------------------------


@pytest.fixture
def ticket(app, world):
    return open_ticket(app, requester=world.client)


ACTIONS = ("'take', 'reply', 'note', 'wait', 'resume', 'resolve', 'confirm', 'reopen', "
           "'cancel', 'reprioritise' or 'assign'")
BAD_ACTION_FIELDS = {
    "missing-action": ({}, _error("action", "is required")),
    "unknown-action": ({"action": "close"}, _error("action", f"must be one of {ACTIONS}")),
    "action-in-wrong-case": ({"action": "TAKE"}, _error("action", f"must be one of {ACTIONS}")),
    "number-action": ({"action": 1}, _error("action", f"must be one of {ACTIONS}")),
    "null-action": ({"action": None}, _error("action", f"must be one of {ACTIONS}")),
    "number-body": ({"action": "reply", "body": 42}, _error("body", "must be a string")),
    "list-body": ({"action": "reply", "body": ["hi"]}, _error("body", "must be a string")),
    "object-body": ({"action": "reply", "body": {"text": "hi"}},
                    _error("body", "must be a string")),
    "overlong-body": ({"action": "reply", "body": "x" * 20_001},
                      _error("body", "must be at most 20000 characters")),
    "nul-body": ({"action": "reply", "body": "a\x00b"},
                 _error("body", "must not contain control characters")),
    "overlong-reason": ({"action": "cancel", "reason": "x" * 1001},
                        _error("reason", "must be at most 1000 characters")),
    "boolean-reason": ({"action": "cancel", "reason": True}, _error("reason", "must be a string")),
    "unknown-field": ({"action": "take", "status": "closed"},
                      _error("status", "is not a known field")),
    "field-the-action-ignores": ({"action": "take", "body": "On it."},
                                 _error("body", "is not used by the take action")),
}


def test_action_refuses_bad_fields_with_422_naming_them(app, client, tokens, ticket):
    token = tokens.tech

    def send(body):
        return client.post(f"/api/v1/tickets/{ticket}/actions", json=body, headers=bearer(token))
    _run_table(app, send, BAD_ACTION_FIELDS)


BAD_ACTION_BODIES = {
    "list": (("[]", APPLICATION_JSON), (400, NOT_AN_OBJECT)),
    "string": (('"take"', APPLICATION_JSON), (400, NOT_AN_OBJECT)),
    "invalid": (("{", APPLICATION_JSON), (400, NOT_JSON)),
    "empty": (("", APPLICATION_JSON), (400, NOT_JSON)),
    "text-plain": (('{"action": "take"}', "text/plain"), (415, NOT_SENT_AS_JSON)),
    "form": (("action=take", "application/x-www-form-urlencoded"), (415, NOT_SENT_AS_JSON)),
}


def test_action_refuses_a_body_that_is_not_a_json_object_with_4xx(app, client, tokens, ticket):
    token = tokens.tech

    def send(request):
        data, content_type = request
        return client.post(f"/api/v1/tickets/{ticket}/actions", data=data,
                           content_type=content_type, headers=bearer(token))
    _run_table(app, send, BAD_ACTION_BODIES)


def test_action_on_an_unknown_ticket_is_404_before_reading_the_body(client, tokens):
    assert_problem(client.post("/api/v1/tickets/T-999999/actions", data="{",
                               content_type="text/plain", headers=bearer(tokens.tech)), 404)


def test_reply_stores_markup_verbatim(client, tokens, ticket):
    body = client.post(f"/api/v1/tickets/{ticket}/actions",
                       json={"action": "reply", "body": HOSTILE},
                       headers=bearer(tokens.client)).get_json()
    assert body["messages"][0]["body"] == HOSTILE


# --- anything else ----------------------------------------------------------------------------


def test_other_errors_are_problem_documents_too(app, client, tokens):
    token = tokens.tech
    limit = app.config["MAX_CONTENT_LENGTH"]
    table = {
        "put-on-collection": (("PUT", "/api/v1/tickets", None), 405),
        "delete-a-ticket": (("DELETE", "/api/v1/tickets/T-000001", None), 405),
        "patch-actions": (("PATCH", "/api/v1/tickets/T-000001/actions", None), 405),
        "unknown-path": (("GET", "/api/v1/nothing-here", None), 404),
        "oversized-body": (("POST", "/api/v1/tickets", NEW | {"description": "x" * limit}), 413),
    }
    before = row_counts(app)
    observed = {}
    for name, ((method, path, body), _) in table.items():
        response = client.open(path, method=method, json=body, headers=bearer(token))
        observed[name] = (response.status_code, response.mimetype)
    assert observed == {name: (status, PROBLEM) for name, (_, status) in table.items()}
    assert row_counts(app) == before


def test_method_not_allowed_says_which_methods_are(client, tokens):
    response = client.delete("/api/v1/tickets", headers=bearer(tokens.tech))
    assert set(response.headers.get("Allow", "").replace(" ", "").split(",")) >= {"GET", "POST"}


# -- a month in the query string --------------------------------------------------------------------

NOT_ASCII_YYYY_MM = "is not a month: write it YYYY-MM, e.g. 2026-10, in ASCII digits."
NOT_A_MONTH_NUMBER = ("is not a month: write it YYYY-MM, e.g. 2026-10, with a month number from "
                      "01 to 12.")
OUT_OF_BOUNDS = "is outside the months this helpdesk handles, 2000-01 to 2099-12."
# What finance might send as ?month=, and the problem's detail, which names it.
EDGE_MONTHS = {
    "0000-01": f"month: '0000-01' {OUT_OF_BOUNDS}",
    "9999-12": f"month: '9999-12' {OUT_OF_BOUNDS}",
    "2026-13": f"month: '2026-13' {NOT_A_MONTH_NUMBER}",
    "2026-00": f"month: '2026-00' {NOT_A_MONTH_NUMBER}",
    "２０２６-１０": f"month: '２０２６-１０' {NOT_ASCII_YYYY_MM}",  # fullwidth digits
    "٢٠٢٦-١٠": f"month: '٢٠٢٦-١٠' {NOT_ASCII_YYYY_MM}",  # Arabic-Indic digits
    "2026-1": f"month: '2026-1' {NOT_ASCII_YYYY_MM}",
    "": "month is required, as YYYY-MM (e.g. 2026-10).",
}


@pytest.mark.parametrize("path", ["/api/v1/breaches", "/api/v1/credit-notes"])
def test_a_month_out_of_shape_or_bounds_is_a_400_problem_naming_it(app, client, tokens, path):
    def send(month):
        return client.get(path, query_string={"month": month}, headers=bearer(tokens.finance))
    _run_table(app, send, {month: (month, (400, detail)) for month, detail in EDGE_MONTHS.items()})
