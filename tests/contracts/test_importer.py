"""The import use case: validate the whole document, then create or update by key."""
import copy
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpdesk.accounts.models import Organisation, OrganisationKind, Role, User
from helpdesk.accounts.services import authenticate
from helpdesk.audit.models import AuditEntry
from helpdesk.contracts.importer import apply_import
from helpdesk.contracts.models import (
    Calendar,
    Contract,
    ContractVersion,
    Metric,
    NotifyTarget,
    Priority,
)
from helpdesk.contracts.schema import ImportPlan, validate_import
from helpdesk.contracts.services import terms_digest, version_terms
from helpdesk.extensions import db
from helpdesk.sla.durations import parse_iso_duration
from helpdesk.tickets.services import open_ticket
from tests import factories

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=1)
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


def imported(document: dict, *, now: datetime = NOW):
    plan, errors = validate_import(document)
    assert errors == []
    report = apply_import(plan, now=now)
    db.session.commit()
    return report


def contract(reference: str) -> Contract:
    return db.session.scalar(sa.select(Contract).where(Contract.reference == reference))


def current_calendar(code: str) -> Calendar:
    return db.session.scalar(sa.select(Calendar).where(Calendar.code == code)
                             .order_by(Calendar.version.desc()).limit(1))


def audit(entity: str, entity_id: str) -> list[AuditEntry]:
    return db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.entity == entity, AuditEntry.entity_id == entity_id)
        .order_by(AuditEntry.id)).all()


# -- the example imports --------------------------------------------------------------------


def test_design_example_validates_into_a_plan(app):
    with app.app_context():
        plan, errors = validate_import(example())
    assert errors == []
    assert isinstance(plan, ImportPlan)
    assert [c.code for c in plan.calendars] == ["biz-fr", "24x7"]


def test_design_example_creates_every_row(app):
    with app.app_context():
        report = imported(example())
        counts = {kind: (c.created, c.updated, c.unchanged) for kind, c in report.counts.items()}
        assert counts == {"calendars": (2, 0, 0), "organisations": (1, 0, 0),
                          "users": (1, 0, 0), "contracts": (1, 0, 0)}
        assert [(v.key, v.version) for v in report.contract_versions] == [("CT-2026-001", 1)]

        shop = db.session.scalar(sa.select(Organisation).where(Organisation.code == "shop-cholet"))
        assert (shop.name, shop.kind, shop.vat_number) == (
            "Boutique Exemple SARL", OrganisationKind.CLIENT, "FR00123456789")
        biz = current_calendar("biz-fr")
        assert (biz.version, biz.timezone, biz.holidays_country, biz.closures) == (
            1, "Europe/Paris", "FR", ["2026-12-24"])
        assert biz.weekly["mon"] == [["08:00", "18:00"]] and "sat" not in biz.weekly
        assert current_calendar("24x7").is_always

        terms = contract("CT-2026-001").current_version
        assert terms.version == 1 and terms.effective_at == NOW
        assert (terms.monthly_fee, terms.currency, terms.vat_rate, terms.credit_cap_percent) == (
            Decimal("1000.00"), "EUR", Decimal("20"), Decimal("30"))
        assert terms.availability_target_percent == Decimal("99.9")
        assert terms.availability_calendar.code == "24x7"
        assert [(t.below_percent, t.credit_percent) for t in terms.availability_tiers] == [
            (Decimal("99.9"), Decimal("10")), (Decimal("99.5"), Decimal("25"))]
        assert terms.terms_digest == terms_digest(version_terms(terms))

        p1, p3 = terms.priorities
        assert (p1.code, p1.label, p1.calendar.code, p1.gti, p1.gtr) == (
            "P1", "Critique", "24x7", timedelta(hours=2), timedelta(hours=8))
        assert [(e.at_percent, e.notify) for e in p1.escalations] == [
            (50, NotifyTarget.ASSIGNEE), (80, NotifyTarget.TEAM_LEADS)]
        assert {(r.metric, r.fixed_amount, r.percent_per_started_hour) for r in p1.penalties} == {
            (Metric.GTI, Decimal("100.00"), Decimal("0")),
            (Metric.GTR, Decimal("0"), Decimal("2"))}
        assert (p3.code, p3.calendar.code, p3.gti, p3.gtr) == (
            "P3", "biz-fr", timedelta(hours=8), None)


