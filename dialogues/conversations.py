"""A visitor's conversations: starting one, taking the widget's events, and what the widget sees.

Each service is one transaction. The rules are Dynamic Chat's (reference/dynamic-chat.md §18): a
visitor has one conversation per dialogue; an engaged one keeps its version, a merely triggered one
moves to a republished version; a completed dialogue never starts again. What the visitor tells
the chat is kept on the visitor by lead field name and, once their e-mail is known, queued for
Marketo through the outbox in the same transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from dialogues import counting, guard, identity, visitors
from dialogues.flow import Capture, Flow, parse_valid
from dialogues.models import (
    Conversation,
    ConversationEvent,
    ConversationState,
    DialogueStatus,
    DialogueVersion,
    EventKind,
    Visitor,
)
from dialogues.runtime import Refused, Step, accept, advance, fact_key
from dialogues.visitors import facts_of, lead_of_cookie
from dialogues.writeback import MARKETO_VALUE_LENGTH, fitted_for_marketo, outbox_key
from dynchat.ratelimit import retry_after
from sync.outbox import ChatActivity, queue_chat_activity, queue_lead_push

security = logging.getLogger("dynchat.security")

INTERACTIONS = {
    "answer": EventKind.ANSWER,
    "capture": EventKind.CAPTURE,
    "decline": EventKind.DECLINED,
    "booked": EventKind.BOOKED,  # recorded by dialogues.booking only: no widget event has it
}


@dataclass
class Outcome:
    """What ``record_events`` did: how many events it took, and why it stopped, if it did."""

    conversation: Conversation
    accepted: int
    error: Refused | None = None
    walked: list[str] = field(default_factory=list)  # the cards shown after the last answer


@transaction.atomic
def start_conversation(
    *, site_id: int, visitor_key: str, version_id: int, url: str, cookie: str
) -> tuple[Conversation, bool]:
    """The visitor's conversation with the version's dialogue, and whether it was created now.

    Raises ``Refused``: ``version_not_found`` (not this site's), ``version_not_offered`` (neither
    live nor the visitor's own), ``dialogue_completed`` (the visitor finished that dialogue).
    """
    version = (
        DialogueVersion.objects.select_related("dialogue")
        .filter(pk=version_id, dialogue__site_id=site_id)
        .first()
    )
    if version is None:
        raise Refused("version_not_found", "This site has no such dialogue version.")
    dialogue = version.dialogue
    visitor = _visitor(site_id, visitor_key, visitors.munchkin_token(cookie))
    existing = (
        Conversation.objects.select_for_update().filter(visitor=visitor, dialogue=dialogue).first()
    )
    offered = dialogue.status == DialogueStatus.PUBLISHED and dialogue.live_version_id == version.pk
    if existing is not None:
        if existing.state == ConversationState.COMPLETED:
            raise Refused("dialogue_completed", "The visitor has completed this dialogue.")
        if existing.state == ConversationState.ENGAGED or existing.version_id == version.pk:
            return existing, False
    if not offered:
        raise Refused("version_not_offered", "This version is not offered to the visitor.")
    now = timezone.now()
    if existing is not None:
        # Triggered, never engaged: the republished version replaces the old; no new trigger.
        conversation = existing
        conversation.version = version
        conversation.page_url = url
    else:
        conversation = Conversation.objects.create(
            visitor=visitor, dialogue=dialogue, version=version, page_url=url, started_at=now
        )
    events = [] if existing else [_event(conversation, EventKind.TRIGGERED, url=url, now=now)]
    flow = parse_valid(version.flow)
    step = advance(flow, flow.start, facts_of(visitor))
    reached = set(_goal_names(conversation)) if existing and step.goals else set()
    arrived = _arrive(conversation, step, url=url, now=now, reached=reached)
    ConversationEvent.objects.bulk_create(events + arrived)
    conversation.save()
    visitors.forget(visitor)
    counting.started(conversation, visitor, arrived, created=existing is None, url=url, now=now)
    return conversation, existing is None


def _visitor(site_id: int, key: str, token: str) -> Visitor:
    """The visitor with this key, created on first use, locked for this transaction."""
    visitor, created = Visitor.objects.get_or_create(
        site_id=site_id,
        key=key,
        defaults={"munchkin_cookie": token, "lead_id": lead_of_cookie(token)},
    )
    visitor = Visitor.objects.select_for_update().get(pk=visitor.pk)
    changed = ["last_seen_at"]
    if not created and token and token != visitor.munchkin_cookie:
        visitors.forget(visitor)  # the snapshot cached under the old cookie
        visitor.munchkin_cookie = token
        changed.append("munchkin_cookie")
        if visitor.lead_id is None and not visitor.email:
            visitor.lead_id = lead_of_cookie(token)
            changed.append("lead_id")
    visitor.last_seen_at = timezone.now()
    visitor.save(update_fields=changed)
    return visitor


def _event(
    conversation: Conversation, kind: EventKind, *, url: str, now: datetime, card: str = "",
    value: str = "",
) -> ConversationEvent:  # fmt: skip
    return ConversationEvent(
        conversation=conversation, kind=kind, card=card, value=value, page_url=url, occurred_at=now
    )


def _arrive(
    conversation: Conversation, step: Step, *, url: str, now: datetime, reached: set[str]
) -> list[ConversationEvent]:
    """The events of where a walk ended: goals not ``reached`` before (added to it), and the
    completion; the conversation now waits at the step's card, or is completed."""
    events = []
    for card, name in step.goals:
        if name not in reached:
            reached.add(name)
            events.append(
                _event(conversation, EventKind.GOAL, url=url, now=now, card=card, value=name)
            )
    if step.completed:
        conversation.state = ConversationState.COMPLETED
        conversation.card = ""
        conversation.completed_at = now
        events.append(_event(conversation, EventKind.COMPLETED, url=url, now=now))
    else:
        conversation.card = step.card or ""
    return events


@transaction.atomic
def record_events(
    conversation: Conversation,
    events: Sequence[Mapping[str, Any]],
    *,
    url: str = "",
    client_ip: str = "",
) -> Outcome:
    """Take the widget's events in ``seq`` order; repeats (``seq`` ≤ ``last_seq``) are skipped.

    The first refused event stops the batch; the events before it stay accepted and ``error``
    says why (``card_not_current``, ``invalid_answer``, ``invalid_value``,
    ``conversation_completed``, ``rate_limited``). Refusals are logged as security events.
    """
    locked = lock(conversation)
    run = Run(locked, page_url=url or locked.page_url, client_ip=client_ip)
    accepted = 0
    error = None
    for event in sorted(events, key=lambda event: int(event["seq"])):
        seq = int(event["seq"])
        if seq <= locked.last_seq:
            continue
        try:
            run.take(seq, event)
        except Refused as refused:
            security.warning(
                "widget event refused: code=%s conversation=%s seq=%s type=%s card=%.32r "
                "awaiting=%s client=%s",
                *(refused.code, locked.pk, seq, event.get("type"), event.get("card", "")),
                *(locked.card or None, client_ip),
            )
            error = refused
            break
        locked.last_seq = seq
        accepted += 1
    if accepted:
        if url:
            locked.page_url = url
        run.finish()
    return Outcome(conversation=locked, accepted=accepted, error=error, walked=run.walked)


def lock(conversation: Conversation) -> Conversation:
    """The conversation read again and locked (with its visitor) until the transaction ends.

    Raises ``Refused("conversation_not_found")`` when it was erased meanwhile (a privacy request).
    """
    try:
        # Visitor first, then conversation: the order start_conversation locks them in.
        Visitor.objects.select_for_update().values_list("pk", flat=True).get(
            pk=conversation.visitor_id
        )
        return (
            Conversation.objects.select_for_update(of=("self",))
            .select_related("visitor__site", "version", "dialogue")
            .get(pk=conversation.pk)
        )
    except (Visitor.DoesNotExist, Conversation.DoesNotExist):
        raise Refused("conversation_not_found", "There is no such conversation.") from None


@dataclass
class Run:
    """One batch of events on a locked conversation, and what Marketo must hear about after."""

    conversation: Conversation
    page_url: str
    client_ip: str
    now: datetime = field(default_factory=timezone.now)
    flow: Flow = field(init=False)
    facts: dict[str, Any] = field(init=False)
    fields_changed: bool = False
    email_now: bool = False
    engaged_now: bool = False
    lead_seq: int | None = None
    filled: list[tuple[int, str, str]] = field(default_factory=list)
    goals: list[str] = field(default_factory=list)  # reached in this batch
    events: list[ConversationEvent] = field(default_factory=list)  # inserted at once by finish
    reached: set[str] | None = None  # every goal reached so far, read when first needed
    walked: list[str] = field(default_factory=list)  # the cards the last answer led through
    tally: counting.Tally = field(default_factory=counting.Tally)  # the report counters' share

    def __post_init__(self) -> None:
        self.flow = parse_valid(self.conversation.version.flow)
        self.facts = facts_of(self.visitor)

    @property
    def visitor(self) -> Visitor:
        return self.conversation.visitor

    def take(self, seq: int, event: Mapping[str, Any]) -> None:
        kind = str(event["type"])
        conversation = self.conversation
        if kind not in INTERACTIONS:
            self.record(EventKind(kind), card="", value="")
            return
        if conversation.state == ConversationState.COMPLETED:
            raise Refused("conversation_completed", "This conversation has ended.")
        card = self.flow.cards.get(conversation.card)
        answer = accept(self.flow, conversation.card or None, event)
        verdict = "accept"
        is_email = kind == "capture" and isinstance(card, Capture) and card.input == "email"
        if is_email:
            self.limit_leads(answer.value)
            verdict = guard.screen_capture(
                site_id=self.visitor.site_id,
                conversation=conversation,
                honeypot=str(event.get("hp") or ""),
                now=self.now,
            )
        # A dropped capture (a bot's) leaves no trace of what it typed.
        value = "" if verdict == "drop" else answer.value
        self.record(INTERACTIONS[kind], card=conversation.card, value=value)
        counting.interaction(self.tally, self, kind=kind, kept_email=is_email and verdict != "drop")
        if conversation.state == ConversationState.TRIGGERED:
            conversation.state = ConversationState.ENGAGED
            conversation.engaged_at = self.now
            self.engaged_now = True
        if verdict != "drop":
            if is_email:
                self.store_email(seq, answer.value, quarantine=verdict == "quarantine")
            if answer.field and answer.field != "email":
                self.store_field(seq, answer.field, answer.value, overwrite=answer.overwrite)
        step = advance(self.flow, answer.next, self.facts)
        self.walked = step.shown
        if step.goals and self.reached is None:
            self.reached = set(_goal_names(conversation))
        arrived = _arrive(
            conversation, step, url=self.page_url, now=self.now, reached=self.reached or set()
        )
        self.goals += [event.value for event in arrived if event.kind == EventKind.GOAL]
        self.events += arrived
        counting.arrived(self.tally, conversation, self.visitor, arrived, now=self.now)

    def record(self, kind: EventKind, *, card: str, value: str) -> None:
        event = _event(
            self.conversation, kind, url=self.page_url, now=self.now, card=card, value=value
        )
        self.events.append(event)

    def limit_leads(self, email: str) -> None:
        """E-mail captures count per (address, site) and per (e-mail, site) (TESTPLAN W-10)."""
        site = self.visitor.site.key
        for scope, key in (
            ("widget-lead", f"{self.client_ip}|{site}"),
            ("widget-lead-email", f"{email.lower()}|{site}"),
        ):
            wait = retry_after(scope, key)
            if wait is not None:
                raise Refused(
                    "rate_limited", f"Too many requests. Try again in {wait} seconds.",
                    retry_after=wait,
                )  # fmt: skip

    def store_email(self, seq: int, email: str, *, quarantine: bool) -> None:
        visitor = self.visitor
        if quarantine:
            visitor.email = email
            visitor.quarantined = True
            visitor.save(update_fields=["email", "quarantined"])
        else:
            identity.identify_by_email(visitor, email)
            self.email_now = True
            self.lead_seq = seq
        self.facts = facts_of(visitor)

    def store_field(self, seq: int, name: str, value: str, *, overwrite: bool) -> None:
        """Keep the answer on the visitor; without ``overwrite`` a value already known stays."""
        if not overwrite and self.facts.get(fact_key(name)) not in (None, "", []):
            return
        self.visitor.fields = {**self.visitor.fields, name: value}
        self.fields_changed = True
        self.facts[fact_key(name)] = value
        self.filled.append((seq, name, value))
        self.lead_seq = seq

    def finish(self) -> None:
        conversation, visitor = self.conversation, self.visitor
        ConversationEvent.objects.bulk_create(self.events)
        conversation.save(
            update_fields=[
                "state", "card", "last_seq", "page_url", "engaged_at", "completed_at",
                "updated_at",
            ]
        )  # fmt: skip
        if self.fields_changed:
            visitor.save(update_fields=["fields"])
        visitors.forget(visitor)
        if visitor.email and not visitor.quarantined:
            self.queue_for_marketo()
        self.tally.save()  # last: the counter rows stay locked only until the commit

    def queue_for_marketo(self) -> None:
        """Tell Marketo what it has not heard yet; outbox keys make repeats harmless."""
        conversation, visitor = self.conversation, self.visitor
        email, name, pk = visitor.email, conversation.dialogue.name, conversation.pk
        if self.lead_seq is not None:
            queue_lead_push(
                email=email,
                fields={**fitted_for_marketo(visitor.fields), "email": email},
                reason="dialogue",
                key=f"conversation:{pk}:lead:{self.lead_seq}",
            )
        page = self.page_url[:MARKETO_VALUE_LENGTH]

        def activity(kind: ChatActivity, key: str, attributes: dict[str, str]) -> None:
            queue_chat_activity(
                email=email,
                activity=kind,
                dialogue=name,
                attributes={"pageUrl": page, **attributes},
                occurred_at=self.now,
                key=outbox_key(pk, key),
            )

        if conversation.state != ConversationState.TRIGGERED and (
            self.engaged_now or self.email_now
        ):
            status = (
                "Completed" if conversation.state == ConversationState.COMPLETED else "Initiated"
            )
            activity(ChatActivity.ENGAGED, "engaged", {"status": status})
        goals = _goal_names(conversation) if self.email_now else self.goals
        for goal in goals:
            activity(ChatActivity.GOAL, f"goal:{goal}", {"goalName": goal})
        for seq, field_name, value in self.filled:
            activity(
                ChatActivity.FIELD,
                f"field:{seq}",
                {"fieldName": field_name, "fieldValue": value[:MARKETO_VALUE_LENGTH]},
            )


def _goal_names(conversation: Conversation) -> list[str]:
    names = ConversationEvent.objects.filter(conversation=conversation, kind=EventKind.GOAL)
    return list(dict.fromkeys(names.values_list("value", flat=True)))
