"""The JSON bodies the widget posts: their JSON Schemas (also published in the OpenAPI document)
and a strict parser. Unknown properties are refused everywhere (no mass assignment, ASVS 15.3.3).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, Final

from dialogues.schema_check import Validator, compile_check, inline

MAX_DEPTH: Final = 10
MAX_ID: Final = 2**53 - 1  # the largest integer JavaScript holds exactly
# A first-party visitor id: the characters; the anchored forms below are built from it.
VISITOR_ID_CHARS: Final = r"[A-Za-z0-9_-]{16,64}"
VISITOR_ID: Final = rf"^{VISITOR_ID_CHARS}$"
SITE_KEY: Final = r"^[A-Za-z0-9_-]{1,64}$"
# An absolute http(s) URL without whitespace or control characters.
URL: Final = {"type": "string", "maxLength": 2048, "pattern": r"^https?://[^\s\x00-\x1f\x7f]+$"}
CARD: Final = {"type": "string", "minLength": 1, "maxLength": 32}
SEQ: Final = {"type": "integer", "minimum": 1, "maximum": 1_000_000}

START_SCHEMA: Final[dict[str, Any]] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://dynchat.example/schemas/widget-start.json",
    "title": "Start or resume a conversation",
    "type": "object",
    "properties": {
        "site": {"type": "string", "pattern": SITE_KEY},
        "visitor": {"type": "string", "pattern": VISITOR_ID},
        "version": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
        "url": URL,
        "mkto": {"type": "string", "maxLength": 500},
    },
    "required": ["site", "visitor", "version", "url"],
    "additionalProperties": False,
}

WITHDRAW_SCHEMA: Final[dict[str, Any]] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://dynchat.example/schemas/widget-withdraw.json",
    "title": "A visitor withdraws consent",
    "type": "object",
    "properties": {
        "site": {"type": "string", "pattern": SITE_KEY},
        "visitor": {"type": "string", "pattern": VISITOR_ID},
    },
    "required": ["site", "visitor"],
    "additionalProperties": False,
}

IDENTIFY_SCHEMA: Final[dict[str, Any]] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://dynchat.example/schemas/widget-identify.json",
    "title": "The host page says who the visitor is, signed by its server",
    "type": "object",
    "properties": {
        "site": {"type": "string", "pattern": SITE_KEY},
        "visitor": {"type": "string", "pattern": VISITOR_ID},
        "email": {"type": "string", "format": "email", "minLength": 3, "maxLength": 254},
        "ts": {"type": "integer", "minimum": 0, "maximum": 32_503_680_000},
        "hash": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"},
    },
    "required": ["site", "visitor", "email", "ts"],
    "additionalProperties": False,
}


def _event(kind: str, **properties: Any) -> dict[str, Any]:
    required = ["seq", "type", *(name for name in properties if name != "hp")]
    return {
        "type": "object",
        "properties": {"seq": SEQ, "type": {"const": kind}, **properties},
        "required": required,
        "additionalProperties": False,
    }


EVENT_SHAPES: Final = {
    "opened": _event("opened"),
    "closed": _event("closed"),
    "answer": _event("answer", card=CARD, answer={"type": "string", "maxLength": 32}),
    "capture": _event(
        "capture",
        card=CARD,
        value={"type": "string", "maxLength": 4000},
        hp={"type": "string", "maxLength": 200},
    ),
    "decline": _event("decline", card=CARD),
}

EVENTS_SCHEMA: Final[dict[str, Any]] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://dynchat.example/schemas/widget-events.json",
    "title": "Events of a conversation",
    "type": "object",
    "properties": {
        "events": {
            "type": "array",
            "minItems": 1,
            "maxItems": 50,
            "items": {"$ref": "#/$defs/event"},
        },
        "url": URL,
    },
    "required": ["events"],
    "additionalProperties": False,
    "$defs": {
        "event": {
            "type": "object",
            "properties": {"type": {"enum": list(EVENT_SHAPES)}},
            "required": ["type"],
            # One shape per type, chosen by "type" so errors name the right properties.
            "allOf": [
                {
                    "if": {"properties": {"type": {"const": kind}}, "required": ["type"]},
                    "then": {"$ref": f"#/$defs/{kind}"},
                }
                for kind in EVENT_SHAPES
            ],
        },
        **EVENT_SHAPES,
    },
}

_SURROGATE = re.compile("[\ud800-\udfff]")


_start = Validator(START_SCHEMA)
_events = Validator(EVENTS_SCHEMA)
_withdraw = Validator(WITHDRAW_SCHEMA)
_identify = Validator(IDENTIFY_SCHEMA)
# The fast yes/no checks of the same schemas: a valid body (nearly all) never meets jsonschema.
_start_ok = compile_check(START_SCHEMA)
_events_ok = compile_check(inline(EVENTS_SCHEMA, EVENTS_SCHEMA["$defs"]))


class InvalidJson(ValueError):
    """A body that is not JSON we read: undecodable, not UTF-8, or nested too deep."""

    code = "invalid_json"


def parse_json(body: bytes) -> Any:
    """The JSON value in ``body``; raises InvalidJson when it is not UTF-8 JSON of depth ≤ 10."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidJson("The body is not valid UTF-8.") from None
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise InvalidJson(f"JSON may nest at most {MAX_DEPTH} levels.") from None
    except ValueError:
        raise InvalidJson("The body is not valid JSON.") from None
    if _depth(value, MAX_DEPTH + 1) > MAX_DEPTH:
        raise InvalidJson(f"JSON may nest at most {MAX_DEPTH} levels.")
    if any(_has_surrogate(text) for text in _strings(value)):
        raise InvalidJson("The body holds an unpaired surrogate, which is not text.")
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _depth(value: Any, limit: int) -> int:
    """How deep arrays and objects nest in ``value`` (a scalar is 0), counting up to ``limit``."""
    if limit <= 0 or not isinstance(value, dict | list):
        return 0
    children = value.values() if isinstance(value, dict) else value
    return 1 + max((_depth(child, limit - 1) for child in children), default=0)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, child in value.items():
            yield key
            yield from _strings(child)
    elif isinstance(value, list):
        for child in value:
            yield from _strings(child)


