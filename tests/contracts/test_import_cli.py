"""`flask helpdesk import FILE.json`, driven through the CLI runner."""
import json

import sqlalchemy as sa

from helpdesk.accounts.models import Organisation
from helpdesk.contracts.cli import import_command
from helpdesk.contracts.models import Contract
from helpdesk.extensions import db
from tests.contracts.documents import example, row_counts


def write(tmp_path, document, name="import.json"):
    path = tmp_path / name
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return str(path)


def test_import_valid_file_commits_and_prints_the_report(app, runner, tmp_path):
    result = runner.invoke(import_command, [write(tmp_path, example())])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "calendars: 2 created, 0 updated, 0 unchanged",
        "organisations: 1 created, 0 updated, 0 unchanged",
        "users: 1 created, 0 updated, 0 unchanged",
        "contracts: 1 created, 0 updated, 0 unchanged",
        "new contract version: CT-2026-001 v1 (new contract)",
    ]
    assert result.stderr == ""
    with app.app_context():
        assert db.session.scalar(sa.select(Contract.title)
                                 .where(Contract.reference == "CT-2026-001")) == (
            "Maintenance e-commerce")


def test_import_twice_reports_everything_unchanged(app, runner, tmp_path):
    path = write(tmp_path, example())
    runner.invoke(import_command, [path])
    result = runner.invoke(import_command, [path])
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "calendars: 0 created, 0 updated, 2 unchanged",
        "organisations: 0 created, 0 updated, 1 unchanged",
        "users: 0 created, 0 updated, 1 unchanged",
        "contracts: 0 created, 0 updated, 1 unchanged",
    ]


def test_import_with_errors_prints_them_to_stderr_exits_1_and_writes_nothing(app, runner,
                                                                             tmp_path):
    document = example()
    document["users"][0]["organisation"] = "foo"
    document["contracts"][0]["priorities"][1]["gtr"] = 16
    with app.app_context():
        before = row_counts()
    result = runner.invoke(import_command, [write(tmp_path, document)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "users[0].organisation: unknown organisation 'foo'",
        'contracts[0].priorities[1].gtr: must be an ISO 8601 duration string such as "PT2H"',
        "2 error(s); nothing was imported.",
    ]
    assert result.stdout == ""
    with app.app_context():
        assert row_counts() == before
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Organisation)) == 0


def test_import_invalid_json_names_line_and_column(app, runner, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{\n  "calendars": [\n    {"code": "24x7",}\n  ]\n}\n', encoding="utf-8")
    result = runner.invoke(import_command, [str(path)])
    assert result.exit_code == 1
    assert result.stderr == (f"Error: {path}: invalid JSON at line 3, column 21: "
                             "Expecting property name enclosed in double quotes\n")


def test_import_file_that_is_not_utf8_is_refused(app, runner, tmp_path):
    path = tmp_path / "latin1.json"
    path.write_bytes('{"organisations": [{"name": "Société"}]}'.encode("latin-1"))
    result = runner.invoke(import_command, [str(path)])
    assert result.exit_code == 1
    assert result.stderr == f"Error: {path}: not UTF-8 text\n"


def test_import_missing_file_is_a_usage_error(app, runner, tmp_path):
    result = runner.invoke(import_command, [str(tmp_path / "nope.json")])
    assert result.exit_code == 2
    assert "does not exist" in result.stderr



def test_import_refuses_direction_controls_in_names_and_writes_nothing(app, runner, tmp_path):
    document = example()
    document["organisations"][0]["name"] = "Shop\u202eSAS"
    document["users"][0]["name"] = "Claire\u200f"
    with app.app_context():
        before = row_counts()
    result = runner.invoke(import_command, [write(tmp_path, document)])
    assert result.exit_code == 1
    refusal = ("must not contain Unicode direction controls (U+202A to U+202E, U+2066 to U+2069, "
               "U+200E, U+200F, U+061C), which can disguise what a text says")
    assert result.stderr.splitlines() == [f"organisations[0].name: {refusal}",
                                          f"users[0].name: {refusal}",
                                          "2 error(s); nothing was imported."]
    with app.app_context():
        assert row_counts() == before
