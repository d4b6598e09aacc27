"""Template syntax in content travels through the widget API as plain text (W-3, API side).

Marketer texts and visitor answers holding ``{{ request }}``, ``{% debug %}`` or ``${7*7}`` come
back exactly as written: no template engine ever sees them (ASVS 1.3.7).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from dialogues.models import DialogueVersion
from dialogues.services import PublishRefused, create_dialogue, publish
from dynchat.models import Site
from tests.widget.api import T0, capture, published, send, start, visitor_key

DJANGO = "{{ request }}"
DEBUG = "{% debug %}"
EXPRESSION = "${7*7}"
ALL = f"{DJANGO} {DEBUG} {EXPRESSION}"
EVALUATED = ("WSGIRequest", "sql_queries", "<WSGIRequest", "{&#x27;")
# Validation refuses ``{{ … }}`` that is no personalisation token in bot texts (a separate
# defence), so here it sits where no token is looked for: answer values, options, goal names.
FLOW: dict[str, Any] = {
    "version": 1,
    "start": "hello",
    "cards": {
        "hello": {"type": "message", "text": f"Hello {DEBUG} {EXPRESSION}", "next": "ask"},
        "ask": {
            "type": "question",
            "text": f"Pick {EXPRESSION}",
            "field": None,
            "answers": [{"id": "a1", "label": f"Yes {DEBUG}", "value": DJANGO, "next": "note"}],
        },
        "note": {
            "type": "capture",
            "input": "text",
            "prompt": f"Tell us {DEBUG}",
            "placeholder": EXPRESSION,
            "field": "company",
            "skip_if_known": False,
            "overwrite": False,
            "next": "email",
        },
        "email": {
            "type": "capture",
            "input": "email",
            "prompt": f"E-mail {EXPRESSION}?",
            "placeholder": "",
            "field": "email",
            "skip_if_known": False,
            "overwrite": False,
            "next": "goal",
        },
        "goal": {"type": "goal", "goal": f"Goal {DJANGO}", "next": "bye"},
        "bye": {"type": "end"},
    },
}
TEMPLATED_EMAIL = "{{request}}@example.com"  # a valid address: braces are allowed before the @


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def fetch_version(client: Client, version: DialogueVersion) -> Any:
    url = reverse("widget:version", kwargs={"version_id": version.pk})
    response = client.get(url, {"site": version.dialogue.site.key})
    assert response.status_code == 200
    return response


def test_bot_texts_come_back_from_the_versions_endpoint_verbatim(
    client: Client, site: Site
) -> None:
    version = published(site, FLOW)
    response = fetch_version(client, version)
    assert response.json()["flow"] == FLOW
    for evaluated in EVALUATED:
        assert evaluated not in response.content.decode()


def test_a_version_holding_any_template_syntax_in_its_texts_is_served_as_data(
    client: Client, site: Site
) -> None:
    """Even ``{{ request }}`` in a bot text, which publishing refuses, is no template here."""
    flow = {
        "version": 1,
        "start": "hello",
        "cards": {"hello": {"type": "message", "text": ALL, "next": None}},
    }
    dialogue = create_dialogue(site=site, name="Raw")
    with pytest.raises(PublishRefused):
        publish(create_dialogue(site=site, name="Refused", flow=flow))
    version = DialogueVersion.objects.create(
        dialogue=dialogue, number=1, flow=flow, targeting=dialogue.targeting, priority=1
    )
    response = fetch_version(client, version)
    assert response.json()["flow"]["cards"]["hello"]["text"] == ALL


def test_visitor_answers_come_back_in_the_transcript_verbatim(
    client: Client, site: Site, clock: time_machine.Traveller
) -> None:
    version = published(site, FLOW)
    started = start(client, version, visitor_key(1))
    assert started.status_code == 201
    clock.shift(timedelta(seconds=30))
    events = [
        {"seq": 1, "type": "answer", "card": "ask", "answer": "a1"},
        capture(ALL, seq=2, card="note"),
        capture(TEMPLATED_EMAIL, seq=3, card="email", hp=""),
    ]
    response = send(client, started, events)
    assert response.status_code == 202, response.content
    for evaluated in EVALUATED:
        assert evaluated not in response.content.decode()

    # What the widget reads when it reloads the conversation.
    again = client.get(
        reverse(
            "widget:conversation", kwargs={"conversation_id": started.json()["conversation"]["id"]}
        ),
        headers={"Authorization": f"Bearer {started.json()['token']}"},
    )
    assert again.status_code == 200
    state = again.json()["conversation"]
    assert [(item["card"], item["value"]) for item in state["transcript"]] == [
        ("ask", DJANGO),
        ("note", ALL),
        ("email", TEMPLATED_EMAIL),
    ]
    assert state["goals"] == [f"Goal {DJANGO}"]
    # What the visitor typed is what token rendering gets, unevaluated.
    assert state["lead"]["lead"].get("company", ALL) == ALL
    assert state["state"] == "completed"
    for evaluated in EVALUATED:
        assert evaluated not in again.content.decode()
