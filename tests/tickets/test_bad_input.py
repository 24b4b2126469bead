"""Bad input to the web forms: the form comes back with a 400 and a clear message, nothing is
written; hostile but valid text is stored as typed and always shown escaped.

Refusal tables run in one test each (one application set-up per table keeps the suite fast on
PostgreSQL); a failure lists every row that answered otherwise.
"""
import html
import io
from pathlib import Path

import pytest
import sqlalchemy as sa

from helpdesk.accounts.models import Organisation
from helpdesk.contracts.models import Calendar
from helpdesk.extensions import db
from helpdesk.tickets.models import Status, Ticket
from tests import factories
from tests.api.helpers import (
    ESCAPED,
    HOSTILE,
    act,
    bring_to,
    open_ticket,
    row_counts,
    sign_in,
    status_of,
)
from tests.conftest import csrf_token

VALID = {"contract": "CT-SHOP", "priority": "CT-SHOP|P1", "title": "Site down",
         "description": "The shop returns 500 on every page."}


def _submit(client, **changes):
    """POST the New incident form; a change to None leaves the field out."""
    data = VALID | {"csrf_token": csrf_token(client, "/tickets/new")} | changes
    return client.post("/tickets/new", data={k: v for k, v in data.items() if v is not None})


@pytest.fixture
def client_user(app, client, world):
    return sign_in(app, client, world.client)


@pytest.fixture
def second_contract(app, world):
    """A second contract of the shop, whose priorities are not CT-SHOP's."""
    with app.app_context():
        calendars = {c.code: c for c in db.session.scalars(sa.select(Calendar))}
        factories.contract(organisation=db.session.get(Organisation, world.shop),
                           reference="CT-SHOP-2", calendars=calendars,
                           priorities=[("P2", "Haute", "24x7", 4, None)])
        db.session.commit()
    return "CT-SHOP-2"


NEW_INCIDENT_CASES = {
    "missing-title": ({"title": None}, "Give the incident a title."),
    "empty-title": ({"title": ""}, "Give the incident a title."),
    "blank-title": ({"title": "  \t "}, "Give the incident a title."),
    "overlong-title": ({"title": "x" * 201}, "Field cannot be longer than 200 characters."),
    "missing-description": ({"description": None}, "Describe the incident."),
    "blank-description": ({"description": "\n \n"}, "Describe the incident."),
    "overlong-description": ({"description": "x" * 20_001},
                             "Field cannot be longer than 20000 characters."),
    "no-contract-chosen": ({"contract": ""}, "Choose a contract."),
    "no-priority-chosen": ({"priority": ""}, "Choose a priority."),
    "unknown-contract": ({"contract": "CT-NOPE"}, "Not a valid choice."),
    "other-organisations-contract": ({"contract": "CT-OTHER", "priority": "CT-OTHER|P1"},
                                     "Not a valid choice."),
    "unknown-priority": ({"priority": "CT-SHOP|P9"}, "Not a valid choice."),
    "bare-priority-code": ({"priority": "P1"}, "Not a valid choice."),
    "priority-of-another-contract": ({"priority": "CT-SHOP-2|P2"},
                                     "Choose a priority of the selected contract."),
    "nul-in-title": ({"title": "Site\x00down"}, "Title contains control characters"),
    "newline-in-title": ({"title": "Site\r\ndown"}, "Title contains control characters"),
    "right-to-left-override-in-title": (
        {"title": "Invoice\u202efdp.exe"},
        "Title contains Unicode direction controls (such as U+202E), which can disguise what it "
        "says; remove them."),
    "isolate-in-title": ({"title": "Site \u2067down\u2069"},
                         "Title contains Unicode direction controls"),
    "nul-in-description": ({"description": "Site\x00down"},
                           "Description contains control characters"),
}


def _answer(response, message) -> tuple[int, bool]:
    return response.status_code, html.escape(message) in response.get_data(as_text=True)


def test_new_incident_with_bad_input_rerenders_with_400_and_message(app, client_user,
                                                                    second_contract):
    before = row_counts(app)
    observed = {case: _answer(_submit(client_user, **changes), message)
                for case, (changes, message) in NEW_INCIDENT_CASES.items()}
    assert observed == dict.fromkeys(NEW_INCIDENT_CASES, (400, True))
    assert row_counts(app) == before


def test_new_incident_rerender_keeps_what_was_typed(client_user):
    page = _submit(client_user, description=None, title="Checkout broken").get_data(as_text=True)
    assert 'value="Checkout broken"' in page


