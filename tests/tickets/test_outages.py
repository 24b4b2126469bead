"""Outages staff mark on tickets: the use cases, the contract query billing reads, the ticket page.

The use cases run at a fixed `now`; the pages run on the real clock, so their instants are taken
relative to it. Refusal tables run in one test each and compare every row at once.
"""
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from helpdesk.accounts.models import User
from helpdesk.accounts.services import find_user
from helpdesk.audit.models import AuditEntry
from helpdesk.clock import now_utc
from helpdesk.contracts.models import Contract
from helpdesk.errors import DomainError
from helpdesk.extensions import db
from helpdesk.tickets import outages, services
from helpdesk.tickets.models import Outage, Status, Ticket, parse_number
from tests.api.helpers import bring_to, open_ticket, sign_in
from tests.conftest import csrf_token

H = timedelta(hours=1)
PARIS = ZoneInfo("Europe/Paris")


# --- use cases --------------------------------------------------------------------------------


@pytest.fixture
def w(app, world, now):
    """The world's rows and an open P1 ticket of the shop, in an app context held for the test."""
    with app.app_context():
        people = {name: find_user(getattr(world, name))
                  for name in ("client", "other_client", "tech", "lead", "admin", "finance")}
        contracts = {c.reference: c for c in db.session.scalars(sa.select(Contract))}
        ticket = services.open_ticket(actor=people["client"], contract=contracts["CT-SHOP"],
                                      priority_code="P1", title="Site down",
                                      description="500 everywhere.", now=now - 6 * H)
        db.session.flush()
        yield SimpleNamespace(**people, contract=contracts["CT-SHOP"],
                              other_contract=contracts["CT-OTHER"], ticket=ticket, now=now)
        db.session.rollback()


def _audit(ticket) -> list[tuple[str, dict, str, str]]:
    entries = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.entity == "ticket", AuditEntry.entity_id == ticket.number,
        AuditEntry.action.like("%outage")).order_by(AuditEntry.id))
    return [(e.action, e.changes, e.reason, e.actor.email) for e in entries]


