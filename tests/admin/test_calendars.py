"""Calendars in the browser: an admin lists, creates and edits them (each change a new version,
audited), every error shows at its field and changes nothing, and the preview gives the next four
weeks of service hours and the very due instant a ticket opened at the sample start gets."""
import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from helpdesk.accounts.models import User
from helpdesk.accounts.services import find_user
from helpdesk.audit.models import AuditEntry
from helpdesk.contracts.models import Calendar, Contract
from helpdesk.extensions import db
from helpdesk.tickets import services
from helpdesk.tickets.clocks import ticket_clocks
from tests.api.helpers import sign_in
from tests.conftest import csrf_token

NEW = "/admin/calendars/new"
EDIT = "/admin/calendars/biz-fr/edit"


WEEKDAYS = {f"windows-{n}-{part}": value
            for n, day in enumerate(("mon", "tue", "wed", "thu", "fri"))
            for part, value in (("day", day), ("start", "08:00"), ("end", "18:00"))}


def _form(token: str, **fields: str) -> dict[str, str]:
    """A new calendar: Monday morning and afternoon, Tuesday all day, French holidays, and
    a closure on 24 December; `fields` change or add form fields."""
    data = {"csrf_token": token, "action": "save", "code": "support-fr",
            "timezone": "Europe/Paris", "country": "FR", "subdiv": "",
            "windows-0-day": "mon", "windows-0-start": "08:00", "windows-0-end": "12:00",
            "windows-1-day": "mon", "windows-1-start": "14:00", "windows-1-end": "18:00",
            "windows-2-day": "tue", "windows-2-start": "08:00", "windows-2-end": "18:00",
            "closures-0-first": "2026-12-24", "closures-0-last": ""}
    return data | fields


def _admin(app, client, world):
    sign_in(app, client, world.admin)
    return csrf_token(client, NEW)


def _versions(app, code: str) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Calendar.version).where(Calendar.code == code)
                                       .order_by(Calendar.version)))


def _calendar_audit(app) -> list[tuple[str, str, str | None]]:
    with app.app_context():
        return [(entry.entity_id, entry.action, entry.actor.email if entry.actor else None)
                for entry in db.session.scalars(sa.select(AuditEntry).where(
                    AuditEntry.entity.in_(("calendar", "contract"))).order_by(AuditEntry.id))]


def _errors_of(page: str, field_id: str) -> str:
    match = re.search(rf'id="{re.escape(field_id)}-errors"[^>]*>(.*?)</ul>', page, re.S)
    assert match, f"no errors shown at {field_id}"
    return match.group(1)


def test_the_list_shows_each_calendar_its_zone_holidays_and_what_uses_it(app, client, world):
    sign_in(app, client, world.admin)
    page = client.get("/admin/calendars").get_data(as_text=True)
    assert 'href="/admin/calendars/biz-fr"' in page and 'href="/admin/calendars/24x7"' in page
    assert "Europe/Paris" in page and "France (FR)" in page
    # both contracts use biz-fr for P3 and 24x7 for P1 and their availability
    assert page.count("2 contracts, 2 priorities") == 2


def test_an_admin_creates_a_calendar_with_several_windows_a_day(app, client, world):
    token = _admin(app, client, world)
    response = client.post(NEW, data=_form(token, **{
        "closures-1-first": "2026-08-10", "closures-1-last": "2026-08-12"}))
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/calendars/support-fr"
    with app.app_context():
        row = db.session.scalar(sa.select(Calendar).where(Calendar.code == "support-fr"))
        assert (row.version, row.timezone, row.is_always) == (1, "Europe/Paris", False)
        assert row.weekly == {"mon": [["08:00", "12:00"], ["14:00", "18:00"]],
                              "tue": [["08:00", "18:00"]]}
        assert (row.holidays_country, row.holidays_subdiv) == ("FR", None)
        assert sorted(row.closures) == ["2026-08-10", "2026-08-11", "2026-08-12", "2026-12-24"]
    assert _calendar_audit(app) == [("support-fr", "create", "admin@provider.example")]


