"""Conversation services: start, resume, republishing, events, goals, completion, Marketo outbox.

Covers reference §18 (one conversation per dialogue; engaged keeps its version, unengaged moves;
completed never again) and the field mapping of §2 (overwrite / skip when known).
"""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from dialogues import services
from dialogues.conversations import record_events, start_conversation
from dialogues.models import (
    Conversation,
    ConversationState,
    DialogueVersion,
    EventKind,
    Visitor,
)
from dialogues.runtime import Refused
from dialogues.states import state
from dynchat.models import Site
from sync.models import AttributeObject, MarketoLead, OutboxKind, OutboxMessage, SyncedAttribute

VISITOR = "visitor-0123456789abcdef"
PAGE = "https://a.example/pricing"
COOKIE = "id:123-ABC-456&token:_mch-a.example-1700000000000-12345"
TARGETING = {"include": ["https://a.example/*"], "exclude": [], "audience": [],
             "trigger": {"kind": "immediately", "amount": 0}}  # fmt: skip


def _capture(input: str, field: str, next: str, **extra: Any) -> dict[str, Any]:
    return {"type": "capture", "input": input, "prompt": "?", "field": field, "next": next, **extra}


ACME = {"attribute": "lead.company", "operator": "is", "value": "Acme"}
# Hi → demo? (no → bye) → goal Interested → name (skip if known) → e-mail (skip if known) →
# company → branch: company Acme → meeting; otherwise → goal Finished → end.
CARDS: dict[str, Any] = {
    "c1": {"type": "message", "text": 'Hi {{lead.firstName:"there"}}', "next": "q1"},
    "q1": {"type": "question", "text": "Want a demo?", "field": "demoWanted", "answers": [
        {"id": "yes", "label": "Yes", "value": "Yes please", "next": "g1"},
        {"id": "no", "label": "No", "value": "no", "next": "bye"},
    ]},
    "g1": {"type": "goal", "goal": "Interested", "next": "name"},
    "name": _capture("text", "firstName", "mail", skip_if_known=True),
    "mail": _capture("email", "email", "co", skip_if_known=True),
    "co": _capture("text", "company", "br"),
    "br": {"type": "branch", "rules": [{"match": "all", "conditions": [ACME], "next": "meet"}],
           "otherwise": "g2"},
    "meet": {"type": "meeting", "routing": "round_robin", "agent": None, "text": "Book",
             "next": "g2"},
    "g2": {"type": "goal", "goal": "Finished", "next": "done"},
    "done": {"type": "end"},
    "bye": {"type": "end"},
}  # fmt: skip


@pytest.fixture(autouse=True)
def custom_field(db: None) -> None:
    SyncedAttribute.objects.create(
        object=AttributeObject.PERSON, name="demoWanted", display_name="Demo", data_type="string"
    )


Started = tuple[Conversation, bool]


def publish(
    site: Site, cards: dict[str, Any] | None = None, *, start: str = "c1", name: str = "Demo"
) -> DialogueVersion:
    """A published dialogue of ``site`` with these cards (the standard flow by default)."""
    flow = {"version": 1, "start": start, "cards": copy.deepcopy(cards or CARDS)}
    dialogue = services.create_dialogue(site=site, name=name, flow=flow, targeting=TARGETING)
    return services.publish(dialogue)


def republish(version: DialogueVersion, text: str) -> DialogueVersion:
    flow = copy.deepcopy(version.dialogue.flow)
    flow["cards"]["c1"]["text"] = text
    return services.publish(services.save_flow(version.dialogue, flow))


def start(version: DialogueVersion, visitor: str = VISITOR, cookie: str = "") -> Started:
    site_id = version.dialogue.site_id
    return start_conversation(
        site_id=site_id, visitor_key=visitor, version_id=version.pk, url=PAGE, cookie=cookie
    )


def started(version: DialogueVersion, visitor: str = VISITOR) -> Conversation:
    """A conversation started a minute ago (the lead guard drops captures faster than a person)."""
    conversation, _ = start(version, visitor)
    conversation.started_at = timezone.now() - timedelta(minutes=1)
    conversation.save(update_fields=["started_at"])
    return conversation


def answer(seq: int, card: str, answer: str) -> dict[str, Any]:
    return {"seq": seq, "type": "answer", "card": card, "answer": answer}


