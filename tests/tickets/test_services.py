"""Ticket use cases and their effects: status, instants, events, audit entries, clocks.

Use cases flush and never commit, so the module shares one application and one committed world,
and every test rolls back what it did (the SAVEPOINT-per-test idea of STYLE.md, without paying
for a fresh database per test).
"""
import shutil
import uuid
from datetime import timedelta
from functools import partial
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from helpdesk import create_app
from helpdesk.accounts.models import User
from helpdesk.audit.models import AuditEntry
from helpdesk.contracts.models import Calendar, Contract, ContractVersion, Priority
from helpdesk.errors import Conflict, DomainError, Forbidden, NotFound
from helpdesk.extensions import db
from helpdesk.tickets import services
from helpdesk.tickets.clocks import ticket_clocks
from helpdesk.tickets.models import EventKind, Status, TicketEvent, TicketMessage
from tests import factories
from tests.conftest import _empty_postgres

MINUTE = timedelta(minutes=1)


@pytest.fixture(scope="module")
def shared_app(database, tmp_path_factory):
    """One application on a fresh database holding the world, for the whole module."""
    folder = tmp_path_factory.mktemp("services")
    config = {"TESTING": True, "INSTANCE_PATH": str(folder / "instance"),
              "SECRET_KEY": "test-secret-" + uuid.uuid4().hex,
              "ATTACHMENT_DIR": str(folder / "attachments")}
    if database["kind"] == "postgresql":
        config["SQLALCHEMY_DATABASE_URI"] = database["url"]
    else:
        shutil.copy(database["template"], folder / "helpdesk.sqlite3")
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{folder / 'helpdesk.sqlite3'}"
    app = create_app(config)
    if database["kind"] == "postgresql":
        _empty_postgres(app)
    with app.app_context():
        factories.world()
        db.session.commit()
    yield app
    if database["kind"] == "postgresql":
        # The world was committed on the module's own engine: empty the database again for the
        # tests after this module, which run in rolled-back transactions on an empty one.
        _empty_postgres(app)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def w(shared_app, now):
    """The world's rows, loaded in an app context held for the test and rolled back after it."""
    with shared_app.app_context():
        users = {u.email: u for u in db.session.scalars(sa.select(User))}
        contracts = {c.reference: c for c in db.session.scalars(sa.select(Contract))}
        yield SimpleNamespace(
            client=users["client@shop.example"], other_client=users["client@other.example"],
            tech=users["tech@provider.example"], tech2=users["tech2@provider.example"],
            lead=users["lead@provider.example"], finance=users["finance@provider.example"],
            admin=users["admin@provider.example"], contract=contracts["CT-SHOP"],
            other_contract=contracts["CT-OTHER"], now=now)
        db.session.rollback()


def _open(w, *, priority="P1", at=None, **fields):
    values = {"title": "Site down", "description": "500 everywhere."} | fields
    return services.open_ticket(actor=w.client, contract=w.contract, priority_code=priority,
                                now=at or w.now, **values)


def _audit(ticket) -> list[tuple[str, dict, str]]:
    entries = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.entity == "ticket", AuditEntry.entity_id == ticket.number)
        .order_by(AuditEntry.id)).all()
    return [(e.action, e.changes, e.reason) for e in entries]


def _kinds(ticket) -> list[EventKind]:
    return [e.kind for e in ticket.events]


def _counts() -> tuple[int, int, int]:
    return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(model))
                 for model in (TicketEvent, AuditEntry, TicketMessage))


# --- open -------------------------------------------------------------------------------------


def test_open_ticket_is_new_on_the_current_terms(w):
    ticket = _open(w)
    assert (ticket.status, ticket.created_at, ticket.updated_at) == (Status.NEW, w.now, w.now)
    assert ticket.contract_version == w.contract.current_version
    assert (ticket.organisation_id, ticket.requester_id) == (w.client.organisation_id, w.client.id)


