"""GET /api/v1/breaches?month=YYYY-MM: finance's list of a billing month's breaches.

Both contracts count their months in Europe/Paris. The month of a breach is the month of its due
instant in that zone: 2026-10-31T23:30Z is already 1 November in Paris.
"""
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from helpdesk.accounts.services import find_user
from helpdesk.escalation.jobs import run_sweep
from helpdesk.escalation.models import Breach
from helpdesk.escalation.services import waive_breach
from helpdesk.extensions import db
from helpdesk.tickets.models import parse_number
from tests.api.helpers import act, assert_problem, bearer, open_ticket

SHOP_OPENED = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)  # P1 24/7: GTI due 10:00Z, GTR 16:00Z
SHOP_TAKEN = datetime(2026, 11, 2, 11, 15, tzinfo=UTC)  # 75 min late
WAIVED_AT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
REASON = "Planned maintenance announced by the client"
LATE_NIGHT = datetime(2026, 10, 31, 21, 30, tzinfo=UTC)  # GTI due 23:30Z = 00:30 in Paris
EVENING = datetime(2026, 10, 31, 20, 0, tzinfo=UTC)  # GTI due 22:00Z = 23:00 in Paris


@pytest.fixture
def breaches(app, world):
    shop = open_ticket(app, requester=world.client, now=SHOP_OPENED)
    act(app, shop, "take", actor=world.tech, now=SHOP_TAKEN)
    late = open_ticket(app, requester=world.other_client, contract="CT-OTHER", now=LATE_NIGHT)
    evening = open_ticket(app, requester=world.other_client, contract="CT-OTHER", now=EVENING)
    run_sweep(app, now=datetime(2026, 11, 3, 8, 0, tzinfo=UTC), name="test")
    with app.app_context():
        gtr = db.session.scalar(sa.select(Breach).where(
            Breach.metric == "gtr", Breach.ticket_id == parse_number(shop)))
        waive_breach(gtr, actor=find_user(world.finance), reason=REASON, now=WAIVED_AT)
        db.session.commit()
    return SimpleNamespace(shop=shop, late=late, evening=evening)


def get_month(client, token, month):
    query = {} if month is None else {"month": month}
    return client.get("/api/v1/breaches", query_string=query, headers=bearer(token))


def by_key(body) -> dict[tuple[str, str], dict]:
    return {(b["ticket"], b["metric"]): b for b in body["breaches"]}


@pytest.mark.parametrize("person", ["finance", "admin"])
def test_finance_and_admin_get_the_months_breaches(client, tokens, breaches, person):
    response = get_month(client, getattr(tokens, person), "2026-11")
    assert response.status_code == 200
    body = response.get_json()
    assert body["month"] == "2026-11"
    assert set(by_key(body)) == {(breaches.shop, "gti"), (breaches.shop, "gtr"),
                                 (breaches.late, "gti"), (breaches.late, "gtr"),
                                 (breaches.evening, "gtr")}


def test_breach_carries_its_terms_due_instant_stop_and_delay(client, tokens, breaches):
    body = get_month(client, tokens.finance, "2026-11").get_json()
    breach = by_key(body)[(breaches.shop, "gti")]
    assert {key: breach[key] for key in (
        "ticket", "contract", "metric", "priority", "target_seconds", "breached_at",
        "stopped_at", "delay_seconds", "billing_month", "waived", "waived_at", "waived_by",
        "waiver_reason")} == {
        "ticket": breaches.shop, "contract": "CT-SHOP", "metric": "gti", "priority": "P1",
        "target_seconds": 7200, "breached_at": "2026-11-02T10:00:00Z",
        "stopped_at": "2026-11-02T11:15:00Z", "delay_seconds": 75 * 60,
        "billing_month": "2026-11", "waived": False, "waived_at": None, "waived_by": None,
        "waiver_reason": None}


def test_breached_at_is_the_due_instant_not_when_the_sweep_noticed(client, tokens, breaches):
    body = get_month(client, tokens.finance, "2026-11").get_json()
    due = LATE_NIGHT + timedelta(hours=8)
    assert by_key(body)[(breaches.late, "gtr")]["breached_at"] == due.isoformat().replace(
        "+00:00", "Z")
    assert by_key(body)[(breaches.late, "gtr")]["stopped_at"] is None


def test_waived_breach_is_included_and_flagged(client, tokens, breaches):
    body = get_month(client, tokens.admin, "2026-11").get_json()
    waived = by_key(body)[(breaches.shop, "gtr")]
    assert (waived["waived"], waived["waived_at"], waived["waived_by"], waived["waiver_reason"]
            ) == (True, "2026-11-20T09:00:00Z", "finance@provider.example", REASON)
    assert [b["waived"] for b in body["breaches"]].count(True) == 1


def test_billing_month_follows_the_contracts_time_zone(client, tokens, breaches):
    november = by_key(get_month(client, tokens.finance, "2026-11").get_json())
    october = by_key(get_month(client, tokens.finance, "2026-10").get_json())
    late = november[(breaches.late, "gti")]
    assert (late["breached_at"], late["billing_month"]) == ("2026-10-31T23:30:00Z", "2026-11")
    assert (breaches.late, "gti") not in october
    assert october[(breaches.evening, "gti")]["billing_month"] == "2026-10"
    assert set(october) == {(breaches.evening, "gti")}


def test_a_month_without_breaches_is_an_empty_list(client, tokens, breaches):
    response = get_month(client, tokens.finance, "2027-01")
    assert response.get_json() == {"month": "2027-01", "breaches": []}


@pytest.mark.parametrize("month", [None, "", "2026-13", "2026-1", "2026-11-01", "2026-11\n",
                                   "november"])
def test_missing_or_bad_month_is_a_400_problem(client, tokens, month):
    body = assert_problem(get_month(client, tokens.finance, month), 400)
    assert "month" in body["detail"]


@pytest.mark.parametrize("person", ["client", "tech", "lead"])
def test_other_roles_get_404(client, tokens, person):
    assert_problem(get_month(client, getattr(tokens, person), "2026-11"), 404)


def test_without_a_token_the_answer_is_401(client):
    assert_problem(client.get("/api/v1/breaches?month=2026-11"), 401)
