"""The technician's queue: urgency order, filters, cursor pages, the refresh fragment and the
figures each row's live countdown starts from.

The scene is read as of NOW, Monday 30 November 2026 at 11:00 in Paris (the app's clock is
frozen there). P1 is 24/7 (GTI 2 h, GTR 8 h), P3 business hours in Paris (GTI 8 h); both warn at
50 % and 80 %.
"""
import html
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from helpdesk.accounts.services import find_user
from helpdesk.contracts.models import (
    Contract,
    ContractVersion,
    EscalationThreshold,
    NotifyTarget,
    Priority,
)
from helpdesk.escalation.jobs import run_sweep
from helpdesk.extensions import db
from helpdesk.tickets import queries, services
from helpdesk.tickets.models import QueueRank
from helpdesk.tickets.queries import QueueCursor
from helpdesk.tickets.queue import countdown
from tests import factories
from tests.api.helpers import act, open_ticket, sign_in

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
PARIS = ZoneInfo("Europe/Paris")
URGENCY = ["Overdue", "Nearly due", "Twin A", "Twin B", "Fresh", "Printer 100% jammed",
           "On hold"]


@pytest.fixture
def scene(app, world, clock):
    clock.freeze(NOW)

    def ticket(title, minutes_ago, **kwargs):
        return open_ticket(app, requester=kwargs.pop("requester", world.client), title=title,
                           now=NOW - minutes_ago * MINUTE, **kwargs)

    numbers = {
        "Overdue": ticket("Overdue", 180),  # GTI due an hour ago
        "Nearly due": ticket("Nearly due", 100),  # GTI 80 % at -4 min: at risk once swept
        "Twin A": ticket("Twin A", 70),  # past 50 %; the twins are due at the same instant
        "Twin B": ticket("Twin B", 70),
        "Fresh": ticket("Fresh", 10, requester=world.other_client, contract="CT-OTHER"),
        "Printer 100% jammed": ticket("Printer 100% jammed", 30, priority="P3"),
        "On hold": ticket("On hold", 40),
    }
    act(app, numbers["Fresh"], "assign", actor=world.lead, assignee=world.tech,
        now=NOW - 5 * MINUTE)
    act(app, numbers["On hold"], "take", actor=world.tech2, now=NOW - 35 * MINUTE)
    act(app, numbers["On hold"], "wait", actor=world.tech2, now=NOW - 30 * MINUTE)
    run_sweep(app, now=NOW, name="test")
    return numbers


@pytest.fixture
def tech(app, client, world):
    return sign_in(app, client, world.tech)


def text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def titles(page: str) -> list[str]:
    return [text(t) for t in re.findall(r'<td[^>]*class="queue-title">(.*?)</td>', page, re.S)]


def clock_cells(page: str) -> dict[str, dict]:
    """Per title: the clock's text and the countdown's data attributes."""
    cells = {}
    for row in re.findall(r"<tr>(.*?)</tr>", page, re.S):
        title = re.search(r'class="queue-title">(.*?)</td>', row, re.S)
        clock = re.search(r'<td([^>]*class="countdown[^>]*)>(.*?)</td>', row, re.S)
        if title and clock:
            data = dict(re.findall(r'data-([\w-]+)(?:="([^"]*)")?', clock.group(1)))
            classes = re.search(r'class="([^"]*)"', clock.group(1)).group(1).split()
            cells[text(title.group(1))] = {"text": text(clock.group(2)), "data": data,
                                           "classes": classes}
    return cells


def next_link(page: str) -> str | None:
    match = re.search(r'<a href="([^"]+)" rel="next">', page)
    return html.unescape(match.group(1)) if match else None


# --- order -------------------------------------------------------------------------------------


def test_queue_lists_overdue_first_then_least_time_left_then_paused(scene, tech):
    assert titles(tech.get("/queue").get_data(as_text=True)) == URGENCY


def test_tickets_due_at_the_same_instant_keep_their_opening_order(app, scene, world):
    with app.app_context():
        listed = queries.open_queue(find_user(world.tech))
        twins = [t for t in listed if t.title.startswith("Twin")]
    assert [t.title for t in twins] == ["Twin A", "Twin B"]
    assert twins[0].sla_due_at == twins[1].sla_due_at and twins[0].id < twins[1].id


# --- filters -----------------------------------------------------------------------------------