def test_open_ticket_records_created_event_and_audit(w):
    ticket = _open(w)
    assert [(e.kind, e.at, e.data) for e in ticket.events] == [
        (EventKind.CREATED, w.now, {"priority": "P1"})]
    assert _audit(ticket) == [("open", {"status": [None, "new"], "priority": [None, "P1"],
                                        "title": [None, "Site down"]}, "")]


def test_open_ticket_strips_title_and_description(w):
    ticket = _open(w, title="  Site down \n", description="\n 500 \n")
    assert (ticket.title, ticket.description) == ("Site down", "500")


def _refusal(call) -> tuple[str, str | None, str] | None:
    """(error class, field, message) of a refused call; None when it went through."""
    try:
        call()
    except DomainError as error:
        return type(error).__name__, error.field, error.message
    return None


BAD_TEXT = {
    "blank-title": ({"title": "  "}, "title", "Title is required."),
    "overlong-title": ({"title": "x" * 201}, "title", "Title must be at most 200 characters."),
    "empty-description": ({"description": ""}, "description", "Description is required."),
    "overlong-description": ({"description": "x" * 20_001}, "description",
                             "Description must be at most 20000 characters."),
}


def test_open_ticket_refuses_bad_text(w):
    observed = {name: _refusal(lambda fields=fields: _open(w, **fields))
                for name, (fields, _, _) in BAD_TEXT.items()}
    assert observed == {name: ("DomainError", field, message)
                        for name, (_, field, message) in BAD_TEXT.items()}


def test_open_ticket_refuses_an_unknown_priority_listing_the_choices(w):
    with pytest.raises(DomainError, match="has no priority 'P9'; choose one of P1, P3.") as refused:
        _open(w, priority="P9")
    assert refused.value.field == "priority"


def test_open_ticket_refuses_another_organisations_contract(w):
    with pytest.raises(NotFound) as refused:
        services.open_ticket(actor=w.other_client, contract=w.contract, priority_code="P1",
                             title="x", description="x", now=w.now)
    assert refused.value.field == "contract"


def test_open_ticket_refuses_finance(w):
    with pytest.raises(Forbidden):
        services.open_ticket(actor=w.finance, contract=w.contract, priority_code="P1",
                             title="x", description="x", now=w.now)


def test_open_ticket_refuses_an_ended_contract(w):
    w.contract.ends_on = (w.now - timedelta(days=1)).date()
    with pytest.raises(DomainError, match="is not active") as refused:
        _open(w)
    assert refused.value.field == "contract"


# --- take, reply, note ------------------------------------------------------------------------


def test_take_sets_taken_at_assignee_and_status(w):
    ticket = _open(w)
    services.take_ticket(ticket, actor=w.tech, now=w.now + MINUTE)
    assert (ticket.status, ticket.taken_at, ticket.assignee) == (
        Status.IN_PROGRESS, w.now + MINUTE, w.tech)
    assert _kinds(ticket) == [EventKind.CREATED, EventKind.ASSIGNED, EventKind.TAKEN]


def test_take_audits_status_and_assignee_before_and_after(w):
    ticket = _open(w)
    services.take_ticket(ticket, actor=w.tech, now=w.now + MINUTE)
    assert _audit(ticket)[1:] == [
        ("take", {"status": ["new", "in_progress"]}, ""),
        ("assign", {"assignee": [None, w.tech.email]}, ""),
    ]


def test_take_stops_the_gti_clock(w):
    ticket = _open(w)
    services.take_ticket(ticket, actor=w.tech, now=w.now + 30 * MINUTE)
    gti = ticket_clocks(ticket, now=w.now + timedelta(hours=5))["gti"]
    assert (gti.status, gti.elapsed) == ("met", 30 * MINUTE)


def _reopened_then_taken_by_tech2(w, *, flush: bool):
    ticket = _open(w)
    services.take_ticket(ticket, actor=w.tech, now=w.now + MINUTE)
    if flush:  # as when each step is its own request
        db.session.flush()
    services.resolve_ticket(ticket, actor=w.tech, now=w.now + 2 * MINUTE)
    services.reopen_ticket(ticket, actor=w.client, now=w.now + 3 * MINUTE, reason="Again")
    services.take_ticket(ticket, actor=w.tech2, now=w.now + 4 * MINUTE)
    return ticket