def capture(seq: int, card: str, value: str, **extra: str) -> dict[str, Any]:
    return {"seq": seq, "type": "capture", "card": card, "value": value, **extra}


def send(conversation: Conversation, *events: dict[str, Any]) -> Any:
    return record_events(conversation, list(events), url=PAGE, client_ip="192.0.2.1")


def kinds(conversation: Conversation) -> list[str]:
    return list(conversation.events.values_list("kind", flat=True))


def outbox_keys() -> set[str]:
    return {key for key in OutboxMessage.objects.values_list("key", flat=True) if key}


def test_a_new_conversation_is_triggered_and_waits_at_the_first_question(site: Site) -> None:
    version = publish(site)
    conversation, created = start(version)
    assert created
    assert conversation.state == ConversationState.TRIGGERED
    assert conversation.card == "q1"
    assert conversation.version == version
    assert kinds(conversation) == [EventKind.TRIGGERED]


def test_the_visitor_is_created_with_the_munchkin_token_and_its_lead(site: Site) -> None:
    lead = MarketoLead.objects.create(
        id=7, email="ada@example.com", cookies=["_mch-a.example-1700000000000-12345"]
    )
    start(publish(site), cookie=COOKIE)
    visitor = Visitor.objects.get(site=site, key=VISITOR)
    assert visitor.munchkin_cookie == "_mch-a.example-1700000000000-12345"
    assert visitor.lead_id == lead.id


def test_starting_again_resumes_without_a_new_trigger(site: Site) -> None:
    version = publish(site)
    first, _ = start(version)
    again, created = start(version)
    assert not created
    assert again.pk == first.pk
    assert kinds(again) == [EventKind.TRIGGERED]


def test_a_triggered_visitor_moves_to_the_republished_version(site: Site) -> None:
    old = publish(site)
    conversation, _ = start(old)
    new = republish(old, "Hello again")
    moved, created = start(new)
    assert not created
    assert moved.pk == conversation.pk
    assert moved.version == new
    assert moved.card == "q1"
    assert kinds(moved) == [EventKind.TRIGGERED]
    with pytest.raises(Refused) as refused:
        start(old)
    assert refused.value.code == "version_not_offered"


def test_an_engaged_visitor_keeps_the_version_they_started(site: Site) -> None:
    old = publish(site)
    conversation = started(old)
    send(conversation, answer(1, "q1", "yes"))
    new = republish(old, "Hello again")
    kept, created = start(new)
    assert not created
    assert kept.version == old
    assert kept.state == ConversationState.ENGAGED


def test_a_completed_dialogue_does_not_start_again(site: Site) -> None:
    version = publish(site)
    send(started(version), answer(1, "q1", "no"))
    with pytest.raises(Refused) as refused:
        start(republish(version, "Back?"))
    assert refused.value.code == "dialogue_completed"


def test_another_sites_version_is_not_found(site: Site) -> None:
    other = publish(Site.objects.create(name="B", allowed_origins=["https://b.example"]))
    with pytest.raises(Refused) as refused:
        start_conversation(
            site_id=site.pk, visitor_key=VISITOR, version_id=other.pk, url=PAGE, cookie=""
        )
    assert refused.value.code == "version_not_found"


def test_an_unpublished_dialogue_is_not_offered_to_new_visitors(site: Site) -> None:
    version = publish(site)
    services.unpublish(version.dialogue)
    with pytest.raises(Refused) as refused:
        start(version)
    assert refused.value.code == "version_not_offered"
    assert not Conversation.objects.exists()


def test_a_flow_that_asks_nothing_completes_at_once(site: Site) -> None:
    cards = {
        "c1": {"type": "message", "text": "Hi", "next": "g"},
        "g": {"type": "goal", "goal": "Seen", "next": "e"},
        "e": {"type": "end"},
    }
    conversation, _ = start(publish(site, cards))
    assert conversation.state == ConversationState.COMPLETED
    assert conversation.card == ""
    assert conversation.completed_at is not None
    assert kinds(conversation) == [EventKind.TRIGGERED, EventKind.GOAL, EventKind.COMPLETED]


