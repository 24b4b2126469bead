"""`flask sla sweep --at …` after the scheduler was down for three days: it catches up exactly.

The last sweep ran on Monday 30 November 2026 at 08:30 (Paris); the next one, through the command
line, on Thursday 3 December at 08:30. Every threshold crossed meanwhile is recorded at the
instant the rules give, breaches at their due instants, and each clock notifies once, for the
highest threshold it crossed, not a burst.

Run while it is still Monday, the same command is a preview: it says what Thursday's catch-up
will record and whom it will tell, and writes and sends nothing.
"""
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from helpdesk.accounts.models import User
from helpdesk.escalation.models import (
    Breach,
    EscalationEvent,
    Notification,
    SchedulerHeartbeat,
)
from helpdesk.extensions import db
from helpdesk.tickets import services
from helpdesk.tickets.models import SlaClock, Ticket
from tests import factories

PARIS = ZoneInfo("Europe/Paris")
PRIORITIES = [("P1", "Critique", "24x7", 2, 8), ("P2", "Haute", "biz-fr", 4, 8)]


def paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS).astimezone(UTC)


LAST_SWEEP = "2026-11-30T08:30:00+01:00"
CATCH_UP = "2026-12-03T08:30:00+01:00"  # three days later, with the offset the operator typed

# The thresholds each ticket crosses while the scheduler is down, at their true instants.
CROSSED = {
    # P1, 24/7, opened Monday 09:00: GTI 2 h, GTR 8 h, counted around the clock.
    "running": [("gti", 50, paris(2026, 11, 30, 10, 0)), ("gti", 80, paris(2026, 11, 30, 10, 36)),
                ("gti", 100, paris(2026, 11, 30, 11, 0)), ("gtr", 50, paris(2026, 11, 30, 13, 0)),
                ("gtr", 80, paris(2026, 11, 30, 15, 24)),
                ("gtr", 100, paris(2026, 11, 30, 17, 0))],
    # P2, business hours, opened Friday 17:00: one hour on Friday, the rest from Monday 08:00.
    "weekend": [("gti", 50, paris(2026, 11, 30, 9, 0)), ("gti", 80, paris(2026, 11, 30, 10, 12)),
                ("gti", 100, paris(2026, 11, 30, 11, 0)), ("gtr", 50, paris(2026, 11, 30, 11, 0)),
                ("gtr", 80, paris(2026, 11, 30, 13, 24)),
                ("gtr", 100, paris(2026, 11, 30, 15, 0))],
    # P1 opened Monday 07:00: its GTI 50 % (08:00) was recorded and mailed before the outage.
    "warned": [("gti", 80, paris(2026, 11, 30, 8, 36)), ("gti", 100, paris(2026, 11, 30, 9, 0)),
               ("gtr", 50, paris(2026, 11, 30, 11, 0)), ("gtr", 80, paris(2026, 11, 30, 13, 24)),
               ("gtr", 100, paris(2026, 11, 30, 15, 0))],
    # P1 opened Monday 09:00, taken 09:20 (GTI met), waiting on the client 10:00 until Tuesday
    # 10:00: the GTR counted one hour, paused a day, then counts again.
    "paused": [("gtr", 50, paris(2026, 12, 1, 13, 0)), ("gtr", 80, paris(2026, 12, 1, 15, 24)),
               ("gtr", 100, paris(2026, 12, 1, 17, 0))],
    # P1 opened Monday 09:00, taken at 10:15: its GTI stopped after 50 % and before 80 %.
    "taken": [("gti", 50, paris(2026, 11, 30, 10, 0)), ("gtr", 50, paris(2026, 11, 30, 13, 0)),
              ("gtr", 80, paris(2026, 11, 30, 15, 24)), ("gtr", 100, paris(2026, 11, 30, 17, 0))],
}
# Who is told, for the highest threshold of each clock. The GTI of "taken" crossed 50 % before it
# stopped, but a warning about a stopped clock helps nobody: recorded, not mailed.
BREACH_RECIPIENTS = {"lead@provider.example", "client@shop.example"}
NOTIFIED = {(title, metric): BREACH_RECIPIENTS
            for title, crossed in CROSSED.items() for metric, level, _ in crossed if level == 100}


