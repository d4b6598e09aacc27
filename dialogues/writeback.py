"""What Marketo is sent of a conversation, made to fit: field lengths and outbox keys (pure but
for the one read of which fields are long text)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from sync.models import AttributeObject, SyncedAttribute

MARKETO_VALUE_LENGTH = 255


def fitted_for_marketo(fields: Mapping[str, str]) -> dict[str, str]:
    """The visitor's answers cut to what Marketo's fields hold: a value longer than its field
    would make Marketo skip the whole lead. Only "text" (text area) fields take long answers."""
    long_text = set(
        SyncedAttribute.objects.filter(
            object=AttributeObject.PERSON, data_type="text", name__in=list(fields)
        ).values_list("name", flat=True)
    )
    return {
        name: value if name in long_text else value[:MARKETO_VALUE_LENGTH]
        for name, value in fields.items()
    }


def outbox_key(conversation_id: int, what: str) -> str:
    """An outbox key within the column's 200 characters, whatever the goal's name."""
    key = f"conversation:{conversation_id}:{what}"
    if len(key) <= 200:
        return key
    return f"conversation:{conversation_id}:{hashlib.blake2b(what.encode()).hexdigest()}"