def _iso(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat()


def test_record_outage_copies_the_contract_and_who_recorded_it(w):
    outage = outages.record_outage(w.ticket, actor=w.tech, started_at=w.now - 2 * H,
                                   ended_at=w.now - H, now=w.now)
    assert (outage.ticket_id, outage.contract_id, outage.recorded_by_id, outage.recorded_at) == (
        w.ticket.id, w.contract.id, w.tech.id, w.now)
    assert (outage.started_at, outage.ended_at) == (w.now - 2 * H, w.now - H)


def test_record_outage_stores_instants_given_in_any_zone_as_utc(w):
    start = datetime(2026, 11, 30, 8, 30, tzinfo=PARIS)  # 07:30 UTC
    outage = outages.record_outage(w.ticket, actor=w.tech, started_at=start, now=w.now)
    db.session.expire(outage)
    assert outage.started_at == datetime(2026, 11, 30, 7, 30, tzinfo=UTC)
    assert outage.started_at.utcoffset() == timedelta(0)


def test_record_outage_without_an_end_is_ongoing(w):
    outage = outages.record_outage(w.ticket, actor=w.tech, started_at=w.now - H, now=w.now)
    assert outage.ended_at is None


@pytest.mark.parametrize("person", ["tech", "lead", "admin"])
def test_each_ticket_staff_role_may_record_an_outage(w, person):
    outage = outages.record_outage(w.ticket, actor=getattr(w, person), started_at=w.now - H,
                                   now=w.now)
    assert outage.recorded_by == getattr(w, person)


def test_record_outage_is_allowed_once_the_ticket_is_resolved(w):
    services.take_ticket(w.ticket, actor=w.tech, now=w.now - 5 * H)
    services.resolve_ticket(w.ticket, actor=w.tech, now=w.now - 4 * H)
    outage = outages.record_outage(w.ticket, actor=w.tech, started_at=w.now - 6 * H,
                                   ended_at=w.now - 4 * H, now=w.now)
    assert (w.ticket.status, outage.ended_at) == (Status.RESOLVED, w.now - 4 * H)


def test_record_outage_is_audited_on_the_ticket(w):
    outage = outages.record_outage(w.ticket, actor=w.tech, started_at=w.now - 2 * H,
                                   ended_at=w.now - H, now=w.now)
    key = f"outage {outage.id}"
    assert _audit(w.ticket) == [("record_outage", {
        f"{key} started_at": [None, _iso(w.now - 2 * H)],
        f"{key} ended_at": [None, _iso(w.now - H)]}, "", "tech@provider.example")]
    assert w.ticket.updated_at == w.now


def test_end_outage_sets_its_end_and_audits_it(w):
    outage = outages.record_outage(w.ticket, actor=w.tech, started_at=w.now - 2 * H,
                                   now=w.now - H)
    outages.end_outage(outage, actor=w.lead, ended_at=w.now - H / 2, now=w.now)
    assert outage.ended_at == w.now - H / 2
    assert _audit(w.ticket)[-1] == (
        "end_outage", {f"outage {outage.id} ended_at": [None, _iso(w.now - H / 2)]}, "",
        "lead@provider.example")


def test_end_outage_may_end_it_at_its_start(w):
    outage = outages.record_outage(w.ticket, actor=w.tech, started_at=w.now - H, now=w.now)
    outages.end_outage(outage, actor=w.tech, ended_at=w.now - H, now=w.now)
    assert outage.ended_at == outage.started_at


def test_correct_outage_replaces_its_instants_and_audits_the_reason(w):
    outage = outages.record_outage(w.ticket, actor=w.tech, started_at=w.now - 2 * H,
                                   ended_at=w.now - H, now=w.now)
    outages.correct_outage(outage, actor=w.admin, started_at=w.now - 3 * H, ended_at=w.now - H,
                           reason="  Monitoring shows it began at 06:00.  ", now=w.now)
    assert (outage.started_at, outage.ended_at) == (w.now - 3 * H, w.now - H)
    assert _audit(w.ticket)[-1] == (
        "correct_outage",
        {f"outage {outage.id} started_at": [_iso(w.now - 2 * H), _iso(w.now - 3 * H)]},
        "Monitoring shows it began at 06:00.", "admin@provider.example")


def test_correct_outage_without_an_end_makes_it_ongoing_again(w):
    outage = outages.record_outage(w.ticket, actor=w.tech, started_at=w.now - 2 * H,
                                   ended_at=w.now - H, now=w.now)
    outages.correct_outage(outage, actor=w.tech, started_at=outage.started_at, ended_at=None,
                           reason="Ended by mistake.", now=w.now)
    assert outage.ended_at is None


def test_delete_outage_removes_it_and_audits_the_reason(w):
    outage = outages.record_outage(w.ticket, actor=w.tech, started_at=w.now - 2 * H,
                                   ended_at=w.now - H, now=w.now)
    outage_id = outage.id
    outages.delete_outage(outage, actor=w.tech, reason="Wrong ticket.", now=w.now)
    assert db.session.get(Outage, outage_id) is None
    assert _audit(w.ticket)[-1] == (
        "delete_outage", {f"outage {outage_id} started_at": [_iso(w.now - 2 * H), None],
                          f"outage {outage_id} ended_at": [_iso(w.now - H), None]},
        "Wrong ticket.", "tech@provider.example")


def _refusal(call) -> tuple[str, str | None, str] | None:
    """(error class, field, message) of a refused call; None when it went through."""
    try:
        call()
    except DomainError as error:
        return type(error).__name__, error.field, error.message
    return None


def _snapshot() -> tuple:
    """Everything an outage use case could write, as the session sees it."""
    db.session.flush()
    rows = db.session.execute(sa.select(Outage.id, Outage.started_at, Outage.ended_at)
                              .order_by(Outage.id)).all()
    audits = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
    return rows, audits


def test_every_refusal_says_why_and_changes_nothing(w):
    now = w.now
    ended = outages.record_outage(w.ticket, actor=w.tech, started_at=now - 4 * H,
                                  ended_at=now - 3 * H, now=now)
    ongoing = outages.record_outage(w.ticket, actor=w.tech, started_at=now - 2 * H, now=now)
    cancelled = services.open_ticket(actor=w.client, contract=w.contract, priority_code="P1",
                                     title="Duplicate", description="Same.", now=now - H)
    services.cancel_ticket(cancelled, actor=w.tech, reason="Duplicate.", now=now - H / 2)
    naive = datetime(2026, 11, 30, 7, 0)
    staff_only = "Only technicians, team leads and admins may {} outages."
    opened_later = ("The outage cannot start before the ticket was opened "
                    "(2026-11-30 03:00:00 UTC).")
    table = {
        "client records": (
            lambda: outages.record_outage(w.ticket, actor=w.client, started_at=now - H, now=now),
            ("Forbidden", None, staff_only.format("record"))),
        "finance records": (
            lambda: outages.record_outage(w.ticket, actor=w.finance, started_at=now - H,
                                          ended_at=now, now=now),
            ("Forbidden", None, staff_only.format("record"))),
        "no start": (
            lambda: outages.record_outage(w.ticket, actor=w.tech, started_at=None, now=now),
            ("DomainError", "started_at", "The start is required.")),
        "naive start": (
            lambda: outages.record_outage(w.ticket, actor=w.tech, started_at=naive,
                                          ended_at=now, now=now),
            ("DomainError", "started_at", "The start must be an instant with its time zone, "
                                          "e.g. 2026-11-30T09:00:00Z.")),
        "start out of range": (
            lambda: outages.record_outage(
                w.ticket, actor=w.tech, now=now,
                started_at=datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1)))),
            ("DomainError", "started_at", "The start is out of range.")),
        "naive end": (
            lambda: outages.record_outage(w.ticket, actor=w.tech, started_at=now - H,
                                          ended_at=naive, now=now),
            ("DomainError", "ended_at", "The end must be an instant with its time zone, "
                                        "e.g. 2026-11-30T09:00:00Z.")),
        "start in the future": (
            lambda: outages.record_outage(w.ticket, actor=w.tech, started_at=now + H,
                                          ended_at=now + 2 * H, now=now),
            ("DomainError", "started_at",
             "The outage cannot start in the future: record it once it has begun.")),
        "start before the ticket was opened": (
            lambda: outages.record_outage(w.ticket, actor=w.tech, ended_at=now - H, now=now,
                                          started_at=now - 6 * H - timedelta(seconds=1)),
            ("DomainError", "started_at", opened_later)),
        "start in year 2": (
            lambda: outages.record_outage(w.ticket, actor=w.tech, now=now,
                                          started_at=datetime(2, 1, 1, tzinfo=UTC)),
            ("DomainError", "started_at", opened_later)),
        "end in the future": (
            lambda: outages.record_outage(w.ticket, actor=w.tech, started_at=now - H,
                                          ended_at=now + timedelta(seconds=1), now=now),
            ("DomainError", "ended_at", "The end cannot be in the future: end the outage once "
                                        "service is restored.")),
        "end before start": (
            lambda: outages.record_outage(w.ticket, actor=w.tech, started_at=now - H,
                                          ended_at=now - 2 * H, now=now),
            ("DomainError", "ended_at", "The end must not be before the start.")),
        "second ongoing": (
            lambda: outages.record_outage(w.ticket, actor=w.tech, started_at=now - H, now=now),
            ("Conflict", None, f"Outage #{ongoing.id} of this ticket is still ongoing: end it "
                               "first, a ticket has at most one ongoing outage.")),
        "cancelled ticket": (
            lambda: outages.record_outage(cancelled, actor=w.tech, started_at=now - H,
                                          ended_at=now, now=now),
            ("Conflict", None, "Cannot record an outage on a ticket that is cancelled.")),
        "client ends": (
            lambda: outages.end_outage(ongoing, actor=w.client, ended_at=now, now=now),
            ("Forbidden", None, staff_only.format("end"))),
        "end an ended outage": (
            lambda: outages.end_outage(ended, actor=w.tech, ended_at=now, now=now),
            ("Conflict", None, "This outage has already ended; to change its end, correct it "
                               "with a reason.")),
        "end before it started": (
            lambda: outages.end_outage(ongoing, actor=w.tech, ended_at=now - 3 * H, now=now),
            ("DomainError", "ended_at", "The end must not be before the start.")),
        "end later than now": (
            lambda: outages.end_outage(ongoing, actor=w.tech, ended_at=now + H, now=now),
            ("DomainError", "ended_at", "The end cannot be in the future: end the outage once "
                                        "service is restored.")),
        "end without an end": (
            lambda: outages.end_outage(ongoing, actor=w.tech, ended_at=None, now=now),
            ("DomainError", "ended_at", "The end is required.")),
        "finance corrects": (
            lambda: outages.correct_outage(ended, actor=w.finance, started_at=now - 5 * H,
                                           ended_at=now - 3 * H, reason="x", now=now),
            ("Forbidden", None, staff_only.format("correct"))),
        "correct without reason": (
            lambda: outages.correct_outage(ended, actor=w.tech, started_at=now - 5 * H,
                                           ended_at=now - 3 * H, reason=" \n ", now=now),
            ("DomainError", "reason", "Say why the outage is corrected.")),
        "correct with an overlong reason": (
            lambda: outages.correct_outage(ended, actor=w.tech, started_at=now - 5 * H,
                                           ended_at=now - 3 * H, reason="x" * 1001, now=now),
            ("DomainError", "reason", "The reason must be at most 1000 characters.")),
        "correct with a NUL in the reason": (
            lambda: outages.correct_outage(ended, actor=w.tech, started_at=now - 5 * H,
                                           ended_at=now - 3 * H, reason="a\x00b", now=now),
            ("DomainError", "reason", "The reason contains control characters; remove them.")),
        "correct to the same instants": (
            lambda: outages.correct_outage(ended, actor=w.tech, started_at=now - 4 * H,
                                           ended_at=now - 3 * H, reason="x", now=now),
            ("DomainError", None, "These are the instants already recorded: nothing to "
                                  "correct.")),
        "correct the end before the start": (
            lambda: outages.correct_outage(ended, actor=w.tech, started_at=now - 4 * H,
                                           ended_at=now - 5 * H, reason="x", now=now),
            ("DomainError", "ended_at", "The end must not be before the start.")),
        "correct the start before the ticket was opened": (
            lambda: outages.correct_outage(ended, actor=w.tech, started_at=now - 7 * H,
                                           ended_at=now - 3 * H, reason="x", now=now),
            ("DomainError", "started_at", opened_later)),
        "correct the start into the future": (
            lambda: outages.correct_outage(ongoing, actor=w.tech, started_at=now + H,
                                           ended_at=None, reason="x", now=now),
            ("DomainError", "started_at",
             "The outage cannot start in the future: record it once it has begun.")),
        "correct into a second ongoing": (
            lambda: outages.correct_outage(ended, actor=w.tech, started_at=now - 4 * H,
                                           ended_at=None, reason="x", now=now),
            ("Conflict", None, f"Outage #{ongoing.id} of this ticket is still ongoing: end it "
                               "first, a ticket has at most one ongoing outage.")),
        "delete without reason": (
            lambda: outages.delete_outage(ended, actor=w.tech, reason="", now=now),
            ("DomainError", "reason", "Say why the outage is deleted.")),
        "client deletes": (
            lambda: outages.delete_outage(ended, actor=w.client, reason="Not down.", now=now),
            ("Forbidden", None, staff_only.format("delete"))),
    }
    before = _snapshot()
    observed = {}
    for name, (call, _) in table.items():
        observed[name] = (_refusal(call), _snapshot() == before)
    assert observed == {name: (expected, True) for name, (_, expected) in table.items()}