def desk() -> tuple:
    calendars = {"biz-fr": factories.calendar(),
                 "24x7": factories.calendar(code="24x7", always=True)}
    shop = factories.organisation()
    client = factories.user(email="client@shop.example", organisation=shop)
    tech = factories.user(email="tech@provider.example", role="technician")
    factories.user(email="lead@provider.example", role="team_lead")
    contract = factories.contract(organisation=shop, calendars=calendars, priorities=PRIORITIES)

    def open_ticket(title, priority, at):
        return services.open_ticket(actor=client, contract=contract, priority_code=priority,
                                    title=title, description="Down.", now=at)
    return open_ticket, client, tech


@pytest.fixture
def outage(app):
    """The tickets, and the last sweep before the scheduler went down (through the CLI too)."""
    with app.app_context():
        open_ticket, client, tech = desk()

        open_ticket("weekend", "P2", paris(2026, 11, 27, 17, 0))
        open_ticket("warned", "P1", paris(2026, 11, 30, 7, 0))
        open_ticket("running", "P1", paris(2026, 11, 30, 9, 0))
        ids = {"paused": open_ticket("paused", "P1", paris(2026, 11, 30, 9, 0)).id,
               "taken": open_ticket("taken", "P1", paris(2026, 11, 30, 9, 0)).id,
               "tech": tech.id, "client": client.id}
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["sla", "sweep", "--at", LAST_SWEEP])
    assert result.exit_code == 0, result.output
    # Meanwhile the technicians worked: the scheduler was down, the web was not.
    with app.app_context():
        tech, client = db.session.get(User, ids["tech"]), db.session.get(User, ids["client"])
        paused, taken = db.session.get(Ticket, ids["paused"]), db.session.get(Ticket, ids["taken"])
        services.take_ticket(paused, actor=tech, now=paris(2026, 11, 30, 9, 20))
        services.wait_on_client(paused, actor=tech, now=paris(2026, 11, 30, 10, 0))
        services.reply_to_ticket(paused, actor=client, body="Done.",
                                 now=paris(2026, 12, 1, 10, 0))
        services.take_ticket(taken, actor=tech, now=paris(2026, 11, 30, 10, 15))
        db.session.commit()
        assert recorded() == {("warned", "gti", 50, paris(2026, 11, 30, 8, 0))}
        before = db.session.scalar(sa.select(sa.func.max(Notification.id)))
    return before


def recorded() -> set[tuple]:
    return {(title, metric.value, level, at) for title, metric, level, at in db.session.execute(
        sa.select(Ticket.title, EscalationEvent.metric, EscalationEvent.level, EscalationEvent.at)
        .join(Ticket, Ticket.id == EscalationEvent.ticket_id))}


def state() -> tuple:
    """Everything a sweep may write, to show that a refused command wrote nothing."""
    counts = tuple(db.session.scalar(sa.select(sa.func.count()).select_from(model))
                   for model in (EscalationEvent, Breach, Notification, SchedulerHeartbeat))
    clocks = tuple(db.session.execute(
        sa.select(SlaClock.ticket_id, SlaClock.metric, SlaClock.escalation_level,
                  SlaClock.next_check_at, SlaClock.computed_at).order_by(SlaClock.id)))
    return counts, clocks


def catch_up(app, clock):
    """Thursday 08:30, the scheduler still down: the operator sweeps as of now, typing it."""
    clock.freeze(paris(2026, 12, 3, 8, 30))
    result = app.test_cli_runner().invoke(args=["sla", "sweep", "--at", CATCH_UP])
    assert result.exit_code == 0, result.output
    return result.output


def test_catch_up_records_every_threshold_at_its_true_instant(app, outage, clock):
    catch_up(app, clock)
    with app.app_context():
        expected = {(title, metric, level, at) for title, crossed in CROSSED.items()
                    for metric, level, at in crossed}
        assert recorded() == expected | {("warned", "gti", 50, paris(2026, 11, 30, 8, 0))}
        recorded_at = set(db.session.scalars(
            sa.select(EscalationEvent.recorded_at).where(EscalationEvent.level != 50)))
        assert recorded_at == {paris(2026, 12, 3, 8, 30)}


