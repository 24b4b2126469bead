"""The OpenAPI description served at /api/v1/openapi.json, built from the request schemas."""
from helpdesk.accounts.scopes import IMPLIED, Scope
from helpdesk.api.schemas import (
    ACTION_FIELDS,
    OutageChange,
    OutageCreate,
    TicketAction,
    TicketCreate,
)
from helpdesk.month import FIRST, LAST

PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
TICKET = {"application/json": {"schema": {"$ref": "#/components/schemas/Ticket"}}}
OUTAGE = {"application/json": {"schema": {"$ref": "#/components/schemas/Outage"}}}
# A month as `helpdesk.month.Month.parse` reads it: ASCII YYYY-MM, within its bounds.
MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
# The paths of `helpdesk.api.scopes.FINANCE_ENDPOINTS` (tests/api/test_scopes.py compares them).
FINANCE_PATHS = frozenset({"/breaches", "/credit-notes"})
SCOPES = {
    Scope.READ: "Read what the caller may see: tickets, their messages, outages (GET).",
    Scope.WRITE: "Open tickets, act on them, record and change outages; reads too.",
    Scope.FINANCE: "Read breaches and credit notes.",
}
MONTH_REFUSED = (f"month is missing, not YYYY-MM in ASCII digits, or outside {FIRST} to "
                 f"{LAST}.")


def _problem(description: str) -> dict:
    return {"description": description, "content": PROBLEM}


def _clock_schema() -> dict:
    return {
        "type": "object",
        "required": ["status", "due_at", "breached_at", "elapsed_seconds"],
        "properties": {
            "status": {"type": "string",
                       "enum": ["running", "paused", "met", "breached", "cancelled"]},
            "target_seconds": {"type": "integer"},
            "due_at": {"type": ["string", "null"], "format": "date-time"},
            "breached_at": {"type": ["string", "null"], "format": "date-time"},
            "elapsed_seconds": {"type": "integer"},
            "delay_seconds": {"type": "integer"},
        },
    }


def _ticket_schema() -> dict:
    instant = {"type": ["string", "null"], "format": "date-time"}
    return {
        "type": "object",
        "required": ["number", "status", "priority", "contract", "created_at", "sla"],
        "properties": {
            "number": {"type": "string", "pattern": r"^T-\d{6,12}$"},
            "status": {"type": "string", "enum": ["new", "in_progress", "waiting_on_client",
                                                  "resolved", "closed", "reopened", "cancelled"]},
            "priority": {"type": "string"},
            "priority_label": {"type": "string"},
            "contract": {"type": "string"},
            "contract_version": {"type": "integer"},
            "organisation": {"type": "string"},
            "title": {"type": "string"},
            "description": {"type": "string"},
            "requester": {"type": "string"},
            "assignee": {"type": ["string", "null"]},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": instant,
            "taken_at": instant,
            "resolved_at": instant,
            "closed_at": instant,
            "sla": {
                "type": "object",
                "required": ["gti", "gtr"],
                "properties": {
                    "gti": {"$ref": "#/components/schemas/Clock"},
                    "gtr": {"oneOf": [{"$ref": "#/components/schemas/Clock"},
                                      {"type": "null"}]},
                },
            },
            "outages": {
                "type": "array", "items": {"$ref": "#/components/schemas/Outage"},
                "description": "Only in single-ticket answers, oldest first.",
            },
            "messages": {
                "type": "array",
                "description": "Only in single-ticket answers; internal notes only for staff.",
                "items": {"type": "object", "properties": {
                    "author": {"type": "string"}, "internal": {"type": "boolean"},
                    "body": {"type": "string"},
                    "created_at": {"type": "string", "format": "date-time"}}},
            },
        },
    }


def _outage_schema() -> dict:
    return {
        "type": "object",
        "required": ["id", "ticket", "started_at", "ended_at", "duration_seconds",
                     "recorded_by"],
        "properties": {
            "id": {"type": "integer"},
            "ticket": {"type": "string", "pattern": r"^T-\d{6,12}$"},
            "started_at": {"type": "string", "format": "date-time"},
            "ended_at": {"type": ["string", "null"], "format": "date-time",
                         "description": "null while the outage lasts."},
            "duration_seconds": {"type": ["integer", "null"],
                                 "description": "null while the outage lasts."},
            "recorded_by": {"type": "string", "description": "E-mail of who recorded it."},
            "recorded_at": {"type": "string", "format": "date-time"},
        },
    }


