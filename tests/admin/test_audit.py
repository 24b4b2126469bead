"""The audit trail page: every recorded change, newest first, filtered and paged; who, when in
the reader's zone, and each changed field before and after."""
import html
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from helpdesk.accounts.models import User
from helpdesk.accounts.services import find_user
from helpdesk.audit.services import record_audit
from helpdesk.extensions import db
from tests.api.helpers import sign_in
from tests.conftest import csrf_token

# 23:30 UTC on 29 November is already 30 November, 00:30, in Paris (the admin's zone).
LATE_EVENING = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)


def record(app, *, at, entity="ticket", entity_id="T-000001", action="take", actor=None,
           changes=None, reason=""):
    with app.app_context():
        record_audit(actor=find_user(actor) if actor else None, now=at, entity=entity,
                     entity_id=entity_id, action=action, changes=changes or {}, reason=reason)
        db.session.commit()


@pytest.fixture
def trail(app, world):
    """A few changes of different kinds, by different people, a day apart."""
    record(app, at=LATE_EVENING - timedelta(days=2), entity="contract", entity_id="CT-SHOP",
           action="import", changes={"monthly_fee": ["1000.00", "1200.00"]})
    record(app, at=LATE_EVENING - timedelta(days=1), entity="user", entity_id=world.client,
           action="import", actor=world.admin, changes={"active": [True, False]})
    record(app, at=LATE_EVENING, entity="ticket", entity_id="T-000042", action="take",
           actor=world.tech, changes={"status": ["new", "in_progress"]})


@pytest.fixture
def admin(app, client, world):
    return sign_in(app, client, world.admin)


def rows(page: str) -> list[str]:
    body = page[page.index("<tbody>"):page.index("</tbody>")]
    body = re.sub(r'<span class="visually-hidden">[^<]*</span>', "", body)
    return [html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row))).strip()
            for row in body.split("<tr>")[1:]]


def test_entries_are_listed_newest_first_with_who_when_and_what(admin, trail):
    page = admin.get("/admin/audit").get_data(as_text=True)
    listed = rows(page)
    assert len(listed) == 3
    assert listed[0].startswith("30 Nov 2026, 00:30:00 CET Tom Tech tech@provider.example "
                                "ticket T-000042 taken in charge status new → in_progress")
    assert listed[1].startswith("29 Nov 2026, 00:30:00 CET Ada Admin")
    assert "user client@shop.example imported active yes → no" in listed[1]
    assert listed[2].startswith("28 Nov 2026, 00:30:00 CET system contract CT-SHOP imported "
                                "monthly_fee 1000.00 → 1200.00")
    assert 'href="/tickets/T-000042"' in page and 'href="/contracts/CT-SHOP"' in page


def test_the_kind_filter_keeps_only_that_kind(admin, trail):
    listed = rows(admin.get("/admin/audit?entity=user").get_data(as_text=True))
    assert len(listed) == 1 and "client@shop.example" in listed[0]


def test_the_text_filter_finds_part_of_a_number_code_or_email_in_any_case(admin, trail):
    assert len(rows(admin.get("/admin/audit?text=ct-sh").get_data(as_text=True))) == 1
    assert len(rows(admin.get("/admin/audit?text=@SHOP.").get_data(as_text=True))) == 1
    page = admin.get("/admin/audit?text=%25").get_data(as_text=True)
    assert "No change matches these filters." in page


def test_the_actor_filter_keeps_one_persons_changes_or_the_systems(app, admin, world, trail):
    with app.app_context():
        tech_id = db.session.scalar(sa.select(User.id).where(User.email == world.tech))
    page = admin.get("/admin/audit").get_data(as_text=True)
    assert f'<option value="{tech_id}">Tom Tech</option>' in page
    assert "Lea Lead" not in page  # only those who changed something are offered
    listed = rows(admin.get(f"/admin/audit?actor={tech_id}").get_data(as_text=True))
    assert len(listed) == 1 and "T-000042" in listed[0]
    listed = rows(admin.get("/admin/audit?actor=system").get_data(as_text=True))
    assert len(listed) == 1 and "CT-SHOP" in listed[0]


def test_the_date_range_is_read_in_the_admins_zone(admin, trail):
    # 23:30 UTC on the 29th is the 30th in Paris: on the 30th, not on the 29th.
    listed = rows(admin.get("/admin/audit?since=2026-11-30").get_data(as_text=True))
    assert len(listed) == 1 and "T-000042" in listed[0]
    listed = rows(admin.get("/admin/audit?since=2026-11-29&until=2026-11-29")
                  .get_data(as_text=True))
    assert len(listed) == 1 and "client@shop.example" in listed[0]