def _has_surrogate(text: str) -> bool:
    return _SURROGATE.search(text) is not None


def problems(validator: Any, value: Any) -> dict[str, list[dict[str, str]]]:
    """Schema errors by where they are (``events.0.card``; ``""`` for the body itself)."""
    found: dict[str, list[dict[str, str]]] = {}
    for error in validator.iter_errors(value):
        where = ".".join(str(part) for part in error.absolute_path)
        message = error.message if len(error.message) <= 200 else error.message[:197] + "..."
        found.setdefault(where, []).append({"message": message, "code": str(error.validator)})
    return found


def start_problems(value: Any) -> dict[str, list[dict[str, str]]]:
    return {} if _start_ok(value) else problems(_start, value)


def events_problems(value: Any) -> dict[str, list[dict[str, str]]]:
    return {} if _events_ok(value) else problems(_events, value)


def withdraw_problems(value: Any) -> dict[str, list[dict[str, str]]]:
    return problems(_withdraw, value)


def identify_problems(value: Any) -> dict[str, list[dict[str, str]]]:
    return problems(_identify, value)


# Booking a meeting from a meeting card (widget/views/booking.py).
INSTANT: Final = {
    "type": "string",
    "maxLength": 40,
    "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})$",
    "description": "An ISO 8601 instant with its offset, as the slots answer gives it.",
}
DURATION: Final = {"type": "integer", "minimum": 5, "maximum": 480}
# An IANA time zone name's characters ("America/Argentina/Buenos_Aires", "Etc/GMT+5", "UTC").
TIME_ZONE: Final = r"^[A-Za-z][A-Za-z0-9_+/-]{0,63}$"
# The client's retry key for one booking attempt (the header Idempotency-Key).
IDEMPOTENCY_KEY: Final = r"^[A-Za-z0-9_.:-]{8,100}$"

HOLD_SCHEMA: Final[dict[str, Any]] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://dynchat.example/schemas/widget-hold.json",
    "title": "Keep a slot for the visitor a few minutes",
    "type": "object",
    "properties": {"card": CARD, "start": INSTANT, "duration": DURATION},
    "required": ["card", "start", "duration"],
    "additionalProperties": False,
}

BOOKING_SCHEMA: Final[dict[str, Any]] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://dynchat.example/schemas/widget-booking.json",
    "title": "Book the meeting a meeting card offers",
    "type": "object",
    "properties": {
        "card": CARD,
        "start": INSTANT,
        "duration": DURATION,
        "time_zone": {"type": "string", "pattern": TIME_ZONE},
        "hold": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
    },
    "required": ["card", "start", "duration", "time_zone"],
    "additionalProperties": False,
}

_hold = Validator(HOLD_SCHEMA)
_booking = Validator(BOOKING_SCHEMA)


def hold_problems(value: Any) -> dict[str, list[dict[str, str]]]:
    return problems(_hold, value)


def booking_problems(value: Any) -> dict[str, list[dict[str, str]]]:
    return problems(_booking, value)
