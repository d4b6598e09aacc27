"""A conversation as the widget resumes it: the API's STATE (read only)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dialogues.flow import parse_valid
from dialogues.models import Conversation, ConversationEvent, ConversationState, EventKind
from dialogues.runtime import replay, token_values
from dialogues.visitors import facts_of

TRANSCRIPT_KINDS = (EventKind.ANSWER, EventKind.CAPTURE, EventKind.DECLINED, EventKind.BOOKED)


def state(
    conversation: Conversation, *, history: bool = True, walked: Sequence[str] = ()
) -> dict[str, Any]:
    """The conversation as the widget resumes it (the API's STATE).

    ``path`` lists the cards to show, in order. With ``history`` it is the whole conversation, to
    rebuild with the transcript (each answered card takes the transcript's next entry). Without
    (answers to a batch of events: the widget has the rest already) it is the cards ``walked``
    since the batch's last answer, and the transcript and goals, which grow, are left out.
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
    awaiting = None if completed or not conversation.card else conversation.card
    facts = facts_of(conversation.visitor)
    flow = conversation.version.flow
    if history:
        answered = [(entry["type"], entry["card"], entry["value"]) for entry in transcript]
        path = replay(parse_valid(flow), facts, answered, awaiting)
    else:
        path = list(walked)
    return {
        "id": conversation.pk,
        "dialogue": conversation.dialogue_id,
        "version": conversation.version_id,
        "state": conversation.state,
        "card": awaiting,
        "last_seq": conversation.last_seq,
        "path": path,
        "lead": token_values(flow, facts),
    } | ({"transcript": transcript, "goals": goals} if history else {})
