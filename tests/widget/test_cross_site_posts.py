"""TESTPLAN W-8 (widget part): cross-site posts change nothing (ASVS 3.5.1 to 3.5.3).

A form or ``text/plain`` post (CORS-safelisted, so a hostile page could send it without a
preflight) gets 415; a post without the conversation token 401; with another conversation's
token 403; a GET on a POST route 405. The database is the same before and after each.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from dialogues.models import Conversation, ConversationEvent, DialogueVersion, Visitor
from dynchat.models import Site
from sync.models import OutboxMessage
from tests.conftest import ALLOWED_ORIGIN
from tests.dialogues.test_conversations import (
    PAGE,
    custom_field,  # noqa: F401 (an autouse fixture: the flow's custom lead field)
    publish,
)
from tests.widget.test_conversation_api import started

OTHER_VISITOR = "visitor-ffffffffffffffff"


def snapshot() -> tuple[Any, ...]:
    """Everything a widget request could change."""
    return (
        list(Visitor.objects.order_by("pk").values()),
        list(Conversation.objects.order_by("pk").values()),
        list(ConversationEvent.objects.order_by("pk").values()),
        OutboxMessage.objects.count(),
    )


@pytest.fixture
def setup(client: Client, site: Site) -> dict[str, Any]:
    version: DialogueVersion = publish(site)
    pk, token = started(client, site, version)
    other = client.post(
        reverse("widget:conversations"),
        {"site": site.key, "visitor": OTHER_VISITOR, "version": version.pk, "url": PAGE},
        content_type="application/json",
    ).json()
    return {
        "pk": pk,
        "token": token,
        "other_token": other["token"],
        "start": {"site": site.key, "visitor": OTHER_VISITOR + "x", "version": version.pk,
                  "url": PAGE},
        "answer": {"events": [{"seq": 1, "type": "answer", "card": "q1", "answer": "yes"}]},
    }  # fmt: skip


def start_url(setup: dict[str, Any]) -> str:
    return reverse("widget:conversations")


def events_url(setup: dict[str, Any]) -> str:
    return reverse("widget:events", args=[setup["pk"]])


ROUTES: dict[str, tuple[Callable[[dict[str, Any]], str], str]] = {
    "start": (start_url, "start"),
    "events": (events_url, "answer"),
}


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x"])  # fmt: skip
@pytest.mark.parametrize("route", ROUTES)
def test_safelisted_content_types_are_refused_with_415(
    client: Client, setup: dict[str, Any], route: str, content_type: str
) -> None:
    url_of, body = ROUTES[route]
    before = snapshot()
    response = client.post(
        url_of(setup),
        json.dumps(setup[body]),
        content_type=content_type,
        headers={"Origin": "https://evil.test", "Authorization": f"Bearer {setup['token']}"},
    )
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
    assert "Access-Control-Allow-Origin" not in response
    assert snapshot() == before


def test_events_without_the_token_are_401(client: Client, setup: dict[str, Any]) -> None:
    before = snapshot()
    response = client.post(
        events_url(setup),
        json.dumps(setup["answer"]),
        content_type="application/json",
        headers={"Origin": ALLOWED_ORIGIN},
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_missing"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert snapshot() == before


def test_the_token_is_not_taken_from_a_cookie_or_the_url(
    client: Client, setup: dict[str, Any]
) -> None:
    before = snapshot()
    client.cookies["token"] = setup["token"]
    response = client.post(
        f"{events_url(setup)}?token={setup['token']}",
        json.dumps(setup["answer"]),
        content_type="application/json",
    )
    assert response.status_code == 401
    assert snapshot() == before


def test_events_with_another_conversations_token_are_403(
    client: Client, setup: dict[str, Any]
) -> None:
    before = snapshot()
    response = client.post(
        events_url(setup),
        json.dumps(setup["answer"]),
        content_type="application/json",
        headers={"Authorization": f"Bearer {setup['other_token']}"},
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "token_mismatch"
    assert snapshot() == before


@pytest.mark.parametrize("route", ROUTES)
def test_a_get_on_a_post_route_is_405(client: Client, setup: dict[str, Any], route: str) -> None:
    url_of, body = ROUTES[route]
    before = snapshot()
    query = {key: json.dumps(value) for key, value in setup[body].items()}
    response = client.get(
        url_of(setup), query, headers={"Authorization": f"Bearer {setup['token']}"}
    )
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert "POST" in response["Allow"]
    assert snapshot() == before


def test_a_post_on_the_read_route_is_405(client: Client, setup: dict[str, Any]) -> None:
    before = snapshot()
    response = client.post(
        reverse("widget:conversation", args=[setup["pk"]]),
        json.dumps(setup["answer"]),
        content_type="application/json",
        headers={"Authorization": f"Bearer {setup['token']}"},
    )
    assert response.status_code == 405
    assert snapshot() == before
