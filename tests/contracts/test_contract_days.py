"""A contract's start and end dates are days in the contract's time zone, on every surface.

At 23:30 UTC on 31 December 2026 it is already 1 January 2027 in Paris, but still 31 December
(18:30) in New York."""
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from helpdesk.accounts.services import find_user
from helpdesk.contracts.models import Contract
from helpdesk.errors import DomainError
from helpdesk.extensions import db
from helpdesk.tickets import services
from tests import factories
from tests.api.helpers import api_token, bearer, sign_in

NEW_YEARS_EVE = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
NEW_YEAR, LAST_DAY = date(2027, 1, 1), date(2026, 12, 31)


@pytest.fixture
def contracts(app, world):
    """CT-NEW starts on 1 January and CT-OLD ends on 31 December, both in Paris; CT-NYC starts
    on 1 January in New York. All belong to the shop of world.client."""
    with app.app_context():
        shop = find_user(world.client).organisation
        paris = {"biz-fr": factories.calendar(code="paris-biz"),
                 "24x7": factories.calendar(code="paris-24x7", always=True)}
        new_york = {"biz-fr": factories.calendar(code="nyc-biz", timezone="America/New_York",
                                                 holidays_country="US"),
                    "24x7": factories.calendar(code="nyc-24x7", timezone="America/New_York",
                                               always=True)}
        factories.contract(organisation=shop, reference="CT-NEW", calendars=paris,
                           title="From New Year", starts_on=NEW_YEAR)
        factories.contract(organisation=shop, reference="CT-OLD", calendars=paris,
                           title="Until New Year's Eve", starts_on=date(2026, 1, 1),
                           ends_on=LAST_DAY)
        factories.contract(organisation=shop, reference="CT-NYC", calendars=new_york,
                           title="New York, from New Year", starts_on=NEW_YEAR)
        db.session.commit()


def _open(app, world, reference: str) -> str:
    with app.app_context():
        contract = db.session.scalar(sa.select(Contract).where(Contract.reference == reference))
        ticket = services.open_ticket(actor=find_user(world.client), contract=contract,
                                      priority_code="P1", title="Down", description="Down.",
                                      now=NEW_YEARS_EVE)
        db.session.commit()
        return ticket.number


@pytest.mark.usefixtures("contracts")
def test_a_contract_starting_on_new_year_in_paris_accepts_tickets_at_2330_utc(app, world):
    assert _open(app, world, "CT-NEW").startswith("T-")


@pytest.mark.usefixtures("contracts")
@pytest.mark.parametrize("reference", ["CT-OLD", "CT-NYC"])
def test_a_contract_not_in_force_on_its_own_local_day_refuses_tickets(app, world, reference):
    with pytest.raises(DomainError, match=f"Contract {reference} is not active"):
        _open(app, world, reference)


@pytest.mark.usefixtures("contracts")
def test_the_incident_form_offers_the_contracts_in_force_on_their_local_day(app, client, world,
                                                                           clock):
    clock.freeze(NEW_YEARS_EVE)
    page = sign_in(app, client, world.client).get("/tickets/new").get_data(as_text=True)
    assert "CT-NEW — From New Year" in page
    assert "CT-OLD" not in page and "CT-NYC" not in page


@pytest.mark.usefixtures("contracts")
def test_the_api_opens_tickets_on_the_contracts_local_day(app, client, world, clock):
    token = api_token(app, world.client)
    clock.freeze(NEW_YEARS_EVE)
    for reference, expected in [("CT-NEW", 201), ("CT-OLD", 422), ("CT-NYC", 422)]:
        response = client.post("/api/v1/tickets", headers=bearer(token), json={
            "contract": reference, "priority": "P1", "title": "Down", "description": "Down."})
        assert response.status_code == expected, (reference, response.get_json())


@pytest.mark.usefixtures("contracts")
@pytest.mark.parametrize("reference, state", [("CT-NEW", "active"), ("CT-OLD", "inactive"),
                                              ("CT-NYC", "inactive")])
def test_contract_pages_say_whether_it_is_in_force_on_its_local_day(app, client, world, clock,
                                                                    reference, state):
    clock.freeze(NEW_YEARS_EVE)
    page = sign_in(app, client, world.client).get(f"/contracts/{reference}").get_data(
        as_text=True)
    assert f"({state})" in page