def test_taking_a_reopened_ticket_keeps_the_first_intervention_and_assignee(w):
    ticket = _reopened_then_taken_by_tech2(w, flush=True)
    assert (ticket.taken_at, ticket.assignee) == (w.now + MINUTE, w.tech)
    assert ticket_clocks(ticket, now=w.now + 5 * MINUTE)["gti"].elapsed == MINUTE


def test_taking_a_reopened_ticket_keeps_the_assignee_within_one_transaction(w):
    ticket = _reopened_then_taken_by_tech2(w, flush=False)
    assert ticket.assignee == w.tech


def test_first_staff_reply_is_the_intervention(w):
    ticket = _open(w)
    message = services.reply_to_ticket(ticket, actor=w.tech, body="Looking.",
                                       now=w.now + 10 * MINUTE)
    assert (ticket.status, ticket.taken_at) == (Status.IN_PROGRESS, w.now + 10 * MINUTE)
    assert message.is_internal is False
    assert ticket.events[-1].data == {"by_staff": True}
    assert ticket_clocks(ticket, now=w.now + timedelta(hours=3))["gti"].status == "met"


def test_first_staff_reply_makes_the_replier_the_assignee(w):
    ticket = _open(w)
    services.reply_to_ticket(ticket, actor=w.tech, body="Looking.", now=w.now + MINUTE)
    assert ticket.assignee == w.tech


def test_later_staff_reply_keeps_the_assignee(w):
    ticket = _open(w)
    services.take_ticket(ticket, actor=w.tech, now=w.now + MINUTE)
    services.reply_to_ticket(ticket, actor=w.tech2, body="Also looking.", now=w.now + 2 * MINUTE)
    assert ticket.assignee == w.tech


def test_client_reply_is_not_an_intervention(w):
    ticket = _open(w)
    services.reply_to_ticket(ticket, actor=w.client, body="Any news?", now=w.now + MINUTE)
    assert (ticket.status, ticket.taken_at) == (Status.NEW, None)
    assert ticket.events[-1].data == {"by_staff": False}
    assert ticket_clocks(ticket, now=w.now + 2 * MINUTE)["gti"].status == "running"


def test_client_reply_while_waiting_resumes_the_work(w):
    ticket = _open(w)
    services.take_ticket(ticket, actor=w.tech, now=w.now + MINUTE)
    services.wait_on_client(ticket, actor=w.tech, now=w.now + 2 * MINUTE)
    services.reply_to_ticket(ticket, actor=w.client, body="Here.", now=w.now + 10 * MINUTE)
    assert ticket.status == Status.IN_PROGRESS
    assert _kinds(ticket)[-2:] == [EventKind.REPLIED, EventKind.RESUMED]
    assert ticket_clocks(ticket, now=w.now + 11 * MINUTE)["gtr"].status == "running"


def test_note_is_internal_and_leaves_the_status(w):
    ticket = _open(w)
    message = services.add_note(ticket, actor=w.tech, body="Check cache.", now=w.now + MINUTE)
    assert (message.is_internal, ticket.status, ticket.taken_at) == (True, Status.NEW, None)
    assert _kinds(ticket)[-1] == EventKind.NOTED
    assert ticket_clocks(ticket, now=w.now + 2 * MINUTE)["gti"].status == "running"


def test_empty_message_is_refused_naming_the_body(w):
    observed = {use_case: _refusal(lambda use_case=use_case: getattr(services, use_case)(
        _open(w), actor=w.tech, body="   ", now=w.now + MINUTE))
        for use_case in ("reply_to_ticket", "add_note")}
    assert observed == {"reply_to_ticket": ("DomainError", "body", "Message is required."),
                        "add_note": ("DomainError", "body", "Note is required.")}


# --- wait, resume, resolve, confirm, reopen ---------------------------------------------------