def test_imported_user_can_authenticate_with_lower_cased_email(app):
    document = example()
    document["users"][0]["email"] = "Client@Shop.Example"
    with app.app_context():
        imported(document)
        user = authenticate("client@shop.example", PASSWORD)
        assert user is not None
        assert (user.email, user.role, user.organisation.code, user.language) == (
            "client@shop.example", Role.CLIENT, "shop-cholet", "fr")


def test_document_may_omit_sections(app):
    with app.app_context():
        report = imported({"calendars": [EXAMPLE["calendars"][1]]})
        assert report.counts["calendars"].created == 1
        assert validate_import({}) == (ImportPlan(), [])


# -- bad values: one exact `path: message` each, nothing written -----------------------------


def _set(path: str, value):
    """A mutation of the example setting `value` at a dotted path such as `contracts.0.title`."""
    def mutate(document):
        *parents, last = path.split(".")
        node = document
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return mutate


def _delete(path: str):
    def mutate(document):
        *parents, last = path.split(".")
        node = document
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        del node[last]
    return mutate


BAD_VALUES = [
    pytest.param(_set("contracts.0.monthly_fee", 1000),
                 'contracts[0].monthly_fee: must be a decimal string such as "1000.00"',
                 id="money-as-number"),
    pytest.param(_set("contracts.0.monthly_fee", "1000.005"),
                 "contracts[0].monthly_fee: must have at most 2 decimal places",
                 id="money-sub-cent"),
    pytest.param(_set("contracts.0.monthly_fee", "-5.00"),
                 "contracts[0].monthly_fee: must not be negative", id="money-negative"),
    pytest.param(_set("contracts.0.vat_rate", 20),
                 'contracts[0].vat_rate: must be a decimal string such as "20"',
                 id="percent-as-number"),
    pytest.param(_set("contracts.0.credit_cap_percent", "120"),
                 "contracts[0].credit_cap_percent: must be at most 100", id="percent-over-100"),
    pytest.param(_set("contracts.0.currency", "eur"),
                 'contracts[0].currency: must be 3 capital letters such as "EUR"',
                 id="currency-lower-case"),
    pytest.param(_set("contracts.0.priorities.1.gti", "PT0S"),
                 "contracts[0].priorities[1].gti: must be longer than zero", id="gti-zero"),
    pytest.param(_set("contracts.0.priorities.0.gtr", 8),
                 'contracts[0].priorities[0].gtr: must be an ISO 8601 duration string such as '
                 '"PT2H"', id="gtr-as-number"),
    pytest.param(_delete("contracts.0.priorities.0.gti"),
                 "contracts[0].priorities[0].gti: required", id="gti-missing"),
    pytest.param(_set("contracts.0.starts_on", "2026-13-01"),
                 'contracts[0].starts_on: must be a date such as "2026-01-31"',
                 id="date-impossible"),
    pytest.param(_set("contracts.0.ends_on", "2025-12-31"),
                 "contracts[0].ends_on: must not be before starts_on", id="ends-before-start"),
    pytest.param(_set("contracts.0.credits_subject_to_vat", "yes"),
                 "contracts[0].credits_subject_to_vat: must be true or false",
                 id="bool-as-string"),
    pytest.param(_set("contracts.0.priorities", {"P1": {}}),
                 "contracts[0].priorities: must be a list", id="priorities-not-a-list"),
    pytest.param(_set("contracts.0.priorities", []),
                 "contracts[0].priorities: at least one priority is required",
                 id="no-priority"),
    pytest.param(_set("contracts.0.priorities.1.code", "P1"),
                 "contracts[0].priorities[1].code: duplicate priority 'P1'",
                 id="duplicate-priority-code"),
    pytest.param(_set("contracts.0.priorities.0.colour", "red"),
                 "contracts[0].priorities[0].colour: unknown key", id="unknown-key"),
    pytest.param(_set("contracts.0.priorities.0.escalations.0.at_percent", 0),
                 "contracts[0].priorities[0].escalations[0].at_percent: must be a whole number "
                 "from 1 to 100", id="threshold-zero"),
    pytest.param(_set("contracts.0.priorities.0.escalations.0.at_percent", "50"),
                 "contracts[0].priorities[0].escalations[0].at_percent: must be a whole number "
                 "from 1 to 100", id="threshold-as-string"),
    pytest.param(_set("contracts.0.priorities.0.escalations.1.at_percent", 50),
                 "contracts[0].priorities[0].escalations[1].at_percent: duplicate threshold 50",
                 id="threshold-duplicate"),
    pytest.param(_set("contracts.0.priorities.0.escalations.0.notify", "everyone"),
                 "contracts[0].priorities[0].escalations[0].notify: must be one of assignee, "
                 "team_leads, client", id="notify-unknown"),
    pytest.param(_set("contracts.0.priorities.0.penalties.availability",
                      {"fixed": "1.00"}),
                 "contracts[0].priorities[0].penalties.availability: unknown metric: penalties "
                 "are for gti or gtr", id="penalty-metric-unknown"),
    pytest.param(_set("contracts.0.priorities.1.penalties.gtr", {"fixed": "10.00"}),
                 "contracts[0].priorities[1].penalties.gtr: the priority has no gtr",
                 id="gtr-penalty-without-gtr"),
    pytest.param(_set("contracts.0.availability.tiers.1.below_percent", "99.9"),
                 "contracts[0].availability.tiers[1].below_percent: duplicate tier 99.9",
                 id="tier-duplicate"),
    pytest.param(_set("calendars.0.timezone", "Europe/Cholet"),
                 "calendars[0].timezone: unknown time zone 'Europe/Cholet'", id="time-zone"),
    pytest.param(_set("calendars.0.weekly.monday", [["08:00", "18:00"]]),
                 "calendars[0].weekly.monday: unknown day: use mon, tue, wed, thu, fri, sat "
                 "or sun", id="weekday-unknown"),
    pytest.param(_set("calendars.0.weekly.mon", [["08:00", "12:00"], ["11:00", "13:00"]]),
                 "calendars[0].weekly.mon: windows 08:00–12:00 and 11:00–13:00 overlap",
                 id="windows-overlap"),
    pytest.param(_set("calendars.0.weekly.tue", [["18:00", "08:00"]]),
                 "calendars[0].weekly.tue: window 18:00–08:00 must start before it ends "
                 "(windows do not cross midnight: split them, and use 24:00 as an end)",
                 id="window-backwards"),
    pytest.param(_set("calendars.0.weekly.wed", [["8:00", "18:00"]]),
                 "calendars[0].weekly.wed: malformed time '8:00', expected 'HH:MM'",
                 id="time-malformed"),
    pytest.param(_set("calendars.0.weekly.thu", [["24:00", "24:00"]]),
                 "calendars[0].weekly.thu: a window cannot start at 24:00", id="start-24"),
    pytest.param(_set("calendars.0.weekly.fri", [["08:00"]]),
                 'calendars[0].weekly.fri[0]: a window is ["HH:MM", "HH:MM"]',
                 id="window-shape"),
    pytest.param(_set("calendars.0.weekly", {"sat": []}),
                 'calendars[0].weekly: no opening window (use "always": true for 24/7)',
                 id="never-open"),
    pytest.param(_delete("calendars.0.weekly"),
                 "calendars[0].weekly: required unless always is true", id="weekly-missing"),
    pytest.param(_set("calendars.0.holidays", {"country": "XX", "subdiv": None}),
                 "calendars[0].holidays.country: unknown country 'XX' for public holidays",
                 id="holidays-country"),
    pytest.param(_set("calendars.0.holidays", {"country": "FR", "subdiv": "99"}),
                 "calendars[0].holidays.subdiv: unknown subdivision '99' of FR",
                 id="holidays-subdiv"),
    pytest.param(_set("calendars.0.closures", ["24/12/2026"]),
                 'calendars[0].closures[0]: must be a date such as "2026-01-31"',
                 id="closure-date"),
    pytest.param(_set("calendars.1.weekly", {"mon": [["08:00", "18:00"]]}),
                 "calendars[1].always: a 24/7 calendar takes no weekly windows, holidays or "
                 "closures", id="always-with-windows"),
    pytest.param(lambda d: d["calendars"].append(copy.deepcopy(d["calendars"][0])),
                 "calendars[2].code: duplicate calendar 'biz-fr' (also at calendars[0])",
                 id="calendar-duplicate"),
    pytest.param(_set("contracts.0.priorities.0.code", "P 1"),
                 "contracts[0].priorities[0].code: must be 1 to 16 letters, digits, '.', '_' or '-', starting "
                 "with a letter or digit", id="code-with-space"),
    pytest.param(_set("organisations.0.kind", "partner"),
                 "organisations[0].kind: must be one of client, internal", id="kind"),
    pytest.param(_set("organisations.0.name", "  "),
                 "organisations[0].name: must not be empty", id="name-blank"),
    pytest.param(_set("users.0.role", "boss"),
                 "users[0].role: must be one of client, technician, team_lead, finance, admin",
                 id="role"),
    pytest.param(_set("users.0.email", "claire.at.shop"),
                 "users[0].email: not a valid e-mail address", id="email"),
    pytest.param(_set("users.0.organisation", None),
                 "users[0].organisation: required for a client user", id="client-without-org"),
    pytest.param(_delete("users.0.password"),
                 "users[0].password: required for a new user", id="new-user-password"),
    pytest.param(_set("users.0.password", "short"),
                 "users[0].password: must be at least 8 characters", id="password-short"),
    pytest.param(_set("users.0.language", "de"),
                 "users[0].language: must be one of fr, en", id="language"),
    pytest.param(_set("users.0", "client@shop.example"),
                 "users[0]: must be an object", id="user-not-an-object"),
]


