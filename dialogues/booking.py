"""A meeting booked from a conversation's meeting card: the flow goes on as after an answer.

Routing books the meeting (routing.assignment.book); this records it in the conversation: a
``booked`` event on the meeting card, then the walk to the next card awaiting the visitor.
"""

from __future__ import annotations

import logging

from django.db import transaction

from dialogues.conversations import Outcome, Run, lock
from dialogues.flow import Meeting, parse_valid
from dialogues.models import Conversation, ConversationState
from dialogues.runtime import Refused

log = logging.getLogger("dynchat.security")


def meeting_card(conversation: Conversation, card_id: str) -> Meeting:
    """The meeting card ``card_id`` when the conversation awaits it; else ``Refused``:
    ``conversation_completed``, or ``card_not_current`` (another card, or not a meeting card)."""
    if conversation.state == ConversationState.COMPLETED:
        raise Refused("conversation_completed", "This conversation has ended.")
    card = parse_valid(conversation.version.flow).cards.get(card_id)
    if conversation.card != card_id or not isinstance(card, Meeting):
        raise Refused(
            "card_not_current",
            "This card is not the meeting card awaiting the visitor.",
            card=str(card_id)[:32],
        )
    return card


@transaction.atomic
def record_booking(conversation: Conversation, card_id: str, meeting_id: int) -> Outcome:
    """Record that the visitor booked ``meeting_id`` on the meeting card ``card_id`` and walk on.

    The conversation is locked; the card must still await the visitor (``Refused`` otherwise, as
    ``meeting_card`` says). The booking takes no event number: the widget's own events keep theirs.
    ``Outcome.walked`` is the path the widget draws next.
    """
    locked = lock(conversation)
    meeting_card(locked, card_id)
    run = Run(locked, page_url=locked.page_url, client_ip="")
    try:
        run.take(locked.last_seq, {"type": "booked", "card": card_id, "meeting": meeting_id})
    except Refused as refused:
        log.warning(
            "booking not recorded: code=%s conversation=%s meeting=%s",
            refused.code, locked.pk, meeting_id,
        )  # fmt: skip
        raise
    run.finish()
    return Outcome(conversation=locked, accepted=1, walked=run.walked)