@pytest.mark.parametrize("query, expected", [
    ("assignee=mine", ["Fresh"]),
    ("assignee=unassigned", ["Overdue", "Nearly due", "Twin A", "Twin B",
                             "Printer 100% jammed"]),
    ("organisation=other", ["Fresh"]),
    ("priority=P3", ["Printer 100% jammed"]),
    ("state=breached", ["Overdue"]),
    ("state=at_risk", ["Nearly due"]),
    ("state=running", ["Nearly due", "Twin A", "Twin B", "Fresh", "Printer 100% jammed"]),
    ("state=paused", ["On hold"]),
    ("q=twin", ["Twin A", "Twin B"]),
    ("q=100%25", ["Printer 100% jammed"]),
    ("q=_", []),
    ("q=100", ["Printer 100% jammed"]),  # bare digits: a number or words of a title
    ("q=T-000100", []),  # with its prefix, only a ticket number
])
def test_each_filter_narrows_the_queue(scene, tech, query, expected):
    response = tech.get(f"/queue?{query}")
    assert response.status_code == 200
    assert titles(response.get_data(as_text=True)) == expected


@pytest.mark.parametrize("form", ["{number}", "{digits}", "{lower}", "#{digits}"])
def test_search_by_ticket_number_finds_that_ticket(scene, tech, form):
    number = scene["Twin B"]
    query = form.format(number=number, digits=str(int(number[2:])), lower=number.lower())
    page = tech.get("/queue", query_string={"q": query}).get_data(as_text=True)
    assert titles(page) == ["Twin B"]


@pytest.mark.parametrize("query, expected", [
    ("assignee=unassigned&priority=P1&state=running", ["Nearly due", "Twin A", "Twin B"]),
    ("assignee=unassigned&priority=P1&state=running&q=twin", ["Twin A", "Twin B"]),
    ("organisation=shop&state=breached", ["Overdue"]),
    ("organisation=other&assignee=unassigned", []),
])
def test_filters_combine(scene, tech, query, expected):
    assert titles(tech.get(f"/queue?{query}").get_data(as_text=True)) == expected


def test_at_risk_is_past_the_ticket_own_priority_last_warning(app, scene, tech):
    """Another contract warning later (at 95 %) changes nothing for the shop's P1 tickets."""
    with app.app_context():
        other_p1 = db.session.scalar(
            sa.select(Priority).join(ContractVersion).join(Contract)
            .where(Contract.reference == "CT-OTHER", Priority.code == "P1"))
        other_p1.escalations.append(EscalationThreshold(at_percent=95,
                                                        notify=NotifyTarget.TEAM_LEADS))
        db.session.commit()
    assert titles(tech.get("/queue?state=at_risk").get_data(as_text=True)) == ["Nearly due"]


def test_filter_form_keeps_the_chosen_values(scene, tech):
    page = tech.get("/queue?state=paused&organisation=shop&q=hold").get_data(as_text=True)
    assert '<option selected value="paused">' in page
    assert '<option selected value="shop">' in page
    assert 'value="hold"' in page


def test_a_filter_matching_nothing_says_so(scene, tech):
    page = tech.get("/queue?q=no+such+thing").get_data(as_text=True)
    assert "No open ticket matches these filters." in page


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize("query, message", [
    ("organisation=nowhere", "No organisation has that code"),
    ("priority=P9", "No priority has that code"),
    ("state=sleeping", "Choose a clock state from the list."),
    ("assignee=everyone", "Choose anyone, mine or unassigned."),
    ("q=" + "x" * 101, "Search for at most 100 characters."),
])
def test_a_bad_filter_is_reported_and_left_out(scene, tech, query, message):
    response = tech.get(f"/queue?{query}")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert titles(page) == URGENCY


def test_a_bad_filter_leaves_the_good_ones_applied(scene, tech):
    response = tech.get("/queue?organisation=nowhere&priority=P3")
    assert response.status_code == 400
    assert titles(response.get_data(as_text=True)) == ["Printer 100% jammed"]


@pytest.mark.parametrize("cursor", ["garbage", "0..5", "1.123.5", "0.1.0", "0.1.99999999999",
                                    "9.1.1", "0." + "9" * 18 + ".1", "%00"])
def test_a_bad_page_link_shows_the_first_page_with_a_message(scene, tech, cursor):
    response = tech.get("/queue", query_string={"after": cursor})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "That page link is not valid" in page
    assert titles(page) == URGENCY


def test_hostile_search_text_is_escaped(scene, tech):
    page = tech.get("/queue", query_string={"q": '"><script>x</script>'}).get_data(as_text=True)
    assert "<script>x</script>" not in page
    assert "&#34;&gt;&lt;script&gt;" in page or "&quot;&gt;&lt;script&gt;" in page