def test_record_outage_may_start_the_instant_the_ticket_was_opened(w):
    outage = outages.record_outage(w.ticket, actor=w.tech, started_at=w.ticket.created_at,
                                   now=w.now)
    assert outage.started_at == w.now - 6 * H


def test_end_outage_ends_one_recorded_before_its_ticket_was_opened(w):
    """Outages recorded before the rule existed may start earlier; they can still be ended."""
    outage = Outage(ticket=w.ticket, contract_id=w.contract.id, started_at=w.now - 8 * H,
                    recorded_by_id=w.tech.id, recorded_at=w.now - 5 * H)
    db.session.add(outage)
    db.session.flush()
    outages.end_outage(outage, actor=w.tech, ended_at=w.now - H, now=w.now)
    assert outage.ended_at == w.now - H


def test_an_ongoing_outage_may_be_corrected_while_it_lasts(w):
    outage = outages.record_outage(w.ticket, actor=w.tech, started_at=w.now - H, now=w.now)
    outages.correct_outage(outage, actor=w.tech, started_at=w.now - 2 * H, ended_at=None,
                           reason="Began earlier.", now=w.now)
    assert (outage.started_at, outage.ended_at) == (w.now - 2 * H, None)


# --- the ticket page --------------------------------------------------------------------------


@pytest.fixture
def number(app, world):
    """A P1 ticket of the shop, opened by its client a day ago: outages start after that."""
    return open_ticket(app, requester=world.client, now=now_utc() - timedelta(days=1))


