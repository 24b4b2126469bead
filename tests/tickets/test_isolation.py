"""Tenant isolation and role access, over every route of the application.

A client reaches nothing of another organisation, by any URL or API call: 404, not 403, so ids
are not probed. Every view refuses the roles it is not for. The last test enumerates the URL map
so that a new route cannot be forgotten here.
"""
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from helpdesk import create_app
from helpdesk.accounts.models import ApiToken
from helpdesk.accounts.services import find_user
from helpdesk.billing.models import CreditNote
from helpdesk.billing.services import close_month, issue_month
from helpdesk.clock import now_utc
from helpdesk.contracts.models import Contract
from helpdesk.escalation.models import Breach
from helpdesk.escalation.services import sweep_batch
from helpdesk.extensions import db
from helpdesk.tickets import outages, services
from helpdesk.tickets.models import Ticket, parse_number
from helpdesk.tickets.workflow import Action
from tests.api.helpers import (
    add_note_with_attachment,
    add_reply_with_attachment,
    api_token,
    bearer,
    open_ticket,
    row_counts,
    sign_in,
)
from tests.billing.conftest import settings
from tests.conftest import CSRF_PATTERN, csrf_token

ROLES = ("anonymous", "client", "finance", "tech", "lead", "admin")
LOGIN = "login"  # a redirect to the sign-in page
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def scene(app, world):
    """The shop's ticket with a public attachment and an internal note with its own attachment,
    and a ticket of the other organisation."""
    # Opened the day before the tests' clock starts (30 Nov 2026), so outages fit after it.
    shop = open_ticket(app, requester=world.client, title="Shop checkout broken",
                       now=now_utc() - timedelta(days=1))
    other = open_ticket(app, requester=world.other_client, contract="CT-OTHER",
                        title="Other organisation outage")
    public = add_reply_with_attachment(app, shop, author=world.tech, body="Log attached",
                                       filename="public-log.txt")
    internal = add_note_with_attachment(app, shop, author=world.tech,
                                        body="Root password is hunter2",
                                        filename="internal-secret.txt")
    with app.app_context():
        now = now_utc()
        outage = outages.record_outage(
            db.session.get(Ticket, parse_number(shop)), actor=find_user(world.tech),
            started_at=now - timedelta(hours=2), ended_at=now - timedelta(hours=1), now=now)
        db.session.commit()
        outage = outage.id
    return {"shop": shop, "other": other, "public": public, "internal": internal,
            "outage": outage, "contract": world.contract,
            "other_contract": world.other_contract}


def _web(app, world, role):
    client = app.test_client()
    if role != "anonymous":
        sign_in(app, client, getattr(world, role))
    return client


def _web_call(client, method, path, data=None):
    """A signed-in browser's GET, or POST with its CSRF token."""
    if method == "GET":
        return client.get(path)
    return client.post(path, data={"csrf_token": csrf_token(client, "/tickets"), **(data or {})})


def _outcome(response) -> int | str:
    response.close()  # a download holds its file open until closed
    if response.status_code == 302 and response.headers["Location"].startswith("/login"):
        return LOGIN
    return response.status_code


# --- tenant isolation -------------------------------------------------------------------------

# endpoint -> paths (with {shop}, {other}, {public}, {internal}, {contract} placeholders) that the
# other organisation's client must not reach.
FOREIGN_WEB = {
    "tickets.show": ["/tickets/{shop}"],
    "tickets.act": [f"/tickets/{{shop}}/actions/{action.value}" for action in Action],
    "tickets.attachment": ["/tickets/{shop}/attachments/{public}",
                           "/tickets/{shop}/attachments/{internal}",
                           # its own ticket's number with the shop's attachment id
                           "/tickets/{other}/attachments/{public}"],
    "contracts.show": ["/contracts/{contract}"],
    "tickets.record_outage": ["/tickets/{shop}/outages"],
    "tickets.change_outage": [f"/tickets/{{shop}}/outages/{{outage}}/{change}"
                              for change in ("end", "correct", "delete")],
    "billing.contract_month": ["/billing/2026-10/{contract}"],
    "admin.edit_contract": ["/admin/contracts/{contract}/edit"],
    "admin.contract_versions": ["/admin/contracts/{contract}/history"],
}
FOREIGN_API = {
    "api.get_ticket": [("GET", "/api/v1/tickets/{shop}", None)],
    "api.act_on_ticket": [("POST", "/api/v1/tickets/{shop}/actions", {"action": action.value})
                          for action in Action],
    "api.list_outages": [("GET", "/api/v1/tickets/{shop}/outages", None)],
    "api.record_outage": [("POST", "/api/v1/tickets/{shop}/outages",
                           {"started_at": "2026-11-29T12:00:00Z"})],
    "api.change_outage": [("PATCH", "/api/v1/tickets/{shop}/outages/{outage}",
                           {"ended_at": "2026-11-29T13:00:00Z"})],
}
ACTION_DATA = {"body": "Hello", "reason": "Because", "priority": "P3",
               "assignee": "tech@provider.example"}


