"""Contracts in the browser: an admin enters every term of a contract on one form, adds and
removes its rows without JavaScript, sees the consequences of changed terms before saving them,
and reads each version's changes. Terms are judged by the import's validation and saved by its
apply step: changed terms make a new version, and open tickets keep theirs."""
import html
import re
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from helpdesk.accounts.services import archive_organisation, find_organisation, find_user
from helpdesk.admin.forms.contracts import clock_text, iso_duration
from helpdesk.audit.models import AuditEntry
from helpdesk.billing.services import close_month
from helpdesk.clock import now_utc
from helpdesk.contracts.models import Contract, ContractVersion, Metric
from helpdesk.extensions import db
from helpdesk.sla.durations import parse_iso_duration
from helpdesk.tickets import services
from helpdesk.tickets.models import Outage, Ticket
from tests.api.helpers import sign_in
from tests.billing.conftest import paris, settings, sweep

INPUT = re.compile(r"<input\b[^>]*>")
SELECT = re.compile(r'<select\b[^>]*name="([^"]+)"[^>]*>(.*?)</select>', re.S)


def text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def attribute(tag: str, name: str) -> str | None:
    match = re.search(rf'\b{name}="([^"]*)"', tag)
    return html.unescape(match.group(1)) if match else None


def form_fields(page: str) -> dict[str, str]:
    """What a browser would send of the contract form as shown (no button)."""
    form = page.split('class="contract-form"', 1)[1].split("</form>", 1)[0]
    fields = {}
    for tag in INPUT.findall(form):
        name = attribute(tag, "name")
        if name is None:
            continue
        if 'type="checkbox"' in tag:
            if re.search(r"\bchecked\b", tag):
                fields[name] = "y"
            continue
        fields[name] = attribute(tag, "value") or ""
    for name, options in SELECT.findall(form):
        chosen = re.search(r'<option\b(?=[^>]*\bselected\b)[^>]*value="([^"]*)"', options)
        fields[name] = html.unescape(chosen.group(1)) if chosen else ""
    return fields


def errors_of(page: str, field_id: str) -> str:
    match = re.search(rf'<ul class="errors" id="{re.escape(field_id)}-errors"[^>]*>(.*?)</ul>',
                      page, re.S)
    return text(match.group(1)) if match else ""


def table_row(page: str, heading: str) -> str:
    """The text of the table row whose heading starts with `heading`."""
    for row in re.findall(r"<tr\b.*?</tr>", page, re.S):
        if text(row).startswith(heading):
            return text(row)
    raise AssertionError(f"no row {heading!r}")


def versions(app, reference: str) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(
            sa.select(ContractVersion.version).join(Contract)
            .where(Contract.reference == reference).order_by(ContractVersion.version)))


def audit_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(AuditEntry.id)))


@pytest.fixture
def admin(app, client, world):
    sign_in(app, client, world.admin)
    return client


NEW_CONTRACT = {
    "reference": "CT-NEW", "organisation": "shop", "title": "Hébergement",
    "starts_on": "2026-12-01", "ends_on": "", "monthly_fee": "1500,00", "currency": "EUR",
    "vat_rate": "20", "credit_cap_percent": "40", "credits_subject_to_vat": "y",
    "availability_target": "99.5", "availability_calendar": "24x7",
    "tiers-0-below_percent": "99.5", "tiers-0-credit_percent": "10",
    "priorities-0-code": "P1", "priorities-0-label": "Bloquant", "priorities-0-calendar": "24x7",
    "priorities-0-gti": "1:00", "priorities-0-gtr": "4:30",
    "priorities-0-gti_fixed": "150.00", "priorities-0-gti_percent": "",
    "priorities-0-gtr_fixed": "", "priorities-0-gtr_percent": "1.5",
    "priorities-0-escalations-0-at_percent": "75",
    "priorities-0-escalations-0-notify": "team_leads",
    "priorities-1-code": "P2", "priorities-1-label": "Gênant", "priorities-1-calendar": "biz-fr",
    "priorities-1-gti": "8:00", "priorities-1-gtr": "",
    "priorities-1-gti_fixed": "", "priorities-1-gti_percent": "",
    "priorities-1-gtr_fixed": "", "priorities-1-gtr_percent": "",
}


