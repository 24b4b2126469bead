"""Finance reviews a month's breaches on /breaches and waives one with a reason.

Two P1 tickets (24/7, GTI 2 h, GTR 8 h), one per client organisation, opened on Monday
2 November 2026 at 09:00 Paris and swept the next day: four breaches of November.
"""
import html
import re
from datetime import UTC, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from helpdesk.accounts.services import find_user
from helpdesk.audit.models import AuditEntry
from helpdesk.escalation.jobs import run_sweep
from helpdesk.escalation.models import Breach
from helpdesk.escalation.services import waive_breach
from helpdesk.extensions import db
from tests.api.helpers import open_ticket, sign_in
from tests.conftest import csrf_token

PARIS = ZoneInfo("Europe/Paris")
OPENED = datetime(2026, 11, 2, 9, 0, tzinfo=PARIS)
SWEPT = datetime(2026, 11, 3, 9, 0, tzinfo=PARIS)
WAIVED_AT = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
MONTH = "2026-11"
REASON = "The client's own hosting provider was down"
NOT_WAIVED = "Say why the breach is waived."


@pytest.fixture
def month(app, world, clock):
    """The four breaches; `ids[(ticket number, "GTI"|"GTR")]` is a breach's id."""
    clock.freeze(WAIVED_AT)
    shop = open_ticket(app, requester=world.client, contract="CT-SHOP", now=OPENED)
    other = open_ticket(app, requester=world.other_client, contract="CT-OTHER", now=OPENED)
    run_sweep(app, now=SWEPT, name="test")
    with app.app_context():
        ids = {(b.ticket.number, b.metric.value.upper()): b.id
               for b in db.session.scalars(sa.select(Breach))}
    assert len(ids) == 4
    return SimpleNamespace(shop=shop, other=other, ids=ids)


def breach_state(app, breach_id: int) -> tuple:
    with app.app_context():
        breach = db.session.get(Breach, breach_id)
        return (breach.waived_at, breach.waived_by.email if breach.waived_by else None,
                breach.waiver_reason)


def audit_entries(app, breach_id: int) -> list[tuple]:
    with app.app_context():
        return [(e.action, e.actor.email, e.at, e.reason, e.changes)
                for e in db.session.scalars(sa.select(AuditEntry).where(
                    AuditEntry.entity == "breach", AuditEntry.entity_id == str(breach_id)))]


def waive(client, breach_id: int, reason: str | None = REASON, *, with_token: bool = True):
    data = {} if reason is None else {"reason": reason}
    if with_token:
        # Any page of a signed-in user carries the token (the sign-out form); this one is cheap.
        data["csrf_token"] = csrf_token(client, "/breaches?month=2000-01")
    return client.post(f"/breaches/{breach_id}/waive", data=data)


