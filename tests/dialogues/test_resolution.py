"""Every case of the original's chatbot resolution behaviour (reference/dynamic-chat.md §18),
played through the public widget API as the widget plays it: decide on each page view, start
the conversation when the trigger fires, post answers. Counts: triggered = `triggered` events,
engaged and completed = conversations that reached those states.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from dialogues import services
from dialogues.models import Conversation, ConversationEvent, Dialogue, EventKind
from dynchat.models import Site
from tests.conftest import ALLOWED_ORIGIN

WP1 = f"{ALLOWED_ORIGIN}/pricing"
WP2 = f"{ALLOWED_ORIGIN}/blog"
V1 = "visitor-one-0000000000"


def flow(greeting: str = "Hi!") -> dict[str, Any]:
    """hi → q1 (Yes → q2, No → end); q2 (OK → end). Answering q1 "Yes" engages; q2 completes."""
    return {
        "version": 1,
        "start": "hi",
        "cards": {
            "hi": {"type": "message", "text": greeting, "next": "q1"},
            "q1": {
                "type": "question",
                "text": "Questions?",
                "answers": [
                    {"id": "yes", "label": "Yes", "value": "yes", "next": "q2"},
                    {"id": "no", "label": "No", "value": "no", "next": "end"},
                ],
            },
            "q2": {
                "type": "question",
                "text": "Sure?",
                "answers": [{"id": "ok", "label": "OK", "value": "ok", "next": "end"}],
            },
            "end": {"type": "end"},
        },
    }


def published(
    site: Site,
    name: str,
    pages: list[str],
    priority: int = 1,
    trigger: dict[str, Any] | None = None,
) -> Dialogue:
    dialogue = services.create_dialogue(
        site=site,
        name=name,
        priority=priority,
        flow=flow(),
        targeting={
            "include": pages,
            "exclude": [],
            "audience": [],
            "trigger": trigger or {"kind": "immediately", "amount": 0},
        },
    )
    services.publish(dialogue)
    return dialogue


@dataclass
class Widget:
    """The browser of one visitor: what the loader and the chat frame send."""

    client: Client
    site: Site
    visitor: str = V1
    token: str = ""
    conversation: int = 0
    seq: int = 0

    def view(self, url: str) -> dict[str, Any]:
        """A page view: the loader asks what to show."""
        response = self.client.get(
            reverse("widget:decide"),
            {"site": self.site.key, "url": url, "visitor": self.visitor},
            headers={"Origin": ALLOWED_ORIGIN},
        )
        assert response.status_code == 200, response.content
        return response.json()  # type: ignore[no-any-return]

    def show(self, url: str) -> dict[str, Any]:
        """A page view whose trigger fires: the conversation starts (or resumes)."""
        decision = self.view(url)
        assert decision["dialogue"] is not None, decision
        response = self.client.post(
            reverse("widget:conversations"),
            {
                "site": self.site.key,
                "visitor": self.visitor,
                "version": decision["dialogue"]["version"],
                "url": url,
            },
            content_type="application/json",
            headers={"Origin": ALLOWED_ORIGIN},
        )
        assert response.status_code in (200, 201), response.content
        body = response.json()
        self.token, self.conversation = body["token"], body["conversation"]["id"]
        return body["conversation"]  # type: ignore[no-any-return]

    def send(self, *events: dict[str, Any]) -> dict[str, Any]:
        numbered = []
        for event in events:
            self.seq += 1
            numbered.append({"seq": self.seq, **event})
        response = self.client.post(
            reverse("widget:events", args=[self.conversation]),
            {"events": numbered},
            content_type="application/json",
            headers={"Origin": ALLOWED_ORIGIN, "Authorization": f"Bearer {self.token}"},
        )
        assert response.status_code == 202, response.content
        return response.json()["conversation"]  # type: ignore[no-any-return]

    def answer(self, card: str, answer: str) -> dict[str, Any]:
        return self.send({"type": "answer", "card": card, "answer": answer})


def counts(dialogue: Dialogue) -> tuple[int, int, int]:
    """(triggered, engaged, completed) as reports count them."""
    conversations = Conversation.objects.filter(dialogue=dialogue)
    triggered = ConversationEvent.objects.filter(
        conversation__dialogue=dialogue, kind=EventKind.TRIGGERED
    ).count()
    engaged = conversations.exclude(engaged_at=None).count()
    completed = conversations.exclude(completed_at=None).count()
    return triggered, engaged, completed


@pytest.fixture
def widget(client: Client, site: Site) -> Widget:
    return Widget(client, site)


def test_a_visit_triggers_and_a_refresh_resolves_again_without_counting(
    widget: Widget, site: Site
) -> None:
    d1 = published(site, "D1", [WP1])
    first = widget.show(WP1)
    assert counts(d1) == (1, 0, 0)
    again = widget.view(WP1)
    assert (again["dialogue"]["id"], again["dialogue"]["conversation"]) == (d1.pk, True)
    assert widget.show(WP1)["id"] == first["id"]
    assert counts(d1) == (1, 0, 0)


def test_opening_counts_nothing_responding_engages_and_a_refresh_continues(
    widget: Widget, site: Site
) -> None:
    d1 = published(site, "D1", [WP1])
    widget.show(WP1)
    widget.send({"type": "opened"})
    assert counts(d1) == (1, 0, 0)
    widget.answer("q1", "yes")
    assert counts(d1) == (1, 1, 0)
    assert widget.view(WP1)["outcome"] == "continue"
    resumed = widget.show(WP1)
    assert (resumed["state"], resumed["card"]) == ("engaged", "q2")
    assert counts(d1) == (1, 1, 0)


def test_completing_counts_once_and_then_nothing_or_the_next_dialogue_shows(
    widget: Widget, site: Site
) -> None:
    d1 = published(site, "D1", [WP1])
    widget.show(WP1)
    widget.answer("q1", "yes")
    done = widget.answer("q2", "ok")
    assert (done["state"], done["card"]) == ("completed", None)
    assert counts(d1) == (1, 1, 1)
    assert widget.view(WP1)["dialogue"] is None
    d2 = published(site, "D2", [WP1], priority=2)
    assert widget.view(WP1)["dialogue"]["id"] == d2.pk


def test_an_engaged_dialogue_on_two_pages_continues_on_the_second_without_counts(
    widget: Widget, site: Site
) -> None:
    d1 = published(site, "D1", [WP1, WP2])
    widget.show(WP1)
    widget.answer("q1", "yes")
    decision = widget.view(WP2)
    assert (decision["outcome"], decision["dialogue"]["id"]) == ("continue", d1.pk)
    assert widget.show(WP2)["card"] == "q2"
    assert counts(d1) == (1, 1, 0)


def test_engaged_in_d1_it_continues_on_d2s_page_and_d2_is_not_triggered(
    widget: Widget, site: Site
) -> None:
    d1 = published(site, "D1", [WP1])
    d2 = published(site, "D2", [WP2])
    widget.show(WP1)
    widget.answer("q1", "yes")
    assert widget.view(WP2)["dialogue"]["id"] == d1.pk
    widget.show(WP2)
    assert counts(d2) == (0, 0, 0)


def test_not_engaged_in_d1_d2_triggers_on_its_page(widget: Widget, site: Site) -> None:
    d1 = published(site, "D1", [WP1])
    d2 = published(site, "D2", [WP2])
    widget.show(WP1)
    assert widget.view(WP2)["dialogue"]["id"] == d2.pk
    widget.show(WP2)
    assert (counts(d1), counts(d2)) == ((1, 0, 0), (1, 0, 0))


def test_completed_d1_d2_triggers_on_its_page(widget: Widget, site: Site) -> None:
    published(site, "D1", [WP1])
    d2 = published(site, "D2", [WP2])
    widget.show(WP1)
    widget.answer("q1", "no")
    widget.show(WP2)
    assert counts(d2) == (1, 0, 0)


def test_unpublished_before_engaging_the_refresh_shows_nothing_or_the_lower_priority_one(
    widget: Widget, site: Site
) -> None:
    d1 = published(site, "D1", [WP1])
    widget.show(WP1)
    services.unpublish(d1)
    assert widget.view(WP1)["dialogue"] is None
    d2 = published(site, "D2", [WP1], priority=2)
    widget.show(WP1)
    assert widget.conversation != Conversation.objects.get(dialogue=d1).pk
    assert counts(d2) == (1, 0, 0)


def test_unpublished_after_engaging_the_dialogue_continues(widget: Widget, site: Site) -> None:
    d1 = published(site, "D1", [WP1])
    widget.show(WP1)
    widget.answer("q1", "yes")
    services.unpublish(d1)
    assert widget.view(WP1)["outcome"] == "continue"
    widget.show(WP1)
    assert widget.answer("q2", "ok")["state"] == "completed"


def test_republished_the_unengaged_get_the_new_version_and_the_engaged_keep_the_old(
    client: Client, site: Site
) -> None:
    d1 = published(site, "D1", [WP1])
    old = d1.versions.get().pk
    engaged = Widget(client, site, visitor="visitor-engaged-000000")
    engaged.show(WP1)
    engaged.answer("q1", "yes")
    waiting = Widget(client, site, visitor="visitor-waiting-000000")
    waiting.show(WP1)
    services.save_flow(d1, flow("Hello, new version!"))
    new = services.publish(d1).pk
    assert waiting.view(WP1)["dialogue"]["version"] == new
    assert waiting.show(WP1)["version"] == new
    assert engaged.view(WP1)["dialogue"]["version"] == old
    assert engaged.show(WP1)["version"] == old
    assert counts(d1) == (2, 1, 0)


def test_completed_dialogues_never_show_again_even_when_republished(
    widget: Widget, site: Site
) -> None:
    d1 = published(site, "D1", [WP1])
    d2 = published(site, "D2", [WP1], priority=2)
    for _ in (d1, d2):
        widget.show(WP1)
        widget.answer("q1", "no")
    for dialogue in (d1, d2):
        services.save_flow(dialogue, flow("Changed"))
        services.publish(dialogue)
    assert widget.view(WP1)["dialogue"] is None


def test_an_event_trigger_resolves_on_load_counts_when_met_and_shows_at_once_on_return(
    widget: Widget, site: Site
) -> None:
    d1 = published(site, "D1", [WP1], trigger={"kind": "time_on_site", "amount": 30})
    decision = widget.view(WP1)
    assert decision["dialogue"]["trigger"] == {"kind": "time_on_site", "amount": 30}
    assert counts(d1) == (0, 0, 0)  # resolved, not yet triggered
    widget.show(WP1)  # the loader saw 30 s on the site
    assert counts(d1) == (1, 0, 0)
    back = widget.view(WP1)  # another day
    assert back["dialogue"]["trigger"] == {"kind": "immediately", "amount": 0}
    assert counts(d1) == (1, 0, 0)