def _browser(app, world, person):
    return sign_in(app, app.test_client(), getattr(world, person))


def _local(instant: datetime, zone=PARIS) -> str:
    """What a person types in a date-and-time field: their wall clock, to the minute."""
    return instant.astimezone(zone).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def ago():
    """Whole minutes before the start of the test, on the real clock the pages read."""
    start = now_utc().replace(second=0, microsecond=0)
    return lambda minutes: start - timedelta(minutes=minutes)


def _post(browser, path, number, **data):
    token = csrf_token(browser, f"/tickets/{number}")
    return browser.post(path, data={"csrf_token": token, **data})


def _record(browser, number, **data):
    return _post(browser, f"/tickets/{number}/outages", number, **data)


def _change(browser, number, outage_id, change, **data):
    return _post(browser, f"/tickets/{number}/outages/{outage_id}/{change}", number, **data)


def _outages(app, number) -> list[tuple]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(Outage.id, Outage.started_at, Outage.ended_at, User.email)
            .join(User, User.id == Outage.recorded_by_id)
            .where(Outage.ticket_id == parse_number(number)).order_by(Outage.id)).all()
        return [tuple(row) for row in rows]


def _state(app) -> tuple:
    """Outages and audit entries: what a refused form must leave as it was."""
    with app.app_context():
        rows = db.session.execute(sa.select(Outage.id, Outage.started_at, Outage.ended_at)
                                  .order_by(Outage.id)).all()
        audits = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
        return [tuple(row) for row in rows], audits


