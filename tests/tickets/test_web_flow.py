"""A client opens an incident through the form; a technician works it from the queue."""
import re

from tests.conftest import csrf_token


def _new_incident(client, world, **overrides):
    data = {"contract": world.contract, "priority": f"{world.contract}|P1",
            "title": "Site down", "description": "The shop returns 500 on every page.",
            "csrf_token": csrf_token(client, "/tickets/new")}
    data.update(overrides)
    return client.post("/tickets/new", data=data)


def test_client_opens_incident_and_sees_its_number(world, login_as):
    client = login_as(world.client)
    response = _new_incident(client, world)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(r"T-\d{6}", page)
    assert "Site down" in page


def test_form_offers_priorities_with_gti_and_service_hours(world, login_as):
    page = login_as(world.client).get("/tickets/new").get_data(as_text=True)
    assert "P1 — Critique · GTI 2\N{NO-BREAK SPACE}h · GTR 8\N{NO-BREAK SPACE}h · 24 hours a day, 7 days a week" in page


def test_technician_takes_ticket_from_queue(world, login_as, app):
    client = login_as(world.client)
    location = _new_incident(client, world).headers["Location"]
    number = location.rsplit("/", 1)[1]
    client.post("/logout", data={"csrf_token": csrf_token(client, "/tickets")})

    tech = login_as(world.tech)
    assert number in tech.get("/queue").get_data(as_text=True)
    response = tech.post(f"/tickets/{number}/actions/take",
                         data={"csrf_token": csrf_token(tech, f"/tickets/{number}")})
    assert response.status_code == 302
    page = tech.get(f"/tickets/{number}").get_data(as_text=True)
    assert "in progress" in page