def test_new_incident_ignores_fields_the_form_does_not_have(app, client_user, world):
    response = _submit(client_user, status="closed", organisation_id=str(world.other),
                       requester_id="1", number="T-000042")
    assert response.status_code == 302
    with app.app_context():
        ticket = db.session.scalar(sa.select(Ticket))
        assert (ticket.status, ticket.organisation_id) == (Status.NEW, world.shop)
        assert ticket.requester.email == world.client


def test_new_incident_from_a_client_without_active_contract_says_so(app, client, world):
    with app.app_context():
        db.session.execute(sa.text("UPDATE contracts SET ends_on = '2026-01-31'"))
        db.session.commit()
    page = sign_in(app, client, world.client).get("/tickets/new").get_data(as_text=True)
    assert "no active contract" in page


# --- hostile but valid text ------------------------------------------------------------------


@pytest.fixture
def hostile_ticket(app, world):
    number = open_ticket(app, requester=world.client, title=f"Broken {HOSTILE}",
                         description=f"Page shows {HOSTILE}")
    return number


def test_hostile_title_is_stored_verbatim(app, client_user):
    assert _submit(client_user, title=HOSTILE).status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(Ticket.title)) == HOSTILE


def test_hostile_text_is_rendered_escaped_on_every_page(app, world, hostile_ticket):
    pages = [("client", f"/tickets/{hostile_ticket}"), ("client", "/tickets"),
             ("tech", f"/tickets/{hostile_ticket}"), ("tech", "/tickets"), ("tech", "/queue"),
             ("finance", f"/tickets/{hostile_ticket}"), ("finance", "/tickets")]
    browsers = {person: sign_in(app, app.test_client(), getattr(world, person))
                for person in ("client", "tech", "finance")}
    observed = {}
    for person, path in pages:
        page = browsers[person].get(path).get_data(as_text=True)
        observed[(person, path)] = (ESCAPED in page, "<script>alert" in page)
    assert observed == dict.fromkeys(pages, (True, False))


def test_hostile_message_is_rendered_escaped(app, client, world, hostile_ticket):
    act(app, hostile_ticket, "reply", actor=world.tech, body=f"Try {HOSTILE}")
    act(app, hostile_ticket, "note", actor=world.tech, body=f"Note {HOSTILE}")
    page = sign_in(app, client, world.tech).get(
        f"/tickets/{hostile_ticket}").get_data(as_text=True)
    assert page.count(ESCAPED) >= 4  # title, description, reply, note
    assert "<script>alert" not in page


def test_hostile_value_echoed_in_a_rejected_form_is_escaped(client_user):
    page = _submit(client_user, title=HOSTILE, description=None).get_data(as_text=True)
    assert "<script>alert" not in page
    assert html.escape(HOSTILE) in page


# --- action forms -----------------------------------------------------------------------------


def _action(client, number, action, **data):
    token = csrf_token(client, f"/tickets/{number}")
    return client.post(f"/tickets/{number}/actions/{action}", data={"csrf_token": token, **data})


@pytest.fixture
def ticket(app, world):
    return open_ticket(app, requester=world.client)


# name -> (status, person, action, form data, message)
ACTION_CASES = {
    "reply-empty": ("new", "client", "reply", {"body": ""}, "Write a message."),
    "reply-blank": ("new", "tech", "reply", {"body": "  \n "}, "Write a message."),
    "reply-missing": ("new", "client", "reply", {}, "Write a message."),
    "reply-overlong": ("new", "client", "reply", {"body": "x" * 20_001},
                       "Field cannot be longer than 20000 characters."),
    "note-empty": ("new", "tech", "note", {"body": ""}, "Write the note."),
    "cancel-no-reason": ("new", "tech", "cancel", {"reason": ""},
                         "Say why the ticket is cancelled."),
    "cancel-overlong-reason": ("new", "tech", "cancel", {"reason": "x" * 1001},
                               "Field cannot be longer than 1000 characters."),
    "reprioritise-no-reason": ("new", "tech", "reprioritise", {"priority": "P3", "reason": ""},
                               "Say why the priority changes."),
    "reprioritise-no-priority": ("new", "tech", "reprioritise", {"priority": "", "reason": "x"},
                                 "Choose a priority."),
    "reprioritise-unknown": ("new", "tech", "reprioritise", {"priority": "P9", "reason": "x"},
                             "Not a valid choice."),
    "reprioritise-same": ("new", "tech", "reprioritise", {"priority": "P1", "reason": "x"},
                          "Not a valid choice."),
    "assign-nobody": ("new", "lead", "assign", {"assignee": ""}, "Choose a person."),
    "assign-unknown": ("new", "lead", "assign", {"assignee": "nobody@provider.example"},
                       "Not a valid choice."),
    "assign-a-client": ("new", "lead", "assign", {"assignee": "client@shop.example"},
                        "Not a valid choice."),
    "reopen-overlong-reason": ("resolved", "client", "reopen", {"reason": "x" * 1001},
                               "Field cannot be longer than 1000 characters."),
    "reply-nul": ("new", "client", "reply", {"body": "a\x00b"},
                  "Message contains control characters"),
    "note-escape": ("new", "tech", "note", {"body": "a\x1bb"},
                    "Note contains control characters"),
}