def _breach_schema() -> dict:
    instant = {"type": ["string", "null"], "format": "date-time"}
    return {
        "type": "object",
        "properties": {
            "id": {"type": "integer"}, "ticket": {"type": "string"},
            "contract": {"type": "string"}, "organisation": {"type": "string"},
            "metric": {"type": "string", "enum": ["gti", "gtr"]}, "priority": {"type": "string"},
            "target_seconds": {"type": "integer"},
            "breached_at": {"type": "string", "format": "date-time",
                            "description": "The due instant that was missed."},
            "stopped_at": instant, "delay_seconds": {"type": ["integer", "null"]},
            "billing_month": {"type": "string"}, "waived": {"type": "boolean"},
            "waived_at": instant, "waived_by": {"type": ["string", "null"]},
            "waiver_reason": {"type": ["string", "null"]},
        },
    }


def _credit_note_schema() -> dict:
    money = {"type": "string", "pattern": r"^-?\d+\.\d{2}$"}
    instant = {"type": ["string", "null"], "format": "date-time"}
    day = {"type": ["string", "null"], "format": "date"}
    text = {"type": ["string", "null"]}
    party = {"type": "object", "properties": {"name": text, "address": text,
                                              "company_id": text, "vat_number": text}}
    return {
        "type": "object",
        "required": ["id", "status", "number", "month", "contract", "currency",
                     "total_excl_vat", "vat", "total_incl_vat", "lines"],
        "properties": {
            "id": {"type": "integer"},
            "status": {"type": "string", "enum": ["draft", "issued"]},
            "number": {"type": ["string", "null"], "description": "null for a draft"},
            "issue_date": day, "issued_at": instant, "month": {"type": "string"},
            "period_start": instant, "period_end": instant, "timezone": {"type": "string"},
            "contract": {"type": "string"}, "contract_title": {"type": "string"},
            "seller": party, "client": party, "invoice_number": text, "invoice_date": day,
            "invoice_reference": {"type": "string"}, "currency": {"type": "string"},
            "vat_rate": {"type": "string"}, "credits_subject_to_vat": {"type": "boolean"},
            "total_excl_vat": money, "vat": money, "total_incl_vat": money,
            "reason": {"type": "string"}, "closed_at": instant,
            "lines": {"type": "array", "items": {"$ref": "#/components/schemas/CreditNoteLine"}},
        },
    }


def _credit_note_line_schema() -> dict:
    instant = {"type": ["string", "null"], "format": "date-time"}
    return {"type": "object", "properties": {
        "position": {"type": "integer"},
        "kind": {"type": "string", "enum": ["breach", "availability", "cap"]},
        "description": {"type": "string"}, "ticket": {"type": ["string", "null"]},
        "metric": {"type": ["string", "null"], "enum": ["gti", "gtr", None]},
        "priority": {"type": ["string", "null"]}, "due_at": instant, "stopped_at": instant,
        "counted_until": instant, "delay_seconds": {"type": ["integer", "null"]},
        "started_hours": {"type": ["integer", "null"]},
        "availability_percent": {"type": ["string", "null"]},
        "target_percent": {"type": ["string", "null"]},
        "amount": {"type": "string", "pattern": r"^-?\d+\.\d{2}$"},
    }}