def test_catch_up_records_breaches_at_their_due_instants(app, outage, clock):
    catch_up(app, clock)
    with app.app_context():
        rows = db.session.execute(
            sa.select(Ticket.title, Breach).join(Ticket, Ticket.id == Breach.ticket_id))
        breaches = {(title, b.metric.value, b.breached_at, b.billing_month, b.stopped_at)
                    for title, b in rows}
    assert breaches == {(title, metric, at, "2026-11" if at.month == 11 else "2026-12", None)
                        for title, crossed in CROSSED.items()
                        for metric, level, at in crossed if level == 100}


def test_catch_up_notifies_each_recipient_once_for_the_highest_threshold(app, outage, clock):
    catch_up(app, clock)
    with app.app_context():
        rows = db.session.execute(
            sa.select(Ticket.title, EscalationEvent.metric, EscalationEvent.level, User.email)
            .select_from(Notification)
            .join(EscalationEvent, EscalationEvent.id == Notification.event_id)
            .join(Ticket, Ticket.id == EscalationEvent.ticket_id)
            .join(User, User.id == Notification.recipient_id)
            .where(Notification.id > outage)).all()
    keys = [(title, metric.value, email) for title, metric, _level, email in rows]
    assert len(keys) == len(set(keys)), "a recipient was told twice about one clock"
    assert {level for *_, level, _email in rows} == {100}
    told: dict[tuple, set[str]] = {}
    for title, metric, email in keys:
        told.setdefault((title, metric), set()).add(email)
    assert told == NOTIFIED


def test_catch_up_prints_what_it_did(app, outage, clock):
    output = catch_up(app, clock)
    crossed = sorted(line.strip() for line in output.splitlines() if "crossed:" in line)
    with app.app_context():
        numbers = dict(db.session.execute(sa.select(Ticket.title, Ticket.id)).all())
    assert crossed == sorted(
        f"crossed: T-{numbers[title]:06d} {metric.upper()} {level} % at {at.isoformat()}"
        for title, events in CROSSED.items() for metric, level, at in events)
    thresholds = sum(len(events) for events in CROSSED.values())
    breaches = len(NOTIFIED)
    mails = sum(len(people) for people in NOTIFIED.values())
    assert output.splitlines()[-1] == (
        f"Swept as of 2026-12-03T07:30:00+00:00: 5 ticket(s), {thresholds} threshold(s) "
        f"crossed, {breaches} breach(es) recorded, {mails} notification(s) queued.")


def test_catch_up_twice_changes_nothing_more(app, outage, clock):
    catch_up(app, clock)
    with app.app_context():
        before = state()
    output = catch_up(app, clock)
    assert "crossed:" not in output
    assert "0 threshold(s) crossed, 0 breach(es) recorded, 0 notification(s) queued." in output
    with app.app_context():
        counts, clocks = state()
        assert (counts[:3], clocks) == (before[0][:3], before[1])


@pytest.mark.parametrize("at, message", [
    ("2026-12-03T08:30:00", "has no time zone offset"),
    ("2026-12-03", "has no time zone offset"),
    ("next thursday", "not an ISO 8601 instant"),
    ("2026-13-03T08:30:00Z", "not an ISO 8601 instant"),
    ("", "not an ISO 8601 instant"),
    # Far enough out that Python's dates overflow once shifted to UTC.
    ("0001-01-01T00:00:00+01:00", "is outside the instants this helpdesk handles, 2000-01-02 to "
                                  "2099-12-31 UTC"),
    ("9999-12-31T23:00:00-05:00", "is outside the instants this helpdesk handles"),
    ("1999-12-31T23:59:59Z", "is outside the instants this helpdesk handles"),
])
def test_sweep_refuses_an_instant_without_offset_or_garbage_and_changes_nothing(
        app, outage, at, message):
    with app.app_context():
        before = state()
    result = app.test_cli_runner().invoke(args=["sla", "sweep", "--at", at])
    assert result.exit_code == 2
    assert "Invalid value for '--at'" in result.output
    assert message in result.output
    assert "Swept" not in result.output and "Traceback" not in result.output
    with app.app_context():
        assert state() == before