def test_an_answer_engages_reaches_goals_and_stores_the_mapped_field(site: Site) -> None:
    conversation = started(publish(site))
    outcome = send(conversation, {"seq": 1, "type": "opened"}, answer(2, "q1", "yes"))
    assert outcome.accepted == 2
    assert outcome.error is None
    conversation.refresh_from_db()
    assert conversation.state == ConversationState.ENGAGED
    assert conversation.engaged_at is not None
    assert conversation.card == "name"
    assert conversation.last_seq == 2
    events = list(conversation.events.values_list("kind", "card", "value"))
    assert events[1:] == [
        (EventKind.OPENED, "", ""),
        (EventKind.ANSWER, "q1", "Yes please"),
        (EventKind.GOAL, "g1", "Interested"),
    ]
    assert Visitor.objects.get().fields == {"demoWanted": "Yes please"}
    assert not OutboxMessage.objects.exists()  # nobody to tell Marketo about yet


def test_repeated_events_are_skipped(site: Site) -> None:
    conversation = started(publish(site))
    send(conversation, answer(1, "q1", "yes"))
    outcome = send(conversation, answer(1, "q1", "yes"), capture(2, "name", "Ada"))
    assert outcome.accepted == 1
    assert outcome.error is None
    assert kinds(conversation).count(EventKind.ANSWER) == 1
    assert Conversation.objects.get().card == "mail"


def test_an_email_identifies_the_visitor_and_queues_the_lead_and_activities(site: Site) -> None:
    lead = MarketoLead.objects.create(id=42, email="ada@example.com")
    conversation = started(publish(site))
    send(conversation, answer(1, "q1", "yes"), capture(2, "name", "Ada"))
    outcome = send(conversation, capture(3, "mail", "Ada@Example.com"), capture(4, "co", "Zeta"))
    assert outcome.accepted == 2
    visitor = Visitor.objects.get()
    assert visitor.lead_id == lead.id
    assert visitor.email == "Ada@Example.com"
    pk = conversation.pk
    keys = ["lead:4", "engaged", "goal:Interested", "goal:Finished", "field:4"]
    assert outbox_keys() == {f"conversation:{pk}:{key}" for key in keys}
    push = OutboxMessage.objects.get(kind=OutboxKind.PUSH_LEAD)
    assert push.email == "ada@example.com"
    assert push.payload["fields"] == {
        "demoWanted": "Yes please",
        "firstName": "Ada",
        "company": "Zeta",
        "email": "Ada@Example.com",
    }
    engaged = OutboxMessage.objects.get(key=f"conversation:{pk}:engaged")
    assert engaged.payload["attributes"] == {"pageUrl": PAGE, "status": "Completed"}


def test_the_branch_reads_what_the_visitor_just_told(site: Site) -> None:
    conversation = started(publish(site))
    told = [capture(2, "name", "Ada"), capture(3, "mail", "a@b.example"), capture(4, "co", "Acme")]
    send(conversation, answer(1, "q1", "yes"), *told)
    conversation.refresh_from_db()
    assert conversation.card == "meet"
    send(conversation, {"seq": 5, "type": "decline", "card": "meet"})
    conversation.refresh_from_db()
    assert conversation.state == ConversationState.COMPLETED
    assert conversation.card == ""
    assert conversation.completed_at is not None
    ending = [EventKind.CAPTURE, EventKind.DECLINED, EventKind.GOAL, EventKind.COMPLETED]
    assert kinds(conversation)[-4:] == ending


def test_a_known_field_is_skipped_and_not_overwritten(site: Site) -> None:
    MarketoLead.objects.create(id=5, email="ada@example.com", first_name="Ada", company_name="Old")
    Visitor.objects.create(site=site, key=VISITOR, lead_id=5, email="ada@example.com")
    conversation = started(publish(site))
    send(conversation, answer(1, "q1", "yes"))
    conversation.refresh_from_db()
    assert conversation.card == "co"  # name and e-mail are known: both skipped
    send(conversation, capture(2, "co", "New"))
    visitor = Visitor.objects.get()
    assert "company" not in visitor.fields  # the capture does not overwrite
    assert f"conversation:{conversation.pk}:lead:2" not in outbox_keys()


def test_a_capture_that_overwrites_replaces_the_known_value(site: Site) -> None:
    cards = copy.deepcopy(CARDS)
    cards["co"]["overwrite"] = True
    MarketoLead.objects.create(id=5, email="ada@example.com", first_name="Ada", company_name="Old")
    Visitor.objects.create(site=site, key=VISITOR, lead_id=5, email="ada@example.com")
    conversation = started(publish(site, cards))
    send(conversation, answer(1, "q1", "yes"), capture(2, "co", "New"))
    assert Visitor.objects.get().fields["company"] == "New"
    push = OutboxMessage.objects.get(key=f"conversation:{conversation.pk}:lead:2")
    assert push.payload["fields"]["company"] == "New"


