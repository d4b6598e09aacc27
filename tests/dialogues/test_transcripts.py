"""Conversations in the admin: a dialogue's Conversations tab, transcripts, a lead's conversations.

The conversations are made by the widget's own services (start, events), as visitors make them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dialogues import services
from dialogues.conversations import record_events, start_conversation
from dialogues.models import Conversation, ConversationEvent, DialogueVersion, EventKind
from dynchat.models import Site
from sync.models import MarketoLead
from tests.conftest import ALLOWED_ORIGIN
from tests.dialogues.factories import TARGETING
from tests.widget.api import raised_limits

PAGE = f"{ALLOWED_ORIGIN}/pricing"
# Hello → question (demo?) → yes: goal, name, e-mail, meeting (declinable) → end; no → end.
FLOW: dict[str, Any] = {
    "version": 1,
    "start": "hello",
    "cards": {
        "hello": {"type": "message", "text": "Hi {{lead.firstName}}!", "next": "demo"},
        "demo": {
            "type": "question",
            "text": "Would you like a demo?",
            "field": None,
            "answers": [
                {"id": "yes", "label": "Yes, show me", "value": "yes", "next": "wants"},
                {"id": "no", "label": "Not now", "value": "", "next": "bye"},
            ],
        },
        "wants": {"type": "goal", "goal": "Wants a demo", "next": "name"},
        "name": {"type": "capture", "input": "text", "prompt": "Your first name?",
                 "field": "firstName", "next": "mail"},
        "mail": {"type": "capture", "input": "email", "prompt": "Your work e-mail?",
                 "field": "email", "next": "meet"},
        "meet": {"type": "meeting", "routing": "round_robin", "agent": None,
                 "text": "Pick a time with us", "next": "bye"},
        "bye": {"type": "end"},
    },
}  # fmt: skip


@pytest.fixture
def version(site: Site) -> DialogueVersion:
    dialogue = services.create_dialogue(site=site, name="Demo", flow=FLOW, targeting=TARGETING)
    return services.publish(dialogue)


def chat(
    version: DialogueVersion, visitor: str, events: list[dict[str, Any]], *, minutes_ago: int = 5
) -> Conversation:
    """A visitor's conversation started ``minutes_ago``, with the widget's ``events`` taken."""
    conversation, _ = start_conversation(
        site_id=version.dialogue.site_id, visitor_key=visitor, version_id=version.pk, url=PAGE,
        cookie="",
    )  # fmt: skip
    # Started a while ago, as people are: the lead guard drops e-mails typed faster.
    conversation.started_at = timezone.now() - timedelta(minutes=minutes_ago)
    conversation.save(update_fields=["started_at"])
    if events:
        outcome = record_events(conversation, events, url=f"{PAGE}?step=2")
        assert outcome.error is None, outcome.error
    conversation.refresh_from_db()
    return conversation


def answer(seq: int, choice: str) -> dict[str, Any]:
    return {"seq": seq, "type": "answer", "card": "demo", "answer": choice}


def capture(seq: int, card: str, value: str) -> dict[str, Any]:
    return {"seq": seq, "type": "capture", "card": card, "value": value, "hp": ""}


def full_chat(name: str = "Ada", email: str = "ada@example.com") -> list[dict[str, Any]]:
    return [
        {"seq": 1, "type": "opened"},
        answer(2, "yes"),
        capture(3, "name", name),
        capture(4, "mail", email),
        {"seq": 5, "type": "decline", "card": "meet"},
    ]


def tab(client: Client, version: DialogueVersion, **params: Any) -> str:
    url = reverse("dialogues:conversations", args=[version.dialogue_id])
    response = client.get(url, params)
    assert response.status_code == 200
    return response.content.decode()


def transcript_url(conversation: Conversation) -> str:
    return reverse("dialogues:transcript", args=[conversation.dialogue_id, conversation.pk])


def cells(html: str, text: str) -> str:
    """The table row holding ``text``."""
    return html.split(text, 1)[1].split("</tr>", 1)[0]


# The Conversations tab.


def test_the_tab_lists_the_dialogues_conversations_newest_first(
    agent_client: Client, version: DialogueVersion, site: Site
) -> None:
    chat(version, "visitor-old", full_chat(email="old@example.com"), minutes_ago=50)
    chat(version, "visitor-new", [], minutes_ago=1)
    other = services.publish(
        services.create_dialogue(site=site, name="Other", flow=FLOW, targeting=TARGETING)
    )
    chat(other, "visitor-elsewhere", full_chat(email="elsewhere@example.com"))

    html = tab(agent_client, version)
    assert 'aria-current="page">Conversations</a>' in html
    assert html.index("Anonymous visitor") < html.index("old@example.com")
    assert "elsewhere@example.com" not in html
    assert 'badge badge-ok">Completed<' in cells(html, "old@example.com")
    assert f"{PAGE}?step=2</span>" in cells(html, "old@example.com")
    assert 'class="badge">Triggered<' in cells(html, "Anonymous visitor")
    assert f"{PAGE}</span>" in cells(html, "Anonymous visitor")
    assert "2 conversations in all" in html


def test_a_dialogue_nobody_talked_to_says_what_will_be_there(
    marketer_client: Client, version: DialogueVersion
) -> None:
    html = tab(marketer_client, version)
    assert "No conversations yet" in html
    assert "<table" not in html


def test_the_tab_shows_fifty_conversations_a_page(
    marketer_client: Client, version: DialogueVersion
) -> None:
    for number in range(51):
        chat(version, f"visitor-{number:03d}", [], minutes_ago=100 - number)
    first = tab(marketer_client, version)
    assert first.count("Anonymous visitor") == 50
    assert "Page 1 of 2" in first
    second = tab(marketer_client, version, page=2)
    assert second.count("Anonymous visitor") == 1


def test_the_tab_reads_the_same_queries_for_one_conversation_or_thirty(
    marketer_client: Client, version: DialogueVersion
) -> None:
    """Guard: one query for the page's rows with their visitors, whatever their number."""
    chat(version, "visitor-first", full_chat())

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            tab(marketer_client, version)
        return len(captured)

    once = queries()
    with override_settings(RATELIMITS=raised_limits(**{"widget-lead": "100/h"})):
        for number in range(29):
            chat(version, f"visitor-{number:03d}", full_chat(email=f"v{number}@example.com"))
    assert queries() == once