def post(client, path: str, fields: dict[str, str], **button: str):
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                      client.get(path).get_data(as_text=True)).group(1)
    return client.post(path, data={**fields, "csrf_token": token, **button})


# -- creating ------------------------------------------------------------------------------------


def test_an_admin_creates_a_contract_with_two_priorities_from_the_page(app, admin, world):
    response = post(admin, "/admin/contracts/new", NEW_CONTRACT, save="1")

    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/contracts/CT-NEW/history"
    with app.app_context():
        contract = db.session.scalar(sa.select(Contract).where(Contract.reference == "CT-NEW"))
        terms = contract.current_version
        assert (contract.organisation.code, contract.title, str(contract.starts_on),
                contract.ends_on) == ("shop", "Hébergement", "2026-12-01", None)
        assert (terms.version, terms.monthly_fee, terms.credit_cap_percent,
                terms.availability_target_percent, terms.availability_calendar.code) == (
            1, Decimal("1500.00"), Decimal("40"), Decimal("99.5"), "24x7")
        assert [(t.below_percent, t.credit_percent) for t in terms.availability_tiers] == [
            (Decimal("99.5"), Decimal("10"))]
        first, second = terms.priorities
        assert (first.code, first.label, first.calendar.code, first.gti_seconds,
                first.gtr_seconds) == ("P1", "Bloquant", "24x7", 3600, 16200)
        assert [(e.at_percent, e.notify.value) for e in first.escalations] == [(75, "team_leads")]
        assert {(r.metric, r.fixed_amount, r.percent_per_started_hour)
                for r in first.penalties} == {(Metric.GTI, Decimal("150.00"), Decimal(0)),
                                              (Metric.GTR, Decimal(0), Decimal("1.5"))}
        assert (second.code, second.calendar.code, second.gti_seconds, second.gtr_seconds,
                second.penalties, second.escalations) == ("P2", "biz-fr", 28800, None, [], [])


def test_a_new_contract_shows_its_terms_when_checked_and_saves_nothing(app, admin, world):
    before = audit_count(app)
    page = post(admin, "/admin/contracts/new", NEW_CONTRACT, check="1").get_data(as_text=True)

    assert "its terms become version 1" in text(page)
    assert table_row(page, "P1: GTI") == "P1: GTI 1 h"
    assert versions(app, "CT-NEW") == [] and audit_count(app) == before


def test_an_archived_organisation_is_not_offered_for_a_new_contract(app, admin, world):
    with app.app_context():
        archive_organisation(find_organisation("other"), now=now_utc(), actor=None)
        db.session.commit()
    form = admin.get("/admin/contracts/new").get_data(as_text=True)
    assert 'value="shop"' in form and 'value="other"' not in form


def test_a_new_contract_cannot_take_the_reference_of_another(app, admin, world):
    response = post(admin, "/admin/contracts/new", {**NEW_CONTRACT, "reference": "CT-OTHER"},
                    save="1")

    assert response.status_code == 422
    assert "A contract has this reference already" in errors_of(
        response.get_data(as_text=True), "reference")
    assert versions(app, "CT-OTHER") == [1]


@pytest.mark.parametrize(("typed", "seconds"), [
    ("4:00", 14400), ("0:30", 1800), ("72:15", 260100), ("0:01:30", 90), ("PT2H", 7200)])
def test_durations_are_typed_as_hours_and_minutes_and_shown_back_alike(typed, seconds):
    assert parse_iso_duration(iso_duration(typed)).total_seconds() == seconds
    assert clock_text(seconds) == (typed if ":" in typed else "2:00")


# -- rows without JavaScript ---------------------------------------------------------------------


def test_add_a_priority_shows_one_more_row_and_saves_nothing(app, admin, world):
    response = post(admin, "/admin/contracts/new", NEW_CONTRACT, add="priority")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert form_fields(page)["priorities-1-code"] == "P2"  # what was typed stays
    assert 'name="priorities-2-code"' in page and 'name="priorities-3-code"' not in page
    assert versions(app, "CT-NEW") == []