def test_the_date_range_follows_the_admins_own_zone(app, admin, world, trail):
    with app.app_context():
        db.session.execute(sa.update(User).where(User.email == world.admin)
                           .values(timezone="America/New_York"))
        db.session.commit()
    # 23:30 UTC on the 29th is 18:30 on the 29th in New York.
    listed = rows(admin.get("/admin/audit?until=2026-11-29").get_data(as_text=True))
    assert len(listed) == 3
    assert listed[0].startswith("29 Nov 2026, 18:30:00 EST")


def test_a_bad_filter_is_said_at_its_field_and_left_out(admin, trail):
    response = admin.get("/admin/audit?since=2026-11-30&until=2026-11-01&entity=spaceship")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "The end date must not come before the start date." in page
    assert "Choose from the list: showing all of them." in page
    assert 'aria-invalid="true"' in page
    assert len(rows(page)) == 1  # only the start date applied


def test_pages_hold_fifty_entries_and_keep_the_filters(app, admin, world):
    start = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    for minute in range(51):
        record(app, at=start + timedelta(minutes=minute), entity_id=f"T-{minute:06d}",
               actor=world.tech)
    record(app, at=start, entity="contract", entity_id="CT-SHOP", action="import")
    first = admin.get("/admin/audit?entity=ticket").get_data(as_text=True)
    assert len(rows(first)) == 50 and "T-000050" in rows(first)[0]
    assert "51 changes found." in first and "Page 1 of 2" in first
    assert 'href="/admin/audit?page=2&amp;entity=ticket" rel="next"' in first
    second = admin.get("/admin/audit?page=2&entity=ticket").get_data(as_text=True)
    assert len(rows(second)) == 1 and "T-000000" in rows(second)[0]
    assert 'href="/admin/audit?page=1&amp;entity=ticket" rel="prev"' in second
    assert len(rows(admin.get("/admin/audit?page=99&entity=ticket").get_data(as_text=True))) == 1


def test_nested_changes_are_shown_part_by_part(app, admin, world):
    before = {"code": "P1", "gti_seconds": 7200, "escalations": [{"at_percent": 50,
                                                                  "notify": "assignee"}]}
    record(app, at=LATE_EVENING, entity="contract", entity_id="CT-SHOP", action="import",
           actor=world.admin, changes={
               "priorities": [[before, {"code": "P3", "gti_seconds": 28800}],
                              [{**before, "gti_seconds": 3600}]],
               "availability": [None, {"target_percent": "99.900", "tiers": []}],
               "version": [1, 2]})
    [row] = rows(admin.get("/admin/audit").get_data(as_text=True))
    assert "priorities[P1].gti_seconds 7200 → 3600" in row
    assert "priorities[P3] {code: P3, gti_seconds: 28800} → —" in row
    assert "availability — → {target_percent: 99.900, tiers: []}" in row
    assert "version 1 → 2" in row
    assert "escalations" not in row  # unchanged parts are not repeated


def test_a_reason_is_shown_with_its_entry(app, admin, world):
    record(app, at=LATE_EVENING, entity="breach", entity_id="7", action="waive",
           actor=world.admin, changes={"waived": [False, True]}, reason="Client's own outage")
    [row] = rows(admin.get("/admin/audit").get_data(as_text=True))
    assert "breach 7 waived waived no → yes Reason: Client's own outage" in row


def test_an_empty_trail_says_so(admin):
    assert "Nothing recorded yet." in admin.get("/admin/audit").get_data(as_text=True)


def test_the_administration_front_page_leads_to_it(admin):
    assert 'href="/admin/audit"' in admin.get("/admin/").get_data(as_text=True)


@pytest.mark.parametrize("person", ["client", "tech", "lead", "finance"])
def test_nobody_else_sees_the_trail(app, client, world, trail, person):
    sign_in(app, client, getattr(world, person))
    assert client.get("/admin/audit").status_code == 404


def test_a_signed_out_visitor_is_asked_to_sign_in(client):
    assert client.get("/admin/audit").headers["Location"].startswith("/login")


def test_the_page_is_in_french_for_a_french_admin(admin, trail):
    admin.post("/language", data={"language": "fr",
                                  "csrf_token": csrf_token(admin, "/admin/audit")})
    page = admin.get("/admin/audit").get_data(as_text=True)
    assert "Journal d’audit" in page and "3 modifications trouvées." in page
    assert "utilisateur client@shop.example importé active oui → non" in rows(page)[1]
