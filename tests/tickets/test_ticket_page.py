"""The ticket page, the client's incident form and ticket list, read as the people using them do.

The world's contract CT-SHOP has P1 (24/7, GTI 2 h, GTR 8 h) and P3 (Mon–Fri 08:00–18:00 Paris
outside French holidays, GTI 8 h, no GTR). Pages are read as of NOW, Thursday 3 December 2026,
12:00 UTC (the app's clock is frozen there), so every promised instant is known.
"""
import html
import re
from datetime import UTC, datetime, timedelta

import pytest

from helpdesk.accounts.services import find_user
from helpdesk.extensions import db
from tests.api.helpers import act, bring_to, open_ticket, sign_in
from tests.conftest import csrf_token

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
NBSP = "\N{NO-BREAK SPACE}"
TAGS = re.compile(r"<[^>]+>")
BUTTON = re.compile(r"<button[^>]*>(.*?)</button>", re.S)


@pytest.fixture(autouse=True)
def as_of_now(clock):
    clock.freeze(NOW)


def text(page: str) -> str:
    """The page as read: tags dropped, entities decoded, spaces (not NBSP) squeezed."""
    return re.sub(r"[ \t\n]+", " ", html.unescape(TAGS.sub(" ", page)))


def buttons(page: str) -> set[str]:
    return {re.sub(r"\s+", " ", html.unescape(TAGS.sub("", b))).strip()
            for b in BUTTON.findall(page)}


def set_zone(app, email: str, zone: str) -> None:
    with app.app_context():
        find_user(email).timezone = zone
        db.session.commit()