def test_a_refused_event_keeps_the_ones_before_it_and_is_logged(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    conversation = started(publish(site))
    with caplog.at_level("WARNING", logger="dynchat.security"):
        outcome = send(conversation, answer(1, "q1", "yes"), capture(2, "co", "Skipped ahead"))
    assert outcome.accepted == 1
    assert outcome.error.code == "card_not_current"
    conversation.refresh_from_db()
    assert conversation.last_seq == 1
    assert conversation.card == "name"
    assert "card_not_current" in caplog.text
    assert "'co'" in caplog.text


def test_a_dropped_capture_advances_but_stores_and_queues_nothing(site: Site) -> None:
    conversation = started(publish(site))
    send(conversation, answer(1, "q1", "yes"), capture(2, "name", "Bot"))
    outcome = send(conversation, capture(3, "mail", "bot@example.com", hp="filled"))
    assert outcome.accepted == 1
    assert outcome.error is None
    visitor = Visitor.objects.get()
    assert visitor.email == ""
    assert not OutboxMessage.objects.exists()
    assert "bot@example.com" not in set(conversation.events.values_list("value", flat=True))
    assert Conversation.objects.get().card == "co"


@override_settings(LEAD_BURST_LIMIT=0)
def test_a_quarantined_capture_is_kept_but_not_queued(site: Site) -> None:
    conversation = started(publish(site))
    send(conversation, answer(1, "q1", "yes"), capture(2, "name", "Eve"))
    send(conversation, capture(3, "mail", "eve@example.com"), capture(4, "co", "Acme"))
    visitor = Visitor.objects.get()
    assert visitor.email == "eve@example.com"
    assert visitor.quarantined
    assert visitor.fields["company"] == "Acme"
    assert not OutboxMessage.objects.exists()


@override_settings(RATELIMITS={**settings.RATELIMITS, "widget-lead-email": "1/d"})
def test_an_email_captured_too_often_is_rate_limited(site: Site) -> None:
    version = publish(site)
    outcomes = []
    for visitor in ["visitor-aaaaaaaaaaaaaaaa", "visitor-bbbbbbbbbbbbbbbb"]:
        conversation = started(version, visitor)
        send(conversation, answer(1, "q1", "yes"), capture(2, "name", "Ada"))
        outcomes.append(send(conversation, capture(3, "mail", "ada@example.com")))
    assert (outcomes[0].accepted, outcomes[0].error) == (1, None)
    assert outcomes[1].accepted == 0
    assert outcomes[1].error.code == "rate_limited"
    assert outcomes[1].error.details["retry_after"] >= 1
    assert OutboxMessage.objects.filter(kind=OutboxKind.PUSH_LEAD).count() == 1


def test_answers_after_completion_are_refused(site: Site) -> None:
    conversation = started(publish(site))
    send(conversation, answer(1, "q1", "no"))
    outcome = send(conversation, {"seq": 2, "type": "closed"}, answer(3, "q1", "yes"))
    assert outcome.accepted == 1
    assert outcome.error.code == "conversation_completed"


def test_state_shows_the_transcript_goals_and_the_tokens_values(site: Site) -> None:
    MarketoLead.objects.create(id=5, email="ada@example.com", first_name="Ada", cookies=["_mch-x"])
    Visitor.objects.create(site=site, key=VISITOR, lead_id=5)
    conversation = started(publish(site))
    send(conversation, answer(1, "q1", "yes"), capture(2, "co", "Acme"))
    conversation = Conversation.objects.get()
    assert state(conversation) == {
        "id": conversation.pk,
        "dialogue": conversation.dialogue_id,
        "version": conversation.version_id,
        "state": "engaged",
        "card": "meet",
        "last_seq": 2,
        # The greeting, the question and capture answered, the card awaiting; the name and
        # e-mail captures were skipped (known), goals and branches show nothing.
        "path": ["c1", "q1", "co", "meet"],
        "transcript": [
            {"type": "answer", "card": "q1", "value": "Yes please"},
            {"type": "capture", "card": "co", "value": "Acme"},
        ],
        "goals": ["Interested"],
        "lead": {"lead": {"firstName": "Ada"}, "company": {}},
    }