def test_add_a_warning_and_a_tier_each_show_one_more_row(admin, world):
    page = post(admin, "/admin/contracts/new", NEW_CONTRACT,
                add="threshold-1").get_data(as_text=True)
    assert 'name="priorities-1-escalations-0-at_percent"' in page
    page = post(admin, "/admin/contracts/new", form_fields(page),
                add="tier").get_data(as_text=True)
    assert 'name="tiers-1-below_percent"' in page
    assert 'name="priorities-1-escalations-0-at_percent"' in page


def test_a_priority_ticked_for_removal_is_left_out(app, admin, world):
    page = admin.get("/admin/contracts/CT-SHOP/edit").get_data(as_text=True)
    fields = {**form_fields(page), "priorities-1-remove": "y"}

    checked = post(admin, "/admin/contracts/CT-SHOP/edit", fields, check="1").get_data(
        as_text=True)
    assert 'name="priorities-1-code"' not in checked
    assert table_row(checked, "Priorities") == "Priorities P1, P3 P1"
    response = post(admin, "/admin/contracts/CT-SHOP/edit", form_fields(checked), save="1")

    assert response.status_code == 302
    with app.app_context():
        contract = db.session.scalar(sa.select(Contract).where(Contract.reference == "CT-SHOP"))
        assert [p.code for p in contract.current_version.priorities] == ["P1"]
        assert [p.code for p in contract.versions[0].priorities] == ["P1", "P3"]


def test_a_warning_is_added_to_the_priority_whose_button_was_pressed(admin, world):
    page = admin.get("/admin/contracts/CT-SHOP/edit").get_data(as_text=True)
    fields = {**form_fields(page), "priorities-0-remove": "y"}

    page = post(admin, "/admin/contracts/CT-SHOP/edit", fields,
                add="threshold-1").get_data(as_text=True)

    shown = form_fields(page)
    [(row, code)] = [(name.removesuffix("-code"), value) for name, value in shown.items()
                     if re.fullmatch(r"priorities-[0-9]+-code", name)]
    assert code == "P3"
    assert [value for name, value in shown.items()
            if name.startswith(f"{row}-escalations-") and name.endswith("-at_percent")] == [
        "50", "80", ""]


# -- editing -------------------------------------------------------------------------------------


def open_ticket(app, world, priority: str) -> int:
    with app.app_context():
        contract = db.session.scalar(sa.select(Contract).where(
            Contract.reference == world.contract))
        ticket = services.open_ticket(actor=find_user(world.client), contract=contract,
                                      priority_code=priority, title="Checkout down",
                                      description="Nobody can pay.", now=now_utc())
        db.session.commit()
        return ticket.id


def edit(admin, change: dict[str, str]) -> tuple[dict[str, str], str]:
    """The edit form as shown, with `change` typed in, checked: (its fields, the page)."""
    page = admin.get("/admin/contracts/CT-SHOP/edit").get_data(as_text=True)
    response = post(admin, "/admin/contracts/CT-SHOP/edit", {**form_fields(page), **change},
                    check="1")
    assert response.status_code == 200, response.get_data(as_text=True)
    page = response.get_data(as_text=True)
    return form_fields(page), page


def test_changed_terms_make_a_new_version_and_open_tickets_keep_theirs(app, admin, world):
    kept = open_ticket(app, world, "P1")
    fields, _ = edit(admin, {"priorities-0-gti": "1:00"})

    response = post(admin, "/admin/contracts/CT-SHOP/edit", fields, save="1")

    assert response.status_code == 302
    assert versions(app, "CT-SHOP") == [1, 2]
    opened_after = open_ticket(app, world, "P1")
    with app.app_context():
        old, new = db.session.get(Ticket, kept), db.session.get(Ticket, opened_after)
        assert (old.contract_version.version, old.priority.gti_seconds) == (1, 7200)
        assert (new.contract_version.version, new.priority.gti_seconds) == (2, 3600)


def test_save_first_shows_the_consequences_and_changes_nothing(app, admin, world):
    page = admin.get("/admin/contracts/CT-SHOP/edit").get_data(as_text=True)
    before = audit_count(app)

    response = post(admin, "/admin/contracts/CT-SHOP/edit",
                    {**form_fields(page), "monthly_fee": "1200.00"}, save="1")

    shown = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Nothing is saved yet" in text(shown) and "Saving makes version 2" in text(shown)
    assert versions(app, "CT-SHOP") == [1] and audit_count(app) == before