# One transcript.


def test_the_transcript_shows_what_the_bot_asked_and_the_visitor_did_in_order(
    agent_client: Client, version: DialogueVersion
) -> None:
    conversation = chat(version, "visitor-ada", full_chat())
    html = agent_client.get(transcript_url(conversation)).content.decode()
    transcript = html.split('id="transcript-title"', 1)[1].split("</table>", 1)[0]
    said = [
        "Shown the dialogue on https://a.example/pricing",
        "Opened the chat",
        "Would you like a demo?",
        "Yes, show me",  # the answer's label, as the visitor saw it
        "Wants a demo",
        "Your first name?",
        "<td>Ada</td>",
        "Your work e-mail?",
        "<td>ada@example.com</td>",
        "Pick a time with us",
        "Did not book a meeting",
        "Reached the end of the dialogue",
    ]
    positions = [transcript.index(text) for text in said]
    assert positions == sorted(positions)
    goals = html.split('id="goals-title"', 1)[1].split("</section>", 1)[0]
    assert "<li>Wants a demo</li>" in goals
    fields = html.split('id="fields-title"', 1)[1].split("</section>", 1)[0]
    assert "<dt><code>email</code></dt><dd>ada@example.com</dd>" in fields
    assert "<dt><code>firstName</code></dt><dd>Ada</dd>" in fields
    assert 'badge badge-ok">Completed<' in html
    assert reverse("dialogues:version", args=[version.dialogue_id, 1]) in html


def test_an_answer_without_a_value_shows_its_label(
    marketer_client: Client, version: DialogueVersion
) -> None:
    conversation = chat(version, "visitor-no", [answer(1, "no")])
    html = marketer_client.get(transcript_url(conversation)).content.decode()
    assert "<td>Not now</td>" in html
    assert "No goal reached in this conversation." in html
    assert "The visitor has not told the chat anything about themselves." in html