def _seed(app, number, *, started_at, ended_at=None, by="tech@provider.example") -> int:
    with app.app_context():
        outage = outages.record_outage(db.session.get(Ticket, parse_number(number)),
                                       actor=find_user(by), started_at=started_at,
                                       ended_at=ended_at, now=now_utc())
        db.session.commit()
        return outage.id


def test_technician_records_an_outage_typed_in_their_own_time_zone(app, world, number, ago):
    with app.app_context():
        find_user(world.tech).timezone = "America/New_York"
        db.session.commit()
    new_york = ZoneInfo("America/New_York")
    start, end = ago(150), ago(30)
    browser = _browser(app, world, "tech")
    response = _record(browser, number, started_at=_local(start, new_york),
                       ended_at=_local(end, new_york))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/tickets/{number}#outages"
    [(_, started_at, ended_at, recorded_by)] = _outages(app, number)
    assert (started_at, ended_at, recorded_by) == (start, end, "tech@provider.example")
    page = browser.get(f"/tickets/{number}").get_data(as_text=True)
    assert "Outage recorded." in page
    local = start.astimezone(new_york)
    assert f"{local.day} {local:%b %Y, %H:%M %Z}" in page  # "27 Nov 2026, 02:07 EST"
    assert "2\N{NO-BREAK SPACE}h" in page  # its duration


def test_ongoing_outage_shows_as_ongoing_with_its_duration_so_far(app, world, number, ago):
    _seed(app, number, started_at=ago(90))
    page = _browser(app, world, "lead").get(f"/tickets/{number}").get_data(as_text=True)
    assert "<strong>ongoing</strong>" in page
    assert "so far" in page
    assert "Tom Tech" in page
    assert "End the outage" in page


def test_technician_ends_an_ongoing_outage_now_by_default(app, world, number, ago):
    outage_id = _seed(app, number, started_at=ago(90))
    before = now_utc().replace(microsecond=0)
    response = _change(_browser(app, world, "tech"), number, outage_id, "end", ended_at="")
    assert response.status_code == 302
    [(_, _, ended_at, _)] = _outages(app, number)
    assert before <= ended_at <= now_utc()


def test_technician_ends_an_ongoing_outage_at_the_time_typed(app, world, number, ago):
    outage_id = _seed(app, number, started_at=ago(90))
    end = ago(10)
    response = _change(_browser(app, world, "tech"), number, outage_id, "end",
                       ended_at=_local(end))
    assert response.status_code == 302
    assert _outages(app, number)[0][2] == end


def test_technician_corrects_an_outage_with_a_reason(app, world, number, ago):
    outage_id = _seed(app, number, started_at=ago(90), ended_at=ago(60))
    start = ago(120)
    browser = _browser(app, world, "admin")
    response = _change(browser, number, outage_id, "correct", started_at=_local(start),
                       ended_at=_local(ago(60)), reason="Monitoring saw it earlier.")
    assert response.status_code == 302
    assert _outages(app, number)[0][1:3] == (start, ago(60))
    page = browser.get(f"/tickets/{number}").get_data(as_text=True)
    assert "outage corrected" in page and "Monitoring saw it earlier." in page