def test_catch_up_records_no_breach_for_a_clock_stopped_at_its_due_instant(app, clock):
    with app.app_context():
        open_ticket, _client, tech = desk()
        ticket = open_ticket("just in time", "P1", paris(2026, 11, 30, 9, 0))
        services.take_ticket(ticket, actor=tech, now=paris(2026, 11, 30, 11, 0))  # the due
        db.session.commit()
    catch_up(app, clock)
    with app.app_context():
        assert db.session.scalar(sa.select(SlaClock.status).where(
            SlaClock.metric == "gti")) == "met"
        assert {(metric, level) for _, metric, level, _ in recorded()} >= {("gti", 50),
                                                                           ("gti", 80)}
        assert db.session.scalars(sa.select(Breach.metric)).all() == ["gtr"]


# -- a future instant only previews ------------------------------------------------------------


def preview(app):
    """Still Monday 10:00 (the tests' clock): Thursday is in the future."""
    result = app.test_cli_runner().invoke(args=["sla", "sweep", "--at", CATCH_UP])
    assert result.exit_code == 0, result.output
    return result.output


def test_sweep_preview_of_the_future_writes_and_sends_nothing(app, outage):
    with app.app_context():
        before = state()
        beat = db.session.scalars(sa.select(SchedulerHeartbeat.last_sweep_as_of)).all()
    preview(app)
    with app.app_context():
        assert state() == before  # no event, breach, notification, heartbeat or clock change
        assert db.session.scalars(sa.select(SchedulerHeartbeat.last_sweep_as_of)).all() == beat
    mail = Path(app.config["MAIL_DIR"])
    assert not mail.exists() or not any(mail.iterdir())


def test_sweep_preview_says_first_that_it_writes_nothing(app, outage):
    first = preview(app).splitlines()[0]
    assert first.startswith("Preview only, nothing is written and nothing is sent: "
                            "2026-12-03T07:30:00+00:00 is later than now (2026-11-30T09:")


def test_sweep_preview_prints_what_would_be_recorded_and_who_would_be_told(app, outage):
    output = preview(app)
    with app.app_context():
        numbers = dict(db.session.execute(sa.select(Ticket.title, Ticket.id)).all())
    lines = sorted(line.strip() for line in output.splitlines() if "would record:" in line)
    expected = []
    for title, events in CROSSED.items():
        for metric, level, at in events:
            told = NOTIFIED.get((title, metric)) if level == 100 else None
            line = (f"would record: T-{numbers[title]:06d} {metric.upper()} {level} %"
                    f"{' (breach)' if level == 100 else ''} at {at.isoformat()}")
            expected.append((line, told))
    assert len(lines) == len(expected)
    for line, told in expected:
        [match] = [printed for printed in lines if printed.startswith(line)]
        if told is None:
            assert match == line
        else:
            assert set(match.removeprefix(f"{line}; would tell ").split(", ")) == told
    thresholds = sum(len(events) for events in CROSSED.values())
    mails = sum(len(people) for people in NOTIFIED.values())
    assert output.splitlines()[-1] == (
        f"Would sweep as of 2026-12-03T07:30:00+00:00: 5 ticket(s), {thresholds} threshold(s) "
        f"crossed, {len(NOTIFIED)} breach(es) recorded, {mails} notification(s) queued.")


def test_sweep_preview_foretells_what_the_catch_up_then_records(app, outage, clock):
    foretold = sorted(line.strip().removeprefix("would record: ")
                      for line in preview(app).splitlines() if "would record:" in line)
    done = sorted(line.strip().removeprefix("crossed: ")
                  for line in catch_up(app, clock).splitlines() if "crossed:" in line)
    assert [line.split(";")[0].replace(" (breach)", "") for line in foretold] == done


def test_sweep_as_of_now_is_no_preview(app, outage, clock):
    clock.freeze(paris(2026, 12, 3, 8, 30))
    output = app.test_cli_runner().invoke(args=["sla", "sweep"]).output
    assert "Preview" not in output and output.startswith("  crossed: ")