@pytest.mark.parametrize(("mutate", "expected"), BAD_VALUES)
def test_bad_value_gives_its_path_and_message(app, mutate, expected):
    document = example()
    mutate(document)
    with app.app_context():
        before = row_counts()
        plan, errors = validate_import(document)
        assert (plan, errors) == (None, [expected])
        assert row_counts() == before


def test_bad_duration_reports_the_duration_parser_message(app):
    document = example()
    document["contracts"][0]["priorities"][1]["gti"] = "8h"
    with pytest.raises(ValueError) as parser_error:
        parse_iso_duration("8h")
    with app.app_context():
        _plan, errors = validate_import(document)
    assert errors == [f"contracts[0].priorities[1].gti: {parser_error.value}"]
    assert errors[0].startswith("contracts[0].priorities[1].gti: not an ISO 8601 duration")


def test_window_may_end_at_midnight(app):
    document = example()
    document["calendars"][0]["weekly"]["sat"] = [["20:00", "24:00"]]
    with app.app_context():
        assert validate_import(document)[1] == []


@pytest.mark.parametrize(("document", "expected"), [
    (["calendars"], "document: must be a JSON object with calendars, organisations, users "
                    "and/or contracts"),
    ({"tickets": []}, "tickets: unknown section (expected calendars, organisations, users or "
                      "contracts)"),
    ({"users": {"email": "x@shop.example"}}, "users: must be a list"),
])
def test_bad_document_shape_is_reported(app, document, expected):
    with app.app_context():
        assert validate_import(document) == (None, [expected])


