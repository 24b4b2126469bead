"""The dashboard's figures on the hand-built history of conftest.py, where every answer is known."""
from datetime import UTC, datetime, timedelta

import pytest

from helpdesk.contracts.models import EscalationThreshold, Metric, NotifyTarget
from helpdesk.reporting import queries
from helpdesk.reporting.queries import Scope
from helpdesk.tickets import services
from tests.reporting.history import open_ticket, paris, sweep

GTI, GTR = Metric.GTI, Metric.GTR


def period(first="2026-09", last="2026-10"):
    return queries.make_period(first, last, "Europe/Paris")


def figures(rows):
    """{(key, metric): (met, breached, waived)}"""
    return {(row.key, row.metric): (row.met, row.breached, row.waived) for row in rows}


def test_a_period_starts_each_month_at_local_midnight():
    months = period("2026-10", "2026-11")
    assert months.months == ("2026-10", "2026-11")
    # Paris is UTC+2 on 1 October, UTC+1 on 1 November and 1 December.
    assert months.bounds == (datetime(2026, 9, 30, 22, tzinfo=UTC),
                             datetime(2026, 10, 31, 23, tzinfo=UTC),
                             datetime(2026, 11, 30, 23, tzinfo=UTC))


def test_a_reversed_period_is_refused():
    with pytest.raises(ValueError):
        period("2026-10", "2026-09")


def test_compliance_per_month_counts_decided_clocks_in_the_month_they_were_due(app, history):
    rows = queries.compliance(period(), Scope(), by="month")
    assert figures(rows) == {
        ("2026-09", GTI): (1, 0, 0), ("2026-09", GTR): (0, 1, 0),
        # The cancelled ticket's GTI breach counts nowhere.
        ("2026-10", GTI): (2, 2, 1), ("2026-10", GTR): (3, 0, 0),
    }
    assert [str(row.met_percent) for row in rows] == ["100.0", "0.0", "50.0", "100.0"]


def test_a_month_without_decided_clocks_is_listed_with_no_percentage(app, history):
    rows = queries.compliance(period("2026-08", "2026-09"), Scope(), by="month")
    august = [row for row in rows if row.key == "2026-08"]
    assert [(row.metric, row.decided, row.met_percent) for row in august] == [
        (GTI, 0, None), (GTR, 0, None)]


def test_compliance_per_priority(app, history):
    rows = queries.compliance(period(), Scope(), by="priority")
    assert figures(rows) == {("P1", GTI): (2, 2, 1), ("P1", GTR): (3, 1, 0),
                             ("P3", GTI): (1, 0, 0), ("P3", GTR): (0, 0, 0)}
    assert [str(row.met_percent) for row in rows] == ["50.0", "75.0", "100.0", "None"]


def test_compliance_per_organisation_is_keyed_by_code_and_sorted_by_name(app, history):
    rows = queries.compliance(period(), Scope(), by="organisation")
    assert [(row.key, row.label) for row in rows][::2] == [
        ("other", "Autre Client SA"), ("shop", "Boutique Exemple SARL")]
    assert figures(rows) == {("other", GTI): (1, 1, 1), ("other", GTR): (1, 0, 0),
                             ("shop", GTI): (2, 1, 0), ("shop", GTR): (2, 1, 0)}
    assert str(rows[2].met_percent) == "66.7"


def test_a_waived_breach_counts_as_breached_but_earns_no_credit(app, history):
    october_gti = next(row for row in queries.compliance(period(), Scope(), by="month")
                       if row.key == "2026-10" and row.metric == GTI)
    assert (october_gti.breached, october_gti.waived, october_gti.credited) == (2, 1, 1)


def test_the_organisation_filter_keeps_only_its_tickets(app, history):
    rows = queries.compliance(period(), Scope(organisation_id=history.other), by="month")
    assert figures(rows)[("2026-10", GTI)] == (1, 1, 1)
    assert figures(rows)[("2026-09", GTR)] == (0, 0, 0)


