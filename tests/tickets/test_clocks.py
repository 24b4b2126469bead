"""A ticket's clocks: replayed from its events, stored as a cache, ordering the queue."""
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpdesk.accounts.models import User
from helpdesk.contracts.models import Contract
from helpdesk.errors import DomainError
from helpdesk.extensions import db
from helpdesk.tickets import queries, services
from helpdesk.tickets.clocks import recompute_batch, ticket_clocks
from helpdesk.tickets.models import QueueRank, SlaClock, SlaStatus, Ticket
from helpdesk.tickets.workflow import Action

PARIS = ZoneInfo("Europe/Paris")


def paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS).astimezone(UTC)


def open_ticket(desk, priority: str, at: datetime) -> Ticket:
    return services.open_ticket(actor=desk["client"], contract=desk["contract"],
                                priority_code=priority, title="Down", description="Down.",
                                now=at)


def stored(ticket: Ticket) -> dict[str, SlaClock]:
    db.session.flush()
    return {row.metric.value: row for row in db.session.scalars(
        sa.select(SlaClock).where(SlaClock.ticket_id == ticket.id))}


def test_business_gti_opened_friday_afternoon_breaches_monday_morning(desk):
    ticket = open_ticket(desk, "P2", paris(2026, 11, 27, 15, 0))
    gti = ticket_clocks(ticket, now=paris(2026, 11, 30, 10, 0))["gti"]
    assert gti.status == SlaStatus.BREACHED
    assert gti.breached_at == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    assert gti.elapsed == timedelta(hours=5)
    assert gti.delay == timedelta(hours=1)


def test_opening_stores_one_clock_per_metric_of_the_priority(desk):
    with_gtr = open_ticket(desk, "P1", paris(2026, 11, 30, 9, 0))
    without_gtr = open_ticket(desk, "P3", paris(2026, 11, 30, 9, 0))
    assert set(stored(with_gtr)) == {"gti", "gtr"}
    assert set(stored(without_gtr)) == {"gti"}
    assert stored(with_gtr)["gti"].due_at == paris(2026, 11, 30, 11, 0)


def test_first_threshold_falls_in_service_hours(desk):
    # 50 % of a 4 h business GTI opened Friday 17:00 is Monday 09:00, not Friday 19:00.
    ticket = open_ticket(desk, "P2", paris(2026, 11, 27, 17, 0))
    assert stored(ticket)["gti"].next_check_at == paris(2026, 11, 30, 9, 0)


def test_taking_in_charge_stops_gti_and_leaves_gtr_running(desk):
    ticket = open_ticket(desk, "P1", paris(2026, 11, 30, 9, 0))
    services.take_ticket(ticket, actor=desk["tech"], now=paris(2026, 11, 30, 9, 30))
    clocks = stored(ticket)
    assert clocks["gti"].status == SlaStatus.MET
    assert clocks["gti"].next_check_at is None
    assert clocks["gtr"].status == SlaStatus.RUNNING


def test_first_public_reply_by_staff_stops_gti(desk):
    ticket = open_ticket(desk, "P1", paris(2026, 11, 30, 9, 0))
    services.reply_to_ticket(ticket, actor=desk["tech"], body="Looking.",
                             now=paris(2026, 11, 30, 9, 10))
    assert stored(ticket)["gti"].status == SlaStatus.MET
    assert stored(ticket)["gti"].stopped_at == paris(2026, 11, 30, 9, 10)


def test_waiting_on_client_pauses_gtr_and_moves_its_due_instant(desk):
    ticket = open_ticket(desk, "P2", paris(2026, 11, 30, 9, 0))
    services.take_ticket(ticket, actor=desk["tech"], now=paris(2026, 11, 30, 9, 30))
    services.wait_on_client(ticket, actor=desk["tech"], now=paris(2026, 11, 30, 10, 0))
    assert stored(ticket)["gtr"].status == SlaStatus.PAUSED
    assert stored(ticket)["gtr"].due_at is None
    services.resume_ticket(ticket, actor=desk["tech"], now=paris(2026, 11, 30, 14, 0))
    # 1 h counted before the pause; 7 h more from 14:00: 4 h on Monday, 3 h on Tuesday.
    assert stored(ticket)["gtr"].due_at == paris(2026, 12, 1, 11, 0)


