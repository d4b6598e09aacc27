"""Booking from a meeting card as the widget does it: a published dialogue whose meeting card
follows an e-mail capture, conversations waiting at that card, and the booking endpoints' calls."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any, Final

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dialogues.models import Conversation, ConversationState, DialogueVersion, Visitor
from dynchat.models import Site
from tests.conftest import ALLOWED_ORIGIN
from tests.widget.api import PAGE, published

CARD: Final = "meet"
MEETING_FLOW: Final[dict[str, Any]] = {
    "version": 1,
    "start": "hello",
    "cards": {
        "hello": {"type": "message", "text": "Hi! Let's find a time.", "next": "email"},
        "email": {
            "type": "capture",
            "input": "email",
            "prompt": "Your e-mail?",
            "placeholder": "you@example.com",
            "field": "email",
            "skip_if_known": True,
            "overwrite": False,
            "next": CARD,
        },
        CARD: {
            "type": "meeting",
            "routing": "round_robin",
            "text": "Pick a time",
            "next": "thanks",
        },
        "thanks": {"type": "message", "text": "See you then!", "next": "bye"},
        "bye": {"type": "end"},
    },
}


def meeting_flow(agent_id: int | None = None) -> dict[str, Any]:
    """The flow, its meeting card round robin or (``agent_id``) with that one agent."""
    flow = copy.deepcopy(MEETING_FLOW)
    if agent_id is not None:
        flow["cards"][CARD] |= {"routing": "agent", "agent": agent_id}
    return flow


def published_meeting(site: Site, agent_id: int | None = None) -> DialogueVersion:
    return published(site, meeting_flow(agent_id))


def at_meeting_card(
    version: DialogueVersion, key: str, email: str = "ada@example.com", **fields: str
) -> Conversation:
    """A visitor who gave their e-mail and now has the meeting card before them."""
    visitor = Visitor.objects.create(
        site=version.dialogue.site, key=key, email=email, fields={"email": email, **fields}
    )
    return Conversation.objects.create(
        visitor=visitor,
        dialogue=version.dialogue,
        version=version,
        state=ConversationState.ENGAGED,
        card=CARD,
        page_url=PAGE,
        engaged_at=timezone.now(),
    )


def many_at_meeting_card(version: DialogueVersion, prefix: str, count: int) -> list[Conversation]:
    """``count`` visitors at the meeting card, created at once."""
    site = version.dialogue.site
    visitors = Visitor.objects.bulk_create(
        Visitor(site=site, key=f"{prefix}-{n:06d}-visitor", email=f"{prefix}{n}@example.com")
        for n in range(count)
    )
    now = timezone.now()
    return Conversation.objects.bulk_create(
        Conversation(
            visitor=visitor,
            dialogue=version.dialogue,
            version=version,
            state=ConversationState.ENGAGED,
            card=CARD,
            page_url=PAGE,
            engaged_at=now,
        )
        for visitor in visitors
    )


def headers(conversation: Conversation, **extra: str) -> dict[str, str]:
    return {"Origin": ALLOWED_ORIGIN, "Authorization": f"Bearer {conversation.token}", **extra}


def get_slots(
    client: Client, conversation: Conversation, *, card: str = CARD, tz: str = "Europe/Paris"
) -> Any:
    url = reverse("widget:slots", kwargs={"conversation_id": conversation.pk})
    return client.get(url, {"card": card, "tz": tz}, headers=headers(conversation))


def post_booking(
    client: Client,
    conversation: Conversation,
    start: datetime | str,
    *,
    key: str | None = None,
    duration: int = 30,
    tz: str = "Europe/Paris",
    **body: Any,
) -> Any:
    url = reverse("widget:bookings", kwargs={"conversation_id": conversation.pk})
    data = {"card": CARD, "start": iso(start), "duration": duration, "time_zone": tz, **body}
    extra = {"Idempotency-Key": key} if key else {}
    return client.post(
        url, data, content_type="application/json", headers=headers(conversation, **extra)
    )


def post_hold(client: Client, conversation: Conversation, start: datetime, **body: Any) -> Any:
    url = reverse("widget:holds", kwargs={"conversation_id": conversation.pk})
    data = {"card": CARD, "start": iso(start), "duration": 30, **body}
    return client.post(url, data, content_type="application/json", headers=headers(conversation))


def iso(moment: datetime | str) -> str:
    if isinstance(moment, str):
        return moment
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