def test_client_of_another_organisation_gets_404_on_every_web_route(app, world, scene):
    client = _web(app, world, "other_client")
    before = row_counts(app)
    observed, expected = {}, {}
    for endpoint, templates in FOREIGN_WEB.items():
        for template in templates:
            path = template.format(**scene)
            method = "POST" if "/actions/" in path or "/outages" in path else "GET"
            observed[f"{endpoint} {method} {template}"] = _outcome(_web_call(
                client, method, path, ACTION_DATA if method == "POST" else None))
            expected[f"{endpoint} {method} {template}"] = 404
    assert observed == expected
    assert row_counts(app) == before


def test_client_of_another_organisation_gets_404_on_every_api_route(app, world, scene):
    headers = bearer(api_token(app, world.other_client))
    client = app.test_client()
    before = row_counts(app)
    observed, expected = {}, {}
    for endpoint, calls in FOREIGN_API.items():
        for method, template, body in calls:
            response = client.open(template.format(**scene), method=method,
                                   json=body and body | ACTION_DATA, headers=headers)
            name = f"{endpoint} {method} {template} {body}"
            observed[name], expected[name] = (response.status_code, response.mimetype), (
                404, "application/problem+json")
    assert observed == expected
    assert row_counts(app) == before


def test_foreign_ticket_and_missing_ticket_look_the_same(app, world, scene):
    client = _web(app, world, "other_client")
    pages = [CSRF_PATTERN.sub("", client.get(path).get_data(as_text=True))
             for path in (f"/tickets/{scene['shop']}", "/tickets/T-999999")]
    assert pages[0] == pages[1]


def test_web_lists_show_only_the_clients_own_organisation(app, world, scene):
    # (who, page) -> (what must be there, what must not)
    table = {
        ("client", "/tickets"): (scene["shop"], scene["other"]),
        ("client", "/contracts"): (scene["contract"], scene["other_contract"]),
        ("other_client", "/tickets"): (scene["other"], scene["shop"]),
        ("other_client", "/contracts"): (scene["other_contract"], scene["contract"]),
    }
    browsers = {who: _web(app, world, who) for who in ("client", "other_client")}
    observed = {}
    for (who, path), (own, foreign) in table.items():
        page = browsers[who].get(path).get_data(as_text=True)
        observed[(who, path)] = (own in page, foreign in page)
    assert observed == dict.fromkeys(table, (True, False))


def test_api_list_shows_only_the_clients_organisation(app, client, world, scene):
    body = client.get("/api/v1/tickets", headers=bearer(api_token(app, world.client))).get_json()
    assert [t["number"] for t in body["tickets"]] == [scene["shop"]]


def test_staff_queue_shows_every_organisation(app, world, scene):
    observed = {}
    for role in ("tech", "lead", "admin"):
        page = _web(app, world, role).get("/queue").get_data(as_text=True)
        observed[role] = (scene["shop"] in page, scene["other"] in page)
    assert observed == dict.fromkeys(("tech", "lead", "admin"), (True, True))


# --- internal notes ---------------------------------------------------------------------------