def test_wait_pauses_gtr_and_resume_restarts_it(w):
    ticket = _open(w)
    services.take_ticket(ticket, actor=w.tech, now=w.now + MINUTE)
    services.wait_on_client(ticket, actor=w.tech, now=w.now + timedelta(hours=1))
    paused = ticket_clocks(ticket, now=w.now + timedelta(hours=3))["gtr"]
    assert (ticket.status, paused.status, paused.elapsed) == (
        Status.WAITING_ON_CLIENT, "paused", timedelta(hours=1))
    services.resume_ticket(ticket, actor=w.tech, now=w.now + timedelta(hours=3))
    gtr = ticket_clocks(ticket, now=w.now + timedelta(hours=4))["gtr"]
    assert (ticket.status, gtr.status, gtr.elapsed) == (Status.IN_PROGRESS, "running",
                                                         timedelta(hours=2))
    assert gtr.due_at == w.now + timedelta(hours=10)


def test_wait_and_resume_audit_the_status_change(w):
    ticket = _open(w)
    services.take_ticket(ticket, actor=w.tech, now=w.now + MINUTE)
    services.wait_on_client(ticket, actor=w.tech, now=w.now + 2 * MINUTE)
    services.resume_ticket(ticket, actor=w.tech, now=w.now + 3 * MINUTE)
    assert _audit(ticket)[-2:] == [("wait", {"status": ["in_progress", "waiting_on_client"]}, ""),
                                   ("resume", {"status": ["waiting_on_client", "in_progress"]},
                                    "")]


def test_resolve_sets_resolved_at_and_stops_gtr(w):
    ticket = _open(w)
    services.take_ticket(ticket, actor=w.tech, now=w.now + MINUTE)
    services.resolve_ticket(ticket, actor=w.tech, now=w.now + timedelta(hours=1))
    assert (ticket.status, ticket.resolved_at) == (Status.RESOLVED, w.now + timedelta(hours=1))
    assert ticket_clocks(ticket, now=w.now + timedelta(days=1))["gtr"].status == "met"


def test_confirm_closes_the_ticket(w):
    ticket = _open(w)
    services.take_ticket(ticket, actor=w.tech, now=w.now + MINUTE)
    services.resolve_ticket(ticket, actor=w.tech, now=w.now + 2 * MINUTE)
    services.confirm_resolution(ticket, actor=w.client, now=w.now + 3 * MINUTE)
    assert (ticket.status, ticket.closed_at) == (Status.CLOSED, w.now + 3 * MINUTE)
    assert _kinds(ticket)[-1] == EventKind.CLOSED
    assert _audit(ticket)[-1] == ("confirm", {"status": ["resolved", "closed"]}, "")


def test_reopen_clears_resolution_and_keeps_counted_time(w):
    ticket = _open(w)
    services.take_ticket(ticket, actor=w.tech, now=w.now + MINUTE)
    services.resolve_ticket(ticket, actor=w.tech, now=w.now + timedelta(hours=1))
    services.reopen_ticket(ticket, actor=w.client, now=w.now + timedelta(hours=5),
                           reason="Down again")
    assert (ticket.status, ticket.resolved_at) == (Status.REOPENED, None)
    assert ticket.events[-1].data == {"reason": "Down again"}
    assert _audit(ticket)[-1] == ("reopen", {"status": ["resolved", "reopened"]}, "Down again")
    gtr = ticket_clocks(ticket, now=w.now + timedelta(hours=6))["gtr"]
    assert (gtr.status, gtr.elapsed) == ("running", timedelta(hours=2))


def test_use_case_refuses_a_role_that_may_not(w):
    cases = [("take_ticket", "client"), ("resolve_ticket", "finance"),
             ("confirm_resolution", "tech"), ("wait_on_client", "client")]
    observed = {}
    for use_case, actor in cases:
        ticket = _open(w)
        refusal = _refusal(partial(getattr(services, use_case), ticket, actor=getattr(w, actor),
                                   now=w.now + MINUTE))
        observed[(use_case, actor)] = (refusal and refusal[0], ticket.status)
    assert observed == dict.fromkeys(cases, ("Forbidden", Status.NEW))


