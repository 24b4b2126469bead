"""An admin imports a set-up file in the browser and reads the changes in the audit trail, at
1366 px without a horizontal scroll. Screenshots go to test-artifacts/screenshots/."""
import json

from playwright.sync_api import expect

from tests.browser.helpers import fits_the_width, sign_in
from tests.contracts.documents import example

LAPTOP = {"width": 1366, "height": 768}


def test_an_admin_checks_imports_and_audits_a_file(world, page, page_errors, snap, tmp_path):
    page_errors.expect(r"status of 422 .* at http://[^ ]+/admin/transfer$")
    wrong = example()
    wrong["contracts"][0]["priorities"][1]["gtr"] = 16
    (tmp_path / "wrong.json").write_text(json.dumps(wrong), encoding="utf-8")
    changed = example()
    changed["contracts"][0]["priorities"][0]["gti"] = "PT1H"
    (tmp_path / "right.json").write_text(json.dumps(example()), encoding="utf-8")
    (tmp_path / "changed.json").write_text(json.dumps(changed), encoding="utf-8")
    page.set_viewport_size(LAPTOP)
    sign_in(page, world.admin)
    page.goto("/admin/")
    page.get_by_role("link", name="Import and export").click()
    expect(page.get_by_role("heading", name="Import and export")).to_be_visible()
    assert fits_the_width(page)
    snap("transfer")

    page.get_by_label("Import file (JSON)").set_input_files(tmp_path / "wrong.json")
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_role("heading", name="1 error: nothing was imported.")).to_be_visible()
    expect(page.locator(".transfer-errors li")).to_have_text(
        'contracts[0].priorities[1].gtr: must be an ISO 8601 duration string such as "PT2H"')
    snap("errors")

    page.get_by_label("Import file (JSON)").set_input_files(tmp_path / "right.json")
    page.get_by_role("button", name="Check without importing").click()
    expect(page.get_by_text("Nothing was changed")).to_be_visible()
    page.get_by_label("Import file (JSON)").set_input_files(tmp_path / "right.json")
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_role("heading", name="Imported")).to_be_visible()
    page.get_by_label("Import file (JSON)").set_input_files(tmp_path / "changed.json")
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_text("contract CT-2026-001, version 2 (terms changed)")).to_be_visible()
    assert fits_the_width(page)
    snap("report")

    page.goto("/admin/audit")
    page.get_by_label("Kind").select_option("contract")
    page.get_by_label("Number, code or e-mail").fill("CT-2026")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("main tbody tr")).to_have_count(2)
    newest = page.locator("main tbody tr").first
    expect(newest.locator("dt").first).to_have_text("priorities[P1].gti_seconds")
    expect(newest.locator("dd").first).to_have_text("before: 7200 → after: 3600")
    assert fits_the_width(page)
    snap("audit")
    page.get_by_label("Language").select_option("fr")
    page.get_by_role("button", name="Change").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    assert fits_the_width(page)
    snap("audit-fr")