def test_internal_notes_and_their_attachments_are_shown_to_ticket_staff_only(app, world,
                                                                              scene):
    """Per person: (public reply on page, internal note on page, internal file listed,
    public file downloads, internal file downloads, internal note in the API)."""
    page_path = f"/tickets/{scene['shop']}"
    public = f"{page_path}/attachments/{scene['public']}"
    internal = f"{page_path}/attachments/{scene['internal']}"
    observed = {}
    for person in ("client", "finance", "tech", "lead", "admin"):
        browser = _web(app, world, person)
        page = browser.get(page_path).get_data(as_text=True)
        api = app.test_client().get(f"/api/v1/tickets/{scene['shop']}",
                                    headers=bearer(api_token(app, getattr(world, person))))
        observed[person] = ("Log attached" in page, "hunter2" in page,
                            "internal-secret.txt" in page, _outcome(browser.get(public)),
                            _outcome(browser.get(internal)),
                            "hunter2" in api.get_data(as_text=True))
    hidden, shown = (True, False, False, 200, 404, False), (True, True, True, 200, 200, True)
    assert observed == {"client": hidden, "finance": hidden, "tech": shown, "lead": shown,
                        "admin": shown}


def test_attachment_download_returns_the_bytes_as_a_download(app, world, scene):
    with _web(app, world, "client").get(
            f"/tickets/{scene['shop']}/attachments/{scene['public']}") as response:
        assert response.data == b"public log"
        assert response.headers["Content-Disposition"].startswith("attachment")


# --- role access ------------------------------------------------------------------------------

FINANCE_PAGE = {"anonymous": LOGIN, "client": 404, "finance": 200, "tech": 404, "lead": 404,
                "admin": 200}
FINANCE_ACTION = {"anonymous": LOGIN, "client": 404, "finance": 302, "tech": 404, "lead": 404,
                  "admin": 302}
# the client's own organisation's issued note
CREDIT_NOTE = {"anonymous": LOGIN, "client": 200, "finance": 200, "tech": 404, "lead": 404,
               "admin": 200}
EVERY_ACCOUNT = {"anonymous": LOGIN, "client": 200, "finance": 200, "tech": 200, "lead": 200,
                 "admin": 200}
EVERY_ACCOUNT_ACTION = {"anonymous": LOGIN, "client": 302, "finance": 302, "tech": 302,
                        "lead": 302, "admin": 302}
ADMIN_PAGE = {"anonymous": LOGIN, "client": 404, "finance": 404, "tech": 404, "lead": 404,
              "admin": 200}
ADMIN_ACTION = {"anonymous": LOGIN, "client": 404, "finance": 404, "tech": 404, "lead": 404,
                "admin": 302}
# A calendar open on Saturday mornings: saved, it is a new calendar or a new version.
CALENDAR_FORM = {"action": "save", "timezone": "Europe/Paris", "windows-0-day": "sat",
                 "windows-0-start": "09:00", "windows-0-end": "12:00"}
CLIENT_PAGE = {"anonymous": LOGIN, "client": 200, "finance": 404, "tech": 404, "lead": 404,
               "admin": 404}

