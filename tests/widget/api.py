"""The widget API as the widget calls it, for the abuse tests (W-3, W-5, W-10, W-11): a published
dialogue with an e-mail capture, starting a conversation, sending its events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.test import Client
from django.urls import reverse

from dialogues.models import DialogueVersion, default_targeting
from dialogues.services import create_dialogue, publish
from dynchat.models import Site
from tests.conftest import ALLOWED_ORIGIN

# The start of a ten-minute window, so a run never straddles two (the breaker's window slides,
# the per-address limits are fixed windows).
T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
PAGE = f"{ALLOWED_ORIGIN}/pricing"
CAPTURE_FLOW: dict[str, Any] = {
    "version": 1,
    "start": "hello",
    "cards": {
        "hello": {"type": "message", "text": "Hi! Shall we keep in touch?", "next": "email"},
        "email": {
            "type": "capture",
            "input": "email",
            "prompt": "Your e-mail?",
            "placeholder": "you@example.com",
            "field": "email",
            "skip_if_known": False,
            "overwrite": False,
            "next": "bye",
        },
        "bye": {"type": "end"},
    },
}


def published(site: Site, flow: dict[str, Any] = CAPTURE_FLOW) -> DialogueVersion:
    """A published dialogue on every page of the site; its live version."""
    dialogue = create_dialogue(
        site=site,
        name="Keep in touch",
        flow=flow,
        targeting={**default_targeting(), "include": [f"{ALLOWED_ORIGIN}/*"]},
    )
    return publish(dialogue)


def visitor_key(number: int) -> str:
    return f"visitor-{number:010d}"


def start(
    client: Client,
    version: DialogueVersion,
    visitor: str,
    *,
    ip: str = "192.0.2.1",
    url: str = PAGE,
    **extra: Any,
) -> Any:
    """POST /conversations as the widget on the allowed origin does (from ``url``)."""
    body = {"site": version.dialogue.site.key, "visitor": visitor, "version": version.pk}
    return client.post(
        reverse("widget:conversations"),
        {**body, "url": url},
        content_type="application/json",
        headers={"Origin": ALLOWED_ORIGIN},
        REMOTE_ADDR=ip,
        **extra,
    )


def send(
    client: Client,
    started: Any,
    events: list[dict[str, Any]],
    *,
    ip: str = "192.0.2.1",
    **extra: Any,
) -> Any:
    """POST events to the conversation a start response returned, with its token."""
    conversation = started.json()["conversation"]["id"]
    return client.post(
        reverse("widget:events", kwargs={"conversation_id": conversation}),
        {"events": events},
        content_type="application/json",
        headers={"Origin": ALLOWED_ORIGIN, "Authorization": f"Bearer {started.json()['token']}"},
        REMOTE_ADDR=ip,
        **extra,
    )


def capture(
    value: str, *, seq: int = 1, card: str = "email", hp: str | None = None
) -> dict[str, Any]:
    event: dict[str, Any] = {"seq": seq, "type": "capture", "card": card, "value": value}
    if hp is not None:
        event["hp"] = hp
    return event


def raised_limits(**rates: str) -> dict[str, str]:
    """Every rate limit as configured, with ``rates`` instead for the scopes they name."""
    return {**settings.RATELIMITS, **rates}