def test_every_error_of_the_document_is_reported_at_once(app):
    document = example()
    document["calendars"][0]["timezone"] = "Mars/Olympus"
    document["users"][0]["role"] = "boss"
    document["contracts"][0]["monthly_fee"] = 1000.0
    document["contracts"][0]["priorities"][0]["gti"] = "PT0S"
    with app.app_context():
        plan, errors = validate_import(document)
    assert plan is None
    assert errors == [
        "calendars[0].timezone: unknown time zone 'Mars/Olympus'",
        "users[0].role: must be one of client, technician, team_lead, finance, admin",
        'contracts[0].monthly_fee: must be a decimal string such as "1000.00"',
        "contracts[0].priorities[0].gti: must be longer than zero",
    ]


# -- references -----------------------------------------------------------------------------


def test_unknown_references_are_reported_with_their_paths(app):
    document = example()
    document["users"][0]["organisation"] = "foo"
    document["contracts"][0]["organisation"] = "bar"
    document["contracts"][0]["availability"]["calendar"] = "5x8"
    document["contracts"][0]["priorities"][1]["calendar"] = "biz-de"
    with app.app_context():
        before = row_counts()
        assert validate_import(document) == (None, [
            "users[0].organisation: unknown organisation 'foo'",
            "contracts[0].organisation: unknown organisation 'bar'",
            "contracts[0].availability.calendar: unknown calendar '5x8'",
            "contracts[0].priorities[1].calendar: unknown calendar 'biz-de'",
        ])
        assert row_counts() == before