def test_a_24_7_calendar_takes_no_windows(app, client, world):
    token = _admin(app, client, world)
    response = client.post(NEW, data=_form(token, code="round-the-clock", always="y",
                                           timezone="America/New_York"))
    assert response.status_code == 302
    with app.app_context():
        row = db.session.scalar(sa.select(Calendar).where(Calendar.code == "round-the-clock"))
        assert (row.is_always, row.weekly, row.holidays_country, row.closures) == (
            True, {}, None, [])


def test_the_edit_form_shows_the_calendar_as_stored(app, client, world):
    sign_in(app, client, world.admin)
    page = client.get(EDIT).get_data(as_text=True)
    row = re.search(r'id="windows-4-day".*?</fieldset>', page, re.S).group(0)
    assert '<option selected value="fri">' in row
    assert 'value="08:00"' in row and 'value="18:00"' in row
    assert '<option selected value="FR">' in page and 'name="windows-5-day"' in page


def test_editing_a_calendar_adds_a_version_that_the_contracts_using_it_take_up(app, client,
                                                                              world):
    token = _admin(app, client, world)
    data = _form(token, **{"windows-2-day": "wed"})
    response = client.post(EDIT, data=data)
    assert response.status_code == 302
    assert _versions(app, "biz-fr") == [1, 2]
    with app.app_context():
        contract = db.session.scalar(sa.select(Contract).where(Contract.reference == "CT-SHOP"))
        terms = contract.current_version
        assert terms.version == 2
        assert terms.priority("P3").calendar.version == 2
        assert contract.versions[0].priority("P3").calendar.version == 1
    assert _calendar_audit(app) == [("biz-fr", "edit", "admin@provider.example"),
                                    ("CT-OTHER", "edit", "admin@provider.example"),
                                    ("CT-SHOP", "edit", "admin@provider.example")]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "saved as version 2" in page
    assert re.search(r"Versions.*?<th scope=\"row\">2</th>.*?<th scope=\"row\">1</th>", page,
                     re.S)


def test_saving_a_calendar_unchanged_adds_no_version(app, client, world):
    token = _admin(app, client, world)
    response = client.post(EDIT, data={"csrf_token": token, "action": "save",
                                       "timezone": "Europe/Paris", "country": "FR", **WEEKDAYS})
    assert response.status_code == 302
    assert _versions(app, "biz-fr") == [1]
    assert _calendar_audit(app) == []
    assert "Nothing changed" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_bad_input_is_shown_at_each_field_and_changes_nothing(app, client, world):
    token = _admin(app, client, world)
    response = client.post(EDIT, data=_form(token, **{
        "windows-1-start": "11:00",  # overlaps 08:00–12:00
        "windows-2-end": "7h",
        "closures-0-first": "2026-02-30"}))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Windows 08:00–12:00 and 11:00–18:00 overlap." in _errors_of(page, "windows-0-start")
    assert "overlap" in _errors_of(page, "windows-1-start")
    assert "“7h” is not a time" in _errors_of(page, "windows-2-end")
    assert "A date such as 2026-01-31." in _errors_of(page, "closures-0-first")
    assert 'aria-describedby="closures-0-first-errors"' in page
    assert _versions(app, "biz-fr") == [1]
    assert _calendar_audit(app) == []


def test_a_calendar_without_any_window_is_refused_at_the_windows(app, client, world):
    token = _admin(app, client, world)
    data = {key: value for key, value in _form(token).items() if not key.startswith("windows")}
    response = client.post(NEW, data=data)
    assert response.status_code == 422
    assert "No opening window: add one, or choose 24/7." in _errors_of(
        response.get_data(as_text=True), "windows")
    assert _versions(app, "support-fr") == []


def test_a_new_calendar_cannot_take_the_code_of_another(app, client, world):
    token = _admin(app, client, world)
    response = client.post(NEW, data=_form(token, code="biz-fr"))
    assert response.status_code == 422
    assert "A calendar with this code exists" in _errors_of(response.get_data(as_text=True),
                                                            "code")
    assert _versions(app, "biz-fr") == [1]