def test_terms_changed_after_the_check_are_checked_again_before_saving(app, admin, world):
    fields, _ = edit(admin, {"monthly_fee": "1200.00"})

    response = post(admin, "/admin/contracts/CT-SHOP/edit",
                    {**fields, "monthly_fee": "1300.00"}, save="1")

    assert response.status_code == 200
    assert table_row(response.get_data(as_text=True), "Monthly fee") == (
        "Monthly fee €1,000.00 €1,300.00")
    assert versions(app, "CT-SHOP") == [1]


def test_unchanged_terms_make_no_version(app, admin, world):
    fields, page = edit(admin, {})
    assert "These are the contract's current terms" in text(page)

    response = post(admin, "/admin/contracts/CT-SHOP/edit", fields, save="1")

    assert response.status_code == 302
    assert versions(app, "CT-SHOP") == [1]


# -- bad input -----------------------------------------------------------------------------------


def refused(app, admin, bad: dict[str, str]) -> str:
    """The edit form posted with `bad` typed in: the page, once sure nothing changed."""
    page = admin.get("/admin/contracts/CT-SHOP/edit").get_data(as_text=True)
    before = audit_count(app)
    response = post(admin, "/admin/contracts/CT-SHOP/edit", {**form_fields(page), **bad},
                    save="1")
    assert response.status_code == 422
    assert versions(app, "CT-SHOP") == [1] and audit_count(app) == before
    return response.get_data(as_text=True)


def test_bad_values_are_shown_at_each_field_and_change_nothing(app, admin, world):
    shown = refused(app, admin, {"monthly_fee": "lots", "vat_rate": "-5",
                                 "priorities-1-gti": "soon", "tiers-1-credit_percent": "12.3456",
                                 "priorities-0-escalations-0-at_percent": "120"})

    assert {field: errors_of(shown, field) for field in (
        "monthly_fee", "vat_rate", "priorities-1-gti", "tiers-1-credit_percent",
        "priorities-0-escalations-0-at_percent", "title")} == {
        "monthly_fee": "A number such as 1000.00.",
        "vat_rate": "Must not be negative.",
        "priorities-1-gti": "Write hours and minutes, such as 4:00 or 0:30.",
        "tiers-1-credit_percent": "At most 3 decimal places.",
        "priorities-0-escalations-0-at_percent": "A whole number from 1 to 100.",
        "title": "",
    }
    assert 'aria-describedby="monthly_fee-hint monthly_fee-errors"' in shown
    assert form_fields(shown)["monthly_fee"] == "lots"  # what was typed stays
    summary = shown.split('class="notice error-summary"', 1)[1].split("</section>", 1)[0]
    assert re.findall(r'<a href="#([^"]+)">', summary) == [
        "monthly_fee", "vat_rate", "tiers-1-credit_percent",
        "priorities-0-escalations-0-at_percent", "priorities-1-gti"]
    assert "Priority 2 · GTI (time to intervene) : Write hours and minutes" in text(summary)


def test_terms_that_contradict_each_other_are_shown_at_each_field(app, admin, world):
    shown = refused(app, admin, {"ends_on": "2025-12-31", "priorities-1-code": "P1",
                                 "priorities-0-escalations-1-at_percent": "50",
                                 "priorities-1-gtr_fixed": "10.00"})

    assert {field: errors_of(shown, field) for field in (
        "ends_on", "priorities-1-code", "priorities-0-escalations-1-at_percent",
        "priorities-1-gtr_fixed")} == {
        "ends_on": "Must not be before the start date.",
        "priorities-1-code": "Another priority has the code “P1”.",
        "priorities-0-escalations-1-at_percent": "Another threshold of this priority is at 50 %.",
        "priorities-1-gtr_fixed": "A GTR penalty needs a GTR.",
    }


def test_a_contract_without_priorities_is_refused_above_the_rows(app, admin, world):
    fields = {key: value for key, value in NEW_CONTRACT.items()
              if not key.startswith("priorities-")}

    response = post(admin, "/admin/contracts/new", fields, save="1")

    assert response.status_code == 422
    assert errors_of(response.get_data(as_text=True), "priorities") == (
        "At least one priority is required.")
    assert versions(app, "CT-NEW") == []