def test_what_the_visitor_typed_is_shown_as_text(
    marketer_client: Client, version: DialogueVersion
) -> None:
    typed = '"><script>alert(1)</script>{{ request }}'
    conversation = chat(version, "visitor-xss", [answer(1, "yes"), capture(2, "name", typed)])
    html = marketer_client.get(transcript_url(conversation)).content.decode()
    assert "<script>alert(1)" not in html
    assert "<td>&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;{{ request }}</td>" in html


def test_a_conversation_of_another_dialogue_is_not_found_here(
    marketer_client: Client, version: DialogueVersion, site: Site
) -> None:
    other = services.publish(
        services.create_dialogue(site=site, name="Other", flow=FLOW, targeting=TARGETING)
    )
    elsewhere = chat(other, "visitor-elsewhere", [])
    url = reverse("dialogues:transcript", args=[version.dialogue_id, elsewhere.pk])
    assert marketer_client.get(url).status_code == 404


def test_a_transcript_reads_the_same_queries_however_long_the_conversation(
    marketer_client: Client, version: DialogueVersion
) -> None:
    """Guard: the conversation, then all its events in one query."""
    conversation = chat(version, "visitor-ada", [answer(1, "yes")])

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert marketer_client.get(transcript_url(conversation)).status_code == 200
        return len(captured)

    short = queries()
    more = [
        ConversationEvent(conversation=conversation, kind=kind, card="demo", value="yes")
        for _ in range(40)
        for kind in (EventKind.OPENED, EventKind.ANSWER, EventKind.GOAL, EventKind.CLOSED)
    ]
    ConversationEvent.objects.bulk_create(more)
    assert queries() == short


def test_a_marketer_reaches_the_visitors_lead_from_the_transcript(
    marketer_client: Client, agent_client: Client, version: DialogueVersion
) -> None:
    MarketoLead.objects.create(id=4242, email="ada@example.com", first_name="Ada")
    conversation = chat(version, "visitor-ada", full_chat())
    lead_url = reverse("sync:lead-detail", args=[4242])
    assert lead_url in marketer_client.get(transcript_url(conversation)).content.decode()
    # Agents read transcripts but not the lead pages.
    assert lead_url not in agent_client.get(transcript_url(conversation)).content.decode()


# A lead's conversations.


def test_the_lead_page_links_its_conversations(marketer_client: Client) -> None:
    MarketoLead.objects.create(id=4242, email="ada@example.com")
    html = marketer_client.get(reverse("sync:lead-detail", args=[4242])).content.decode()
    assert reverse("dialogues:lead-conversations", args=[4242]) in html


def test_a_leads_conversations_are_those_resolved_to_it_or_typing_its_email(
    marketer_client: Client, version: DialogueVersion, site: Site
) -> None:
    known = chat(version, "visitor-known", full_chat(email="ada@example.com"))  # no lead yet
    MarketoLead.objects.create(id=4242, email="Ada@Example.com")
    resolved = chat(version, "visitor-resolved", full_chat(email="ADA@example.com"))
    assert resolved.visitor.lead_id == 4242
    chat(version, "visitor-other", full_chat(email="grace@example.com"))
    other = services.publish(
        services.create_dialogue(site=site, name="Pricing help", flow=FLOW, targeting=TARGETING)
    )
    chat(other, "visitor-known", [])

    url = reverse("dialogues:lead-conversations", args=[4242])
    html = marketer_client.get(url).content.decode()
    for conversation in (known, resolved):
        assert transcript_url(conversation) in html
    assert "grace@example.com" not in html
    assert ">Pricing help</a>" in html
    assert html.count("<tr>") == 1 + 3


def test_a_lead_without_conversations_says_so(marketer_client: Client) -> None:
    MarketoLead.objects.create(id=4242, email="ada@example.com")
    html = marketer_client.get(reverse("dialogues:lead-conversations", args=[4242])).content
    assert b"No conversations in chat" in html


def test_agents_may_not_list_a_leads_conversations(agent_client: Client) -> None:
    MarketoLead.objects.create(id=4242, email="ada@example.com")
    url = reverse("dialogues:lead-conversations", args=[4242])
    assert agent_client.get(url).status_code == 403