def test_use_case_refuses_an_illegal_transition_and_writes_nothing(w):
    ticket = _open(w)
    before = _counts()
    with pytest.raises(Conflict, match="Cannot resolve a ticket that is new."):
        services.resolve_ticket(ticket, actor=w.tech, now=w.now + MINUTE)
    assert (ticket.status, ticket.resolved_at) == (Status.NEW, None)
    assert _counts() == before


# --- cancel -----------------------------------------------------------------------------------


REASONLESS = ["", "   ", "\n\t", None]


def test_cancel_requires_a_reason(w):
    ticket = _open(w)
    before = _counts()
    observed = {repr(reason): _refusal(lambda reason=reason: services.cancel_ticket(
        ticket, actor=w.tech, reason=reason, now=w.now + MINUTE)) for reason in REASONLESS}
    assert observed == dict.fromkeys(map(repr, REASONLESS),
                                     ("DomainError", "reason", "Reason is required."))
    assert ticket.status == Status.NEW
    assert _counts() == before


def test_cancel_records_reason_and_cancels_the_clocks(w):
    ticket = _open(w)
    services.cancel_ticket(ticket, actor=w.tech, reason="Duplicate", now=w.now + MINUTE)
    assert ticket.status == Status.CANCELLED
    assert ticket.events[-1].data == {"reason": "Duplicate"}
    assert _audit(ticket)[-1] == ("cancel", {"status": ["new", "cancelled"]}, "Duplicate")
    clocks = ticket_clocks(ticket, now=w.now + timedelta(days=2))
    assert {name: clock.status for name, clock in clocks.items()} == {
        "gti": "cancelled", "gtr": "cancelled"}


# --- reprioritise -----------------------------------------------------------------------------


def test_reprioritise_requires_a_reason(w):
    ticket = _open(w)
    before = _counts()
    observed = {repr(reason): _refusal(lambda reason=reason: services.reprioritise_ticket(
        ticket, actor=w.tech, priority_code="P3", reason=reason, now=w.now + MINUTE))
        for reason in REASONLESS}
    assert observed == dict.fromkeys(map(repr, REASONLESS),
                                     ("DomainError", "reason", "Reason is required."))
    assert ticket.priority.code == "P1"
    assert _counts() == before


def test_reprioritise_refuses_an_unknown_or_unchanged_priority(w):
    ticket = _open(w)
    observed = {code: _refusal(lambda code=code: services.reprioritise_ticket(
        ticket, actor=w.tech, priority_code=code, reason="x", now=w.now + MINUTE))
        for code in ("P9", "P1", "")}
    assert observed == {
        "P9": ("DomainError", "priority", "Contract CT-SHOP has no priority 'P9'."),
        "P1": ("DomainError", "priority", "The ticket is already P1."),
        "": ("DomainError", "priority", "Contract CT-SHOP has no priority ''."),
    }


def test_reprioritise_audits_priority_before_and_after_with_reason(w):
    ticket = _open(w)
    services.reprioritise_ticket(ticket, actor=w.tech, priority_code="P3", reason="Cosmetic",
                                 now=w.now + MINUTE)
    assert ticket.priority.code == "P3"
    assert _audit(ticket)[-1] == ("reprioritise", {"priority": ["P1", "P3"]}, "Cosmetic")
    assert ticket.events[-1].data == {"before": "P1", "after": "P3", "reason": "Cosmetic"}


def test_reprioritise_retargets_the_clock_from_the_opening(w):
    ticket = _open(w)  # P1: GTI 2 h, 24/7; opened Monday 10:00 Paris
    later = w.now + timedelta(hours=3)
    assert ticket_clocks(ticket, now=later)["gti"].status == "breached"
    services.reprioritise_ticket(ticket, actor=w.tech, priority_code="P3", reason="Cosmetic",
                                 now=later)
    gti = ticket_clocks(ticket, now=later)["gti"]  # P3: GTI 8 business hours
    assert (gti.status, gti.breached_at) == ("running", None)


