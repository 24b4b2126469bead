"""A small, hand-built history whose figures are known, for the dashboard and the SLA report
(tests/reporting and the browser tests).

Contracts CT-SHOP (organisation "shop") and CT-OTHER ("other"), both with P1 (24/7, GTI 2 h,
GTR 8 h) and P3 (business hours Europe/Paris, GTI 8 h, no GTR). Times are Paris wall-clock.

- T-1, shop, P1: opened Mon 5 Oct 08:00, taken 09:00 (GTI met, 1 h), resolved 12:00 (GTR met, 4 h)
- T-2, shop, P1: opened Mon 12 Oct 09:00, taken 11:30 (GTI missed, 2.5 h), resolved 15:00 (GTR
  met, 6 h)
- T-3, shop, P1: opened Thu 10 Sep 10:00, taken 10:30 (GTI met, 0.5 h), resolved 20:00 (GTR
  missed, 10 h)
- T-4, other, P1: opened Tue 20 Oct 10:00, taken 13:00 (GTI missed, 3 h *), resolved 14:00 (GTR
  met, 4 h)
- T-5, other, P3: opened Fri 16 Oct 17:00, taken Mon 19 Oct 09:00 (GTI met, 2 h **)
- T-6, shop, P1: opened Thu 22 Oct 10:00, its GTI breached at 12:00, cancelled at 14:00

* waived by finance.  ** 2 h of service time (Friday 17–18 h, Monday 8–9 h), 64 h wall-clock.
"""
from datetime import UTC, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from helpdesk.accounts.roles import Role
from helpdesk.escalation.models import Breach
from helpdesk.escalation.services import sweep_batch, waive_breach
from helpdesk.extensions import db
from helpdesk.tickets import services
from tests import factories

PARIS = ZoneInfo("Europe/Paris")
PRIORITIES = [("P1", "Critique", "24x7", 2, 8), ("P3", "Normale", "biz-fr", 8, None)]


def paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS).astimezone(UTC)


def sweep(at: datetime) -> None:
    while sweep_batch(now=at).tickets:
        pass


def make_people() -> dict:
    """Two client organisations with a contract each, and the staff; flushed."""
    calendars = {"biz-fr": factories.calendar(),
                 "24x7": factories.calendar(code="24x7", always=True)}
    shop = factories.organisation(code="shop", name="Boutique Exemple SARL")
    other = factories.organisation(code="other", name="Autre Client SA")
    return {
        "shop": shop, "other": other,
        "contract": factories.contract(organisation=shop, reference="CT-SHOP",
                                       calendars=calendars, priorities=PRIORITIES),
        "other_contract": factories.contract(organisation=other, reference="CT-OTHER",
                                             calendars=calendars, priorities=PRIORITIES),
        "client": factories.user(email="client@shop.example", organisation=shop),
        "other_client": factories.user(email="client@other.example", organisation=other),
        "tech": factories.user(email="tech@provider.example", role=Role.TECHNICIAN,
                               name="Tom Tech"),
        "lead": factories.user(email="lead@provider.example", role=Role.TEAM_LEAD),
        "finance": factories.user(email="finance@provider.example", role=Role.FINANCE),
        "admin": factories.user(email="admin@provider.example", role=Role.ADMIN),
    }


def open_ticket(people, at, *, priority="P1", contract="contract", client="client",
                title="Site down"):
    return services.open_ticket(actor=people[client], contract=people[contract],
                                priority_code=priority, title=title,
                                description="The shop is down.", now=at)


def build_history(people) -> SimpleNamespace:
    """The table above, swept as of 1 November and committed; the GTI breach of T-4 waived.
    Returns plain values (e-mails, organisation ids) that outlive the session."""
    tech = people["tech"]

    def worked(opened, taken=None, resolved=None, **kwargs):
        ticket = open_ticket(people, opened, **kwargs)
        if taken:
            services.take_ticket(ticket, actor=tech, now=taken)
        if resolved:
            services.resolve_ticket(ticket, actor=tech, now=resolved)
        return ticket

    worked(paris(2026, 10, 5, 8), paris(2026, 10, 5, 9), paris(2026, 10, 5, 12))
    worked(paris(2026, 10, 12, 9), paris(2026, 10, 12, 11, 30), paris(2026, 10, 12, 15))
    worked(paris(2026, 9, 10, 10), paris(2026, 9, 10, 10, 30), paris(2026, 9, 10, 20))
    fourth = worked(paris(2026, 10, 20, 10), paris(2026, 10, 20, 13), paris(2026, 10, 20, 14),
                    contract="other_contract", client="other_client")
    worked(paris(2026, 10, 16, 17), paris(2026, 10, 19, 9), priority="P3",
           contract="other_contract", client="other_client")
    cancelled = worked(paris(2026, 10, 22, 10))
    sweep(paris(2026, 10, 22, 13))  # the cancelled ticket's GTI breached first
    services.cancel_ticket(cancelled, actor=tech, reason="Duplicate", now=paris(2026, 10, 22, 14))
    sweep(paris(2026, 11, 1))
    waive_breach(db.session.scalar(sa.select(Breach).where(Breach.ticket_id == fourth.id,
                                                           Breach.metric == "gti")),
                 actor=people["finance"], reason="Client network down", now=paris(2026, 11, 2))
    handles = SimpleNamespace(**{name: people[name].email for name in (
        "client", "other_client", "tech", "lead", "finance", "admin")},
        shop=people["shop"].id, other=people["other"].id)
    db.session.commit()
    return handles