def test_the_priority_filter_keeps_only_that_priority(app, history):
    rows = queries.compliance(period(), Scope(priority_code="P3"), by="organisation")
    assert figures(rows) == {("other", GTI): (1, 0, 0), ("other", GTR): (0, 0, 0)}


def test_mean_times_per_month_are_service_and_wall_clock_means(app, history):
    rows = queries.mean_times(period(), Scope(), by="month")
    found = {(row.key, row.metric): (row.stopped, row.service_seconds, row.wall_seconds)
             for row in rows}
    hour = 3600
    assert found == {
        ("2026-09", GTI): (1, hour // 2, hour // 2),
        ("2026-09", GTR): (1, 10 * hour, 10 * hour),
        # 1 h, 2.5 h, 3 h and 2 h of service (the P3 ticket waited a weekend: 64 h of wall time).
        ("2026-10", GTI): (4, int(2.125 * hour), int(17.625 * hour)),
        ("2026-10", GTR): (3, 16800, 16800),
    }


def test_mean_times_per_priority(app, history):
    rows = queries.mean_times(period(), Scope(), by="priority")
    found = {(row.key, row.metric): (row.stopped, row.service_seconds) for row in rows}
    assert found == {("P1", GTI): (4, 6300), ("P1", GTR): (4, 21600),
                     ("P3", GTI): (1, 7200), ("P3", GTR): (0, None)}


def test_a_clock_stopped_outside_the_period_is_not_in_its_means(app, history):
    rows = queries.mean_times(period("2026-11", "2026-11"), Scope(), by="month")
    assert [row.stopped for row in rows] == [0, 0]


# -- at risk right now ---------------------------------------------------------------------------

NOW = paris(2026, 11, 24, 12)


@pytest.fixture
def open_tickets(app, people):
    """Open P1 tickets at noon: due an hour ago, 87.5 % of the GTI used, 25 % used, and one
    taken in charge at 87.5 %; swept, so the warnings are recorded."""
    overdue = open_ticket(people, NOW - timedelta(hours=3), title="Overdue")
    warned = open_ticket(people, NOW - timedelta(minutes=105), title="Warned",
                         contract="other_contract", client="other_client")
    open_ticket(people, NOW - timedelta(minutes=30), title="Early")
    taken = open_ticket(people, NOW - timedelta(minutes=105), title="Taken")
    services.take_ticket(taken, actor=people["tech"], now=NOW - timedelta(minutes=1))
    sweep(NOW)
    return overdue.number, warned.number


def test_at_risk_lists_overdue_then_warned_tickets_with_their_running_clock(app, open_tickets):
    overdue, warned = open_tickets
    rows = queries.at_risk(Scope(), now=NOW)
    assert [(row.ticket.number, row.metric, row.is_breached) for row in rows] == [
        (overdue, GTI, True), (warned, GTI, False)]
    assert rows[0].due_at == NOW - timedelta(hours=1)


@pytest.mark.parametrize("contract, listed", [
    ("contract", "overdue and warned"),  # the warned ticket's own terms still stop at 80 %
    ("other_contract", "overdue"),  # its own priority warns again at 95 %: not yet at risk
])
def test_at_risk_reads_each_ticket_own_priority_last_warning(app, people, open_tickets,
                                                            contract, listed):
    p1 = next(p for p in people[contract].versions[-1].priorities if p.code == "P1")
    p1.escalations.append(EscalationThreshold(at_percent=95, notify=NotifyTarget.TEAM_LEADS))
    overdue, warned = open_tickets
    rows = queries.at_risk(Scope(), now=NOW)
    expected = [overdue, warned] if listed == "overdue and warned" else [overdue]
    assert [row.ticket.number for row in rows] == expected


def test_at_risk_follows_the_organisation_filter(app, people, open_tickets):
    rows = queries.at_risk(Scope(organisation_id=people["other"].id), now=NOW)
    assert [row.ticket.number for row in rows] == [open_tickets[1]]


def test_at_risk_stops_at_its_limit(app, open_tickets):
    assert len(queries.at_risk(Scope(), now=NOW, limit=1)) == 1
