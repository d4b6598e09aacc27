"""The export of a privacy request: every stored field of the subject's rows, as JSON.

``document`` turns rows into the export (each model's stored fields under their column names, a
visitor's conversations and their events nested under it); ``SCHEMA`` is its JSON Schema, so a
program can read it (GDPR Art. 15 and 20) and the tests can hold the export to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import jsonschema
from django.db import models
from django.utils import timezone

from dialogues.models import Conversation, ConversationEvent, Visitor
from meetings.models import Meeting
from sync.models import MarketoActivity, MarketoLead, OutboxMessage

FORMAT = "dynchat.privacy-export/1"

STRING = {"type": "string"}
TEXT_OR_NULL = {"type": ["string", "null"]}
MOMENT = {"type": "string", "format": "date-time"}
MOMENT_OR_NULL = {"type": ["string", "null"], "format": "date-time"}
INTEGER = {"type": "integer"}
INTEGER_OR_NULL = {"type": ["integer", "null"]}
OBJECT = {"type": "object"}


def _record(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": sorted(properties),
        "additionalProperties": False,
    }


EVENT = _record(
    {
        "id": INTEGER, "conversation_id": INTEGER, "kind": STRING, "card": STRING,
        "value": STRING, "page_url": STRING, "occurred_at": MOMENT,
    }
)  # fmt: skip
CONVERSATION = _record(
    {
        "id": INTEGER, "visitor_id": INTEGER, "dialogue_id": INTEGER, "dialogue_name": STRING,
        "version_id": INTEGER, "version_number": INTEGER, "state": STRING, "card": STRING,
        "last_seq": INTEGER, "page_url": STRING, "started_at": MOMENT,
        "engaged_at": MOMENT_OR_NULL, "completed_at": MOMENT_OR_NULL, "updated_at": MOMENT,
        "events": {"type": "array", "items": EVENT},
    }
)  # fmt: skip
VISITOR = _record(
    {
        "id": INTEGER, "site_id": INTEGER, "key": STRING, "munchkin_cookie": STRING,
        "lead_id": INTEGER_OR_NULL, "email": STRING, "fields": OBJECT,
        "quarantined": {"type": "boolean"}, "created_at": MOMENT, "last_seen_at": MOMENT,
        "withdrawn_at": MOMENT_OR_NULL,
        "conversations": {"type": "array", "items": CONVERSATION},
    }
)  # fmt: skip
MEETING = _record(
    {
        "id": INTEGER, "site_id": INTEGER, "dialogue_id": INTEGER_OR_NULL,
        "conversation_id": INTEGER_OR_NULL, "agent_id": INTEGER, "lead_email": STRING,
        "lead_name": STRING, "visitor_time_zone": STRING, "starts_at": MOMENT,
        "ends_at": MOMENT, "status": STRING, "hold_expires_at": MOMENT_OR_NULL,
        "idempotency_key": TEXT_OR_NULL, "request_fingerprint": STRING, "reason": STRING,
        "routing_detail": OBJECT, "calendar_event_id": STRING, "join_url": STRING,
        "ics_uid": STRING, "ics_sequence": INTEGER, "rescheduled_from_id": INTEGER_OR_NULL,
        "created_at": MOMENT, "updated_at": MOMENT, "cancelled_at": MOMENT_OR_NULL,
    }
)  # fmt: skip
OUTBOX = _record(
    {
        "id": INTEGER, "kind": STRING, "key": TEXT_OR_NULL, "email": STRING, "payload": OBJECT,
        "state": STRING, "attempts": INTEGER, "next_attempt_at": MOMENT, "last_error": STRING,
        "marketo_id": STRING, "created_at": MOMENT, "sent_at": MOMENT_OR_NULL,
    }
)  # fmt: skip
LEAD = _record(
    {
        "id": INTEGER, "email": STRING, "first_name": STRING, "last_name": STRING,
        "company_name": STRING, "external_company_id": STRING,
        "cookies": {"type": "array", "items": STRING}, "lead_score": INTEGER_OR_NULL,
        "created_at": MOMENT_OR_NULL, "updated_at": MOMENT_OR_NULL, "attributes": OBJECT,
        "synced_at": MOMENT,
    }
)  # fmt: skip
ACTIVITY = _record(
    {
        "marketo_guid": STRING, "lead_id": INTEGER, "activity_date": MOMENT,
        "activity_type_id": INTEGER, "campaign_id": INTEGER_OR_NULL,
        "primary_attribute_value_id": INTEGER_OR_NULL, "primary_attribute_value": STRING,
        "attributes": OBJECT,
    }
)  # fmt: skip

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Everything Dynchat holds about one person",
    **_record(
        {
            "format": {"const": FORMAT},
            "generated_at": MOMENT,
            "visitors": {"type": "array", "items": VISITOR},
            "meetings": {"type": "array", "items": MEETING},
            "outbox": {"type": "array", "items": OUTBOX},
            "leads": {"type": "array", "items": LEAD},
            "activities": {"type": "array", "items": ACTIVITY},
        }
    ),
}


def validate(data: Any) -> None:
    """Raise ``jsonschema.ValidationError`` unless ``data`` is an export as SCHEMA describes."""
    jsonschema.validate(data, SCHEMA, format_checker=jsonschema.FormatChecker())


def _value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def stored(row: models.Model) -> dict[str, Any]:
    """Every stored field of ``row``, by column name (``site_id``, not ``site``)."""
    return {
        field.attname: _value(getattr(row, field.attname)) for field in row._meta.concrete_fields
    }


def document(
    *,
    visitors: Sequence[Visitor],
    conversations: Sequence[Conversation],
    events: Sequence[ConversationEvent],
    meetings: Sequence[Meeting],
    outbox: Sequence[OutboxMessage],
    leads: Sequence[MarketoLead],
    activities: Sequence[MarketoActivity],
) -> dict[str, Any]:
    """The export of these rows: conversations under their visitor, events under theirs."""
    events_of: dict[int, list[dict[str, Any]]] = {}
    for event in sorted(events, key=lambda event: event.pk):
        events_of.setdefault(event.conversation_id, []).append(stored(event))
    conversations_of: dict[int, list[dict[str, Any]]] = {}
    for conversation in sorted(conversations, key=lambda conversation: conversation.pk):
        conversations_of.setdefault(conversation.visitor_id, []).append(
            {
                **stored(conversation),
                "dialogue_name": conversation.dialogue.name,
                "version_number": conversation.version.number,
                "events": events_of.get(conversation.pk, []),
            }
        )
    return {
        "format": FORMAT,
        "generated_at": timezone.now().isoformat(),
        "visitors": [
            {**stored(visitor), "conversations": conversations_of.get(visitor.pk, [])}
            for visitor in visitors
        ],
        "meetings": [stored(meeting) for meeting in meetings],
        "outbox": [stored(message) for message in outbox],
        "leads": [stored(lead) for lead in leads],
        "activities": [stored(activity) for activity in activities],
    }
