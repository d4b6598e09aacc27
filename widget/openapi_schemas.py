"""The booking part of the widget API's OpenAPI document (widget/openapi.py joins it in):
the slots a meeting card offers, holds and bookings, with the same JSON Schemas the views use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from widget.payloads import BOOKING_SCHEMA, HOLD_SCHEMA, IDEMPOTENCY_KEY, TIME_ZONE

JSON = "application/json"
Body = Callable[[dict[str, Any], str, dict[str, Any]], dict[str, Any]]

INSTANT = {"type": "string", "description": "ISO 8601, UTC (`2026-12-01T10:00:00Z`)."}
SLOTS: dict[str, Any] = {
    "type": "object",
    "required": ["duration", "time_zone", "slots"],
    "properties": {
        "duration": {"type": "integer", "minimum": 1, "description": "Minutes."},
        "time_zone": {"type": "string", "description": "The zone the labels are in."},
        "slots": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["start", "label"],
                "properties": {
                    "start": INSTANT,
                    "label": {"type": "string", "description": "`Tue 3 Dec, 10:00`, in tz."},
                },
            },
        },
    },
}
HELD: dict[str, Any] = {
    "type": "object",
    "required": ["hold", "start", "end", "expires_at"],
    "properties": {
        "hold": {"type": "integer", "description": "Send as `hold` with the booking."},
        "start": INSTANT,
        "end": INSTANT,
        "expires_at": INSTANT,
    },
}
BOOKED: dict[str, Any] = {
    "type": "object",
    "required": ["meeting", "start", "end", "label", "agent", "uid", "path", "conversation"],
    "properties": {
        "meeting": {"type": "integer"},
        "start": INSTANT,
        "end": INSTANT,
        "label": {"type": "string", "description": "The start in the booking's time zone."},
        "agent": {"type": "string", "description": "The name of the agent the visitor meets."},
        "uid": {"type": "string", "description": "The invitation's iCalendar UID."},
        "path": {
            "type": "array",
            "items": {"type": "string"},
            "description": "The cards the booking led to (as an answer's `path`).",
        },
        "conversation": {"$ref": "#/components/schemas/Conversation"},
    },
}

DESCRIPTIONS = {
    400: "Malformed request (`invalid_json`, `invalid_request`, `invalid_idempotency_key`).",
    401: "No, a forged or a withdrawn conversation token.",
    403: "Origin not allowed, or the token of another conversation.",
    404: "Unknown conversation, or nobody takes meetings (`no_agents`, `not_found`).",
    405: "Method not allowed.",
    409: "The card is not the meeting card awaiting the visitor (`card_not_current`), the "
    "conversation ended, no e-mail yet (`email_required`), or the time is gone (`slot_taken`, "
    "`agent_busy`, `slot_held`, `hold_expired`).",
    413: "Body over 16 KiB (`payload_too_large`).",
    415: "Body not JSON (`unsupported_media_type`).",
    422: "Not a time the rules allow (`invalid_slot`), or an Idempotency-Key reused for another "
    "booking (`idempotency_mismatch`).",
    429: "Rate limited (`rate_limited`); see Retry-After.",
    503: "No calendar answered (`calendar_unavailable`); try again shortly.",
}


def _errors(*statuses: int) -> dict[str, Any]:
    return {
        str(status): {
            "description": DESCRIPTIONS[status],
            "content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for status in statuses
    }


def _ok(description: str, schema: dict[str, Any], status: int) -> dict[str, Any]:
    return {str(status): {"description": description, "content": {JSON: {"schema": schema}}}}


def booking_paths(
    conversation_id: dict[str, Any], body: Body, schemas: dict[str, Any]
) -> dict[str, Any]:
    """The booking endpoints; ``body`` turns a request schema into a request body (adding its
    component to ``schemas``), as for the other endpoints."""
    base = "/api/widget/v1/conversations/{conversation_id}"
    token: list[dict[str, list[str]]] = [{"conversationToken": []}]
    card = {"name": "card", "in": "query", "required": True}
    tz = {"name": "tz", "in": "query", "required": False}
    idempotency = {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": "The same key and body again answer the same meeting (200), not another.",
        "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY},
    }
    return {
        f"{base}/slots": {
            "get": {
                "operationId": "slots",
                "summary": "The times the meeting card awaiting the visitor offers.",
                "parameters": [
                    conversation_id,
                    {**card, "schema": {"type": "string", "minLength": 1, "maxLength": 32}},
                    {
                        **tz,
                        "description": "The visitor's IANA time zone, for the labels (UTC).",
                        "schema": {"type": "string", "pattern": TIME_ZONE},
                    },
                ],
                "security": token,
                "responses": {
                    **_ok("The slots, earliest first.", SLOTS, 200),
                    **_errors(400, 401, 403, 404, 409, 429, 503),
                },
            }
        },
        f"{base}/holds": {
            "post": {
                "operationId": "holdSlot",
                "summary": "Keep a slot for the visitor a few minutes while they confirm.",
                "parameters": [conversation_id],
                "security": token,
                "requestBody": body(HOLD_SCHEMA, "Hold", schemas),
                "responses": {
                    **_ok("Held.", HELD, 201),
                    **_errors(400, 401, 403, 404, 409, 413, 415, 422, 429, 503),
                },
            }
        },
        f"{base}/bookings": {
            "post": {
                "operationId": "book",
                "summary": "Book the slot: the meeting, and the cards the booking led to.",
                "parameters": [conversation_id, idempotency],
                "security": token,
                "requestBody": body(BOOKING_SCHEMA, "Booking", schemas),
                "responses": {
                    **_ok("Booked.", BOOKED, 201),
                    **_ok("Already booked with this Idempotency-Key (a replay).", BOOKED, 200),
                    **_errors(400, 401, 403, 404, 409, 413, 415, 422, 429, 503),
                },
            }
        },
    }