# endpoint -> (method, path, form or JSON data, {role: expected outcome}).
# LOGIN = redirect to /login; 404 = the page does not exist for that role (web); API: 401/403.
WEB_ACCESS = {
    "tickets.index": ("GET", "/tickets", None,
                      {"anonymous": LOGIN, "client": 200, "finance": 200, "tech": 200,
                       "lead": 200, "admin": 200}),
    "tickets.queue": ("GET", "/queue", None,
                      {"anonymous": LOGIN, "client": 404, "finance": 404, "tech": 200,
                       "lead": 200, "admin": 200}),
    "tickets.new": ("GET", "/tickets/new", None,
                    {"anonymous": LOGIN, "client": 200, "finance": 404, "tech": 404,
                     "lead": 404, "admin": 404}),
    "tickets.show": ("GET", "/tickets/{shop}", None,
                     {"anonymous": LOGIN, "client": 200, "finance": 200, "tech": 200,
                      "lead": 200, "admin": 200}),
    "tickets.act": ("POST", "/tickets/{shop}/actions/reply", {"body": "Hello"},
                    {"anonymous": LOGIN, "client": 302, "finance": 404, "tech": 302,
                     "lead": 302, "admin": 302}),
    "tickets.attachment": ("GET", "/tickets/{shop}/attachments/{public}", None,
                           {"anonymous": LOGIN, "client": 200, "finance": 200, "tech": 200,
                            "lead": 200, "admin": 200}),
    "contracts.index": ("GET", "/contracts", None,
                        {"anonymous": LOGIN, "client": 200, "finance": 200, "tech": 200,
                         "lead": 200, "admin": 200}),
    "contracts.show": ("GET", "/contracts/{contract}", None,
                       {"anonymous": LOGIN, "client": 200, "finance": 200, "tech": 200,
                        "lead": 200, "admin": 200}),
    "escalation.notifications": ("GET", "/notifications", None,
                                 {"anonymous": LOGIN, "client": 404, "finance": 404, "tech": 200,
                                  "lead": 200, "admin": 200}),
    "escalation.mark_read": ("POST", "/notifications/read", {},
                             {"anonymous": LOGIN, "client": 404, "finance": 404, "tech": 302,
                              "lead": 302, "admin": 302}),
    "escalation.breaches": ("GET", "/breaches", None,
                            {"anonymous": LOGIN, "client": 404, "finance": 200, "tech": 404,
                             "lead": 200, "admin": 200}),
    # finance waives first (302 back to the list), admin then gets "already waived" (302 too)
    "escalation.waive": ("POST", "/breaches/{breach}/waive", {"reason": "Goodwill"},
                         {"anonymous": LOGIN, "client": 404, "finance": 302, "tech": 404,
                          "lead": 404, "admin": 302}),
    "escalation.status": ("GET", "/admin/status", None,
                          {"anonymous": LOGIN, "client": 404, "finance": 404, "tech": 404,
                           "lead": 200, "admin": 200}),
    "tickets.record_outage": ("POST", "/tickets/{shop}/outages",
                              {"started_at": "2026-11-29T12:00", "ended_at": "2026-11-29T13:00"},
                              {"anonymous": LOGIN, "client": 404, "finance": 404, "tech": 302,
                               "lead": 302, "admin": 302}),
    # staff reach the form (400: a correction needs a reason); the others do not find it
    "tickets.change_outage": ("POST", "/tickets/{shop}/outages/{outage}/correct",
                              {"started_at": "2026-11-29T12:00"},
                              {"anonymous": LOGIN, "client": 404, "finance": 404, "tech": 400,
                               "lead": 400, "admin": 400}),
    "billing.index": ("GET", "/billing/", None, FINANCE_PAGE),
    "billing.contract_month": ("GET", "/billing/{month}/{contract}", None, FINANCE_PAGE),
    # the month was closed and issued: closing again says so (302 back to the month)
    "billing.close": ("POST", "/billing/close", {"month": "{month}"}, FINANCE_ACTION),
    # no draft is left to issue: the form is refused with its message
    "billing.issue_all": ("POST", "/billing/issue", {"month": "{month}", "drafts": "0"},
                          FINANCE_ACTION),
    "billing.issue": ("POST", "/billing/credit-notes/{note}/issue", {}, FINANCE_ACTION),
    "billing.month_csv": ("GET", "/billing/{month}/credit-notes.csv", None, FINANCE_PAGE),
    "billing.credit_note": ("GET", "/billing/credit-notes/{note}", None, CREDIT_NOTE),
    "billing.credit_note_pdf": ("GET", "/billing/credit-notes/{note}.pdf", None, CREDIT_NOTE),
    "billing.credit_note_facturx": ("GET", "/billing/credit-notes/{note}/factur-x.pdf", None,
                                    CREDIT_NOTE),
    "billing.my_credit_notes": ("GET", "/billing/my/credit-notes", None, CLIENT_PAGE),
    "portal.my_report": ("GET", "/billing/my/report", None, CLIENT_PAGE),
    "portal.my_report_csv": ("GET", "/billing/my/report.csv?month=2026-10", None, CLIENT_PAGE),
    "reporting.dashboard": ("GET", "/dashboard", None,
                            {"anonymous": LOGIN, "client": 404, "finance": 200, "tech": 404,
                             "lead": 200, "admin": 200}),
    "reporting.table_csv": ("GET", "/dashboard/compliance-by-month.csv", None,
                            {"anonymous": LOGIN, "client": 404, "finance": 200, "tech": 404,
                             "lead": 200, "admin": 200}),
    "accounts.account": ("GET", "/account", None, EVERY_ACCOUNT),
    "accounts.change_password_page": ("GET", "/account/password", None, EVERY_ACCOUNT),
    "accounts.sessions": ("GET", "/account/sessions", None, EVERY_ACCOUNT),
    # no session of that id: "already ended" (302 back to the list)
    "accounts.end_one_session": ("POST", "/account/sessions/999999/end", {},
                                 EVERY_ACCOUNT_ACTION),
    "accounts.account_two_factor": ("GET", "/account/two-factor", None, EVERY_ACCOUNT),
    "accounts.enrol_two_factor": ("GET", "/account/two-factor/enrol", None, EVERY_ACCOUNT),
    # nobody has two-factor sign-in on: "already off" (302 back to the account page)
    "accounts.turn_off_two_factor": ("POST", "/account/two-factor/disable",
                                     {"disable-code": "000000"}, EVERY_ACCOUNT_ACTION),
    "accounts.renew_recovery_codes": ("POST", "/account/two-factor/recovery-codes",
                                      {"codes-code": "000000"}, EVERY_ACCOUNT_ACTION),
    "accounts.tokens": ("GET", "/account/tokens", None,
                        {"anonymous": LOGIN, "client": 200, "finance": 200, "tech": 200,
                         "lead": 200, "admin": 200}),
    "accounts.create_token": ("POST", "/account/tokens",
                              {"name": "Script", "scopes": "read", "expiry": "never"},
                              {"anonymous": LOGIN, "client": 200, "finance": 200, "tech": 200,
                               "lead": 200, "admin": 200}),
    # the client's token: its owner revokes it, an admin may (already revoked: said so)
    "accounts.revoke_token": ("POST", "/account/tokens/{token}/revoke", {},
                              {"anonymous": LOGIN, "client": 302, "finance": 404, "tech": 404,
                               "lead": 404, "admin": 302}),
    "admin.index": ("GET", "/admin/", None, ADMIN_PAGE),
    "admin.contracts": ("GET", "/admin/contracts", None, ADMIN_PAGE),
    # adding a row re-renders the form and saves nothing
    "admin.new_contract": ("POST", "/admin/contracts/new", {"add": "priority"}, ADMIN_PAGE),
    "admin.edit_contract": ("GET", "/admin/contracts/CT-SHOP/edit", None, ADMIN_PAGE),
    "admin.contract_versions": ("GET", "/admin/contracts/CT-SHOP/history", None, ADMIN_PAGE),
    "admin.organisations": ("GET", "/admin/organisations", None, ADMIN_PAGE),
    "admin.new_organisation": ("GET", "/admin/organisations/new", None, ADMIN_PAGE),
    "admin.edit_organisation": ("GET", "/admin/organisations/shop", None, ADMIN_PAGE),
    # no browser of this test belongs to the other organisation; the shop is not archived
    # (refused, 302 back to it)
    "admin.archive_organisation_page": ("POST", "/admin/organisations/other/archive", {},
                                        ADMIN_ACTION),
    "admin.restore_organisation_page": ("POST", "/admin/organisations/shop/restore", {},
                                        ADMIN_ACTION),
    "admin.users": ("GET", "/admin/users", None, ADMIN_PAGE),
    "admin.new_user": ("GET", "/admin/users/new", None, ADMIN_PAGE),
    "admin.edit_user": ("GET", "/admin/users/{client_id}", None, ADMIN_PAGE),
    # each is refused and said so (302 back to the user): the admin's own account stays
    # active, an account with a password needs no invitation
    "admin.deactivate_user": ("POST", "/admin/users/{admin_id}/deactivate", {}, ADMIN_ACTION),
    "admin.reactivate_user": ("POST", "/admin/users/{client_id}/reactivate", {}, ADMIN_ACTION),
    "admin.resend_invitation": ("POST", "/admin/users/{client_id}/invitation", {},
                                ADMIN_ACTION),
    "accounts.all_tokens": ("GET", "/admin/tokens", None,
                            {"anonymous": LOGIN, "client": 404, "finance": 404, "tech": 404,
                             "lead": 404, "admin": 200}),
    "admin.calendars": ("GET", "/admin/calendars", None, ADMIN_PAGE),
    "admin.calendar": ("GET", "/admin/calendars/biz-fr", None, ADMIN_PAGE),
    "admin.new_calendar": ("POST", "/admin/calendars/new", CALENDAR_FORM | {"code": "new-cal"},
                           ADMIN_ACTION),
    "admin.edit_calendar": ("POST", "/admin/calendars/biz-fr/edit", CALENDAR_FORM,
                            ADMIN_ACTION),
    "admin.audit": ("GET", "/admin/audit", None, ADMIN_PAGE),
    "admin.transfer": ("GET", "/admin/transfer", None, ADMIN_PAGE),
    "admin.export": ("GET", "/admin/transfer/export", None, ADMIN_PAGE),
    # no file sent: the form is shown again with its message
    "admin.import_document": ("POST", "/admin/transfer", {},
                              {"anonymous": LOGIN, "client": 404, "finance": 404, "tech": 404,
                               "lead": 404, "admin": 422}),
}
API_ACCESS = {
    "api.list_tickets": ("GET", "/api/v1/tickets", None,
                         {"anonymous": 401, "client": 200, "finance": 200, "tech": 200,
                          "lead": 200, "admin": 200}),
    "api.get_ticket": ("GET", "/api/v1/tickets/{shop}", None,
                       {"anonymous": 401, "client": 200, "finance": 200, "tech": 200,
                        "lead": 200, "admin": 200}),
    "api.create_ticket": ("POST", "/api/v1/tickets",
                          {"contract": "CT-SHOP", "priority": "P1", "title": "Down",
                           "description": "Down."},
                          {"anonymous": 401, "client": 201, "finance": 403, "tech": 201,
                           "lead": 201, "admin": 201}),
    "api.act_on_ticket": ("POST", "/api/v1/tickets/{shop}/actions",
                          {"action": "reply", "body": "Hello"},
                          {"anonymous": 401, "client": 200, "finance": 403, "tech": 200,
                           "lead": 200, "admin": 200}),
    "api.list_breaches": ("GET", "/api/v1/breaches?month=2026-11", None,
                          {"anonymous": 401, "client": 404, "finance": 200, "tech": 404,
                           "lead": 404, "admin": 200}),
    "api.list_outages": ("GET", "/api/v1/tickets/{shop}/outages", None,
                         {"anonymous": 401, "client": 200, "finance": 200, "tech": 200,
                          "lead": 200, "admin": 200}),
    "api.record_outage": ("POST", "/api/v1/tickets/{shop}/outages",
                          {"started_at": "2026-11-29T12:00:00Z",
                           "ended_at": "2026-11-29T13:00:00Z"},
                          {"anonymous": 401, "client": 403, "finance": 403, "tech": 201,
                           "lead": 201, "admin": 201}),
    "api.list_credit_notes": ("GET", "/api/v1/credit-notes?month=2026-10", None,
                              {"anonymous": 401, "client": 404, "finance": 200, "tech": 404,
                               "lead": 404, "admin": 200}),
    # staff reach the use case (422: a correction needs a reason); client and finance may not
    "api.change_outage": ("PATCH", "/api/v1/tickets/{shop}/outages/{outage}",
                          {"started_at": "2026-11-29T12:00:00Z"},
                          {"anonymous": 401, "client": 403, "finance": 403, "tech": 422,
                           "lead": 422, "admin": 422}),
}
# Routes open to everyone, or that only send people elsewhere: nothing to protect.
PUBLIC = {"static", "accounts.home", "accounts.login", "accounts.logout", "accounts.language",
          "accounts.sign_in_code", "accounts.forgot_password", "accounts.reset_password_page",
          "accounts.accept_invitation_page",
          "accounts.end_all_sessions", "api.openapi", "health.healthz"}


