"""The JSON API: parse the request, pick the actor, call one service, commit once, answer."""
import base64
import binascii
import hashlib
import json
import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, g, request, url_for
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError

from helpdesk.accounts.access import FINANCE, api_role_required, manages_outages
from helpdesk.accounts.models import User
from helpdesk.api.auth import authenticate_request
from helpdesk.api.openapi import openapi_document
from helpdesk.api.schemas import (
    OutageChange,
    OutageCreate,
    TicketAction,
    TicketCreate,
    action_field_errors,
    field_errors,
    outage_change_errors,
)
from helpdesk.api.scopes import check_scope
from helpdesk.api.serializers import breach_json, credit_note_json, outage_json, ticket_json
from helpdesk.billing.exports import notes_of_month
from helpdesk.clock import now_utc
from helpdesk.contracts import queries as contract_queries
from helpdesk.errors import DomainError, Forbidden
from helpdesk.escalation import queries as escalation_queries
from helpdesk.extensions import db
from helpdesk.month import Month, MonthError
from helpdesk.tickets import outages, queries, services
from helpdesk.tickets.models import IdempotencyKey, Ticket, format_number
from helpdesk.tickets.workflow import Action, next_status
from helpdesk.transaction import committed
from helpdesk.web.problems import problem

bp = Blueprint("api", __name__, url_prefix="/api/v1")
bp.before_request(authenticate_request)
bp.before_request(check_scope)

IDEMPOTENCY_KEY_MAX = 255
# A key is a short printable ASCII string (RFC 9110 token characters and friends).
IDEMPOTENCY_KEY_PATTERN = re.compile(r"[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?")
PAGE_MAX = 100
LIMIT_PATTERN = re.compile(r"[0-9]{1,3}")
CURSOR_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,16}")
CURSOR_VALUE_PATTERN = re.compile(r"[0-9]{1,10}")
CURSOR_MAX = 2**31 - 1  # ticket ids are 32-bit integers


class RequestRefused(Exception):
    """A request the API refuses before reading its meaning; becomes a problem document."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


@bp.errorhandler(RequestRefused)
def _refused(error: RequestRefused) -> Response:
    titles = {400: "Bad Request", 415: "Unsupported Media Type"}
    return problem(error.status, titles.get(error.status, "Bad Request"), error.detail)


def month_argument() -> Month:
    """The `month` query parameter, or a 400 naming it and saying how to write it."""
    text = request.args.get("month")
    if not text:
        raise RequestRefused(400, "month is required, as YYYY-MM (e.g. 2026-10).")
    try:
        return Month.parse(text)
    except MonthError as error:
        raise RequestRefused(400, f"month: {error}.") from None


def _json_body() -> dict:
    """The body as a JSON object, or a 4xx saying what is wrong with it."""
    if not request.is_json:
        raise RequestRefused(415, "Send the body as JSON with 'Content-Type: application/json'.")
    try:
        data = json.loads(request.get_data(cache=True))
    except (ValueError, RecursionError):
        # ValueError covers bad syntax, bad UTF-8 and absurdly long numbers.
        raise RequestRefused(400, "The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise RequestRefused(400, "The body must be a JSON object.")
    return data


Body = TypeVar("Body", bound=BaseModel)
Row = TypeVar("Row")


class InvalidBody(Exception):
    """A body that is JSON but not what the route reads; becomes a 422 naming the fields."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__(errors)
        self.errors = errors


@bp.errorhandler(InvalidBody)
def _invalid_body(error: InvalidBody) -> Response:
    return _invalid(error.errors)


def _body_as(model: type[Body]) -> Body:
    """The body read as `model`, or a 4xx saying what is wrong with it."""
    data = _json_body()
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise InvalidBody(field_errors(error)) from None


def _invalid(errors: list[dict[str, str]]) -> Response:
    detail = "; ".join(f"{e['field']} {e['message']}" for e in errors)
    return problem(422, "Invalid request", detail, errors=errors)


def _domain_problem(error: DomainError) -> Response:
    errors = [{"field": error.field, "message": error.message}] if error.field else None
    extra = {"errors": errors} if errors else {}
    return problem(error.status_code, "Request refused", error.message, **extra)


def _ticket_response(ticket: Ticket, status: int = 200, *, new: bool = False,
                     **headers: str) -> Response:
    # A ticket just opened has no outage yet: no query for them on the submission path.
    listed = [] if new else queries.ticket_outages(ticket)
    body = ticket_json(ticket, viewer=g.api_user, now=now_utc(), with_messages=True,
                       outages=listed)
    response = current_app.response_class(json.dumps(body), status=status,
                                          mimetype="application/json")
    response.headers.update(headers)
    return response


