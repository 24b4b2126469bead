"""A contract like the worked example's, with real tickets, breaches recorded by the sweep and
outages recorded on tickets; helpers to close and issue its months."""
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from flask import current_app

from helpdesk.accounts.roles import Role
from helpdesk.billing.settings import BillingSettings, billing_settings
from helpdesk.contracts.models import Metric, PenaltyRule
from helpdesk.escalation.services import sweep_batch
from helpdesk.extensions import db
from helpdesk.tickets import services
from helpdesk.tickets.models import Outage
from tests import factories

PARIS = ZoneInfo("Europe/Paris")


def paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS).astimezone(UTC)


def settings() -> BillingSettings:
    """The seller and billing zone of the application in context, as its edges read them."""
    return billing_settings(current_app.config)


@pytest.fixture
def ledger(app):
    """Inside an app context: the worked example's contract (fee 1,000.00, VAT 20 %, cap 30 %,
    availability 99.9 % with tiers 10 % / 25 %; P1 24/7 with GTI 2 h at 100.00 per breach and
    GTR 8 h at 2 % of the fee per started hour), a second client's contract, and the people."""
    with app.app_context():
        calendars = {"biz-fr": factories.calendar(),
                     "24x7": factories.calendar(code="24x7", always=True)}
        shop = factories.organisation(code="shop", name="Boutique Exemple SARL",
                                      address="1 rue Exemple, 49300 Cholet",
                                      company_id="123456789", vat_number="FR00123456789")
        other = factories.organisation(code="other", name="Autre Client SA")
        people = {
            "client": factories.user(email="client@shop.example", organisation=shop),
            "other_client": factories.user(email="client@other.example", organisation=other),
            "tech": factories.user(email="tech@provider.example", role=Role.TECHNICIAN),
            "lead": factories.user(email="lead@provider.example", role=Role.TEAM_LEAD),
            "finance": factories.user(email="finance@provider.example", role=Role.FINANCE),
            "admin": factories.user(email="admin@provider.example", role=Role.ADMIN),
        }
        priorities = [("P1", "Critique", "24x7", 2, 8), ("P3", "Normale", "biz-fr", 8, None)]
        contract = factories.contract(organisation=shop, reference="CT-SHOP",
                                      calendars=calendars, priorities=priorities)
        other_contract = factories.contract(organisation=other, reference="CT-OTHER",
                                            calendars=calendars, priorities=priorities)
        for row in (contract, other_contract):
            row.current_version.priority("P1").penalties.append(PenaltyRule(
                metric=Metric.GTR, fixed_amount=Decimal("0"),
                percent_per_started_hour=Decimal("2")))
        db.session.flush()
        yield {"contract": contract, "other_contract": other_contract, "shop": shop,
               "other": other, **people}


def open_ticket(ledger, at, *, priority="P1", contract="contract", client="client"):
    return services.open_ticket(actor=ledger[client], contract=ledger[contract],
                                priority_code=priority, title="Site down",
                                description="The shop is down.", now=at)


def sweep(at):
    while sweep_batch(now=at).tickets:
        pass


def outage(ledger, ticket, start, end):
    row = Outage(ticket_id=ticket.id, contract_id=ticket.contract_id, started_at=start,
                 ended_at=end, recorded_by_id=ledger["tech"].id, recorded_at=end or start)
    db.session.add(row)
    db.session.flush()
    return row


def worked_example(ledger):
    """October 2026: two P1 GTI breaches, one P1 GTR breach 2 h 30 late, a 2 h outage."""
    tech = ledger["tech"]
    first = open_ticket(ledger, paris(2026, 10, 5, 8, 0))
    services.take_ticket(first, actor=tech, now=paris(2026, 10, 5, 11, 0))  # GTI due 10:00
    services.resolve_ticket(first, actor=tech, now=paris(2026, 10, 5, 18, 30))  # GTR due 16:00
    second = open_ticket(ledger, paris(2026, 10, 12, 9, 0))
    services.take_ticket(second, actor=tech, now=paris(2026, 10, 12, 11, 30))  # GTI due 11:00
    services.resolve_ticket(second, actor=tech, now=paris(2026, 10, 12, 15, 0))
    outage(ledger, second, paris(2026, 10, 12, 9, 0), paris(2026, 10, 12, 11, 0))
    sweep(paris(2026, 11, 1, 0, 0))
    db.session.commit()
    return first, second