def test_reopening_keeps_time_already_counted(desk):
    ticket = open_ticket(desk, "P1", paris(2026, 11, 30, 9, 0))
    services.take_ticket(ticket, actor=desk["tech"], now=paris(2026, 11, 30, 9, 30))
    services.resolve_ticket(ticket, actor=desk["tech"], now=paris(2026, 11, 30, 12, 0))
    services.reopen_ticket(ticket, actor=desk["client"], now=paris(2026, 11, 30, 20, 0))
    gtr = stored(ticket)["gtr"]
    assert gtr.status == SlaStatus.RUNNING
    assert gtr.elapsed_seconds == 3 * 3600
    assert gtr.due_at == paris(2026, 12, 1, 1, 0)  # 5 h left on a 24/7 calendar


def test_reprioritising_retargets_from_the_opening(desk):
    ticket = open_ticket(desk, "P3", paris(2026, 11, 30, 9, 0))
    services.reprioritise_ticket(ticket, actor=desk["tech"], priority_code="P1",
                                 reason="Whole shop down", now=paris(2026, 11, 30, 9, 30))
    clocks = stored(ticket)
    assert clocks["gti"].target_seconds == 2 * 3600
    assert clocks["gti"].due_at == paris(2026, 11, 30, 11, 0)
    assert set(clocks) == {"gti", "gtr"}


def test_cancelled_ticket_clocks_say_cancelled_and_leave_the_queue(desk):
    ticket = open_ticket(desk, "P1", paris(2026, 11, 30, 9, 0))
    services.cancel_ticket(ticket, actor=desk["tech"], reason="Duplicate of T-000002",
                           now=paris(2026, 11, 30, 9, 5))
    assert {row.status for row in stored(ticket).values()} == {SlaStatus.CANCELLED}
    assert all(row.next_check_at is None for row in stored(ticket).values())
    assert ticket.sla_rank == QueueRank.NOT_OPEN


def test_queue_puts_breached_first_then_least_time_left_then_paused(desk):
    late = open_ticket(desk, "P2", paris(2026, 11, 27, 9, 0))  # GTI due Friday 13:00
    soon = open_ticket(desk, "P1", paris(2026, 11, 30, 9, 0))  # GTI due Monday 11:00
    later = open_ticket(desk, "P3", paris(2026, 11, 30, 9, 0))  # GTI due Monday 17:00
    waiting = open_ticket(desk, "P1", paris(2026, 11, 30, 8, 0))
    services.take_ticket(waiting, actor=desk["tech"], now=paris(2026, 11, 30, 8, 5))
    services.wait_on_client(waiting, actor=desk["tech"], now=paris(2026, 11, 30, 8, 10))
    resolved = open_ticket(desk, "P1", paris(2026, 11, 30, 7, 0))
    services.take_ticket(resolved, actor=desk["tech"], now=paris(2026, 11, 30, 7, 5))
    services.resolve_ticket(resolved, actor=desk["tech"], now=paris(2026, 11, 30, 7, 10))
    db.session.flush()
    queue = queries.open_queue(desk["tech"])
    assert [t.id for t in queue] == [late.id, soon.id, later.id, waiting.id]


def test_recompute_rebuilds_a_lost_cache(desk):
    ticket = open_ticket(desk, "P2", paris(2026, 11, 27, 15, 0))
    before = {metric: (row.status, row.due_at, row.next_check_at)
              for metric, row in stored(ticket).items()}
    db.session.execute(sa.delete(SlaClock))
    db.session.expire_all()
    assert recompute_batch(now=paris(2026, 11, 27, 15, 0)) == [ticket.id]
    after = {metric: (row.status, row.due_at, row.next_check_at)
             for metric, row in stored(ticket).items()}
    assert after == before