def _request_digest(payload: TicketCreate) -> str:
    return hashlib.sha256(payload.model_dump_json().encode()).hexdigest()


def _replay(user: User, key: str, digest: str) -> Response | None:
    """The answer to a retried submission: the ticket it already created, if the caller may
    still see it (a client moved to another organisation since may not)."""
    row = db.session.scalar(sa.select(IdempotencyKey).where(
        IdempotencyKey.user_id == user.id, IdempotencyKey.key == key))
    if row is None:
        return None
    if row.request_digest != digest:
        return problem(422, "Idempotency-Key reused",
                       "This Idempotency-Key was already used for a different request.")
    number = format_number(row.ticket_id)
    ticket = queries.get_ticket(user, number)
    if ticket is None:
        return _no_ticket(number)
    return _ticket_response(ticket, 201, **{"Idempotent-Replayed": "true",
                                            "Location": _location(ticket)})


def _location(ticket: Ticket) -> str:
    return url_for("api.get_ticket", number=ticket.number)


@bp.post("/tickets")
def create_ticket() -> ResponseReturnValue:
    key = request.headers.get("Idempotency-Key")
    if key is not None and not (len(key) <= IDEMPOTENCY_KEY_MAX
                                and IDEMPOTENCY_KEY_PATTERN.fullmatch(key)):
        return problem(400, "Bad Request",
                       f"Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_MAX} printable ASCII "
                       "characters, without leading or trailing spaces.")
    payload = _body_as(TicketCreate)
    user = g.api_user
    digest = _request_digest(payload)
    if key and (replayed := _replay(user, key, digest)):
        return replayed
    contract = contract_queries.get_contract(user, payload.contract)
    if contract is None:
        return _invalid([{"field": "contract", "message": f"unknown contract {payload.contract!r}"}])
    try:
        with committed() as opening:
            ticket = services.open_ticket(
                actor=user, contract=contract, priority_code=payload.priority,
                title=payload.title, description=payload.description, now=now_utc())
            if key:
                db.session.add(IdempotencyKey(user_id=user.id, key=key, request_digest=digest,
                                              ticket_id=ticket.id))
            # Worded from what is in memory: after the commit every attribute would be read
            # again. It is sent only once the commit has succeeded.
            response = _ticket_response(ticket, 201, new=True, Location=_location(ticket))
    except IntegrityError:
        # Two retries with the same key raced; the other one created the ticket.
        db.session.rollback()
        replayed = _replay(user, key, digest) if key else None
        if replayed is None:
            raise
        return replayed
    if opening.refusal is not None:
        return _domain_problem(opening.refusal)
    return response


@bp.get("/tickets/<number>")
def get_ticket(number: str) -> ResponseReturnValue:
    ticket = queries.get_ticket(g.api_user, number)
    if ticket is None:
        return problem(404, "Not Found", f"No ticket {number}.")
    return _ticket_response(ticket)


def _decode_cursor(cursor: str) -> int | None:
    if not CURSOR_PATTERN.fullmatch(cursor):
        return None
    try:
        text = base64.urlsafe_b64decode(cursor.encode() + b"==").decode("ascii")
    except (ValueError, binascii.Error):
        return None
    if not CURSOR_VALUE_PATTERN.fullmatch(text):
        return None
    value = int(text)
    return value if 0 < value <= CURSOR_MAX else None


def _encode_cursor(ticket_id: int) -> str:
    return base64.urlsafe_b64encode(str(ticket_id).encode()).decode().rstrip("=")


@bp.get("/tickets")
def list_tickets() -> ResponseReturnValue:
    limit_text = request.args.get("limit", str(current_app.config["API_PAGE_SIZE"]))
    if not LIMIT_PATTERN.fullmatch(limit_text) or not 1 <= int(limit_text) <= PAGE_MAX:
        return problem(400, "Bad Request", f"limit must be a whole number from 1 to {PAGE_MAX}.")
    limit = int(limit_text)
    before = None
    if cursor := request.args.get("cursor"):
        before = _decode_cursor(cursor)
        if before is None:
            return problem(400, "Bad Request", "cursor is not one this API gave out.")
    tickets = queries.ticket_page(g.api_user, before_id=before, limit=limit + 1)
    now = now_utc()
    page = tickets[:limit]
    return {
        "tickets": [ticket_json(t, viewer=g.api_user, now=now) for t in page],
        "next_cursor": _encode_cursor(page[-1].id) if len(tickets) > limit else None,
    }