def test_errors_speak_the_readers_language(app, admin, world):
    with app.app_context():
        find_user(world.admin).language = "fr"
        db.session.commit()
    response = post(admin, "/admin/contracts/new", {**NEW_CONTRACT, "monthly_fee": "beaucoup"},
                    save="1")

    assert errors_of(response.get_data(as_text=True), "monthly_fee") == (
        "Un nombre tel que 1000.00.")


# -- who may ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("person", ["client", "tech", "lead", "finance"])
def test_nobody_but_admins_reaches_the_contract_pages(app, client, world, person):
    sign_in(app, client, getattr(world, person))
    for path in ("/admin/contracts", "/admin/contracts/new", "/admin/contracts/CT-SHOP/edit",
                 "/admin/contracts/CT-SHOP/history"):
        assert client.get(path).status_code == 404
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                      client.get("/tickets").get_data(as_text=True)).group(1)
    response = client.post("/admin/contracts/new",
                           data={**NEW_CONTRACT, "csrf_token": token, "save": "1"})
    assert response.status_code == 404
    assert versions(app, "CT-NEW") == []


# -- the audit trail and the history -------------------------------------------------------------


def test_saving_is_audited_with_the_admin_as_actor(app, admin, world):
    fields, _ = edit(admin, {"monthly_fee": "1200.00", "title": "Maintenance+"})
    post(admin, "/admin/contracts/CT-SHOP/edit", fields, save="1")

    with app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.entity == "contract"))
        assert (entry.actor.email, entry.entity_id, entry.action) == (
            world.admin, "CT-SHOP", "admin")
        assert {key: entry.changes[key] for key in ("monthly_fee", "title", "version")} == {
            "monthly_fee": ["1000.00", "1200.00"], "title": ["Maintenance", "Maintenance+"],
            "version": [1, 2]}


def test_the_history_shows_who_changed_what_and_when(app, admin, world, clock):
    clock.freeze(paris(2026, 11, 30, 10, 5))
    fields, _ = edit(admin, {"monthly_fee": "1200.00", "priorities-0-gti": "1:30",
                             "priorities-0-escalations-0-remove": "y"})
    post(admin, "/admin/contracts/CT-SHOP/edit", fields, save="1")

    page = admin.get("/admin/contracts/CT-SHOP/history").get_data(as_text=True)

    newest = page.split('<li class="card">')[1]
    assert text(newest.split("</h2>")[0]) == (
        "Version 2 · 30 Nov 2026, 10:05 CET · Ada Admin · contract form")
    assert table_row(newest, "Monthly fee") == "Monthly fee €1,000.00 €1,200.00"
    assert table_row(newest, "P1: GTI") == "P1: GTI 2 h 1 h 30 min"
    assert table_row(newest, "P1: warnings") == (
        "P1: warnings 50 % → assignee, 80 % → team leads 80 % → team leads")
    assert "P3" not in text(newest)  # unchanged terms are not listed
    first = page.split('<li class="card">')[2]
    assert text(first.split("</h2>")[0]).startswith("Version 1 ·")
    assert table_row(first, "Monthly fee") == "Monthly fee — €1,000.00"


# -- what if -------------------------------------------------------------------------------------


@pytest.fixture
def october(app, world):
    """October 2026 on the shop's contract (fee 1,000.00, cap 30 %, VAT 20 %, P1 GTI breach
    100.00 fixed, no GTR penalty, availability 99.9 % with tiers 10 % / 25 %): two P1 GTI
    breaches, one P1 GTR breach 2 h 30 late, a 2 h outage; and two tickets open now."""
    with app.app_context():
        contract = db.session.scalar(sa.select(Contract).where(
            Contract.reference == world.contract))
        client, tech = find_user(world.client), find_user(world.tech)

        def opened(at, priority="P1"):
            return services.open_ticket(actor=client, contract=contract, priority_code=priority,
                                        title="Site down", description="Down.", now=at)
        first = opened(paris(2026, 10, 5, 8, 0))
        services.take_ticket(first, actor=tech, now=paris(2026, 10, 5, 11, 0))  # GTI due 10:00
        services.resolve_ticket(first, actor=tech, now=paris(2026, 10, 5, 18, 30))  # GTR 16:00
        second = opened(paris(2026, 10, 12, 9, 0))
        services.take_ticket(second, actor=tech, now=paris(2026, 10, 12, 11, 30))  # GTI 11:00
        services.resolve_ticket(second, actor=tech, now=paris(2026, 10, 12, 15, 0))
        db.session.add(Outage(ticket_id=second.id, contract_id=contract.id,
                              started_at=paris(2026, 10, 12, 9, 0),
                              ended_at=paris(2026, 10, 12, 11, 0), recorded_by_id=tech.id,
                              recorded_at=paris(2026, 10, 12, 11, 0)))
        sweep(paris(2026, 11, 1, 0, 0))
        opened(now_utc() - timedelta(minutes=30))
        opened(now_utc() - timedelta(minutes=20), "P3")
        db.session.commit()


