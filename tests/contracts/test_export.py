"""The export writes the import format: importing it back changes nothing, and an empty
database given an export exports the same document again."""
import json
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from helpdesk.accounts.models import User
from helpdesk.contracts.cli import export_command, import_command
from helpdesk.contracts.exporter import export_document
from helpdesk.contracts.importer import apply_import
from helpdesk.contracts.schema import validate_import
from helpdesk.extensions import db
from tests.contracts.documents import PASSWORD, example, row_counts

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=1)


def rich() -> dict:
    """The DESIGN example and more: several windows a day, a subdivision's holidays, an internal
    organisation and its people (one inactive), a contract that ends, without availability, with
    fractional percentages and durations of days, minutes and seconds."""
    document = example()
    document["calendars"].append(
        {"code": "split-de", "timezone": "Europe/Berlin",
         "weekly": {"mon": [["08:00", "12:00"], ["13:30", "17:00"]], "sat": [["09:00", "12:00"]]},
         "holidays": {"country": "DE", "subdiv": "BY"},
         "closures": ["2026-12-31", "2026-12-24"]})
    document["organisations"].append(
        {"code": "provider", "name": "Prestataire SAS", "kind": "internal"})
    document["users"] += [
        {"email": "tech@provider.example", "name": "Tom Tech", "role": "technician",
         "password": PASSWORD, "timezone": "Europe/Berlin", "language": "en"},
        {"email": "gone@provider.example", "name": "Gina Gone", "role": "team_lead",
         "organisation": "provider", "password": PASSWORD, "active": False},
    ]
    document["contracts"].append(
        {"reference": "CT-2026-002", "organisation": "shop-cholet", "title": "Hébergement",
         "starts_on": "2026-02-01", "ends_on": "2027-01-31", "monthly_fee": "250.50",
         "currency": "CHF", "vat_rate": "8.1", "credit_cap_percent": "12.345",
         "credits_subject_to_vat": False,
         "priorities": [
             {"code": "URG", "label": "Urgent", "calendar": "split-de", "gti": "PT1H30M",
              "gtr": "P1DT2H3M4S", "escalations": [{"at_percent": 100, "notify": "client"}],
              "penalties": {"gtr": {"fixed": "5.5", "percent_per_started_hour": "0.125"}}},
             {"code": "LOW", "label": "Low", "calendar": "biz-fr", "gti": "P2D"},
         ]})
    document["contracts"][0]["availability"]["calendar"] = None
    return document


def imported(document: object, *, now: datetime = NOW):
    plan, errors = validate_import(document)
    assert errors == []
    report = apply_import(plan, now=now)
    db.session.commit()
    return report


def empty_database() -> None:
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()


def test_importing_an_export_back_changes_nothing(app):
    with app.app_context():
        imported(rich())
        before = row_counts()
        report = imported(export_document(), now=LATER)
        assert report.lines() == [
            "calendars: 0 created, 0 updated, 3 unchanged",
            "organisations: 0 created, 0 updated, 2 unchanged",
            "users: 0 created, 0 updated, 3 unchanged",
            "contracts: 0 created, 0 updated, 2 unchanged",
        ]
        assert report.calendar_versions == [] and report.contract_versions == []
        assert row_counts() == before


def test_importing_the_export_of_the_test_world_changes_nothing(app, world):
    with app.app_context():
        before = row_counts()
        report = imported(export_document(), now=LATER)
        assert all(counts.created == counts.updated == 0 for counts in report.counts.values())
        assert row_counts() == before


def test_an_export_imported_into_an_empty_database_exports_the_same_document(app):
    with app.app_context():
        imported(rich())
        exported = export_document()
        empty_database()
        imported(json.loads(json.dumps(exported)), now=LATER)
        assert export_document() == exported


def test_users_are_exported_without_password_or_hash(app):
    with app.app_context():
        imported(rich())
        hashes = db.session.scalars(sa.select(User.password_hash)).all()
        exported = export_document()
        text = json.dumps(exported)
    assert all("password" not in user for user in exported["users"])
    assert not any(stored in text for stored in hashes)
    assert PASSWORD not in text


def test_export_writes_each_value_in_the_import_format(app):
    with app.app_context():
        imported(rich())
        exported = export_document()
    assert [c["code"] for c in exported["calendars"]] == ["24x7", "biz-fr", "split-de"]
    assert exported["calendars"][0] == {"code": "24x7", "timezone": "Europe/Paris",
                                        "always": True}
    assert exported["calendars"][2] == {
        "code": "split-de", "timezone": "Europe/Berlin",
        "weekly": {"mon": [["08:00", "12:00"], ["13:30", "17:00"]], "sat": [["09:00", "12:00"]]},
        "holidays": {"country": "DE", "subdiv": "BY"}, "closures": ["2026-12-24", "2026-12-31"]}
    assert exported["users"][0] == {
        "email": "client@shop.example", "name": "Claire Client", "role": "client",
        "organisation": "shop-cholet", "timezone": "Europe/Paris", "language": "fr",
        "active": True}
    hosting = exported["contracts"][1]
    assert {key: hosting[key] for key in ("ends_on", "monthly_fee", "vat_rate",
                                          "credit_cap_percent", "availability")} == {
        "ends_on": "2027-01-31", "monthly_fee": "250.50", "vat_rate": "8.1",
        "credit_cap_percent": "12.345", "availability": None}
    assert hosting["priorities"][0] == {
        "code": "URG", "label": "Urgent", "calendar": "split-de", "gti": "PT1H30M",
        "gtr": "P1DT2H3M4S", "escalations": [{"at_percent": 100, "notify": "client"}],
        "penalties": {"gtr": {"fixed": "5.50", "percent_per_started_hour": "0.125"}}}
    assert hosting["priorities"][1]["gti"] == "P2D"


def test_export_writes_the_current_terms_and_calendars(app):
    with app.app_context():
        imported(example())
        changed = example()
        changed["contracts"][0]["monthly_fee"] = "1200.00"
        changed["calendars"][0]["closures"] = ["2026-12-24", "2026-12-31"]
        imported(changed, now=LATER)
        exported = export_document()
    [contract] = exported["contracts"]
    assert contract["monthly_fee"] == "1200.00"
    assert exported["calendars"][1]["closures"] == ["2026-12-24", "2026-12-31"]
    assert len(exported["calendars"]) == 2


def test_export_command_writes_a_file_the_import_command_reads_back_unchanged(app, runner,
                                                                              tmp_path):
    with app.app_context():
        imported(rich())
    path = tmp_path / "export.json"
    result = runner.invoke(export_command, [str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout == (f"3 calendars, 2 organisations, 3 users, 2 contracts written to "
                             f"{path}\n")
    with app.app_context():
        assert json.loads(path.read_text(encoding="utf-8")) == export_document()
    result = runner.invoke(import_command, [str(path)])
    assert result.exit_code == 0, result.output
    assert "0 created, 0 updated" in result.stdout and "new" not in result.stdout


def test_export_command_names_a_file_it_cannot_write(app, runner, tmp_path):
    result = runner.invoke(export_command, [str(tmp_path / "missing" / "export.json")])
    assert result.exit_code == 1
    assert "cannot be written" in result.stderr


def test_export_is_registered_under_flask_helpdesk(app):
    result = app.test_cli_runner().invoke(args=["helpdesk", "export", "--help"])
    assert result.exit_code == 0 and "import format" in result.output
