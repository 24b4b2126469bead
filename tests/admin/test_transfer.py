"""Import and export in the browser: the command line's document, validation and apply step,
shown on a page; on any error nothing changes."""
import html
import io
import json

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from helpdesk.admin.forms.transfer import IMPORT_MAX_BYTES
from helpdesk.audit.models import AuditEntry
from helpdesk.contracts.exporter import export_document
from helpdesk.contracts.models import Contract
from helpdesk.extensions import db
from tests.api.helpers import sign_in
from tests.conftest import csrf_token
from tests.contracts.documents import example, row_counts


def upload(client, content: bytes, *, button: str = "apply", name: str = "import.json"):
    # Encoded here, in memory: the test client would spool a large body to a file it never
    # closes.
    boundary, body = encode_multipart({
        "csrf_token": csrf_token(client, "/admin/transfer"), button: "x",
        "document": FileStorage(io.BytesIO(content), name)})
    return client.post("/admin/transfer", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


def as_json(document) -> bytes:
    return json.dumps(document).encode()


@pytest.fixture
def admin(app, client, world):
    return sign_in(app, client, world.admin)


def counts(app):
    with app.app_context():
        return row_counts()


def test_the_page_offers_the_download_and_the_upload(admin):
    page = admin.get("/admin/transfer").get_data(as_text=True)
    assert 'href="/admin/transfer/export"' in page
    assert 'enctype="multipart/form-data"' in page and 'type="file"' in page
    assert 'name="check"' in page and 'name="apply"' in page


def test_the_administration_front_page_leads_to_it(admin):
    assert 'href="/admin/transfer"' in admin.get("/admin/").get_data(as_text=True)


def test_the_download_is_the_export_as_a_json_file(app, admin):
    response = admin.get("/admin/transfer/export")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="helpdesk-export-2026-11-30.json"')
    with app.app_context():
        assert json.loads(response.get_data()) == export_document()


def test_a_valid_file_is_imported_and_the_report_shown(app, admin, world):
    response = upload(admin, as_json(example()))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Imported" in page
    assert "<th scope=\"row\">Contracts</th><td class=\"amount\">1</td>" in page
    assert "contract CT-2026-001, version 1 (new contract)" in page
    with app.app_context():
        assert db.session.scalar(sa.select(Contract.title).where(
            Contract.reference == "CT-2026-001")) == "Maintenance e-commerce"
        entry = db.session.scalar(sa.select(AuditEntry).where(
            AuditEntry.entity == "contract", AuditEntry.entity_id == "CT-2026-001"))
        assert entry.action == "import" and entry.actor.email == world.admin


def test_a_check_shows_what_would_change_and_changes_nothing(app, admin):
    before = counts(app)
    response = upload(admin, as_json(example()), button="check")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Nothing was changed" in page
    assert "contract CT-2026-001, version 1 (new contract)" in page
    assert counts(app) == before


def test_the_export_uploaded_back_changes_nothing(app, admin):
    upload(admin, as_json(example()))
    before = counts(app)
    exported = admin.get("/admin/transfer/export").get_data()
    page = upload(admin, exported).get_data(as_text=True)
    assert "No new version of a calendar or contract." in page
    assert counts(app) == before


def test_an_invalid_file_lists_every_error_by_path_and_changes_nothing(app, admin):
    document = example()
    document["users"][0]["organisation"] = "foo"
    document["contracts"][0]["priorities"][1]["gtr"] = 16
    before = counts(app)
    response = upload(admin, as_json(document))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "2 errors: nothing was imported." in page
    assert "<li><code>users[0].organisation</code>: unknown organisation &#39;foo&#39;</li>" in page
    assert ("<li><code>contracts[0].priorities[1].gtr</code>: must be an ISO 8601 duration "
            "string such as &#34;PT2H&#34;</li>") in page
    assert counts(app) == before


def test_a_file_that_is_not_json_is_refused_with_where_it_fails(app, admin):
    before = counts(app)
    response = upload(admin, b'{"calendars": [\n  {"code": "24x7",}\n]}', name="import.json")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert ("This file is not a JSON document (invalid JSON at line 2, column 19: Expecting "
            "property name enclosed in double quotes): nothing was imported.") in html.unescape(page)
    assert 'aria-invalid="true"' in page
    assert counts(app) == before


def test_a_file_that_is_not_text_is_refused(admin):
    response = upload(admin, b"%PDF-1.7\n\xff\xfe binary", name="contract.pdf")
    assert response.status_code == 422
    assert "not a JSON document (not UTF-8 text)" in response.get_data(as_text=True)


# The request may be larger than the file (the attachments' limit): the file's own limit refuses it.
@pytest.mark.parametrize("app_config", [{"MAX_CONTENT_LENGTH": 8 * 1024 * 1024}])
def test_an_oversize_file_is_refused_unread(app, admin):
    before = counts(app)
    response = upload(admin, b" " * (IMPORT_MAX_BYTES + 1) + as_json(example()))
    assert response.status_code == 422
    assert "The file is larger than 2 MB: nothing was imported." in response.get_data(
        as_text=True)
    assert counts(app) == before


def test_no_file_is_asked_for(admin):
    response = admin.post("/admin/transfer",
                          data={"csrf_token": csrf_token(admin, "/admin/transfer"), "apply": "x"})
    assert response.status_code == 422
    assert "Choose a JSON file to import." in response.get_data(as_text=True)


@pytest.mark.parametrize("person", ["client", "tech", "lead", "finance"])
def test_nobody_else_may_export_or_import(app, client, world, person):
    sign_in(app, client, getattr(world, person))
    before = counts(app)
    assert client.get("/admin/transfer").status_code == 404
    assert client.get("/admin/transfer/export").status_code == 404
    assert upload_as_stranger(client).status_code == 404
    assert counts(app) == before


def upload_as_stranger(client):
    token = csrf_token(client, "/tickets")
    return client.post("/admin/transfer", data={
        "csrf_token": token, "apply": "x", "document": (io.BytesIO(as_json(example())),
                                                        "import.json")},
        content_type="multipart/form-data")


def test_the_page_is_in_french_for_a_french_admin(app, admin):
    admin.post("/language", data={"language": "fr",
                                  "csrf_token": csrf_token(admin, "/admin/transfer")})
    page = admin.get("/admin/transfer").get_data(as_text=True)
    assert "Importer et exporter" in page


def test_a_file_nested_too_deeply_is_refused(admin):
    response = upload(admin, b"[" * 50_000 + b"]" * 50_000)
    assert response.status_code == 422
    assert "not a JSON document (nested too deeply)" in response.get_data(as_text=True)