@pytest.fixture
def breach(app, world):
    """A GTI breach of last month: a P1 ticket (2 h target, 24/7) opened ten hours before this
    month began and never taken, swept now."""
    with app.app_context():
        month_start = now_utc().astimezone(PARIS).replace(day=1, hour=0, minute=0, second=0,
                                                          microsecond=0)
        ticket = services.open_ticket(
            actor=find_user(world.client),
            contract=db.session.scalar(sa.select(Contract).where(
                Contract.reference == world.contract)),
            priority_code="P1", title="Down for hours", description="Nobody came.",
            now=month_start - timedelta(hours=10))
        db.session.commit()
        sweep_batch(now=now_utc())
        db.session.commit()
        return db.session.scalar(sa.select(Breach.id).where(Breach.ticket_id == ticket.id))


@pytest.fixture
def credit_note(app, world, breach):
    """Last month closed for the shop's contract, and its credit note issued."""
    with app.app_context():
        month = db.session.get(Breach, breach).billing_month
        close_month(month, seller=settings().seller, at=now_utc(),
                    contract_reference=world.contract)
        [number] = issue_month(month, settings=settings(), actor=None, now=now_utc())
        note = db.session.scalar(sa.select(CreditNote.id).where(CreditNote.number == number))
        db.session.commit()
        return {"note": note, "month": month}