def test_recompute_command_rebuilds_one_ticket(app, runner, world):
    with app.app_context():
        actor = db.session.scalar(sa.select(User).where(User.email == world.client))
        contract = db.session.scalar(sa.select(Contract).where(Contract.reference ==
                                                                  world.contract))
        ticket = services.open_ticket(actor=actor, contract=contract, priority_code="P1",
                                      title="Down", description="Down.",
                                      now=datetime(2026, 11, 30, 8, 0, tzinfo=UTC))
        number = ticket.number
        db.session.execute(sa.delete(SlaClock))
        db.session.commit()
    result = runner.invoke(args=["sla", "recompute", "--ticket", number,
                                 "--at", "2026-11-30T08:30:00Z"])
    assert result.exit_code == 0, result.output
    assert "1 ticket(s)" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SlaClock)) == 2


def test_recompute_command_refuses_a_future_instant_and_writes_nothing(app, runner, world):
    with app.app_context():
        actor = db.session.scalar(sa.select(User).where(User.email == world.client))
        contract = db.session.scalar(sa.select(Contract).where(Contract.reference ==
                                                                  world.contract))
        services.open_ticket(actor=actor, contract=contract, priority_code="P1", title="Down",
                             description="Down.", now=datetime(2026, 11, 30, 8, 0, tzinfo=UTC))
        db.session.commit()
        before = db.session.execute(sa.select(SlaClock.__table__).order_by(SlaClock.id)).all()
    result = runner.invoke(args=["sla", "recompute", "--at", "2026-12-01T08:30:00Z"])
    assert result.exit_code == 1
    assert ("--at 2026-12-01T08:30:00+00:00 is later than now (2026-11-30T09:"
            in result.output)
    assert "nothing was recomputed" in result.output
    assert "flask sla sweep --at 2026-12-01T08:30:00+00:00" in result.output
    with app.app_context():
        assert db.session.execute(
            sa.select(SlaClock.__table__).order_by(SlaClock.id)).all() == before


def test_recompute_command_refuses_an_unknown_ticket(runner, world):
    result = runner.invoke(args=["sla", "recompute", "--ticket", "T-999999"])
    assert result.exit_code != 0
    assert "No ticket T-999999" in result.output


# Random histories: whatever happens, the stored clocks equal a fresh replay.
STEPS = st.lists(st.tuples(
    st.sampled_from([Action.TAKE, Action.REPLY, Action.WAIT, Action.RESUME, Action.RESOLVE,
                     Action.REOPEN, Action.CANCEL, Action.REPRIORITISE, Action.CONFIRM]),
    st.integers(min_value=1, max_value=60 * 30),  # minutes since the previous step
    st.booleans(),  # by the client rather than the technician, where both may act
    st.sampled_from(["P1", "P2", "P3"])), max_size=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(opened_minutes=st.integers(min_value=0, max_value=60 * 24 * 14), steps=STEPS,
       priority=st.sampled_from(["P1", "P2", "P3"]))
def test_stored_clocks_equal_the_replay_after_any_history(desk, opened_minutes, steps, priority):
    example = db.session.begin_nested()  # each example starts from the same desk
    at = paris(2026, 10, 19, 0, 0) + timedelta(minutes=opened_minutes)
    ticket = open_ticket(desk, priority, at)
    for action, gap, by_client, new_priority in steps:
        at += timedelta(minutes=gap)
        actor = desk["client"] if by_client else desk["tech"]
        kwargs = {"reply": {"body": "…"}, "cancel": {"reason": "dup"},
                  "reprioritise": {"priority_code": new_priority, "reason": "re-qualified"}}
        try:
            services.ACTIONS[action](ticket, actor=actor, now=at, **kwargs.get(action.value, {}))
        except DomainError:
            continue
        replayed = ticket_clocks(ticket, now=at)
        rows = stored(ticket)
        assert set(rows) == set(replayed)
        for metric, clock in replayed.items():
            row = rows[metric]
            assert (row.status, row.due_at, row.breached_at, row.elapsed_seconds,
                    row.delay_seconds) == (clock.status, clock.due_at, clock.breached_at,
                                           int(clock.elapsed.total_seconds()),
                                           int(clock.delay.total_seconds()))
    example.rollback()