def test_what_if_compares_last_months_credits_under_the_new_terms(admin, world, october,
                                                                  clock):
    clock.freeze(paris(2026, 11, 30, 10, 0))
    _, page = edit(admin, {"monthly_fee": "2000.00", "credit_cap_percent": "50",
                           "priorities-0-gti_fixed": "50.00", "priorities-0-gtr_fixed": "0",
                           "priorities-0-gtr_percent": "1", "tiers-0-credit_percent": "5"})

    # Now: GTI 2 × 100.00 + GTR no penalty = 200.00; availability (745 h − 2 h) / 745 h =
    # 99.732 % < 99.9 % → 10 % × 1,000.00 = 100.00; 300.00 is not above the 300.00 cap; VAT 60.00.
    # New: GTI 2 × 50.00 + GTR 1 % × 2,000.00 × 3 started hours = 160.00; 5 % × 2,000.00 = 100.00;
    # 260.00 under the 1,000.00 cap; VAT 52.00.
    assert "Credits of October 2026" in text(page)
    assert [table_row(page, heading) for heading in (
        "Breach penalties", "Availability credit", "Cap", "Total excl. VAT", "VAT",
        "Total incl. VAT")] == [
        "Breach penalties (3 breaches) €200.00 €160.00",
        "Availability credit (measured 99.732 %) €100.00 €100.00",
        "Cap €0.00 €0.00",
        "Total excl. VAT €300.00 €260.00",
        "VAT €60.00 €52.00",
        "Total incl. VAT €360.00 €312.00",
    ]
    assert "Credit note of October 2026: none" in text(page)


def test_what_if_counts_the_open_tickets_that_keep_their_terms(admin, world, october, clock):
    clock.freeze(paris(2026, 11, 30, 10, 0))
    _, page = edit(admin, {"monthly_fee": "2000.00"})

    assert "2 open tickets keep the terms they were opened under:" in text(page)
    assert re.findall(r"<li>(version .*?)</li>", page) == [
        "version 1, P1: 1 ticket", "version 1, P3: 1 ticket"]


def test_what_if_says_which_dropped_priorities_no_longer_credit(admin, world, october, clock):
    clock.freeze(paris(2026, 11, 30, 10, 0))
    _, page = edit(admin, {"priorities-0-code": "P0"})

    assert "no longer have priorities P1" in text(page)
    assert table_row(page, "Breach penalties") == "Breach penalties (3 breaches) €200.00 €0.00"


def test_what_if_applies_a_lower_cap_and_no_vat(admin, world, october, clock):
    clock.freeze(paris(2026, 11, 30, 10, 0))
    _, page = edit(admin, {"credit_cap_percent": "20", "credits_subject_to_vat": ""})

    # 200.00 + 100.00 = 300.00 is above a cap of 20 % × 1,000.00 = 200.00: −100.00; no VAT.
    assert [table_row(page, heading) for heading in ("Cap", "Total excl. VAT", "VAT",
                                                     "Total incl. VAT")] == [
        "Cap €0.00 -€100.00", "Total excl. VAT €300.00 €200.00", "VAT €60.00 not subject",
        "Total incl. VAT €360.00 €200.00"]


def test_what_if_names_the_months_credit_note_when_it_was_closed(app, admin, world, october,
                                                                 clock):
    clock.freeze(paris(2026, 11, 30, 10, 0))
    with app.app_context():
        close_month("2026-10", seller=settings().seller, at=now_utc(),
                    contract_reference=world.contract)
        db.session.commit()

    _, page = edit(admin, {"monthly_fee": "2000.00"})

    assert "Credit note of October 2026: draft €300.00" in text(page)