def _new_terms(w) -> ContractVersion:
    """A second version of the shop's contract, whose P3 has other targets."""
    current = w.contract.current_version
    calendar = db.session.scalar(sa.select(Calendar).where(Calendar.code == "24x7"))
    version = ContractVersion(
        contract=w.contract, version=2, effective_at=w.now, monthly_fee=current.monthly_fee,
        currency="EUR", vat_rate=current.vat_rate, credit_cap_percent=current.credit_cap_percent,
        credits_subject_to_vat=True, terms_digest="v2")
    version.priorities = [
        Priority(code="P1", label="Critique", position=0, calendar=calendar, gti_seconds=3600,
                 gtr_seconds=4 * 3600),
        Priority(code="P3", label="Normale", position=1, calendar=calendar, gti_seconds=60,
                 gtr_seconds=None),
    ]
    db.session.add(version)
    db.session.flush()
    db.session.expire(w.contract, ["versions"])
    return version


def test_reprioritise_keeps_the_contract_version_of_the_opening(w):
    ticket = _open(w)
    opened_under = ticket.contract_version
    _new_terms(w)
    assert w.contract.current_version.version == 2
    services.reprioritise_ticket(ticket, actor=w.tech, priority_code="P3", reason="Cosmetic",
                                 now=w.now + MINUTE)
    assert ticket.contract_version == opened_under
    assert ticket.priority.contract_version == opened_under
    assert ticket.priority.gti == timedelta(hours=8)


def test_tickets_opened_after_new_terms_use_them(w):
    _new_terms(w)
    assert _open(w).contract_version.version == 2


# --- assign -----------------------------------------------------------------------------------


def test_assign_audits_assignee_before_and_after(w):
    ticket = _open(w)
    services.take_ticket(ticket, actor=w.tech, now=w.now + MINUTE)
    services.assign_ticket(ticket, actor=w.lead, assignee=w.tech2, now=w.now + 2 * MINUTE)
    assert ticket.assignee == w.tech2
    assert _audit(ticket)[-1] == ("assign", {"assignee": [w.tech.email, w.tech2.email]}, "")
    assert ticket.events[-1].data == {"assignee": w.tech2.email}


def test_assign_to_nobody_unassigns(w):
    ticket = _open(w)
    services.take_ticket(ticket, actor=w.tech, now=w.now + MINUTE)
    services.assign_ticket(ticket, actor=w.lead, assignee=None, now=w.now + 2 * MINUTE)
    assert ticket.assignee is None


def test_assign_refuses_someone_who_cannot_take_it(w):
    ticket = _open(w)
    services.take_ticket(ticket, actor=w.tech, now=w.now + MINUTE)
    db.session.flush()
    observed = {person: _refusal(lambda person=person: services.assign_ticket(
        ticket, actor=w.lead, assignee=getattr(w, person), now=w.now + 2 * MINUTE))
        for person in ("client", "finance", "admin", "tech")}
    assert observed == {
        "client": ("DomainError", "assignee", "client@shop.example cannot be assigned tickets."),
        "finance": ("DomainError", "assignee",
                    "finance@provider.example cannot be assigned tickets."),
        "admin": ("DomainError", "assignee", "admin@provider.example cannot be assigned tickets."),
        "tech": ("DomainError", "assignee", "The ticket is already assigned to Tom Tech."),
    }


def test_assign_to_the_current_assignee_is_refused_within_one_transaction(w):
    ticket = _open(w)
    services.take_ticket(ticket, actor=w.tech, now=w.now + MINUTE)
    with pytest.raises(DomainError, match="already assigned"):
        services.assign_ticket(ticket, actor=w.lead, assignee=w.tech, now=w.now + 2 * MINUTE)


def test_assign_refuses_a_deactivated_technician(w):
    ticket = _open(w)
    w.tech2.is_active_account = False
    with pytest.raises(DomainError, match="cannot be assigned tickets"):
        services.assign_ticket(ticket, actor=w.lead, assignee=w.tech2, now=w.now + MINUTE)
