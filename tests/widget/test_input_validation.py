"""TESTPLAN W-4: the input validation matrix of the widget's conversation endpoints.

Unknown fields (mass assignment, ASVS 15.3.3), wrong types, answers for a card that is not the one
awaiting the visitor (ASVS 2.3.1, logged per ASVS 16.3.3), e-mail > 254, name > 200, free text >
4,000, invalid UTF-8, NUL bytes and nesting deeper than 10: each is a 400 or 422 with a stable
code, never a 5xx, and changes nothing.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from dialogues.models import Conversation, ConversationEvent, DialogueVersion, Visitor
from dynchat.models import Site
from tests.conftest import ALLOWED_ORIGIN
from tests.dialogues.test_conversations import (
    PAGE,
    VISITOR,
    custom_field,  # noqa: F401 (an autouse fixture: the flow's custom lead field)
    publish,
)
from tests.widget.test_conversation_api import send, started

START = reverse("widget:conversations")


def nested(levels: int) -> Any:
    """A string inside ``levels`` arrays."""
    value: Any = "deep"
    for _ in range(levels):
        value = [value]
    return value


@pytest.fixture
def version(site: Site) -> DialogueVersion:
    return publish(site)


def good_start(site: Site, version: DialogueVersion) -> dict[str, Any]:
    return {"site": site.key, "visitor": VISITOR, "version": version.pk, "url": PAGE}


START_CASES: list[tuple[str, Any, str]] = [
    ("unknown field", {"lead_id": 1}, "invalid_request"),
    ("unknown nested field", {"url": {"href": PAGE}}, "invalid_request"),
    ("version as text", {"version": "1"}, "invalid_request"),
    ("version as float", {"version": 1.5}, "invalid_request"),
    ("version as bool", {"version": True}, "invalid_request"),
    ("version too big", {"version": 2**64}, "invalid_request"),
    ("visitor as number", {"visitor": 1234567890123456789}, "invalid_request"),
    ("visitor with symbols", {"visitor": "a" * 15 + "!"}, "invalid_request"),
    ("visitor with a final newline", {"visitor": "a" * 16 + "\n"}, "invalid_request"),
    ("site with NUL", {"site": "key\x00"}, "invalid_request"),
    ("url with NUL", {"url": "https://a.example/\x00"}, "invalid_request"),
    ("url not http", {"url": "javascript:alert(1)"}, "invalid_request"),
    ("url too long", {"url": "https://a.example/" + "x" * 2048}, "invalid_request"),
    ("cookie too long", {"mkto": "x" * 501}, "invalid_request"),
    ("nesting 11", {"mkto": nested(10)}, "invalid_json"),
]


@pytest.mark.parametrize(
    ("change", "code"), [case[1:] for case in START_CASES], ids=[case[0] for case in START_CASES]
)
def test_bad_starts_are_refused_with_a_stable_code(
    client: Client, site: Site, version: DialogueVersion, change: dict[str, Any], code: str
) -> None:
    body = json.dumps({**good_start(site, version), **change})
    response = client.post(
        START, body, content_type="application/json", headers={"Origin": ALLOWED_ORIGIN}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert not Visitor.objects.exists()
    assert not Conversation.objects.exists()


RAW_BODIES: list[tuple[str, bytes]] = [
    ("invalid utf-8", b'{"site": "\xff\xfe"}'),
    ("overlong utf-8", b'{"site": "\xc0\xaf"}'),
    ("lone surrogate", b'{"events": [], "url": "\\ud800"}'),
    ("truncated", b'{"events": ['),
    ("NaN", b'{"events": NaN}'),
    ("nesting 11", json.dumps({"a": nested(10)}).encode()),
    ("nesting 8000", b"[" * 8000 + b"]" * 8000),
]


@pytest.mark.parametrize("body", [case[1] for case in RAW_BODIES], ids=[c[0] for c in RAW_BODIES])
@pytest.mark.parametrize("route", ["start", "events"])
def test_undecodable_bodies_are_invalid_json(
    client: Client, site: Site, version: DialogueVersion, body: bytes, route: str
) -> None:
    pk, token = started(client, site, version)
    before = ConversationEvent.objects.count()
    url = START if route == "start" else reverse("widget:events", args=[pk])
    response = client.post(
        url, body, content_type="application/json", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"
    assert ConversationEvent.objects.count() == before


ANSWER = {"type": "answer", "card": "q1", "answer": "yes"}
EVENT_CASES: list[tuple[str, Any, int, str]] = [
    ("unknown top-level field", {"events": [{"seq": 1, **ANSWER}], "state": "completed"}, 400,
     "invalid_request"),
    ("unknown event field", [{"seq": 1, **ANSWER, "value": "x"}], 400, "invalid_request"),
    ("unknown event type", [{"seq": 1, "type": "completed"}], 400, "invalid_request"),
    ("seq as text", [{"seq": "1", **ANSWER}], 400, "invalid_request"),
    ("seq zero", [{"seq": 0, **ANSWER}], 400, "invalid_request"),
    ("seq too big", [{"seq": 1_000_001, **ANSWER}], 400, "invalid_request"),
    ("events not a list", {"events": {"seq": 1, **ANSWER}}, 400, "invalid_request"),
    ("no events", [], 400, "invalid_request"),
    ("51 events", [{"seq": n, "type": "opened"} for n in range(1, 52)], 400, "invalid_request"),
    ("answer id not text", [{"seq": 1, **ANSWER, "answer": ["yes"]}], 400, "invalid_request"),
    ("card id too long", [{"seq": 1, **ANSWER, "card": "c" * 33}], 400, "invalid_request"),
    ("text over 4000", [{"seq": 1, "type": "capture", "card": "q1", "value": "t" * 4001}], 400,
     "invalid_request"),
    ("honeypot over 200", [{"seq": 1, "type": "capture", "card": "q1", "value": "x",
                            "hp": "h" * 201}], 400, "invalid_request"),
    ("answer for a later card", [{"seq": 1, "type": "capture", "card": "mail",
                                  "value": "ada@example.com"}], 422, "card_not_current"),
    ("answer for an unknown card", [{"seq": 1, **ANSWER, "card": "nope"}], 422,
     "card_not_current"),
    ("NUL in the card", [{"seq": 1, **ANSWER, "card": "q1\x00"}], 422, "card_not_current"),
    ("NUL in the answer", [{"seq": 1, **ANSWER, "answer": "yes\x00"}], 422, "invalid_answer"),
    ("capture on a question", [{"seq": 1, "type": "capture", "card": "q1", "value": "yes"}], 422,
     "invalid_answer"),
    ("nesting 11", [{"seq": 1, **ANSWER, "answer": nested(8)}], 400, "invalid_json"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [case[1:] for case in EVENT_CASES],
    ids=[case[0] for case in EVENT_CASES],
)
def test_bad_events_are_refused_with_a_stable_code_and_change_nothing(
    client: Client, site: Site, version: DialogueVersion, body: Any, status: int, code: str
) -> None:
    pk, token = started(client, site, version)
    before = list(ConversationEvent.objects.values_list("pk", flat=True))
    payload = body if isinstance(body, dict) else {"events": body}
    response = client.post(
        reverse("widget:events", args=[pk]),
        json.dumps(payload),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert list(ConversationEvent.objects.values_list("pk", flat=True)) == before
    conversation = Conversation.objects.get()
    assert (conversation.card, conversation.last_seq, conversation.state) == ("q1", 0, "triggered")


CAPTURE_CASES: list[tuple[str, str, str]] = [
    ("name over 200", "name", "n" * 201),
    ("name with NUL", "name", "Ada\x00"),
    ("name with escape codes", "name", "\x1b[2J"),
    ("name blank", "name", "  \n "),
    ("email over 254", "mail", "a" * 243 + "@example.com"),
    ("email invalid", "mail", "ada@"),
    ("email with NUL", "mail", "ada@example.com\x00"),
]


@pytest.mark.parametrize(
    ("card", "value"), [case[1:] for case in CAPTURE_CASES], ids=[c[0] for c in CAPTURE_CASES]
)
def test_captured_values_the_card_refuses_are_422_invalid_value(
    client: Client, site: Site, version: DialogueVersion, card: str, value: str
) -> None:
    pk, token = started(client, site, version)
    send(client, pk, token, {"seq": 1, **ANSWER})
    if card == "mail":
        send(client, pk, token, {"seq": 2, "type": "capture", "card": "name", "value": "Ada"})
    last_seq = Conversation.objects.get().last_seq
    response = send(client, pk, token, {"seq": 9, "type": "capture", "card": card, "value": value})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_value"
    conversation = Conversation.objects.get()
    assert (conversation.card, conversation.last_seq) == (card, last_seq)
    assert Visitor.objects.get().email == ""


def test_a_skipped_step_is_refused_and_logged(
    client: Client, site: Site, version: DialogueVersion, caplog: pytest.LogCaptureFixture
) -> None:
    pk, token = started(client, site, version)
    skip = {"seq": 1, "type": "capture", "card": "co", "value": "Acme"}
    with caplog.at_level("WARNING", logger="dynchat.security"):
        response = send(client, pk, token, skip)
    assert response.status_code == 422
    records = [r for r in caplog.records if r.name == "dynchat.security"]
    assert len(records) == 1
    message = records[0].getMessage()
    assert "card_not_current" in message
    assert f"conversation={pk}" in message
    assert "awaiting=q1" in message