# --- pages -------------------------------------------------------------------------------------


@pytest.mark.parametrize("page_size", [1, 2, 3, 4, 6])
@pytest.mark.parametrize("query", ["", "assignee=unassigned", "state=running"])
def test_pages_follow_each_other_without_gaps_or_repeats(scene, tech, monkeypatch, page_size,
                                                         query):
    everything = titles(tech.get(f"/queue?{query}").get_data(as_text=True))
    monkeypatch.setattr("helpdesk.tickets.views.PAGE_SIZE", page_size)
    seen, url, pages = [], f"/queue?{query}", 0
    while url:
        page = tech.get(url).get_data(as_text=True)
        listed = titles(page)
        assert 0 < len(listed) <= page_size
        seen += listed
        url, pages = next_link(page), pages + 1
        if url and query:
            assert query in url  # the filters travel with the cursor
    assert seen == everything
    assert pages == -(-len(everything) // page_size)


def test_a_deep_page_is_read_by_cursor_not_offset(app, scene, world):
    """The cursor after a counting ticket and after a paused one both continue the order."""
    with app.app_context():
        tech = find_user(world.tech)
        listed = queries.open_queue(tech)
        for index, ticket in enumerate(listed):
            rest = queries.open_queue(tech, after=QueueCursor.after(ticket))
            assert [t.id for t in rest] == [t.id for t in listed[index + 1:]]


def test_cursor_survives_its_round_trip_through_text(app, scene):
    with app.app_context():
        due = datetime(2026, 11, 30, 10, 0, 0, 123456, tzinfo=UTC)
        for cursor in (QueueCursor(QueueRank.COUNTING, due, 42),
                       QueueCursor(QueueRank.PAUSED, None, 7)):
            assert QueueCursor.decode(cursor.encode()) == cursor


# --- the refresh fragment ----------------------------------------------------------------------


def test_fragment_sends_the_rows_and_page_links_only(scene, tech):
    response = tech.get("/queue?fragment=rows&state=breached")
    assert response.status_code == 200
    assert response.headers["X-Queue-Fragment"] == "rows"
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_data(as_text=True)
    assert "<html" not in body and "<form" not in body
    assert "<tbody>" in body and 'id="queue-pager"' in body
    assert titles(body) == ["Overdue"]
    assert "Updated 11:00" in body  # in the viewer's zone


def test_fragment_shows_a_ticket_opened_since_the_page_was_loaded(app, world, scene, tech):
    before = titles(tech.get("/queue?fragment=rows").get_data(as_text=True))
    open_ticket(app, requester=world.client, title="Opened meanwhile", now=NOW - 2 * MINUTE)
    after = titles(tech.get("/queue?fragment=rows").get_data(as_text=True))
    assert "Opened meanwhile" not in before and "Opened meanwhile" in after


def test_fragment_next_link_keeps_filters(scene, tech, monkeypatch):
    monkeypatch.setattr("helpdesk.tickets.views.PAGE_SIZE", 2)
    body = tech.get("/queue?fragment=rows&organisation=shop").get_data(as_text=True)
    link = next_link(body)
    assert "organisation=shop" in link and "after=" in link and "fragment" not in link


@pytest.mark.parametrize("app_config", [{"QUEUE_REFRESH_SECONDS": 7}])
def test_refresh_interval_comes_from_the_configuration(scene, tech, app_config):
    page = tech.get("/queue").get_data(as_text=True)
    assert 'data-refresh-seconds="7"' in page
    assert "refreshes every 7 s" in page


def test_page_loads_its_scripts_from_static_files_only(scene, tech):
    page = tech.get("/queue").get_data(as_text=True)
    scripts = re.findall(r"<script([^>]*)>", page)
    assert scripts and all("src=" in s for s in scripts)
    assert "/static/js/countdown.js" in page and "/static/js/queue.js" in page


# --- countdown figures -------------------------------------------------------------------------


def test_rows_give_the_countdown_service_time_left_and_thresholds(scene, tech):
    cells = clock_cells(tech.get("/queue").get_data(as_text=True))
    fresh = cells["Fresh"]
    assert float(fresh["data"]["left"]) == 110 * 60
    assert fresh["data"]["ticking"] == "true" and "flips-in" not in fresh["data"]  # 24/7
    assert float(fresh["data"]["warning-at"]) == 60 * 60  # 50 % of 2 h used
    assert float(fresh["data"]["risk-at"]) == 24 * 60  # 80 % of 2 h used
    assert "countdown-ok" in fresh["classes"]
    assert fresh["text"].startswith("1 h 50 min left · GTI due Mon 12:50")


@pytest.mark.parametrize("title, state, text", [
    ("Overdue", "breached", "breached · overdue by 1 h"),
    ("Nearly due", "at_risk", "at risk · 20 min left"),
    ("Twin A", "warning", "50 min left"),
    ("Fresh", "ok", "1 h 50 min left"),
])
def test_the_row_colour_and_words_say_the_same_thing(scene, tech, title, state, text):
    cell = clock_cells(tech.get("/queue").get_data(as_text=True))[title]
    assert f"countdown-{state}" in cell["classes"]
    assert cell["text"].startswith(text)


def test_breached_row_counts_overdue_time_as_negative_time_left(scene, tech):
    cell = clock_cells(tech.get("/queue").get_data(as_text=True))["Overdue"]
    assert float(cell["data"]["left"]) == -3600


def test_paused_row_has_no_countdown(scene, tech):
    page = tech.get("/queue").get_data(as_text=True)
    row = next(r for r in re.findall(r"<tr>(.*?)</tr>", page, re.S) if "On hold" in r)
    assert "data-countdown" not in row and "paused (waiting on client)" in text(row)


def paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def _business_ticket(desk, opened: datetime):
    """A P2 incident (business hours in Paris, GTI 4 h, warnings at 50 % and 80 %)."""
    ticket = services.open_ticket(actor=desk["client"], contract=desk["contract"],
                                  priority_code="P2", title="Slow", description="…", now=opened)
    db.session.flush()
    return ticket


def test_business_hours_clock_does_not_tick_at_night_and_says_when_it_resumes(desk):
    ticket = _business_ticket(desk, paris(2026, 11, 27, 16, 0))  # Friday 16:00
    shown = countdown(ticket, now=paris(2026, 11, 27, 20, 0))  # Friday 20:00, closed
    assert shown.left == 2 * 3600  # two service hours counted on Friday
    assert shown.ticking is False
    assert shown.flips_in == (paris(2026, 11, 30, 8, 0) - paris(2026, 11, 27, 20, 0)).total_seconds()
    assert (shown.warning_at, shown.risk_at) == (2 * 3600, 0.2 * 4 * 3600)
    assert shown.state == "warning"


def test_business_hours_clock_ticks_until_the_evening_closing(desk):
    ticket = _business_ticket(desk, paris(2026, 11, 27, 16, 0))
    shown = countdown(ticket, now=paris(2026, 11, 27, 17, 0))  # one service hour counted
    assert shown.ticking is True
    assert shown.flips_in == 3600  # closes at 18:00
    assert shown.left == 3 * 3600 and shown.state == "ok"


def test_overdue_business_clock_counts_only_service_hours_past_due(desk):
    ticket = _business_ticket(desk, paris(2026, 11, 26, 14, 0))  # Thursday, due 18:00
    shown = countdown(ticket, now=paris(2026, 11, 27, 9, 0))  # Friday 09:00
    assert shown.state == "breached"
    assert shown.left == -3600  # one service hour past due, not fifteen
    assert shown.due_at == paris(2026, 11, 26, 18, 0)


def test_rows_of_a_closed_calendar_say_the_clock_is_not_counting(app, world, clock, tech):
    saturday = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    clock.freeze(saturday)
    open_ticket(app, requester=world.client, title="Weekend", priority="P3",
                now=saturday - 60 * MINUTE)
    cell = clock_cells(tech.get("/queue").get_data(as_text=True))["Weekend"]
    assert cell["data"]["ticking"] == "false"
    assert float(cell["data"]["left"]) == 8 * 3600  # nothing counted over the weekend
    assert float(cell["data"]["flips-in"]) == (paris(2026, 11, 30, 8, 0) - saturday).total_seconds()
    assert cell["text"].endswith("not counting outside service hours")


def test_organisation_names_in_the_filter_are_escaped(app, scene, tech):
    with app.app_context():
        factories.organisation(code="evil", name='<b onclick="x()">Evil & Co</b>')
        db.session.commit()
    page = tech.get("/queue?organisation=evil").get_data(as_text=True)
    assert ('<option selected value="evil">&lt;b onclick=&#34;x()&#34;&gt;Evil &amp; Co&lt;/b&gt;'
            '</option>') in page