def test_a_code_the_import_refuses_is_refused_at_the_code(app, client, world):
    token = _admin(app, client, world)
    response = client.post(NEW, data=_form(token, code="no spaces"))
    assert response.status_code == 422
    assert "1 to 64 letters" in _errors_of(response.get_data(as_text=True), "code")


def test_a_country_changed_without_script_is_checked_with_its_subdivision_on_saving(
        app, client, world):
    token = _admin(app, client, world)
    response = client.post(NEW, data=_form(token, country="DE", subdiv="57"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "“57” is not a subdivision of DE" in _errors_of(page, "subdiv")
    assert 'aria-describedby="subdiv-errors"' in page
    assert 'value="BY"' in page  # the chosen country's subdivisions are offered
    assert _versions(app, "support-fr") == []


def test_the_subdivisions_button_offers_the_chosen_countrys_without_checking(app, client,
                                                                            world):
    token = _admin(app, client, world)
    response = client.post(NEW, data=_form(token, country="DE", subdiv="57", action="refresh"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'class="errors"' not in page
    assert 'value="BY"' in page and 'value="57"' not in page
    assert _versions(app, "support-fr") == []


def test_rows_are_added_and_removed_by_buttons(app, client, world):
    token = _admin(app, client, world)
    added = client.post(NEW, data=_form(token, add_window="1")).get_data(as_text=True)
    assert 'name="windows-3-day"' in added and 'name="windows-4-day"' not in added
    removed = client.post(NEW, data=_form(token, remove_window="0")).get_data(as_text=True)
    assert 'name="windows-0-start"' not in removed
    assert 'value="14:00"' in removed and _versions(app, "support-fr") == []
    closures = client.post(NEW, data=_form(token, add_closure="1")).get_data(as_text=True)
    assert 'name="closures-1-first"' in closures


@pytest.mark.parametrize("person", ["client", "tech", "lead", "finance"])
def test_nobody_but_an_admin_reaches_the_calendars(app, client, world, person):
    sign_in(app, client, getattr(world, person))
    token = csrf_token(client, "/tickets")
    assert [client.get(path).status_code for path in (
        "/admin/calendars", NEW, "/admin/calendars/biz-fr", EDIT)] == [404] * 4
    assert client.post(EDIT, data=_form(token)).status_code == 404
    assert client.post(NEW, data=_form(token)).status_code == 404
    assert _versions(app, "biz-fr") == [1] and _versions(app, "support-fr") == []


def test_the_preview_names_holidays_and_closures_and_gives_the_tickets_due_instant(
        app, client, world, clock):
    # Monday 21 December 2026, 17:00 in Paris
    start = clock.freeze(datetime(2026, 12, 21, 16, 0, tzinfo=UTC))
    token = _admin(app, client, world)
    client.post(EDIT, data={"csrf_token": token, "action": "save", "timezone": "Europe/Paris",
                            "country": "FR", "closures-0-first": "2026-12-22", **WEEKDAYS})
    # A ticket on P3 (biz-fr, GTI 8 h) opened then, under the calendar's new version.
    with app.app_context():
        contract = db.session.scalar(sa.select(Contract).where(Contract.reference == "CT-SHOP"))
        ticket = services.open_ticket(actor=find_user(world.client), contract=contract,
                                      priority_code="P3", title="Slow", description="Slow.",
                                      now=start)
        assert ticket.priority.calendar.closures == ["2026-12-22"]
        due = ticket_clocks(ticket, now=start)["gti"].due_at
        db.session.rollback()
    page = client.get("/admin/calendars/biz-fr?gti=8&gtr=12").get_data(as_text=True)
    days = re.findall(r'<tr[^>]*data-day="([0-9-]+)"', page)
    assert len(days) == 28 and days[0] == "2026-12-21"
    assert re.search(r'data-day="2026-12-25".*?closed.*?public holiday: Christmas Day', page,
                     re.S)
    assert re.search(r'data-day="2026-12-22".*?closed.*?closure', page, re.S)
    # Monday 17:00–18:00, Tuesday closed, then Wednesday 08:00–15:00
    assert due == datetime(2026, 12, 23, 14, 0, tzinfo=UTC)
    assert f'<time datetime="{due.isoformat()}" data-clock="GTI">23 Dec 2026, 15:00 CET</time>' \
        in page
    assert "Europe/Paris" in page


def test_the_form_previews_a_calendar_without_saving_it(app, client, world):
    token = _admin(app, client, world)
    response = client.post(NEW, data=_form(token, action="preview", **{
        "sample-start": "2026-12-21T17:00", "sample-gti": "4", "sample-gtr": "8"}))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'data-day="2026-12-21"' in page and "Christmas Day" in page
    # Monday 17:00–18:00, then Tuesday 08:00–11:00
    assert '<time datetime="2026-12-22T10:00:00+00:00" data-clock="GTI">' in page
    assert _versions(app, "support-fr") == []


def test_the_preview_across_the_spring_change_counts_wall_clock_hours(app, client, world,
                                                                      clock):
    clock.freeze(datetime(2026, 3, 27, 15, 0, tzinfo=UTC))  # Friday 16:00 in Paris
    token = _admin(app, client, world)
    response = client.post(NEW, data=_form(token, action="preview", **{
        "windows-0-day": "sun", "windows-0-start": "00:00", "windows-0-end": "06:00",
        "windows-1-day": "fri", "windows-1-start": "08:00", "windows-1-end": "18:00",
        "windows-2-day": "mon", "windows-2-start": "08:00", "windows-2-end": "18:00",
        "sample-gti": "4", "sample-gtr": "8"}))
    page = response.get_data(as_text=True)
    assert 'value="2026-03-27T16:00"' in page  # the start defaults to now, on the wall clock
    sunday = re.search(r'data-day="2026-03-29".*?</tr>', page, re.S).group(0)
    assert "00:00–06:00" in sunday and "5\N{NO-BREAK SPACE}h" in sunday
    # Friday 16:00–18:00 CET (2 h), then Sunday 00:00–02:00 CET, in UTC 23:00–01:00
    assert '<time datetime="2026-03-29T01:00:00+00:00" data-clock="GTI">' \
           '29 Mar 2026, 03:00 CEST</time>' in page
    assert "27 Mar 2026, 16:00 CET" in page


def test_an_admin_reading_french_gets_the_form_errors_and_the_holidays_in_french(
        app, client, world, clock):
    clock.freeze(datetime(2026, 12, 21, 16, 0, tzinfo=UTC))
    with app.app_context():
        db.session.execute(sa.update(User).where(User.email == world.admin)
                           .values(language="fr"))
        db.session.commit()
    token = _admin(app, client, world)
    refused = client.post(NEW, data=_form(token, **{"windows-1-start": "11:00"}))
    assert "Les plages 08:00–12:00 et 11:00–18:00 se chevauchent." in _errors_of(
        refused.get_data(as_text=True), "windows-1-start")
    page = client.get("/admin/calendars/biz-fr").get_data(as_text=True)
    assert "jour férié : Noël" in page and "Aperçu : les quatre prochaines semaines" in page


def test_a_sample_the_preview_cannot_read_is_refused_at_its_field(app, client, world):
    sign_in(app, client, world.admin)
    response = client.get("/admin/calendars/biz-fr?start=tomorrow&gti=0&gtr=8")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Give a date and time" in _errors_of(page, "start")
    assert "above 0" in _errors_of(page, "gti")
    assert "data-day=" not in page


def test_a_form_sent_back_keeps_two_empty_rows_to_type_in(app, client, world):
    token = _admin(app, client, world)
    data = _form(token, code="no spaces", **{"windows-3-day": "mon", "windows-4-day": "mon",
                                              "closures-1-first": "", "closures-2-first": ""})
    page = client.post(NEW, data=data).get_data(as_text=True)
    assert 'name="windows-4-day"' in page and 'name="windows-5-day"' not in page
    assert 'name="closures-2-first"' in page and 'name="closures-3-first"' not in page