def _browsers(app, world) -> dict:
    return {person: sign_in(app, app.test_client(), getattr(world, person))
            for person in ("client", "tech", "lead")}


def test_action_form_with_bad_input_rerenders_with_400_and_message(app, world):
    browsers = _browsers(app, world)
    observed = {}
    for case, (status, person, action, data, message) in ACTION_CASES.items():
        number = open_ticket(app, requester=world.client)
        bring_to(app, number, status, world=world)
        before = row_counts(app)
        response = _action(browsers[person], number, action, **data)
        observed[case] = (*_answer(response, message), row_counts(app) == before,
                          status_of(app, number) == status)
    assert observed == dict.fromkeys(ACTION_CASES, (400, True, True, True))


NOT_NOW = [("new", "tech", "resolve"), ("closed", "tech", "take"), ("new", "client", "confirm"),
           ("new", "client", "take"), ("cancelled", "client", "reply")]


def test_action_not_allowed_now_is_409_with_message_and_changes_nothing(app, world):
    browsers = _browsers(app, world)
    observed = {}
    for status, person, action in NOT_NOW:
        number = open_ticket(app, requester=world.client)
        bring_to(app, number, status, world=world)
        before = row_counts(app)
        response = _action(browsers[person], number, action, body="x", reason="x")
        observed[(status, person, action)] = (
            *_answer(response, f"You cannot {action} this ticket now."),
            row_counts(app) == before)
    assert observed == dict.fromkeys(NOT_NOW, (409, True, True))


def test_unknown_action_is_404(app, client, world, ticket):
    sign_in(app, client, world.tech)
    before = row_counts(app)
    actions = ["explode", "TAKE", "take%00", "..%2Fetc", "take "]
    assert {a: _action(client, ticket, a).status_code for a in actions} == dict.fromkeys(
        actions, 404)
    assert row_counts(app) == before


def test_ticket_list_ignores_a_page_marker_it_cannot_use(app, client, world):
    sign_in(app, client, world.client)
    markers = ["abc", "-1", "0", "", str(2**31), str(2**63), str(10**30)]
    assert {m: client.get(f"/tickets?before={m}").status_code for m in markers} == dict.fromkeys(
        markers, 200)


def test_ticket_or_attachment_beyond_32_bits_is_404(app, client, world, ticket):
    sign_in(app, client, world.client)
    paths = ["/tickets/T-002147483648", "/tickets/T-999999999999",
             f"/tickets/{ticket}/attachments/{2**31}"]
    observed = {}
    for path in paths:
        with client.get(path) as response:
            observed[path] = response.status_code
    assert observed == dict.fromkeys(paths, 404)


# --- attachments ------------------------------------------------------------------------------


def _files(app) -> list[str]:
    folder = Path(app.config["ATTACHMENT_DIR"])
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _submit_with_file(client, content: bytes, **changes):
    data = VALID | {"csrf_token": csrf_token(client, "/tickets/new"),
                    "attachment": (io.BytesIO(content), "log.txt")} | changes
    return client.post("/tickets/new", data=data, content_type="multipart/form-data")


def test_new_incident_refused_with_its_attachment_writes_nothing(app, client_user):
    cases = {  # (file content, other changes, message)
        "empty-file": (b"", {}, "The attachment is empty."),
        "file-too-large": (b"x" * 70_000, {}, "The attachment is larger than"),
        "refused-by-the-rules-after-upload": (b"log", {"title": "Site\x00down"},
                                              "Title contains control characters"),
    }
    before = row_counts(app)
    observed = {name: _answer(_submit_with_file(client_user, content, **changes), message)
                for name, (content, changes, message) in cases.items()}
    assert observed == dict.fromkeys(cases, (400, True))
    assert row_counts(app) == before
    assert _files(app) == []