def page_of(app, client, email: str, number: str) -> str:
    sign_in(app, client, email)
    response = client.get(f"/tickets/{number}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


# --- the promise, in the reader's own zone -----------------------------------------------------


@pytest.mark.parametrize("zone, promised", [
    ("Europe/Paris", "Thursday 3 December 2026, 15:00 (Europe/Paris)"),
    ("America/New_York", "Thursday 3 December 2026, 09:00 (America/New_York)"),
    ("Asia/Tokyo", "Thursday 3 December 2026, 23:00 (Asia/Tokyo)"),
])
def test_client_reads_the_intervene_by_instant_in_their_own_zone(app, client, world, zone,
                                                                  promised):
    set_zone(app, world.client, zone)
    number = open_ticket(app, requester=world.client, now=NOW)
    page = text(page_of(app, client, world.client, number))
    assert f"A technician will intervene by {promised}." in page
    assert "Service will be restored by" in page


def test_after_submitting_the_form_the_client_reads_when_a_technician_will_intervene(
        app, client, world):
    set_zone(app, world.client, "America/New_York")
    sign_in(app, client, world.client)
    response = client.post("/tickets/new", data={
        "contract": world.contract, "priority": f"{world.contract}|P1", "title": "Site down",
        "description": "Checkout fails.", "csrf_token": csrf_token(client, "/tickets/new")})
    assert response.status_code == 302
    page = text(client.get(response.headers["Location"]).get_data(as_text=True))
    assert re.search(r"Incident T-\d{6} recorded\.", page)
    assert ("A technician will intervene by Thursday 3 December 2026, 09:00 "
            "(America/New_York).") in page


def test_a_met_intervention_says_when_it_happened(app, client, world):
    number = open_ticket(app, requester=world.client, now=NOW - timedelta(hours=1))
    act(app, number, "take", actor=world.tech, now=NOW - timedelta(minutes=30))
    page = text(page_of(app, client, world.client, number))
    assert ("A technician intervened on Thursday 3 December 2026, 12:30 (Europe/Paris), "
            "within the guaranteed time.") in page


def test_a_missed_intervention_says_it_is_overdue_and_by_how_much(app, client, world):
    number = open_ticket(app, requester=world.client, now=NOW - timedelta(hours=3))
    page = text(page_of(app, client, world.client, number))
    assert ("The intervention was due by Thursday 3 December 2026, 12:00 (Europe/Paris): "
            f"overdue by 1{NBSP}h of service time.") in page
    assert "breached" in page


def test_waiting_on_the_client_says_the_restore_clock_is_paused(app, client, world):
    number = open_ticket(app, requester=world.client, now=NOW - timedelta(hours=2))
    act(app, number, "take", actor=world.tech, now=NOW - timedelta(hours=1))
    act(app, number, "wait", actor=world.tech, now=NOW - timedelta(minutes=30))
    page = text(page_of(app, client, world.client, number))
    assert ("The restoration clock is paused while the team waits for the client; "
            f"6{NBSP}h 30{NBSP}min of service time will be left when it resumes.") in page


# --- the explanation timeline ----------------------------------------------------------------


@pytest.fixture
def after_christmas(clock):
    clock.freeze(datetime(2026, 12, 28, 9, 0, tzinfo=UTC))


def test_timeline_shows_each_reprioritisation_with_its_reason(app, client, world,
                                                             after_christmas):
    # P3 opened Thursday 24 December 2026 at 17:00 Paris; Christmas Friday is a holiday.
    opened = datetime(2026, 12, 24, 16, 0, tzinfo=UTC)
    number = open_ticket(app, requester=world.client, priority="P3", now=opened)
    act(app, number, "reprioritise", actor=world.lead, priority_code="P1",
        reason="Whole shop down", now=opened + timedelta(minutes=5))
    act(app, number, "reprioritise", actor=world.lead, priority_code="P3",
        reason="Only one page", now=opened + timedelta(minutes=10))
    page = text(page_of(app, client, world.tech, number))
    assert "Ticket opened by Claire Client: the clock starts." in page
    assert ("Priority changed from P3 to P1 by Lea Lead (Whole shop down): the clock is "
            "recounted from the opening with the new target.") in page


def test_timeline_names_the_public_holiday_it_did_not_count(app, client, world,
                                                            after_christmas):
    opened = datetime(2026, 12, 24, 16, 0, tzinfo=UTC)  # Thursday 17:00 Paris
    number = open_ticket(app, requester=world.client, priority="P3", now=opened)
    page = text(page_of(app, client, world.tech, number))
    assert "counted" in page
    assert "not counted: outside service hours (public holiday Christmas Day)" in page
    # Counted: Thursday 17:00–18:00 and Monday 08:00–10:00 Paris.
    assert f"3{NBSP}h" in page
    assert "24 Dec 2026, 17:00" in page  # instants in the reader's zone


def test_timeline_reads_in_the_viewers_zone(app, client, world, after_christmas):
    set_zone(app, world.tech, "America/New_York")
    opened = datetime(2026, 12, 24, 16, 0, tzinfo=UTC)
    number = open_ticket(app, requester=world.client, priority="P3", now=opened)
    page = text(page_of(app, client, world.tech, number))
    assert "24 Dec 2026, 11:00" in page and "24 Dec 2026, 17:00" not in page


# --- actions as buttons that say what they do to the clocks -----------------------------------

TAKE = "Take in charge — stops the GTI"
WAIT = "Wait on client — pauses the GTR"
RESUME = "Resume — restarts the GTR"
RESOLVE = "Resolve — stops the GTR"
REOPEN = "Reopen — restarts the GTR"
CONFIRM = "Confirm the resolution — closes the ticket"
STATUS_BUTTONS = {TAKE, WAIT, RESUME, RESOLVE, REOPEN, CONFIRM}


@pytest.mark.parametrize("status, person, offered", [
    ("new", "tech", {TAKE}),
    ("in_progress", "tech", {WAIT, RESOLVE}),
    ("waiting_on_client", "tech", {RESUME, RESOLVE}),
    ("resolved", "tech", {REOPEN}),
    ("reopened", "tech", {RESOLVE, "Take in charge — no effect on the clocks"}),
    ("closed", "tech", set()),
    ("new", "client", set()),
    ("resolved", "client", {CONFIRM, REOPEN}),
    ("new", "finance", set()),
])
def test_status_buttons_offered_say_what_they_do_to_the_clock(app, client, world, status,
                                                              person, offered):
    # Walked through its statuses at the real time, which comes before NOW.
    number = open_ticket(app, requester=world.client)
    bring_to(app, number, status, world=world)
    page = page_of(app, client, getattr(world, person), number)
    shown = {b for b in buttons(page) if b.split(" — ")[0] in
             {"Take in charge", "Wait on client", "Resume", "Resolve", "Reopen",
              "Confirm the resolution"}}
    assert shown == offered


def test_a_priority_without_restore_guarantee_says_waiting_changes_no_clock(app, client, world):
    number = open_ticket(app, requester=world.client, priority="P3", now=NOW)
    act(app, number, "take", actor=world.tech, now=NOW)
    page = page_of(app, client, world.tech, number)
    assert "Wait on client — no effect on the clocks" in buttons(page)
    assert "Resolve — no effect on the clocks" in buttons(page)


def test_technician_reply_button_says_a_first_answer_stops_the_gti(app, client, world):
    number = open_ticket(app, requester=world.client, now=NOW)
    page = page_of(app, client, world.tech, number)
    assert "Send the reply — a first answer stops the GTI" in buttons(page)
    assert "Add the internal note — not shown to the client; no effect on the clocks" in buttons(
        page)


def test_client_reply_while_waiting_says_it_restarts_the_gtr(app, client, world):
    number = open_ticket(app, requester=world.client)
    bring_to(app, number, "waiting_on_client", world=world)
    page = page_of(app, client, world.client, number)
    assert "Send the reply — answers the team and restarts the GTR" in buttons(page)


def test_a_technician_action_says_what_was_done(app, client, world):
    number = open_ticket(app, requester=world.client, now=NOW)
    sign_in(app, client, world.tech)
    response = client.post(f"/tickets/{number}/actions/take",
                           data={"csrf_token": csrf_token(client, f"/tickets/{number}")},
                           follow_redirects=True)
    page = text(response.get_data(as_text=True))
    assert "You took the ticket in charge." in page
    assert "A technician intervened on Thursday 3 December 2026, 13:00 (Europe/Paris)" in page


# --- conversation, internal notes, attachments, audit -----------------------------------------


@pytest.fixture
def discussed(app, world):
    number = open_ticket(app, requester=world.client, now=NOW - timedelta(hours=1))
    act(app, number, "reply", actor=world.tech, body="We are on it.",
        now=NOW - timedelta(minutes=40))
    act(app, number, "note", actor=world.tech, body="Disk full on db-2.",
        now=NOW - timedelta(minutes=30))
    return number


def test_staff_read_internal_notes_labelled_as_such(app, client, world, discussed):
    page = text(page_of(app, client, world.tech, discussed))
    assert "We are on it." in page and "Disk full on db-2." in page
    assert "Internal note — not visible to the client · Tom Tech" in page


def test_client_never_sees_internal_notes(app, client, world, discussed):
    page = text(page_of(app, client, world.client, discussed))
    assert "We are on it." in page
    assert "Disk full on db-2." not in page
    assert "Internal note" not in page


def test_audit_trail_is_for_staff_and_says_what_happened_in_words(app, client, world,
                                                                  discussed):
    staff = text(page_of(app, client, world.tech, discussed))
    assert "Audit trail" in staff
    assert "assignee changed" in staff and "status: new → in progress" in staff
    other = app.test_client()
    assert "Audit trail" not in text(page_of(app, other, world.client, discussed))


def test_page_puts_facts_and_clocks_first_then_conversation_then_actions_then_audit(
        app, client, world, discussed):
    page = page_of(app, client, world.tech, discussed)
    order = [page.index(marker) for marker in (
        'class="ticket-head"', 'id="clocks-title"', 'id="conversation-title"',
        'id="actions-title"', 'id="audit-title"')]
    assert order == sorted(order)


# --- the incident form guides the choice of priority ------------------------------------------


def test_form_explains_each_priority_guarantees_in_words(app, client, world):
    sign_in(app, client, world.client)
    page = text(client.get("/tickets/new").get_data(as_text=True))
    assert "What each priority guarantees" in page
    assert f"A technician starts working on it within 2{NBSP}h, day and night." in page
    assert f"Service is restored within 8{NBSP}h of service hours." in page
    assert "24 hours a day, 7 days a week" in page
    assert (f"A technician starts working on it within 8{NBSP}h of service hours." in page)
    assert "No guaranteed restoration time." in page
    assert "Monday to Friday, 08:00–18:00, except public holidays (France)" in page


def test_form_shows_only_the_clients_own_contracts_guarantees(app, client, world):
    sign_in(app, client, world.client)
    page = client.get("/tickets/new").get_data(as_text=True)
    assert f'data-contract="{world.contract}"' in page
    assert f'data-contract="{world.other_contract}"' not in page


def test_form_refuses_a_priority_of_another_contract(app, client, world):
    sign_in(app, client, world.client)
    response = client.post("/tickets/new", data={
        "contract": world.contract, "priority": f"{world.other_contract}|P1", "title": "x",
        "description": "y", "csrf_token": csrf_token(client, "/tickets/new")})
    assert response.status_code == 400
    page = text(response.get_data(as_text=True))
    assert "Not a valid choice." in page or "Choose a priority of the selected contract." in page
    assert "What each priority guarantees" in page  # the guidance stays beside the error


# --- the client's list ------------------------------------------------------------------------


def test_client_list_says_status_and_each_clock_in_words(app, client, world):
    fresh = open_ticket(app, requester=world.client, title="Fresh", now=NOW - timedelta(
        minutes=30))
    taken = open_ticket(app, requester=world.client, title="Taken", now=NOW - timedelta(hours=1))
    act(app, taken, "take", actor=world.tech, now=NOW - timedelta(minutes=50))
    late = open_ticket(app, requester=world.client, title="Late", now=NOW - timedelta(hours=3))
    sign_in(app, client, world.client)
    rows = {number: text(row) for number, row in re.findall(
        r'<tr>\s*<td><a href="/tickets/(T-\d+)">.*?</a></td>(.*?)</tr>',
        client.get("/tickets").get_data(as_text=True), re.S)}
    assert f"GTI : 1{NBSP}h 30{NBSP}min left" in rows[fresh]
    assert "new" in rows[fresh]
    assert "GTI : met" in rows[taken]
    assert "in progress" in rows[taken]
    assert f"GTI : breached, overdue by 1{NBSP}h" in rows[late]
    assert "Boutique" not in rows[fresh]  # a client's list does not repeat its organisation


@pytest.mark.parametrize("before", ["abc", "-3", "0", "9" * 30])
def test_list_ignores_a_malformed_page_cursor(app, client, world, before):
    open_ticket(app, requester=world.client, now=NOW)
    sign_in(app, client, world.client)
    response = client.get(f"/tickets?before={before}")
    assert response.status_code == 200
    assert "T-000001" in response.get_data(as_text=True)
