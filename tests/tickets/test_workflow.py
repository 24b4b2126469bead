"""The status machine as a table: every (action, status, role) is allowed with a next status, or
refused — 403 when the role never may, 409 when the status does not fit."""
import itertools

import pytest

from helpdesk.accounts.roles import Role
from helpdesk.errors import Conflict, Forbidden
from helpdesk.tickets.models import Status
from helpdesk.tickets.workflow import Action, allowed_actions, next_status

N, P, W, R, C, O, X = (Status.NEW, Status.IN_PROGRESS, Status.WAITING_ON_CLIENT, Status.RESOLVED,
                       Status.CLOSED, Status.REOPENED, Status.CANCELLED)
OPEN = (N, P, W, O)

# What staff (technician, team lead, admin) may do: action -> {from: to}.
STAFF = {
    Action.TAKE: {N: P, O: P},
    Action.REPLY: {N: P, P: P, W: W, O: P, R: R},  # a public answer starts the work
    Action.NOTE: {s: s for s in Status},            # internal notes, even on closed tickets
    Action.WAIT: {P: W},
    Action.RESUME: {W: P},
    Action.RESOLVE: {P: R, W: R, O: R},
    Action.REOPEN: {R: O},
    Action.CANCEL: {s: X for s in OPEN},
    Action.REPRIORITISE: {s: s for s in OPEN},
    Action.ASSIGN: {s: s for s in OPEN},
}
# What a client may do.
CLIENT = {
    Action.REPLY: {N: N, P: P, W: P, O: O, R: R},    # answering the question resumes the work
    Action.CONFIRM: {R: C},
    Action.REOPEN: {R: O},
}
TABLES = {Role.TECHNICIAN: STAFF, Role.TEAM_LEAD: STAFF, Role.ADMIN: STAFF, Role.CLIENT: CLIENT,
          Role.FINANCE: {}}

CASES = list(itertools.product(Action, Status, Role))


def _expected(action, status, role):
    table = TABLES[role]
    if action not in table:
        return Forbidden
    return table[action].get(status, Conflict)


@pytest.mark.parametrize("action, status, role", CASES,
                         ids=[f"{a.value}-{s.value}-{r.value}" for a, s, r in CASES])
def test_next_status_follows_the_table(action, status, role):
    expected = _expected(action, status, role)
    if isinstance(expected, type):
        with pytest.raises(expected):
            next_status(action, status, role)
    else:
        assert next_status(action, status, role) == expected


@pytest.mark.parametrize("status, role", list(itertools.product(Status, Role)),
                         ids=[f"{s.value}-{r.value}" for s, r in itertools.product(Status, Role)])
def test_allowed_actions_are_the_table_entries(status, role):
    expected = [a for a in Action if status in TABLES[role].get(a, {})]
    assert allowed_actions(status, role) == expected


def test_refusal_for_a_role_names_the_action():
    with pytest.raises(Forbidden, match="Your role cannot take in charge a ticket."):
        next_status(Action.TAKE, Status.NEW, Role.CLIENT)


def test_refusal_for_a_status_names_action_and_status():
    with pytest.raises(Conflict, match="Cannot put on hold a ticket that is waiting on client."):
        next_status(Action.WAIT, Status.WAITING_ON_CLIENT, Role.TECHNICIAN)


@pytest.mark.parametrize("status", [C, X])
def test_closed_and_cancelled_tickets_accept_only_internal_notes(status):
    assert allowed_actions(status, Role.TECHNICIAN) == [Action.NOTE]
    assert allowed_actions(status, Role.CLIENT) == []


def test_finance_may_do_nothing_on_a_ticket():
    assert all(allowed_actions(status, Role.FINANCE) == [] for status in Status)
