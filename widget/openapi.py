"""The widget API's OpenAPI 3.1 document, built from the same JSON Schemas the views validate with.

Served at /api/widget/v1/openapi.json; the API fuzz test (TESTPLAN F-1) runs schemathesis
against it, so every status code and body shape the views answer is written down here.
"""

from __future__ import annotations

import copy
from typing import Any

from widget.openapi_schemas import booking_paths
from widget.payloads import (
    EVENTS_SCHEMA,
    IDENTIFY_SCHEMA,
    START_SCHEMA,
    VISITOR_ID_CHARS,
    WITHDRAW_SCHEMA,
)

JSON = "application/json"
# Empty means "no visitor id yet" (storage not allowed), as the loader sends it.
OPTIONAL_VISITOR_ID = rf"^(?:{VISITOR_ID_CHARS})?$"

ERROR: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        }
    },
}
TRIGGER: dict[str, Any] = {
    "type": "object",
    "required": ["kind", "amount"],
    "properties": {
        "kind": {"enum": ["immediately", "time_on_page", "time_on_site", "scroll"]},
        "amount": {"type": "integer", "minimum": 0},
    },
}
DECISION: dict[str, Any] = {
    "type": "object",
    "required": ["site", "enabled", "outcome", "dialogue", "consent", "appearance"],
    "properties": {
        "site": {"type": "string"},
        "enabled": {"type": "boolean"},
        "consent": {
            "type": "boolean",
            "description": "The site requires consent before the widget stores anything.",
        },
        "appearance": {
            "type": "object",
            "description": "Colours, font, launcher, bot name and poke (widget/appearance.py).",
        },
        "outcome": {"enum": ["show", "continue", "none"]},
        "dialogue": {
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "required": ["id", "name", "version", "trigger", "poke", "conversation"],
                    "properties": {
                        "id": {"type": "integer"},
                        "name": {"type": "string"},
                        "version": {"type": "integer"},
                        "trigger": TRIGGER,
                        "poke": {"type": ["string", "null"]},
                        "conversation": {
                            "type": "boolean",
                            "description": "The visitor already has a conversation with it.",
                        },
                    },
                },
            ]
        },
    },
}
VERSION: dict[str, Any] = {
    "type": "object",
    "required": ["id", "dialogue", "number", "flow"],
    "properties": {
        "id": {"type": "integer"},
        "dialogue": {"type": "integer"},
        "number": {"type": "integer"},
        "flow": {"type": "object", "description": "The flow JSON (see dialogues/flow_schema.py)."},
    },
}
STATE: dict[str, Any] = {
    "type": "object",
    # Answers to events leave out the transcript and goals (the widget has them already).
    "required": ["id", "dialogue", "version", "state", "card", "last_seq", "path", "lead"],
    "properties": {
        "id": {"type": "integer"},
        "dialogue": {"type": "integer"},
        "version": {"type": "integer"},
        "state": {"enum": ["triggered", "engaged", "completed"]},
        "card": {"type": ["string", "null"], "description": "The card awaiting the visitor."},
        "last_seq": {"type": "integer", "minimum": 0},
        "path": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Card ids to show, in order: the whole conversation (with the "
            "transcript) when resuming, the cards the last answer led to otherwise.",
        },
        "transcript": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["type", "card", "value"],
                "properties": {
                    "type": {"type": "string"},
                    "card": {"type": "string"},
                    "value": {"type": "string"},
                },
            },
        },
        "goals": {"type": "array", "items": {"type": "string"}},
        "lead": {
            "type": "object",
            "description": "Values for the flow's personalisation tokens.",
            "properties": {"lead": {"type": "object"}, "company": {"type": "object"}},
        },
    },
}


def _errors(*statuses: int) -> dict[str, Any]:
    descriptions = {
        400: "Malformed request (`invalid_json`, `invalid_request`, `invalid_content_length`).",
        401: "No, a forged or a withdrawn conversation token (`token_missing`, `token_invalid`, "
        "`token_revoked`).",
        403: "Origin not allowed, or the token of another conversation.",
        404: "Unknown site, version or conversation.",
        405: "Method not allowed.",
        409: "Conflicts with the conversation or dialogue state.",
        413: "Body over 16 KiB (`payload_too_large`).",
        415: "Body not JSON (`unsupported_media_type`).",
        422: "Refused by the flow (`card_not_current`, `invalid_answer`, `invalid_value`).",
        429: "Rate limited (`rate_limited`); see Retry-After.",
    }
    return {
        str(status): {
            "description": descriptions[status],
            "content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for status in statuses
    }


def _ok(description: str, schema: dict[str, Any], status: int = 200) -> dict[str, Any]:
    return {str(status): {"description": description, "content": {JSON: {"schema": schema}}}}


def _query(name: str, schema: dict[str, Any], *, required: bool = True) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema}


CONVERSATION_ID = {
    "name": "conversation_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1},
}
STARTED = {
    "type": "object",
    "required": ["token", "conversation"],
    "properties": {
        "token": {"type": "string", "description": "Send as `Authorization: Bearer <token>`."},
        "conversation": {"$ref": "#/components/schemas/Conversation"},
    },
}