@pytest.fixture
def client_token(app, world):
    """The id of an API token of the shop's client."""
    api_token(app, world.client)
    with app.app_context():
        return db.session.scalar(sa.select(ApiToken.id))


def test_every_web_route_answers_each_role_as_the_table_says(app, world, scene, breach,
                                                            credit_note, client_token):
    browsers = {role: _web(app, world, role) for role in ROLES}
    with app.app_context():
        user_ids = {"client_id": find_user(world.client).id, "admin_id": find_user(world.admin).id}
    placeholders = {**scene, "breach": breach, **credit_note, "token": client_token, **user_ids}
    observed = {}
    for endpoint, (method, template, data, _) in WEB_ACCESS.items():
        path = template.format(**placeholders)
        for role, browser in browsers.items():
            if method == "GET":
                outcome = _outcome(browser.get(path))
            else:
                token = csrf_token(browser, "/login" if role == "anonymous" else "/tickets")
                form = {name: value.format(**placeholders) for name, value in data.items()}
                outcome = _outcome(browser.post(path, data={"csrf_token": token, **form}))
            observed.setdefault(endpoint, {})[role] = outcome
    assert observed == {endpoint: row[3] for endpoint, row in WEB_ACCESS.items()}


def test_every_api_route_answers_each_role_as_the_table_says(app, world, scene):
    headers = {role: {} if role == "anonymous" else bearer(api_token(app, getattr(world, role)))
               for role in ROLES}
    client = app.test_client()
    observed = {}
    for endpoint, (method, template, body, _) in API_ACCESS.items():
        for role in ROLES:
            response = client.open(template.format(**scene), method=method, json=body,
                                   headers=headers[role])
            observed.setdefault(endpoint, {})[role] = response.status_code
    assert observed == {endpoint: row[3] for endpoint, row in API_ACCESS.items()}