def _action_arguments(action: Action, payload: TicketAction) -> dict:
    if action in (Action.REPLY, Action.NOTE):
        return {"body": payload.body}
    if action in (Action.CANCEL, Action.REOPEN):
        return {"reason": payload.reason or ""}
    if action == Action.REPRIORITISE:
        return {"priority_code": payload.priority, "reason": payload.reason}
    if action == Action.ASSIGN:
        assignee = queries.get_assignable(payload.assignee.lower())
        if assignee is None:
            raise DomainError(f"No technician with e-mail {payload.assignee!r}.",
                              field="assignee")
        return {"assignee": assignee}
    return {}


@bp.post("/tickets/<number>/actions")
def act_on_ticket(number: str) -> ResponseReturnValue:
    ticket = queries.get_ticket(g.api_user, number, for_update=True)
    if ticket is None:
        return problem(404, "Not Found", f"No ticket {number}.")
    payload = _body_as(TicketAction)
    action = Action(payload.action)
    with committed() as acting:
        # May this person do this now? Asked first, as the web page does by offering the button:
        # a refused action is a 403/409 whatever its arguments.
        next_status(action, ticket.status, g.api_user.role)
        if not (errors := action_field_errors(payload)):
            services.ACTIONS[action](ticket, actor=g.api_user, now=now_utc(),
                                     **_action_arguments(action, payload))
    if acting.refusal is not None:
        return _domain_problem(acting.refusal)
    if errors:
        return _invalid(errors)
    return _ticket_response(ticket)


def _no_ticket(number: str) -> Response:
    return problem(404, "Not Found", f"No ticket {number}.")


@bp.get("/tickets/<number>/outages")
def list_outages(number: str) -> ResponseReturnValue:
    ticket = queries.get_ticket(g.api_user, number)
    if ticket is None:
        return _no_ticket(number)
    return {"outages": [outage_json(o) for o in queries.ticket_outages(ticket)]}


@bp.post("/tickets/<number>/outages")
def record_outage(number: str) -> ResponseReturnValue:
    ticket = queries.get_ticket(g.api_user, number, for_update=True)
    if ticket is None:
        return _no_ticket(number)
    # Who may is asked first, as for actions: a refused caller gets a 403 whatever the body.
    if not manages_outages(g.api_user):
        return _domain_problem(Forbidden(
            "Only technicians, team leads and admins may record outages."))
    payload = _body_as(OutageCreate)
    with committed() as recording:
        outage = outages.record_outage(ticket, actor=g.api_user, started_at=payload.started_at,
                                       ended_at=payload.ended_at, now=now_utc())
    if recording.refusal is not None:
        return _domain_problem(recording.refusal)
    return outage_json(outage), 201


@bp.patch("/tickets/<number>/outages/<int:outage_id>")
def change_outage(number: str, outage_id: int) -> ResponseReturnValue:
    ticket = queries.get_ticket(g.api_user, number, for_update=True)
    if ticket is None:
        return _no_ticket(number)
    if not manages_outages(g.api_user):
        return _domain_problem(Forbidden(
            "Only technicians, team leads and admins may end or correct outages."))
    outage = queries.get_outage(ticket, outage_id)
    if outage is None:
        return problem(404, "Not Found", f"Ticket {ticket.number} has no outage {outage_id}.")
    payload = _body_as(OutageChange)
    if errors := outage_change_errors(payload):
        return _invalid(errors)
    given = payload.model_fields_set
    with committed() as changing:
        if "reason" in given:
            outages.correct_outage(
                outage, actor=g.api_user, reason=payload.reason, now=now_utc(),
                started_at=payload.started_at if "started_at" in given else outage.started_at,
                ended_at=payload.ended_at if "ended_at" in given else outage.ended_at)
        else:
            outages.end_outage(outage, actor=g.api_user, ended_at=payload.ended_at,
                               now=now_utc())
    if changing.refusal is not None:
        return _domain_problem(changing.refusal)
    return outage_json(outage)


def _month_list(key: str, rows_of: Callable[[str], Iterable[Row]],
                as_json: Callable[[Row], dict[str, Any]]) -> dict[str, Any]:
    """Finance's lists of a month (`?month=YYYY-MM`): {"month": …, key: [...]}."""
    month = str(month_argument())
    return {"month": month, key: [as_json(row) for row in rows_of(month)]}


@bp.get("/breaches")
@api_role_required(*FINANCE)
def list_breaches() -> dict[str, Any]:
    return _month_list("breaches", lambda month: escalation_queries.breaches(month=month),
                       breach_json)


@bp.get("/credit-notes")
@api_role_required(*FINANCE)
def list_credit_notes() -> dict[str, Any]:
    return _month_list("credit_notes", lambda month: notes_of_month(month, issued_only=False),
                       credit_note_json)


@bp.get("/openapi.json")
def openapi() -> dict[str, Any]:
    return openapi_document()