def text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def rows(page: str) -> list[list[str]]:
    """The breaches table as the cells' text, one list per row."""
    body = re.search(r"<tbody>(.*?)</tbody>", page, re.S).group(1)
    return [[text(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def listed(page: str) -> set[tuple[str, str]]:
    return {(cells[0], cells[2]) for cells in rows(page) if len(cells) > 1}


def flashes(page: str) -> list[str]:
    return [text(m) for m in re.findall(r'<p class="flash[^"]*"[^>]*>(.*?)</p>', page, re.S)]


@pytest.mark.parametrize("person", ["finance", "admin"])
def test_finance_and_admin_waive_a_breach_with_a_reason(app, client, world, month, person):
    sign_in(app, client, getattr(world, person))
    breach_id = month.ids[(month.shop, "GTI")]
    response = waive(client, breach_id)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/breaches?month={MONTH}")
    assert breach_state(app, breach_id) == (WAIVED_AT, getattr(world, person), REASON)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Breach of {month.shop} (GTI) waived." in flashes(page)


def test_waived_breach_stays_listed_with_who_when_and_why(app, client, world, month):
    sign_in(app, client, world.finance)
    waive(client, month.ids[(month.shop, "GTI")])
    page = client.get(f"/breaches?month={MONTH}").get_data(as_text=True)
    waivers = {(cells[0], cells[2]): cells[8] for cells in rows(page)}
    assert re.fullmatch(rf"waived by Fin Ance on 20 Nov 2026: {re.escape(REASON)}",
                        waivers[(month.shop, "GTI")])
    assert len(waivers) == 4


def test_waiving_records_an_audit_entry(app, client, world, month):
    sign_in(app, client, world.finance)
    breach_id = month.ids[(month.shop, "GTR")]
    waive(client, breach_id)
    assert audit_entries(app, breach_id) == [
        ("waive", world.finance, WAIVED_AT, REASON, {"waived": [False, True]})]


@pytest.mark.parametrize("reason, message", [
    ("   \n ", NOT_WAIVED),
    ("x" * 1001, "Field cannot be longer than 1000 characters."),
], ids=["blank", "too long"])
def test_waiving_without_a_valid_reason_says_why_and_changes_nothing(app, client, world, month,
                                                                     reason, message):
    sign_in(app, client, world.finance)
    breach_id = month.ids[(month.shop, "GTI")]
    response = waive(client, breach_id, reason)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Not waived: {message}" in flashes(page)
    assert breach_state(app, breach_id) == (None, None, None)
    assert audit_entries(app, breach_id) == []


def test_waiving_twice_is_refused_and_keeps_the_first_waiver(app, client, world, month):
    breach_id = month.ids[(month.other, "GTI")]
    sign_in(app, client, world.finance)
    waive(client, breach_id)
    sign_in(app, client, world.admin)
    response = waive(client, breach_id, "Another reason")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Not waived: This breach was already waived on 2026-11-20." in flashes(page)
    assert breach_state(app, breach_id) == (WAIVED_AT, world.finance, REASON)
    assert len(audit_entries(app, breach_id)) == 1


def test_waiving_without_the_csrf_token_is_refused(app, client, world, month):
    sign_in(app, client, world.finance)
    breach_id = month.ids[(month.shop, "GTI")]
    response = waive(client, breach_id, with_token=False)
    assert response.status_code == 400
    assert breach_state(app, breach_id) == (None, None, None)


@pytest.mark.parametrize("person", ["tech", "lead", "client"])
def test_other_roles_cannot_waive(app, client, world, month, person):
    sign_in(app, client, getattr(world, person))
    breach_id = month.ids[(month.shop, "GTI")]
    assert waive(client, breach_id).status_code == 404
    assert breach_state(app, breach_id) == (None, None, None)
    assert audit_entries(app, breach_id) == []


@pytest.mark.parametrize("breach_id", [999_999, 2**31])
def test_waiving_an_unknown_breach_is_404(app, client, world, breach_id):
    sign_in(app, client, world.finance)
    assert waive(client, breach_id).status_code == 404


@pytest.mark.parametrize("person", ["tech", "client"])
def test_breaches_page_is_hidden_from_technicians_and_clients(app, client, world, person):
    sign_in(app, client, getattr(world, person))
    assert client.get(f"/breaches?month={MONTH}").status_code == 404


def test_team_lead_reviews_breaches_without_a_waive_button(app, client, world, month):
    sign_in(app, client, world.lead)
    page = client.get(f"/breaches?month={MONTH}").get_data(as_text=True)
    assert len(listed(page)) == 4
    assert "/waive" not in page


def test_every_waive_reason_field_has_its_own_label(app, client, world, month):
    sign_in(app, client, world.finance)
    page = client.get(f"/breaches?month={MONTH}").get_data(as_text=True)
    fields = re.findall(r'<textarea[^>]*\bid="([^"]+)"', page)
    labels = re.findall(r'<label[^>]*\bfor="([^"]+)"', page)
    assert len(fields) == 4
    assert set(fields) <= set(labels)


@pytest.mark.parametrize("query, expected", [
    ({"contract": "CT-SHOP"}, {("shop", "GTI"), ("shop", "GTR")}),
    ({"organisation": "other"}, {("other", "GTI"), ("other", "GTR")}),
    ({"metric": "gtr"}, {("shop", "GTR"), ("other", "GTR")}),
    ({"waived": "yes"}, {("shop", "GTI")}),
    ({"waived": "no"}, {("shop", "GTR"), ("other", "GTI"), ("other", "GTR")}),
    ({"month": "2026-10"}, set()),
], ids=["contract", "organisation", "metric", "waived", "not waived", "other month"])
def test_filters_narrow_the_list(app, client, world, month, query, expected):
    with app.app_context():
        breach = db.session.get(Breach, month.ids[(month.shop, "GTI")])
        waive_breach(breach, actor=find_user(world.finance), reason=REASON, now=WAIVED_AT)
        db.session.commit()
    if query.get("organisation"):
        query = {**query, "organisation": getattr(world, query["organisation"])}
    sign_in(app, client, world.finance)
    response = client.get("/breaches", query_string={"month": MONTH, **query})
    assert response.status_code == 200
    numbers = {"shop": month.shop, "other": month.other}
    assert listed(response.get_data(as_text=True)) == {(numbers[o], m) for o, m in expected}


@pytest.mark.parametrize("bad", ["2026-13", "2026-11-02", "<script>"])
def test_bad_month_gives_a_message_not_an_error(app, client, world, bad):
    sign_in(app, client, world.finance)
    response = client.get("/breaches", query_string={"month": bad})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "The month must look like 2026-10." in flashes(page)
    assert "<script>" not in page.split("<main", 1)[-1]


def test_month_with_a_trailing_newline_gives_a_message(app, client, world):
    sign_in(app, client, world.finance)
    response = client.get("/breaches", query_string={"month": "2026-11\n"})
    assert response.status_code == 400
    assert "The month must look like 2026-10." in flashes(response.get_data(as_text=True))


@pytest.mark.parametrize("query", [
    {"organisation": "abc"}, {"metric": "sla"}, {"waived": "maybe"},
], ids=["organisation", "metric", "waived"])
def test_odd_filter_values_never_give_a_500(app, client, world, query):
    sign_in(app, client, world.finance)
    response = client.get("/breaches", query_string={"month": MONTH, **query})
    assert response.status_code == 200


def test_huge_organisation_id_never_gives_a_500(app, client, world):
    sign_in(app, client, world.finance)
    response = client.get("/breaches", query_string={"month": MONTH,
                                                     "organisation": "9" * 30})
    assert response.status_code == 200


SHAPE = "The month must look like 2026-10."
BOUNDS = "The month must lie between 2000-01 and 2099-12."


@pytest.mark.parametrize("typed, message", [
    ("0000-01", BOUNDS), ("9999-12", BOUNDS), ("2026-13", SHAPE), ("2026-00", SHAPE),
    ("２０２６-１０", SHAPE), ("٢٠٢٦-١٠", SHAPE), ("2026-1", SHAPE), ("", None),
])
def test_an_edge_month_lists_this_months_breaches_and_says_why(app, client, world, month, typed,
                                                               message):
    sign_in(app, client, world.finance)
    response = client.get("/breaches", query_string={"month": typed})
    assert response.status_code == (400 if message else 200)
    page = response.get_data(as_text=True)
    assert flashes(page) == ([message] if message else [])
    assert "Breaches of November 2026" in page  # the clock's month, where the viewer is
    assert {number for number, _ in listed(page)} == {month.shop, month.other}
