"""Shapes of API request bodies: strict types, unknown fields refused."""
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError

from helpdesk.clock import parse_instant
from helpdesk.text import BIDI_REFUSAL, has_bidi_controls
from helpdesk.tickets.rules import BODY_MAX, REASON_MAX, TITLE_MAX

# Control characters are not text (and PostgreSQL cannot store NUL at all); multi-line fields
# keep their tabs and line breaks. The services apply the same rule to every other entry point.
LINE_BREAKS = frozenset("\t\n\r")


def _refuse_controls(allowed: frozenset[str]) -> Callable[[str], str]:
    def check(value: str) -> str:
        if any((ord(ch) < 32 and ch not in allowed) or ord(ch) == 127 for ch in value):
            raise PydanticCustomError("control_characters",
                                      "must not contain control characters")
        return value
    return check


# Any: the result is a type form (`Annotated[str, …]`) written in annotations, not a value.
def text(*, max_length: int, min_length: int = 0, multiline: bool = False) -> Any:
    """A string field: length checked first (so the message says so), then its characters."""
    allowed = LINE_BREAKS if multiline else frozenset()
    return Annotated[str, Field(min_length=min_length, max_length=max_length),
                     AfterValidator(_refuse_controls(allowed))]


def _refuse_bidi_controls(value: str) -> str:
    if has_bidi_controls(value):
        raise PydanticCustomError("bidi_controls", BIDI_REFUSAL)
    return value


# A title or a name, shown in lists and mails: no direction controls to disguise it.
def name_text(*, max_length: int) -> Any:
    return Annotated[text(min_length=1, max_length=max_length),
                     AfterValidator(_refuse_bidi_controls)]


def _instant(value: str) -> datetime:
    try:
        return parse_instant(value)
    except (ValueError, OverflowError):  # OverflowError: year 1 or 9999 shifted out of range
        raise PydanticCustomError(
            "instant", "must be an ISO 8601 instant with its time zone offset, "
            "e.g. 2026-11-30T09:00:00Z or 2026-11-30T10:00:00+01:00") from None


# An ISO 8601 instant with its offset, read as aware UTC; a naive time is ambiguous, so refused.
Instant = Annotated[str, Field(max_length=64, json_schema_extra={"format": "date-time"}),
                    AfterValidator(_instant)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)


class TicketCreate(Strict):
    contract: text(min_length=1, max_length=64)
    priority: text(min_length=1, max_length=16)
    title: name_text(max_length=TITLE_MAX)
    description: text(min_length=1, max_length=BODY_MAX, multiline=True)


ActionName = Literal["take", "reply", "note", "wait", "resume", "resolve", "confirm", "reopen",
                     "cancel", "reprioritise", "assign"]


class TicketAction(Strict):
    action: ActionName
    body: text(max_length=BODY_MAX, multiline=True) | None = None
    reason: text(max_length=REASON_MAX, multiline=True) | None = None
    priority: text(max_length=16) | None = None
    assignee: text(max_length=254) | None = None


class OutageCreate(Strict):
    started_at: Instant
    ended_at: Instant | None = None


class OutageChange(Strict):
    """Either `ended_at` alone, to end an ongoing outage, or a correction with its `reason`:
    the instants given replace the recorded ones (`"ended_at": null` makes it ongoing again)."""

    started_at: Instant | None = None
    ended_at: Instant | None = None
    reason: text(max_length=REASON_MAX, multiline=True) | None = None


def outage_change_errors(payload: OutageChange) -> list[dict[str, str]]:
    """What a PATCH lacks to mean something: an end, or a correction with its reason."""
    given = payload.model_fields_set
    if "reason" in given:
        if not given & {"started_at", "ended_at"}:
            return [{"field": "started_at", "message": "or ended_at is required by a correction"}]
        if not payload.reason:
            return [{"field": "reason", "message": "must not be empty"}]
        return []
    if given == {"ended_at"} and payload.ended_at is not None:
        return []
    if not given:
        return [{"field": "ended_at", "message": "is required to end the outage (or give the "
                                                 "corrected instants with a reason)"}]
    return [{"field": "reason", "message": "is required to correct an outage"}]


# What each action reads besides its name: (required, optional). Anything else is refused, so
# a caller who sends {"action": "resolve", "body": "…"} learns the message went nowhere.
ACTION_FIELDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "reply": (frozenset({"body"}), frozenset()),
    "note": (frozenset({"body"}), frozenset()),
    "reopen": (frozenset(), frozenset({"reason"})),
    "cancel": (frozenset({"reason"}), frozenset()),
    "reprioritise": (frozenset({"priority", "reason"}), frozenset()),
    "assign": (frozenset({"assignee"}), frozenset()),
}


def action_field_errors(payload: TicketAction) -> list[dict[str, str]]:
    """Fields the action needs but did not get, and fields it would silently ignore."""
    required, optional = ACTION_FIELDS.get(payload.action, (frozenset(), frozenset()))
    given = {name for name in payload.model_fields_set - {"action"}
             if getattr(payload, name) not in (None, "")}
    errors = [{"field": name, "message": f"is required by the {payload.action} action"}
              for name in sorted(required - given)]
    errors += [{"field": name, "message": f"is not used by the {payload.action} action"}
               for name in sorted(payload.model_fields_set - {"action"} - required - optional)]
    return errors


def field_errors(error: ValidationError) -> list[dict[str, str]]:
    """Pydantic's findings as [{field, message}] people can read."""
    errors = []
    for item in error.errors(include_url=False):
        field = ".".join(str(part) for part in item["loc"]) or "(body)"
        kind = item["type"]
        if kind == "missing":
            message = "is required"
        elif kind == "extra_forbidden":
            message = "is not a known field"
        elif kind in ("string_type", "string_sub_type"):
            message = "must be a string"
        elif kind == "string_too_short":
            message = "must not be empty"
        elif kind in ("string_too_long", "too_long"):
            message = f"must be at most {item['ctx']['max_length']} characters"
        elif kind == "literal_error":
            message = f"must be one of {item['ctx']['expected']}"
        else:
            message = item["msg"]
        errors.append({"field": field, "message": message})
    return errors