def _problem_schema() -> dict:
    return {
        "type": "object",
        "required": ["type", "title", "status"],
        "properties": {
            "type": {"type": "string"}, "title": {"type": "string"},
            "status": {"type": "integer"}, "detail": {"type": "string"},
            "errors": {"type": "array", "items": {
                "type": "object", "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}},
        },
    }


def _action_description() -> str:
    lines = ["What a technician (or, for reply, confirm and reopen, the client) does on the "
             "ticket, with the same rules as the web pages. Fields each action reads:"]
    for action in TicketAction.model_fields["action"].annotation.__args__:
        required, optional = ACTION_FIELDS.get(action, (frozenset(), frozenset()))
        fields = [*sorted(required), *(f"{name} (optional)" for name in sorted(optional))]
        lines.append(f"- `{action}`: {', '.join(fields) or 'none'}")
    return "\n".join(lines)


def _state_scope(path: str, method: str, operation: dict) -> None:
    """Name the scope the operation needs (OpenAPI lists it in `security`) and its refusal."""
    if path in FINANCE_PATHS:
        scope = Scope.FINANCE
    else:
        scope = Scope.READ if method == "get" else Scope.WRITE
    granted_by = sorted(s.value for s in Scope if s == scope or scope in IMPLIED.get(s, ()))
    operation["security"] = [{"bearer": [scope.value]}]
    refused = (f"The token lacks the `{scope}` scope (WWW-Authenticate: Bearer "
               f'error="insufficient_scope", scope="{scope}").')
    role = operation["responses"].get("403")
    operation["responses"]["403"] = _problem(f"{role['description']} Or: {refused}" if role
                                             else refused)
    operation["description"] = (f"{operation.get('description', '')}\n\nToken scope needed: "
                                 f"`{scope}` (granted by {', '.join(granted_by)}).").lstrip()


def openapi_document() -> dict:
    number = {"name": "number", "in": "path", "required": True,
              "schema": {"type": "string", "example": "T-000042"}}
    unauthorised = _problem("Missing, unknown, expired or revoked API token.")
    document = {
        "openapi": "3.1.0",
        "info": {"title": "Helpdesk API", "version": "1",
                 "description": "Tickets with contractual GTI/GTR clocks. Errors are RFC 9457 "
                                "problem documents."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": {
            "/tickets": {
                "get": {
                    "summary": "A page of the tickets the caller may see, newest first.",
                    "parameters": [
                        {"name": "limit", "in": "query",
                         "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
                        {"name": "cursor", "in": "query", "schema": {"type": "string"},
                         "description": "next_cursor of the previous page."},
                    ],
                    "responses": {
                        "200": {"description": "A page.", "content": {"application/json": {
                            "schema": {"type": "object", "properties": {
                                "tickets": {"type": "array",
                                            "items": {"$ref": "#/components/schemas/Ticket"}},
                                "next_cursor": {"type": ["string", "null"]}}}}}},
                        "400": _problem("Bad limit or cursor."),
                        "401": unauthorised,
                    },
                },
                "post": {
                    "summary": "Open an incident.",
                    "parameters": [{
                        "name": "Idempotency-Key", "in": "header",
                        "schema": {"type": "string", "maxLength": 255},
                        "description": "Retrying with the same key and body returns the same "
                                       "ticket (with Idempotent-Replayed: true)."}],
                    "requestBody": {"required": True, "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/TicketCreate"}}}},
                    "responses": {
                        "201": {"description": "Created.", "content": TICKET,
                                "headers": {"Location": {"schema": {"type": "string"}}}},
                        "400": _problem("The body is not a JSON object, or a bad header."),
                        "401": unauthorised,
                        "403": _problem("The caller's role cannot open tickets."),
                        "415": _problem("The body is not sent as application/json."),
                        "422": _problem("Invalid fields (see errors[])."),
                    },
                },
            },
            "/tickets/{number}": {
                "get": {
                    "summary": "One ticket, with its conversation.",
                    "parameters": [number],
                    "responses": {"200": {"description": "The ticket.", "content": TICKET},
                                  "401": unauthorised,
                                  "404": _problem("No such ticket for this caller.")},
                },
            },
            "/tickets/{number}/actions": {
                "post": {
                    "summary": "Act on a ticket.",
                    "description": _action_description(),
                    "parameters": [number],
                    "requestBody": {"required": True, "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/TicketAction"}}}},
                    "responses": {
                        "200": {"description": "The ticket after the action.", "content": TICKET},
                        "400": _problem("The body is not a JSON object."),
                        "401": unauthorised,
                        "403": _problem("The caller's role cannot do this action."),
                        "404": _problem("No such ticket for this caller."),
                        "409": _problem("The action does not fit the ticket's status."),
                        "415": _problem("The body is not sent as application/json."),
                        "422": _problem("Invalid fields (see errors[])."),
                    },
                },
            },
            "/tickets/{number}/outages": {
                "get": {
                    "summary": "The outages recorded on a ticket, oldest first.",
                    "parameters": [number],
                    "responses": {
                        "200": {"description": "The outages.", "content": {"application/json": {
                            "schema": {"type": "object", "properties": {
                                "outages": {"type": "array",
                                            "items": {"$ref": "#/components/schemas/Outage"}}}}}}},
                        "401": unauthorised,
                        "404": _problem("No such ticket for this caller."),
                    },
                },
                "post": {
                    "summary": "Record an outage of the client's service (ticket staff).",
                    "description": "Instants carry their offset. The start must not be in the "
                                   "future, nor the end, nor the end before the start; leave "
                                   "ended_at out (or null) while the outage lasts. A ticket has "
                                   "at most one ongoing outage; a cancelled ticket takes none. "
                                   "Outages count against the contract's availability.",
                    "parameters": [number],
                    "requestBody": {"required": True, "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/OutageCreate"}}}},
                    "responses": {
                        "201": {"description": "Recorded.", "content": OUTAGE},
                        "400": _problem("The body is not a JSON object."),
                        "401": unauthorised,
                        "403": _problem("The caller is not ticket staff."),
                        "404": _problem("No such ticket for this caller."),
                        "409": _problem("Another outage of the ticket is ongoing, or the "
                                        "ticket is cancelled."),
                        "415": _problem("The body is not sent as application/json."),
                        "422": _problem("Invalid fields (see errors[])."),
                    },
                },
            },
            "/tickets/{number}/outages/{id}": {
                "patch": {
                    "summary": "End an ongoing outage, or correct one (ticket staff).",
                    "description": "`{\"ended_at\": …}` alone ends an ongoing outage. With a "
                                   "`reason`, the instants given replace the recorded ones "
                                   "(`\"ended_at\": null` makes it ongoing again); the "
                                   "correction and its reason are in the ticket's audit trail.",
                    "parameters": [number, {"name": "id", "in": "path", "required": True,
                                            "schema": {"type": "integer"}}],
                    "requestBody": {"required": True, "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/OutageChange"}}}},
                    "responses": {
                        "200": {"description": "The outage after the change.",
                                "content": OUTAGE},
                        "400": _problem("The body is not a JSON object."),
                        "401": unauthorised,
                        "403": _problem("The caller is not ticket staff."),
                        "404": _problem("No such ticket for this caller, or no such outage "
                                        "on it."),
                        "409": _problem("Ending an outage that already ended, or making one "
                                        "ongoing while another is."),
                        "415": _problem("The body is not sent as application/json."),
                        "422": _problem("Invalid fields (see errors[])."),
                    },
                },
            },
            "/breaches": {
                "get": {
                    "summary": "The breaches of a billing month (finance and admins).",
                    "parameters": [{"name": "month", "in": "query", "required": True,
                                    "schema": {"type": "string", "pattern": MONTH_PATTERN,
                                               "example": "2026-10"}}],
                    "responses": {
                        "200": {"description": "The month's breaches, waived ones included.",
                                "content": {"application/json": {"schema": {
                                    "type": "object", "properties": {
                                        "month": {"type": "string"},
                                        "breaches": {"type": "array", "items": {
                                            "$ref": "#/components/schemas/Breach"}}}}}}},
                        "400": _problem(MONTH_REFUSED),
                        "401": unauthorised,
                        "404": _problem("The caller is not finance or an admin."),
                    },
                },
            },
            "/credit-notes": {
                "get": {
                    "summary": "The credit notes of a month, issued and drafts (finance and "
                               "admins).",
                    "parameters": [{"name": "month", "in": "query", "required": True,
                                    "schema": {"type": "string", "pattern": MONTH_PATTERN,
                                               "example": "2026-10"}}],
                    "responses": {
                        "200": {"description": "Issued notes in number order, then drafts in "
                                               "contract order. Money and rates are decimal "
                                               "strings.",
                                "content": {"application/json": {"schema": {
                                    "type": "object", "required": ["month", "credit_notes"],
                                    "properties": {
                                        "month": {"type": "string"},
                                        "credit_notes": {"type": "array", "items": {
                                            "$ref": "#/components/schemas/CreditNote"}}}}}}},
                        "400": _problem(MONTH_REFUSED),
                        "401": unauthorised,
                        "404": _problem("The caller is not finance or an admin."),
                    },
                },
            },
        },
        "components": {
            "securitySchemes": {"bearer": {
                "type": "http", "scheme": "bearer",
                "description": "A token made on the 'API tokens' page of one's account, or with "
                               "`flask helpdesk create-api-token EMAIL`. Its scopes limit what "
                               "it may do, within what its owner's role allows: "
                               + " ".join(f"`{scope}`: {text}" for scope, text in SCOPES.items()),
                "x-scopes": {scope.value: text for scope, text in SCOPES.items()}}},
            "schemas": {
                "TicketCreate": TicketCreate.model_json_schema(),
                "TicketAction": TicketAction.model_json_schema(),
                "Ticket": _ticket_schema(),
                "Clock": _clock_schema(),
                "Problem": _problem_schema(),
                "Breach": _breach_schema(),
                "Outage": _outage_schema(),
                "OutageCreate": OutageCreate.model_json_schema(),
                "OutageChange": OutageChange.model_json_schema(),
                "CreditNote": _credit_note_schema(),
                "CreditNoteLine": _credit_note_line_schema(),
            },
        },
    }
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            _state_scope(path, method, operation)
    return document
