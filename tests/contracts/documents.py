"""The import document of DESIGN §5, shared by the tests of the import and of the demo."""
import copy

import sqlalchemy as sa

from helpdesk.accounts.models import Organisation, User
from helpdesk.audit.models import AuditEntry
from helpdesk.contracts.models import Calendar, Contract, ContractVersion, Priority
from helpdesk.extensions import db

PASSWORD = "a long import password"

# The example of DESIGN §5, with a real password.
EXAMPLE = {
    "calendars": [
        {"code": "biz-fr", "timezone": "Europe/Paris",
         "weekly": {"mon": [["08:00", "18:00"]], "tue": [["08:00", "18:00"]],
                    "wed": [["08:00", "18:00"]], "thu": [["08:00", "18:00"]],
                    "fri": [["08:00", "18:00"]]},
         "holidays": {"country": "FR", "subdiv": None}, "closures": ["2026-12-24"]},
        {"code": "24x7", "timezone": "Europe/Paris", "always": True},
    ],
    "organisations": [
        {"code": "shop-cholet", "name": "Boutique Exemple SARL", "kind": "client",
         "address": "1 rue Exemple, 49300 Cholet", "company_id": "123456789",
         "vat_number": "FR00123456789"},
    ],
    "users": [
        {"email": "client@shop.example", "name": "Claire Client", "role": "client",
         "organisation": "shop-cholet", "password": PASSWORD, "timezone": "Europe/Paris"},
    ],
    "contracts": [
        {"reference": "CT-2026-001", "organisation": "shop-cholet",
         "title": "Maintenance e-commerce",
         "starts_on": "2026-01-01", "ends_on": None, "monthly_fee": "1000.00", "currency": "EUR",
         "vat_rate": "20", "credit_cap_percent": "30", "credits_subject_to_vat": True,
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
             {"code": "P3", "label": "Normale", "calendar": "biz-fr", "gti": "PT8H",
              "gtr": None,
              "escalations": [{"at_percent": 80, "notify": "team_leads"}],
              "penalties": {"gti": {"fixed": "20.00", "percent_per_started_hour": "0"}}},
         ]},
    ],
}

COUNTED = (Calendar, Organisation, User, Contract, ContractVersion, Priority, AuditEntry)


def example() -> dict:
    return copy.deepcopy(EXAMPLE)


def row_counts() -> dict[str, int]:
    return {model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in COUNTED}