def test_references_may_name_rows_already_in_the_database(app, world):
    document = {"users": [{"email": "new@shop.example", "name": "Nina New", "role": "client",
                           "organisation": "shop", "password": PASSWORD}],
                "contracts": [example()["contracts"][0] | {"reference": "CT-NEW",
                                                           "organisation": "shop"}]}
    with app.app_context():
        report = imported(document)
        assert (report.counts["users"].created, report.counts["contracts"].created) == (1, 1)
        assert contract("CT-NEW").current_version.priorities[1].calendar.code == "biz-fr"


def test_reference_to_a_calendar_with_errors_reports_only_the_calendar(app):
    document = example()
    document["calendars"][0]["timezone"] = "Nowhere"
    with app.app_context():
        assert validate_import(document)[1] == ["calendars[0].timezone: unknown time zone 'Nowhere'"]


# -- re-importing ---------------------------------------------------------------------------


def test_reimport_unchanged_changes_nothing(app):
    with app.app_context():
        imported(example())
        before = row_counts()
        report = imported(example(), now=LATER)
        assert row_counts() == before
        assert report.contract_versions == [] and report.calendar_versions == []
        assert all(c.created == c.updated == 0 for c in report.counts.values())
        assert report.counts["contracts"].unchanged == 1


def test_reimport_with_equivalent_notation_is_unchanged(app):
    document = example()
    document["contracts"][0]["monthly_fee"] = "1000"
    document["contracts"][0]["priorities"][0]["gti"] = "PT120M"
    document["calendars"][0]["weekly"]["mon"] = [["08:00", "12:00"], ["12:00", "18:00"]]
    with app.app_context():
        imported(example())
        report = imported(document, now=LATER)
        assert report.contract_versions == [] and report.calendar_versions == []


def test_changed_gti_creates_a_new_version_and_old_ticket_keeps_its_terms(app):
    with app.app_context():
        imported(example())
        client = db.session.scalar(sa.select(User).where(User.email == "client@shop.example"))
        ticket = open_ticket(actor=client, contract=contract("CT-2026-001"), priority_code="P3",
                             title="Page panier en erreur", description="Erreur 500.", now=NOW)
        db.session.commit()
        old_version_id, old_priority_id = ticket.contract_version_id, ticket.priority_id

        document = example()
        document["contracts"][0]["priorities"][1]["gti"] = "PT4H"
        report = imported(document, now=LATER)

        assert [(v.key, v.version, v.reason) for v in report.contract_versions] == [
            ("CT-2026-001", 2, "terms changed")]
        versions = contract("CT-2026-001").versions
        assert [(v.version, v.effective_at) for v in versions] == [(1, NOW), (2, LATER)]
        assert versions[1].priority("P3").gti == timedelta(hours=4)
        assert versions[0].priority("P3").gti == timedelta(hours=8)
        db.session.refresh(ticket)
        assert (ticket.contract_version_id, ticket.priority_id) == (old_version_id,
                                                                    old_priority_id)
        assert ticket.priority.gti == timedelta(hours=8)
        entry = audit("contract", "CT-2026-001")[-1]
        assert entry.changes["version"] == [1, 2]