def test_client_of_another_organisation_gets_404_on_the_shops_credit_note(app, world,
                                                                         credit_note):
    client = _web(app, world, "other_client")
    paths = [f"/billing/credit-notes/{credit_note['note']}{suffix}"
             for suffix in ("", ".pdf", "/factur-x.pdf")]
    assert {path: _outcome(client.get(path)) for path in paths} == dict.fromkeys(paths, 404)
    page = client.get("/billing/my/credit-notes").get_data(as_text=True)
    assert "AV-" not in page


def test_anonymous_is_sent_to_sign_in_and_back(app):
    response = app.test_client().get("/tickets/T-000042")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=%2Ftickets%2FT-000042"


@pytest.fixture(scope="module")
def url_map(tmp_path_factory):
    """The application's routes; no database needed to list them."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x" * 40,
                      "INSTANCE_PATH": str(tmp_path_factory.mktemp("routes"))})
    yield app.url_map
    with app.app_context():
        db.engine.dispose()


def test_every_route_is_in_an_access_table_or_public(url_map):
    endpoints = {rule.endpoint for rule in url_map.iter_rules()}
    covered = set(WEB_ACCESS) | set(API_ACCESS) | PUBLIC
    assert endpoints - covered == set(), "add these routes to the access tables"
    assert covered - endpoints == set(), "these routes no longer exist"


def test_every_ticket_scoped_route_is_in_an_isolation_table(url_map):
    scoped = {rule.endpoint for rule in url_map.iter_rules()
              if "<number>" in rule.rule or "<reference>" in rule.rule}
    assert scoped - set(FOREIGN_WEB) - set(FOREIGN_API) == set()
