"""The import document: every error as one `path: message` line, and nothing written."""
import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpdesk.contracts.schema import ImportPlan, validate_import
from helpdesk.sla.durations import parse_iso_duration
from tests.contracts.documents import EXAMPLE, example, row_counts


def test_design_example_validates_into_a_plan(app):
    with app.app_context():
        plan, errors = validate_import(example())
    assert errors == []
    assert isinstance(plan, ImportPlan)
    assert [c.code for c in plan.calendars] == ["biz-fr", "24x7"]


def test_empty_document_is_an_empty_plan(app):
    with app.app_context():
        assert validate_import({}) == (ImportPlan(), [])


# -- bad values: one exact `path: message` each, nothing written -----------------------------

BIDI = ("must not contain Unicode direction controls (U+202A to U+202E, U+2066 to U+2069, U+200E, "
        "U+200F, U+061C), which can disguise what a text says")


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
    pytest.param(_set("organisations.0.name", "Shop\u202eSAS"),
                 f"organisations[0].name: {BIDI}", id="name-direction-override"),
    pytest.param(_set("users.0.name", "Claire \u2067Martin\u2069"),
                 f"users[0].name: {BIDI}", id="user-name-direction-isolate"),
    pytest.param(_set("contracts.0.title", "Support\u200f"),
                 f"contracts[0].title: {BIDI}", id="title-direction-mark"),
    pytest.param(_set("users.0.role", "boss"),
                 "users[0].role: must be one of client, technician, team_lead, finance, admin",
                 id="role"),
    pytest.param(_set("users.0.email", "claire.at.shop"),
                 "users[0].email: not a valid e-mail address", id="email"),
    pytest.param(_set("users.0.organisation", None),
                 "users[0].organisation: required for a client user", id="client-without-org"),
    pytest.param(_set("users.0.password", "short"),
                 "users[0].password: must be at least 12 characters", id="password-short"),
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


def test_reference_to_a_calendar_with_errors_reports_only_the_calendar(app):
    document = example()
    document["calendars"][0]["timezone"] = "Nowhere"
    with app.app_context():
        assert validate_import(document)[1] == ["calendars[0].timezone: unknown time zone 'Nowhere'"]


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