def test_changed_title_is_audited_without_a_new_version(app):
    document = example()
    document["contracts"][0]["title"] = "Maintenance boutique en ligne"
    with app.app_context():
        imported(example())
        report = imported(document, now=LATER)
        assert report.counts["contracts"].updated == 1 and report.contract_versions == []
        assert contract("CT-2026-001").title == "Maintenance boutique en ligne"
        assert audit("contract", "CT-2026-001")[-1].changes == {
            "title": ["Maintenance e-commerce", "Maintenance boutique en ligne"]}


def test_contract_cannot_move_to_another_organisation(app):
    document = example()
    document["organisations"].append({"code": "elsewhere", "name": "Ailleurs SAS",
                                      "kind": "client"})
    document["contracts"][0]["organisation"] = "elsewhere"
    with app.app_context():
        imported(example())
        before = row_counts()
        plan, errors = validate_import(document)
        assert plan is None
        assert errors == ["contracts[0].organisation: contract CT-2026-001 belongs to "
                          "'shop-cholet' and cannot move to another organisation"]
        assert row_counts() == before


def test_calendar_change_creates_calendar_and_contract_versions(app):
    document = example()
    document["calendars"][0]["weekly"]["fri"] = [["08:00", "17:00"]]
    with app.app_context():
        imported(example())
        old_biz = current_calendar("biz-fr")
        report = imported(document, now=LATER)
        new_biz = current_calendar("biz-fr")
        assert (old_biz.version, new_biz.version) == (1, 2)
        assert old_biz.weekly["fri"] == [["08:00", "18:00"]]
        assert new_biz.weekly["fri"] == [["08:00", "17:00"]]
        assert [(v.key, v.version) for v in report.calendar_versions] == [("biz-fr", 2)]
        versions = contract("CT-2026-001").versions
        assert [v.version for v in versions] == [1, 2]
        assert versions[0].priority("P3").calendar_id == old_biz.id
        assert versions[1].priority("P3").calendar_id == new_biz.id
        assert versions[1].priority("P1").calendar.code == "24x7"


def test_calendar_change_gives_contracts_outside_the_file_a_new_version(app, world):
    with app.app_context():
        biz_v1 = current_calendar("biz-fr")
        before = [v.version for v in contract("CT-SHOP").versions]
        calendar = example()["calendars"][0] | {"holidays": None}
        report = imported({"calendars": [calendar]}, now=LATER)
        biz_v2 = current_calendar("biz-fr")
        assert biz_v2.version == 2 and biz_v2.holidays_country is None
        assert sorted((v.key, v.version) for v in report.contract_versions) == [
            ("CT-OTHER", 2), ("CT-SHOP", 2)]
        assert report.contract_versions[0].reason == "calendar biz-fr now v2"
        shop = contract("CT-SHOP")
        assert [v.version for v in shop.versions] == before + [2]
        old, new = shop.versions
        assert old.priority("P3").calendar_id == biz_v1.id
        assert new.priority("P3").calendar_id == biz_v2.id
        assert version_terms(new) | {"priorities": None} == version_terms(old) | {
            "priorities": None}
        assert new.effective_at == LATER


def test_unchanged_calendar_gives_no_version(app, world):
    with app.app_context():
        calendar = {"code": "biz-fr", "timezone": "Europe/Paris",
                    "weekly": factories.BUSINESS_WEEK, "holidays": {"country": "FR"}}
        report = imported({"calendars": [calendar]}, now=LATER)
        assert report.counts["calendars"].unchanged == 1
        assert report.contract_versions == []


# -- organisations and users ----------------------------------------------------------------


def test_organisation_is_updated_in_place_and_audited(app):
    document = example()
    document["organisations"][0]["address"] = "2 rue Exemple, 49300 Cholet"
    with app.app_context():
        imported(example())
        report = imported(document, now=LATER)
        assert report.counts["organisations"].updated == 1
        shop = db.session.scalar(sa.select(Organisation).where(Organisation.code == "shop-cholet"))
        assert shop.address == "2 rue Exemple, 49300 Cholet"
        entry = audit("organisation", "shop-cholet")[-1]
        assert (entry.action, entry.at, entry.changes) == ("import", LATER, {
            "address": ["1 rue Exemple, 49300 Cholet", "2 rue Exemple, 49300 Cholet"]})