def test_technician_deletes_a_wrongly_recorded_outage_with_a_reason(app, world, number, ago):
    outage_id = _seed(app, number, started_at=ago(90), ended_at=ago(60))
    browser = _browser(app, world, "tech")
    response = _change(browser, number, outage_id, "delete", reason="Wrong ticket.")
    assert response.status_code == 302
    assert _outages(app, number) == []
    page = browser.get(f"/tickets/{number}").get_data(as_text=True)
    assert "Outage deleted." in page and "outage deleted" in page and "Wrong ticket." in page


def test_correct_form_comes_filled_with_the_recorded_instants(app, world, number, ago):
    start, end = ago(90), ago(60)
    outage_id = _seed(app, number, started_at=start, ended_at=end)
    page = _browser(app, world, "tech").get(f"/tickets/{number}").get_data(as_text=True)
    assert f'id="outage-correct-{outage_id}-started_at"' in page
    assert f'value="{_local(start)}"' in page and f'value="{_local(end)}"' in page


def test_every_refused_form_comes_back_with_its_message_and_changes_nothing(app, world,
                                                                          number, ago):
    ended = _seed(app, number, started_at=ago(240), ended_at=ago(180))
    ongoing = _seed(app, number, started_at=ago(120))
    browser = _browser(app, world, "tech")
    past, later = _local(ago(60)), _local(now_utc() + timedelta(hours=2))
    long_ago = _local(ago(2 * 24 * 60))  # the ticket was opened a day ago
    # name -> (path after /tickets/NUMBER, form data, message on the page)
    table = {
        "record without a start": ("/outages", {"started_at": ""},
                                   "Say when the outage started."),
        "record with a malformed start": ("/outages", {"started_at": "yesterday"},
                                          "Enter a date and time, e.g. 2026-11-30 09:00."),
        "record starting in the future": ("/outages", {"started_at": later},
                                          "The outage cannot start in the future"),
        "record in year 1, before UTC's calendar begins": (
            "/outages", {"started_at": "0001-01-01T00:00"},
            "Enter a date between the years 2 and 9998."),
        "record in the skipped DST hour": (
            "/outages", {"started_at": "2026-03-29T02:30", "ended_at": past},
            "2026-03-29 02:30 does not exist in Europe/Paris"),
        "record ending before it starts": (
            "/outages", {"started_at": past, "ended_at": _local(ago(200))},
            "The end must not be before the start."),
        "record a second ongoing outage": ("/outages", {"started_at": past},
                                           f"Outage #{ongoing} of this ticket is still ongoing"),
        "record starting before the ticket was opened": (
            "/outages", {"started_at": long_ago, "ended_at": past},
            "The outage cannot start before the ticket was opened"),
        "correct the start to before the ticket was opened": (
            f"/outages/{ended}/correct",
            {"started_at": long_ago, "ended_at": _local(ago(180)), "reason": "x"},
            "The outage cannot start before the ticket was opened"),
        "end in the future": (f"/outages/{ongoing}/end", {"ended_at": later},
                              "The end cannot be in the future"),
        "end an ended outage": (f"/outages/{ended}/end", {"ended_at": ""},
                                "This outage has already ended"),
        "correct without a reason": (
            f"/outages/{ended}/correct",
            {"started_at": _local(ago(300)), "ended_at": _local(ago(180))},
            "Say why the outage is corrected."),
        "correct to the same instants": (
            f"/outages/{ended}/correct",
            {"started_at": _local(ago(240)), "ended_at": _local(ago(180)),
             "reason": "x"}, "nothing to correct"),
        "delete without a reason": (f"/outages/{ended}/delete", {"reason": "  "},
                                    "Say why the outage is deleted."),
    }
    before = _state(app)
    observed = {}
    for name, (path, data, message) in table.items():
        response = _post(browser, f"/tickets/{number}{path}", number, **data)
        observed[name] = (response.status_code, message in response.get_data(as_text=True),
                          _state(app) == before)
    assert observed == dict.fromkeys(table, (400, True, True))


