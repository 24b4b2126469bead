"""Idempotency-Key: a retried submission returns the ticket it already created, never a second."""
import sqlalchemy as sa

from helpdesk.accounts.models import User
from helpdesk.api import views
from helpdesk.extensions import db
from tests.api.helpers import assert_problem, bearer, row_counts

NEW = {"contract": "CT-SHOP", "priority": "P1", "title": "Site down",
       "description": "The shop returns 500 on every page."}


def _create(client, token, key, body=None):
    return client.post("/api/v1/tickets", json=body or NEW,
                       headers=bearer(token) | {"Idempotency-Key": key})


def test_same_key_and_body_twice_creates_one_ticket_and_says_it_replayed(app, client, tokens):
    first = _create(client, tokens.client, "retry-1")
    second = _create(client, tokens.client, "retry-1")
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.get_json()["number"] == second.get_json()["number"]
    assert row_counts(app)["tickets"] == 1
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.headers["Location"] == first.headers["Location"]


def test_same_key_with_the_same_fields_in_another_order_is_a_replay(app, client, tokens):
    _create(client, tokens.client, "retry-1")
    reordered = dict(reversed(list(NEW.items())))
    assert _create(client, tokens.client, "retry-1", reordered).headers["Idempotent-Replayed"]
    assert row_counts(app)["tickets"] == 1


def test_same_key_with_another_body_is_422_and_creates_nothing(app, client, tokens):
    _create(client, tokens.client, "retry-1")
    before = row_counts(app)
    problem = assert_problem(_create(client, tokens.client, "retry-1",
                                     NEW | {"title": "Another incident"}), 422)
    assert "Idempotency-Key" in problem["detail"]
    assert row_counts(app) == before


def test_same_key_from_two_users_creates_two_tickets(app, client, tokens):
    mine = _create(client, tokens.client, "retry-1")
    theirs = _create(client, tokens.tech, "retry-1")
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.get_json()["number"] != theirs.get_json()["number"]
    assert "Idempotent-Replayed" not in theirs.headers
    assert row_counts(app)["tickets"] == 2


def test_different_keys_create_different_tickets(app, client, tokens):
    _create(client, tokens.client, "retry-1")
    _create(client, tokens.client, "retry-2")
    assert row_counts(app)["tickets"] == 2


MALFORMED = {"overlong": "k" * 256, "empty": "", "blank": "   ", "leading-space": " padded",
             "control": "tab\there", "latin-1": "caf\u00e9"}


def test_malformed_key_is_400_and_creates_nothing(app, client, tokens):
    token = tokens.client
    before = row_counts(app)
    observed = {}
    for name, key in MALFORMED.items():
        response = _create(client, token, key)
        observed[name] = (response.status_code,
                          "Idempotency-Key" in (response.get_json() or {}).get("detail", ""))
    assert observed == dict.fromkeys(MALFORMED, (400, True))
    assert row_counts(app) == before
    assert _create(client, token, "k" * 255).status_code == 201  # the longest key is fine


def test_failed_submission_does_not_consume_its_key(app, client, tokens):
    assert _create(client, tokens.client, "retry-1", NEW | {"priority": "P9"}).status_code == 422
    response = _create(client, tokens.client, "retry-1")
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response.headers


def test_retry_racing_the_first_submission_gets_the_first_ticket(app, client, tokens,
                                                                 monkeypatch):
    """Two retries in flight: the second does not see the first's key until its own insert
    collides with it; it must then answer with the first ticket, not an error or a second one."""
    first = _create(client, tokens.client, "retry-1").get_json()["number"]
    real_replay = views._replay
    lookups = []

    def replay_not_yet_visible(user_id, key, digest):
        lookups.append(key)
        return None if len(lookups) == 1 else real_replay(user_id, key, digest)

    monkeypatch.setattr(views, "_replay", replay_not_yet_visible)
    second = _create(client, tokens.client, "retry-1")
    assert (second.status_code, second.get_json()["number"]) == (201, first)
    assert second.headers["Idempotent-Replayed"] == "true"
    assert row_counts(app)["tickets"] == 1


def test_a_replay_is_refused_to_a_caller_who_may_no_longer_see_the_ticket(app, client, world,
                                                                            tokens):
    """A client moved to another organisation replays its old key: 404, not the old
    organisation's ticket and its messages."""
    first = _create(client, tokens.client, "retry-1")
    assert first.status_code == 201
    with app.app_context():
        moved, other = (db.session.scalar(sa.select(User).where(User.email == email))
                        for email in (world.client, world.other_client))
        moved.organisation_id = other.organisation_id
        db.session.commit()
    replayed = _create(client, tokens.client, "retry-1")
    assert assert_problem(replayed, 404)["detail"] == f"No ticket {first.get_json()['number']}."
    assert "Idempotent-Replayed" not in replayed.headers
    assert "The shop returns 500" not in replayed.get_data(as_text=True)
    assert row_counts(app)["tickets"] == 1