def test_organisation_keeps_fields_the_file_omits(app):
    with app.app_context():
        imported(example())
        imported({"organisations": [{"code": "shop-cholet", "name": "Boutique Exemple SARL",
                                     "kind": "client"}]}, now=LATER)
        shop = db.session.scalar(sa.select(Organisation).where(Organisation.code == "shop-cholet"))
        assert shop.vat_number == "FR00123456789"


def test_user_is_updated_by_email_and_keeps_password_when_none_given(app, world):
    with app.app_context():
        before = db.session.scalar(sa.select(User).where(User.email == "client@shop.example"))
        old_hash = before.password_hash
        report = imported({"users": [{"email": "CLIENT@shop.example", "name": "Claire Cliente",
                                      "role": "client", "language": "fr"}]}, now=LATER)
        assert report.counts["users"].updated == 1
        user = db.session.scalar(sa.select(User).where(User.email == "client@shop.example"))
        assert (user.name, user.language, user.organisation.code) == ("Claire Cliente", "fr",
                                                                      "shop")
        assert user.password_hash == old_hash
        assert audit("user", "client@shop.example")[-1].changes == {
            "language": ["en", "fr"], "name": ["Claire Client", "Claire Cliente"]}


def test_user_password_is_rehashed_when_given_and_never_logged(app, world):
    with app.app_context():
        old_hash = db.session.scalar(sa.select(User.password_hash)
                                     .where(User.email == "tech@provider.example"))
        imported({"users": [{"email": "tech@provider.example", "name": "Tom Tech",
                             "role": "technician", "password": PASSWORD}]}, now=LATER)
        user = authenticate("tech@provider.example", PASSWORD)
        assert user is not None and user.password_hash != old_hash
        assert authenticate("tech@provider.example", factories.PASSWORD) is None
        entry = audit("user", "tech@provider.example")[-1]
        assert entry.changes == {"password": ["(hidden)", "(changed)"]}
        assert PASSWORD not in str(entry.changes)


def test_user_given_the_same_password_is_unchanged(app, world):
    with app.app_context():
        old_hash = db.session.scalar(sa.select(User.password_hash)
                                     .where(User.email == "tech@provider.example"))
        report = imported({"users": [{"email": "tech@provider.example", "name": "Tom Tech",
                                      "role": "technician", "password": factories.PASSWORD}]})
        assert report.counts["users"].unchanged == 1
        assert db.session.scalar(sa.select(User.password_hash)
                                 .where(User.email == "tech@provider.example")) == old_hash


def test_new_user_audit_hides_the_password(app):
    with app.app_context():
        imported(example())
        changes = audit("user", "client@shop.example")[-1].changes
        assert changes["password"] == [None, "(set)"]
        assert changes["organisation"] == [None, "shop-cholet"]
        assert PASSWORD not in str(changes)


def test_existing_client_keeps_its_organisation_when_the_file_omits_it(app, world):
    with app.app_context():
        _plan, errors = validate_import({"users": [{"email": "client@shop.example",
                                                    "name": "Claire", "role": "client"}]})
        assert errors == []


# -- robustness -----------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)


def _locations(node, trail=()):
    """Every (container, key) of a document, to replace one value anywhere in it."""
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        yield trail + (key,)
        if isinstance(value, (dict, list)):
            yield from _locations(value, trail + (key,))


LOCATIONS = list(_locations(EXAMPLE))


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(where=st.sampled_from(LOCATIONS), value=JSON_VALUES)
def test_any_value_anywhere_gives_path_messages_never_an_exception(app, where, value):
    document = example()
    node = document
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value
    with app.app_context():
        plan, errors = validate_import(document)
    assert (plan is None) == bool(errors)
    assert all(isinstance(error, str) and ": " in error for error in errors)