def test_form_without_csrf_token_is_refused_and_changes_nothing(app, world, number, ago):
    browser = _browser(app, world, "tech")
    before = _state(app)
    response = browser.post(f"/tickets/{number}/outages",
                            data={"started_at": _local(ago(60))})
    assert response.status_code == 400
    assert _state(app) == before


def test_cancelled_ticket_offers_no_outage_form_and_refuses_one(app, world, number, ago):
    bring_to(app, number, "cancelled", world=world)
    browser = _browser(app, world, "tech")
    page = browser.get(f"/tickets/{number}").get_data(as_text=True)
    assert "Outages cannot be recorded on a cancelled ticket." in page
    assert "Record the outage" not in page
    before = _state(app)
    response = _record(browser, number, started_at=_local(ago(60)))
    assert response.status_code == 400
    assert "Cannot record an outage on a ticket that is cancelled." in response.get_data(
        as_text=True)
    assert _state(app) == before


def test_client_sees_the_outages_of_its_ticket_read_only(app, world, number, ago):
    _seed(app, number, started_at=ago(90), ended_at=ago(30))
    page = _browser(app, world, "client").get(f"/tickets/{number}").get_data(as_text=True)
    assert 'id="outages-title"' in page
    assert "1\N{NO-BREAK SPACE}h" in page  # 60 minutes
    assert "/outages" not in page  # no form posts there
    assert "Record the outage" not in page and "Correct or delete" not in page


def test_client_without_outages_sees_no_outage_section(app, world, number):
    page = _browser(app, world, "client").get(f"/tickets/{number}").get_data(as_text=True)
    assert 'id="outages-title"' not in page


def test_staff_page_offers_the_record_form_with_their_time_zone(app, world, number):
    page = _browser(app, world, "tech").get(f"/tickets/{number}").get_data(as_text=True)
    assert "No outage recorded on this ticket." in page
    assert 'for="outage-record-started_at"' in page
    assert "Your time zone: Europe/Paris" in page


def test_outage_section_has_no_inline_script_or_style(app, world, number, ago):
    _seed(app, number, started_at=ago(90))
    page = _browser(app, world, "tech").get(f"/tickets/{number}").get_data(as_text=True)
    section = page[page.index('id="outages"'):page.index('id="conversation-title"')]
    assert "<script" not in section and "style=" not in section and " on" not in section.lower()


# (person, request) -> outcome: the outage forms are staff pages; others do not find them.
ROUTES = ["record", "end", "correct", "delete"]


@pytest.mark.parametrize("person", ["client", "finance", "other_client"])
def test_people_other_than_ticket_staff_get_404_from_every_outage_form(app, world, number,
                                                                       person, ago):
    outage_id = _seed(app, number, started_at=ago(90))
    browser = _browser(app, world, person)
    data = {"started_at": _local(ago(30)), "ended_at": "", "reason": "x"}
    paths = {"record": f"/tickets/{number}/outages",
             **{change: f"/tickets/{number}/outages/{outage_id}/{change}"
                for change in ROUTES[1:]}}
    before = _state(app)
    observed = {route: browser.post(path, data={"csrf_token": csrf_token(browser, "/tickets"),
                                                **data}).status_code
                for route, path in paths.items()}
    assert observed == dict.fromkeys(ROUTES, 404)
    assert _state(app) == before


def test_anonymous_is_sent_to_sign_in_from_the_outage_forms(app, number):
    browser = app.test_client()
    response = browser.post(f"/tickets/{number}/outages",
                            data={"csrf_token": csrf_token(browser, "/login")})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_other_organisations_client_does_not_see_the_outages(app, world, number, ago):
    _seed(app, number, started_at=ago(90))
    response = _browser(app, world, "other_client").get(f"/tickets/{number}")
    assert response.status_code == 404


def test_outage_of_another_ticket_or_unknown_change_is_404(app, world, number, ago):
    other = open_ticket(app, requester=world.other_client, contract="CT-OTHER",
                        now=now_utc() - timedelta(days=1))
    foreign = _seed(app, other, started_at=ago(90))
    mine = _seed(app, number, started_at=ago(90))
    browser = _browser(app, world, "tech")
    before = _state(app)
    observed = {
        "outage of another ticket": _change(browser, number, foreign, "end").status_code,
        "unknown outage": _change(browser, number, 2**31, "end").status_code,
        "unknown change": _change(browser, number, mine, "extend").status_code,
    }
    assert observed == dict.fromkeys(observed, 404)
    assert _state(app) == before
