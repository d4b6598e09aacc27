"""A conversation as the widget resumes it: the API's STATE (read only)."""

from __future__ import annotations

from typing import Any

from dialogues.models import Conversation, ConversationEvent, ConversationState, EventKind
from dialogues.runtime import token_values
from dialogues.visitors import facts_of

TRANSCRIPT_KINDS = (EventKind.ANSWER, EventKind.CAPTURE, EventKind.DECLINED)


def state(conversation: Conversation, *, history: bool = True) -> dict[str, Any]:
    """The conversation as the widget resumes it (the API's STATE).

    Without ``history`` (answers to a batch of events: the widget has the transcript already)
    it leaves out the transcript and goals, which grow with the conversation.
    """
    events = (
        ConversationEvent.objects.filter(
            conversation=conversation, kind__in=[*TRANSCRIPT_KINDS, EventKind.GOAL]
        ).values_list("kind", "card", "value")
        if history
        else []
    )
    transcript = []
    goals: list[str] = []
    for kind, card, value in events:
        if kind == EventKind.GOAL:
            if value not in goals:
                goals.append(value)
        else:
            transcript.append({"type": kind, "card": card, "value": value})
    completed = conversation.state == ConversationState.COMPLETED
    return {
        "id": conversation.pk,
        "dialogue": conversation.dialogue_id,
        "version": conversation.version_id,
        "state": conversation.state,
        "card": None if completed or not conversation.card else conversation.card,
        "last_seq": conversation.last_seq,
        "lead": token_values(conversation.version.flow, facts_of(conversation.visitor)),
    } | ({"transcript": transcript, "goals": goals} if history else {})
