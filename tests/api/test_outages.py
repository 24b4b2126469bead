"""Outages through the API: /api/v1/tickets/NUMBER/outages, the web's rules answered in JSON.

The API runs on the real clock, so instants are taken relative to it. Refusal tables run in one
test each and compare every row at once; every refusal leaves the outages and the audit as they
were.
"""
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from helpdesk.accounts.services import find_user
from helpdesk.audit.models import AuditEntry
from helpdesk.clock import now_utc
from helpdesk.extensions import db
from helpdesk.tickets import outages
from helpdesk.tickets.models import Outage, Ticket, parse_number
from tests.api.helpers import PROBLEM, assert_problem, bearer, bring_to, open_ticket

H = timedelta(hours=1)


@pytest.fixture
def ago():
    """Instants before the start of the test, on the real clock the API reads."""
    start = now_utc().replace(microsecond=0)
    return lambda minutes: start - timedelta(minutes=minutes)


def _z(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


@pytest.fixture
def number(app, world):
    """A P1 ticket of the shop, opened by its client a day ago: outages start after that."""
    return open_ticket(app, requester=world.client, now=now_utc() - timedelta(days=1))


def _seed(app, number, *, started_at, ended_at=None, by="tech@provider.example") -> int:
    with app.app_context():
        outage = outages.record_outage(db.session.get(Ticket, parse_number(number)),
                                       actor=find_user(by), started_at=started_at,
                                       ended_at=ended_at, now=now_utc())
        db.session.commit()
        return outage.id


def _state(app) -> tuple:
    with app.app_context():
        rows = db.session.execute(sa.select(Outage.id, Outage.started_at, Outage.ended_at)
                                  .order_by(Outage.id)).all()
        audits = db.session.execute(sa.select(AuditEntry.action).where(
            AuditEntry.entity == "ticket").order_by(AuditEntry.id)).scalars().all()
        return [tuple(row) for row in rows], audits


def _post(client, token, number, body):
    return client.post(f"/api/v1/tickets/{number}/outages", json=body, headers=bearer(token))


def _patch(client, token, number, outage_id, body):
    return client.patch(f"/api/v1/tickets/{number}/outages/{outage_id}", json=body,
                        headers=bearer(token))


def test_technician_records_an_ended_outage(client, tokens, number, ago):
    start, end = ago(120), ago(30)
    response = _post(client, tokens.tech, number, {"started_at": _z(start), "ended_at": _z(end)})
    assert response.status_code == 201
    body = response.get_json()
    assert body == {"id": body["id"], "ticket": number, "started_at": _z(start),
                    "ended_at": _z(end), "duration_seconds": 90 * 60,
                    "recorded_by": "tech@provider.example", "recorded_at": body["recorded_at"]}


def test_outage_without_an_end_is_ongoing_with_no_duration(client, tokens, number, ago):
    body = _post(client, tokens.lead, number, {"started_at": _z(ago(60))}).get_json()
    assert (body["ended_at"], body["duration_seconds"]) == (None, None)


def test_instant_with_an_offset_is_answered_in_utc(client, tokens, number, ago):
    start = ago(60)
    utc = start.replace(tzinfo=None).isoformat() + "+00:00"
    plus_one = (start + H).replace(tzinfo=None).isoformat() + "+01:00"
    for text in (utc, plus_one):
        body = _post(client, tokens.tech, number,
                     {"started_at": text, "ended_at": _z(ago(1))}).get_json()
        assert body["started_at"] == _z(start)


def test_technician_ends_an_ongoing_outage(app, client, tokens, number, ago):
    outage_id = _seed(app, number, started_at=ago(90))
    end = ago(5)
    response = _patch(client, tokens.tech, number, outage_id, {"ended_at": _z(end)})
    assert response.status_code == 200
    assert (response.get_json()["ended_at"], response.get_json()["duration_seconds"]) == (
        _z(end), 85 * 60)
    assert _state(app)[1][-1] == "end_outage"


def test_admin_corrects_an_outage_with_a_reason(app, client, tokens, number, ago):
    outage_id = _seed(app, number, started_at=ago(90), ended_at=ago(60))
    response = _patch(client, tokens.admin, number, outage_id,
                      {"started_at": _z(ago(120)), "reason": "Monitoring saw it earlier."})
    assert response.status_code == 200
    assert response.get_json()["started_at"] == _z(ago(120))
    assert response.get_json()["ended_at"] == _z(ago(60))  # kept: not in the body
    with app.app_context():
        entry = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert (entry.action, entry.reason, entry.actor.email) == (
            "correct_outage", "Monitoring saw it earlier.", "admin@provider.example")


def test_correction_with_a_null_end_makes_the_outage_ongoing_again(app, client, tokens,
                                                                  number, ago):
    outage_id = _seed(app, number, started_at=ago(90), ended_at=ago(60))
    body = _patch(client, tokens.tech, number, outage_id,
                  {"ended_at": None, "reason": "Ended by mistake."}).get_json()
    assert (body["ended_at"], body["duration_seconds"]) == (None, None)


@pytest.mark.parametrize("person", ["client", "finance", "tech"])
def test_everyone_who_sees_the_ticket_lists_its_outages(app, client, tokens, number, person, ago):
    first = _seed(app, number, started_at=ago(240), ended_at=ago(180))
    second = _seed(app, number, started_at=ago(60))
    response = client.get(f"/api/v1/tickets/{number}/outages",
                          headers=bearer(getattr(tokens, person)))
    assert response.status_code == 200
    assert [(o["id"], o["ended_at"]) for o in response.get_json()["outages"]] == [
        (first, _z(ago(180))), (second, None)]


def test_one_ticket_carries_its_outages_and_a_page_of_tickets_does_not(app, client, tokens,
                                                                       number, ago):
    outage_id = _seed(app, number, started_at=ago(60))
    headers = bearer(tokens.client)
    one = client.get(f"/api/v1/tickets/{number}", headers=headers).get_json()
    page = client.get("/api/v1/tickets", headers=headers).get_json()
    assert [o["id"] for o in one["outages"]] == [outage_id]
    assert "outages" not in page["tickets"][0]


def test_new_ticket_answers_with_no_outages(client, tokens):
    response = client.post("/api/v1/tickets", headers=bearer(tokens.client), json={
        "contract": "CT-SHOP", "priority": "P1", "title": "Down", "description": "Down."})
    assert response.get_json()["outages"] == []


# --- refusals ---------------------------------------------------------------------------------


def _summary(response) -> tuple:
    """(status, errors[] fields or detail) of a problem document."""
    if response.mimetype != PROBLEM:
        return response.status_code, response.mimetype
    body = assert_problem(response, response.status_code)
    errors = body.get("errors")
    return response.status_code, [e["field"] for e in errors] if errors else body["detail"]


def test_bad_record_requests_are_refused_and_change_nothing(app, client, tokens, number, ago):
    ongoing = _seed(app, number, started_at=ago(120))
    past, later = _z(ago(60)), _z(now_utc() + H)
    table = {
        "no start": ({"ended_at": past}, (422, ["started_at"])),
        "naive start": ({"started_at": "2026-11-01T10:00:00"}, (422, ["started_at"])),
        "date only": ({"started_at": "2026-11-01"}, (422, ["started_at"])),
        "not a date": ({"started_at": "yesterday", "ended_at": past}, (422, ["started_at"])),
        "number": ({"started_at": 1764000000}, (422, ["started_at"])),
        "year 1 shifted out of range": ({"started_at": "0001-01-01T00:00:00+01:00"},
                                        (422, ["started_at"])),
        "year 9999 shifted out of range": ({"started_at": past,
                                            "ended_at": "9999-12-31T23:59:59-01:00"},
                                           (422, ["ended_at"])),
        "naive end": ({"started_at": past, "ended_at": "2026-11-01T10:00"},
                      (422, ["ended_at"])),
        "unknown field": ({"started_at": past, "ended_at": past, "reason": "x"},
                          (422, ["reason"])),
        "start in the future": ({"started_at": later},
                                (422, ["started_at"])),
        "start before the ticket was opened": ({"started_at": _z(ago(2 * 24 * 60)),
                                                "ended_at": past}, (422, ["started_at"])),
        "start in year 2": ({"started_at": "0002-01-01T00:00:00Z", "ended_at": past},
                            (422, ["started_at"])),
        "end in the future": ({"started_at": past, "ended_at": later}, (422, ["ended_at"])),
        "end before start": ({"started_at": past, "ended_at": _z(ago(90))},
                             (422, ["ended_at"])),
        "second ongoing": ({"started_at": past},
                           (409, f"Outage #{ongoing} of this ticket is still ongoing: end it "
                                 "first, a ticket has at most one ongoing outage.")),
    }
    before = _state(app)
    observed = {name: _summary(_post(client, tokens.tech, number, body))
                for name, (body, _) in table.items()}
    assert observed == {name: expected for name, (_, expected) in table.items()}
    assert _state(app) == before


def test_recording_on_a_cancelled_ticket_is_409_and_changes_nothing(app, client, tokens,
                                                                    world, number, ago):
    bring_to(app, number, "cancelled", world=world)
    before = _state(app)
    response = _post(client, tokens.tech, number, {"started_at": _z(ago(60))})
    assert _summary(response) == (409, "Cannot record an outage on a ticket that is cancelled.")
    assert _state(app) == before


def test_bad_changes_are_refused_and_change_nothing(app, client, tokens, number, ago):
    ended = _seed(app, number, started_at=ago(240), ended_at=ago(180))
    ongoing = _seed(app, number, started_at=ago(120))
    table = {
        "empty body": (ongoing, {}, (422, ["ended_at"])),
        "null end without reason": (ongoing, {"ended_at": None}, (422, ["reason"])),
        "start without reason": (ended, {"started_at": _z(ago(300))}, (422, ["reason"])),
        "reason alone": (ended, {"reason": "x"}, (422, ["started_at"])),
        "empty reason": (ended, {"started_at": _z(ago(300)), "reason": "  "},
                         (422, ["reason"])),
        "unknown field": (ongoing, {"ended_at": _z(ago(1)), "note": "x"}, (422, ["note"])),
        "naive end": (ongoing, {"ended_at": "2026-11-27T10:00:00"}, (422, ["ended_at"])),
        "end before start": (ongoing, {"ended_at": _z(ago(130))}, (422, ["ended_at"])),
        "end in the future": (ongoing, {"ended_at": _z(now_utc() + H)}, (422, ["ended_at"])),
        "start corrected to before the ticket was opened": (
            ended, {"started_at": _z(ago(2 * 24 * 60)), "reason": "x"}, (422, ["started_at"])),
        "end an ended outage": (ended, {"ended_at": _z(ago(1))},
                                (409, "This outage has already ended; to change its end, "
                                      "correct it with a reason.")),
        "same instants": (ended, {"started_at": _z(ago(240)), "reason": "x"},
                          (422, "These are the instants already recorded: nothing to "
                                "correct.")),
        "second ongoing": (ended, {"ended_at": None, "reason": "x"},
                           (409, f"Outage #{ongoing} of this ticket is still ongoing: end it "
                                 "first, a ticket has at most one ongoing outage.")),
        "unknown outage": (2**31 - 1, {"ended_at": _z(ago(1))},
                           (404, f"Ticket {number} has no outage {2**31 - 1}.")),
    }
    before = _state(app)
    observed = {name: _summary(_patch(client, tokens.tech, number, outage_id, body))
                for name, (outage_id, body, _) in table.items()}
    assert observed == {name: expected for name, (_, _, expected) in table.items()}
    assert _state(app) == before


def test_body_that_is_not_a_json_object_is_refused(app, client, tokens, number):
    headers = bearer(tokens.tech)
    before = _state(app)
    observed = {
        "form body": client.post(f"/api/v1/tickets/{number}/outages",
                                 data={"started_at": "x"}, headers=headers).status_code,
        "json array": _post(client, tokens.tech, number, []).status_code,
        "broken json": client.post(f"/api/v1/tickets/{number}/outages", data="{",
                                   content_type="application/json",
                                   headers=headers).status_code,
    }
    assert observed == {"form body": 415, "json array": 400, "broken json": 400}
    assert _state(app) == before


# --- who may ----------------------------------------------------------------------------------


def test_who_may_record_and_change_outages(app, client, tokens, number, ago):
    """Staff may; the client and finance see the ticket but get 403 whatever the body; the other
    organisation's client gets 404, as for a ticket that does not exist."""
    outage_id = _seed(app, number, started_at=ago(240), ended_at=ago(180))
    people = ("client", "finance", "other_client", "tech", "lead", "admin")
    before = _state(app)
    observed = {}
    for person in people:
        token = getattr(tokens, person)
        observed[person] = (
            _post(client, token, number, {"started_at": "garbage"}).status_code,
            _patch(client, token, number, outage_id, {}).status_code,
            client.get(f"/api/v1/tickets/{number}/outages",
                       headers=bearer(token)).status_code)
    assert observed == {"client": (403, 403, 200), "finance": (403, 403, 200),
                        "other_client": (404, 404, 404), "tech": (422, 422, 200),
                        "lead": (422, 422, 200), "admin": (422, 422, 200)}
    assert _state(app) == before


def test_anonymous_gets_401(client, number):
    observed = [client.get(f"/api/v1/tickets/{number}/outages").status_code,
                client.post(f"/api/v1/tickets/{number}/outages", json={}).status_code,
                client.patch(f"/api/v1/tickets/{number}/outages/1", json={}).status_code]
    assert observed == [401, 401, 401]


def test_outage_of_another_ticket_is_404(app, client, tokens, world, number, ago):
    other = open_ticket(app, requester=world.other_client, contract="CT-OTHER",
                        now=now_utc() - timedelta(days=1))
    foreign = _seed(app, other, started_at=ago(60))
    before = _state(app)
    response = _patch(client, tokens.tech, number, foreign, {"ended_at": _z(ago(1))})
    assert _summary(response) == (404, f"Ticket {number} has no outage {foreign}.")
    assert _state(app) == before


def test_openapi_documents_the_outage_endpoints(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    assert set(paths["/tickets/{number}/outages"]) == {"get", "post"}
    assert set(paths["/tickets/{number}/outages/{id}"]) == {"patch"}
    assert {"Outage", "OutageCreate", "OutageChange"} <= set(spec["components"]["schemas"])
    assert "outages" in spec["components"]["schemas"]["Ticket"]["properties"]
