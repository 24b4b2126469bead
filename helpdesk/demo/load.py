"""Demo data in the import format, loaded through the importer itself, then a month of history
(helpdesk/demo/history.py) and today's open tickets (queue.py); idempotent."""
from dataclasses import dataclass, fields
from datetime import datetime

from helpdesk.contracts.importer import ImportReport, apply_import
from helpdesk.contracts.schema import validate_import
from helpdesk.demo.history import HistoryReport, load_demo_history
from helpdesk.demo.queue import QueueReport, load_demo_queue

DEMO_PASSWORD = "helpdesk-demo"

_BUSINESS_WEEK = {day: [["08:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def _user(email: str, name: str, role: str, organisation: str | None = None) -> dict:
    user = {"email": email, "name": name, "role": role, "password": DEMO_PASSWORD,
            "timezone": "Europe/Paris", "language": "fr"}
    if organisation is not None:
        user["organisation"] = organisation
    return user


DEMO_DOCUMENT: dict = {
    "calendars": [
        {"code": "biz-fr", "timezone": "Europe/Paris", "weekly": _BUSINESS_WEEK,
         "holidays": {"country": "FR", "subdiv": None}, "closures": ["2026-12-24"]},
        {"code": "24x7", "timezone": "Europe/Paris", "always": True},
    ],
    "organisations": [
        {"code": "provider", "name": "Infogérance Exemple SAS", "kind": "internal",
         "address": "10 boulevard Exemple, 44000 Nantes", "company_id": "987654321",
         "vat_number": "FR00987654321"},
        {"code": "shop-cholet", "name": "Boutique Exemple SARL", "kind": "client",
         "address": "1 rue Exemple, 49300 Cholet", "company_id": "123456789",
         "vat_number": "FR00123456789"},
        {"code": "atelier-nantes", "name": "Atelier Exemple SAS", "kind": "client",
         "address": "5 quai Exemple, 44000 Nantes", "company_id": "456789123",
         "vat_number": "FR00456789123"},
    ],
    "users": [
        _user("client@example.com", "Claire Client", "client", "shop-cholet"),
        _user("other-client@example.com", "Olivier Atelier", "client", "atelier-nantes"),
        _user("tech@example.com", "Thomas Technicien", "technician"),
        _user("lead@example.com", "Léa Responsable", "team_lead"),
        _user("finance@example.com", "Fanny Finance", "finance"),
        _user("admin@example.com", "Adam Admin", "admin"),
    ],
    "contracts": [
        {"reference": "CT-2026-001", "organisation": "shop-cholet",
         "title": "Maintenance e-commerce", "starts_on": "2026-01-01", "ends_on": None,
         "monthly_fee": "1000.00", "currency": "EUR", "vat_rate": "20",
         "credit_cap_percent": "30", "credits_subject_to_vat": True,
         "availability": {"target_percent": "99.9", "calendar": "24x7",
                          "tiers": [{"below_percent": "99.9", "credit_percent": "10"},
                                    {"below_percent": "99.5", "credit_percent": "25"}]},
         "priorities": [
             {"code": "P1", "label": "Critique", "calendar": "24x7", "gti": "PT2H",
              "gtr": "PT8H",
              "escalations": [{"at_percent": 50, "notify": "assignee"},
                              {"at_percent": 80, "notify": "team_leads"}],
              "penalties": {"gti": {"fixed": "100.00", "percent_per_started_hour": "0"},
                            "gtr": {"fixed": "0", "percent_per_started_hour": "2"}}},
             {"code": "P2", "label": "Haute", "calendar": "biz-fr", "gti": "PT4H",
              "gtr": "PT16H",
              "escalations": [{"at_percent": 50, "notify": "assignee"},
                              {"at_percent": 80, "notify": "team_leads"}],
              "penalties": {"gti": {"fixed": "50.00", "percent_per_started_hour": "0"},
                            "gtr": {"fixed": "0", "percent_per_started_hour": "1"}}},
             {"code": "P3", "label": "Normale", "calendar": "biz-fr", "gti": "PT8H",
              "gtr": None,
              "escalations": [{"at_percent": 80, "notify": "team_leads"}],
              "penalties": {"gti": {"fixed": "20.00", "percent_per_started_hour": "0"}}},
         ]},
        {"reference": "CT-2026-002", "organisation": "atelier-nantes",
         "title": "Maintenance site vitrine", "starts_on": "2026-01-01", "ends_on": None,
         "monthly_fee": "400.00", "currency": "EUR", "vat_rate": "20",
         "credit_cap_percent": "20", "credits_subject_to_vat": True,
         "availability": None,
         "priorities": [
             {"code": "P1", "label": "Urgente", "calendar": "biz-fr", "gti": "PT4H",
              "gtr": "PT24H",
              "escalations": [{"at_percent": 50, "notify": "assignee"},
                              {"at_percent": 80, "notify": "team_leads"}],
              "penalties": {"gti": {"fixed": "40.00", "percent_per_started_hour": "0"}}},
             {"code": "P2", "label": "Normale", "calendar": "biz-fr", "gti": "PT16H",
              "gtr": None,
              "escalations": [{"at_percent": 80, "notify": "team_leads"}],
              "penalties": {}},
         ]},
    ],
}

# (email, role, password) of every demo account, for printing after `flask helpdesk demo`.
DEMO_ACCOUNTS: tuple[tuple[str, str, str], ...] = tuple(
    (user["email"], user["role"], user["password"]) for user in DEMO_DOCUMENT["users"]
)


class DemoDataError(RuntimeError):
    """The demo document no longer passes the importer's validation: a bug, not bad input."""


@dataclass
class DemoReport(ImportReport):
    """What the import did, then what the history did."""

    history: HistoryReport | None = None
    queue: QueueReport | None = None

    def lines(self) -> list[str]:
        return (super().lines() + (self.history.lines() if self.history else [])
                + (self.queue.lines() if self.queue else []))


def load_demo(*, now: datetime) -> DemoReport:
    """Create or bring up to date the demo data, and load the history of the month before `now`
    and today's open tickets once; a second run changes nothing. Flushes."""
    plan, errors = validate_import(DEMO_DOCUMENT)
    if plan is None:
        raise DemoDataError("the demo document is invalid:\n" + "\n".join(errors))
    report = apply_import(plan, now=now)
    history = load_demo_history(now=now)
    queue = load_demo_queue(now=now)
    return DemoReport(**{f.name: getattr(report, f.name) for f in fields(report)},
                      history=history, queue=queue)