def _lift(schema: dict[str, Any], prefix: str, components: dict[str, Any]) -> dict[str, Any]:
    """``schema`` as an OpenAPI component: its ``$defs`` become components named ``prefix`` +
    name and every ``#/$defs/…`` reference follows them (refs resolve against the document)."""
    body = copy.deepcopy(schema)
    for key in ("$schema", "$id"):
        body.pop(key, None)
    definitions = body.pop("$defs", {})

    def rewrite(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                node = {**node, "$ref": f"#/components/schemas/{prefix}{ref[8:].capitalize()}"}
            return {key: rewrite(value) for key, value in node.items()}
        if isinstance(node, list):
            return [rewrite(item) for item in node]
        return node

    for name, definition in definitions.items():
        components[f"{prefix}{name.capitalize()}"] = rewrite(definition)
    return rewrite(body)  # type: ignore[no-any-return]


def _body(schema: dict[str, Any], prefix: str, components: dict[str, Any]) -> dict[str, Any]:
    components[prefix] = _lift(schema, prefix, components)
    ref = {"$ref": f"#/components/schemas/{prefix}"}
    return {"required": True, "content": {JSON: {"schema": ref}}}


def document() -> dict[str, Any]:
    """The OpenAPI document of the public widget API."""
    state = {"$ref": "#/components/schemas/Conversation"}
    schemas: dict[str, Any] = {
        "Error": ERROR,
        "Decision": DECISION,
        "Version": VERSION,
        "Conversation": STATE,
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Dynchat widget API",
            "version": "1",
            "description": "What the widget on a customer's page and the chat frame call. "
            "Authentication: the public site key, plus a per-conversation bearer token.",
        },
        "paths": {
            "/api/widget/v1/decide": {
                "get": {
                    "operationId": "decide",
                    "summary": "Which dialogue this page shows, when, or none.",
                    "parameters": [
                        _query("site", {"type": "string", "minLength": 1, "maxLength": 64}),
                        _query("url", {"type": "string", "format": "uri", "maxLength": 2048}),
                        _query(
                            "visitor",
                            {"type": "string", "pattern": OPTIONAL_VISITOR_ID},
                            required=False,
                        ),
                        _query("mkto", {"type": "string", "maxLength": 500}, required=False),
                    ],
                    "responses": {
                        **_ok("The decision.", {"$ref": "#/components/schemas/Decision"}),
                        **_errors(400, 403, 404, 429),
                    },
                }
            },
            "/api/widget/v1/versions/{version_id}": {
                "get": {
                    "operationId": "version",
                    "summary": "A published version's flow (immutable: cache it forever).",
                    "parameters": [
                        {
                            "name": "version_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer", "minimum": 1},
                        },
                        _query("site", {"type": "string", "minLength": 1, "maxLength": 64}),
                    ],
                    "responses": {
                        **_ok("The version.", {"$ref": "#/components/schemas/Version"}),
                        **_errors(400, 404, 429),
                    },
                }
            },
            "/api/widget/v1/conversations": {
                "post": {
                    "operationId": "startConversation",
                    "summary": "Start the visitor's conversation with a version, or resume it.",
                    "requestBody": _body(START_SCHEMA, "Start", schemas),
                    "responses": {
                        **_ok("Started.", STARTED, 201),
                        **_ok("Resumed (the visitor already had one).", STARTED),
                        **_errors(400, 403, 404, 409, 413, 415, 429),
                    },
                }
            },
            "/api/widget/v1/conversations/{conversation_id}": {
                "get": {
                    "operationId": "conversation",
                    "summary": "Where the conversation is (after a reload or on another page).",
                    "parameters": [CONVERSATION_ID],
                    "security": [{"conversationToken": []}],
                    "responses": {
                        **_ok(
                            "The conversation.",
                            {
                                "type": "object",
                                "required": ["conversation"],
                                "properties": {"conversation": state},
                            },
                        ),
                        **_errors(401, 403, 404, 429),
                    },
                }
            },
            "/api/widget/v1/conversations/{conversation_id}/events": {
                "post": {
                    "operationId": "postEvents",
                    "summary": "Answers, captures and UI events, in order, in batches.",
                    "parameters": [CONVERSATION_ID],
                    "security": [{"conversationToken": []}],
                    "requestBody": _body(EVENTS_SCHEMA, "Events", schemas),
                    "responses": {
                        **_ok(
                            "Accepted (events already received are skipped).",
                            {
                                "type": "object",
                                "required": ["accepted", "conversation"],
                                "properties": {
                                    "accepted": {"type": "integer", "minimum": 0},
                                    "conversation": state,
                                },
                            },
                            202,
                        ),
                        **_errors(400, 401, 403, 404, 409, 413, 415, 422, 429),
                    },
                }
            },
            **booking_paths(CONVERSATION_ID, _body, schemas),
            "/api/widget/v1/visitors/withdraw": {
                "post": {
                    "operationId": "withdrawConsent",
                    "summary": "The visitor withdrew consent: their conversation tokens end now.",
                    "requestBody": _body(WITHDRAW_SCHEMA, "Withdraw", schemas),
                    "responses": {
                        "204": {"description": "Done (also when the visitor was not known)."},
                        **_errors(400, 403, 404, 413, 415, 429),
                    },
                }
            },
            "/api/widget/v1/visitors/identify": {
                "post": {
                    "operationId": "identify",
                    "summary": "Who the visitor is, signed by the customer's server "
                    "(HMAC-SHA256 of `email:ts` with the site's identity secret).",
                    "requestBody": _body(IDENTIFY_SCHEMA, "Identify", schemas),
                    "responses": {
                        **_ok(
                            "Whether the visitor is now that person (false: unsigned, wrongly "
                            "signed, older than a day, or the site does not verify identity).",
                            {
                                "type": "object",
                                "required": ["identified"],
                                "properties": {"identified": {"type": "boolean"}},
                            },
                        ),
                        **_errors(400, 403, 404, 413, 415, 429),
                    },
                }
            },
        },
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "conversationToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The token from starting the conversation; never in a URL.",
                }
            },
        },
    }
