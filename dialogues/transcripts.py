"""Conversations as the admin reads them: a dialogue's, a lead's, and one as a transcript.

Reads only. A transcript costs two queries however long the conversation is: the conversation
with its visitor and version, then its events. The bot's side is taken from the version the
visitor had (card texts as the marketer typed them, tokens unrendered); the visitor's side is what
the widget sent, exactly as it was stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from dialogues.flow import Capture, Card, Meeting, Question, parse_valid
from dialogues.models import Conversation, ConversationEvent, Dialogue, EventKind, Visitor
from sync.models import MarketoLead

PER_PAGE = 50

Speaker = Literal["bot", "visitor", "goal", "event"]
SPEAKERS: dict[Speaker, str] = {"bot": "Bot", "visitor": "Visitor", "goal": "Goal", "event": ""}
HAPPENINGS: dict[str, str] = {
    EventKind.OPENED: "Opened the chat",
    EventKind.CLOSED: "Closed the chat",
    EventKind.COMPLETED: "Reached the end of the dialogue",
}


def of_dialogue(dialogue: Dialogue) -> QuerySet[Conversation]:
    """The dialogue's conversations with their visitors, newest first."""
    return (
        Conversation.objects.filter(dialogue=dialogue)
        .select_related("visitor")
        .order_by("-started_at", "-id")
    )


def of_lead(lead: MarketoLead) -> QuerySet[Conversation]:
    """The conversations of the visitors who are ``lead``, newest first.

    A visitor is the lead when they were resolved to it (``lead_id``), or when they typed its
    e-mail: a person new to Marketo is pushed with that e-mail and keeps no ``lead_id`` until
    they are resolved again.
    """
    who = Q(visitor__lead_id=lead.pk)
    if lead.email:
        who |= Q(visitor_email=lead.email.strip().lower())
    return (
        Conversation.objects.alias(visitor_email=Lower("visitor__email"))
        .filter(who)
        .select_related("visitor", "dialogue")
        .order_by("-started_at", "-id")
    )


@dataclass(frozen=True)
class Line:
    """One line of a transcript: who (the bot, the visitor, a goal, or a happening) said what."""

    at: datetime
    speaker: Speaker
    text: str
    card: str = ""
    aside: bool = False  # said by Dynchat about the visitor, not typed by them

    @property
    def who(self) -> str:
        return SPEAKERS[self.speaker]


@dataclass(frozen=True)
class Transcript:
    conversation: Conversation
    lines: list[Line]
    goals: list[str]
    fields: list[tuple[str, str]]  # what the visitor told the chat, by lead field name

    @property
    def visitor(self) -> Visitor:
        return self.conversation.visitor


def transcript_of(dialogue: Dialogue, conversation_id: int) -> Transcript | None:
    """The dialogue's conversation ``conversation_id`` as a transcript; None if it has none."""
    conversation = (
        Conversation.objects.select_related("visitor", "version")
        .filter(pk=conversation_id, dialogue=dialogue)
        .first()
    )
    if conversation is None:
        return None
    cards = parse_valid(conversation.version.flow).cards
    events = conversation.events.order_by("id").only(
        "kind", "card", "value", "page_url", "occurred_at"
    )
    lines: list[Line] = []
    goals: list[str] = []
    for event in events:
        lines += _lines(event, cards.get(event.card))
        if event.kind == EventKind.GOAL and event.value not in goals:
            goals.append(event.value)
    return Transcript(conversation, lines, goals, _fields(conversation.visitor))


def _lines(event: ConversationEvent, card: Card | None) -> list[Line]:
    at, kind = event.occurred_at, event.kind
    if kind in (EventKind.ANSWER, EventKind.CAPTURE, EventKind.DECLINED, EventKind.BOOKED):
        asked = Line(at, "bot", _asked(card), card=event.card)
        if kind == EventKind.BOOKED:
            return [asked, Line(at, "visitor", "Booked a meeting", card=event.card)]
        if kind == EventKind.DECLINED:
            return [
                asked,
                Line(at, "visitor", "Did not book a meeting", card=event.card, aside=True),
            ]
        return [asked, Line(at, "visitor", _answer_label(card, event.value), card=event.card)]
    if kind == EventKind.GOAL:
        return [Line(at, "goal", event.value, card=event.card)]
    if kind == EventKind.TRIGGERED:
        where = f" on {event.page_url}" if event.page_url else ""
        return [Line(at, "event", f"Shown the dialogue{where}", aside=True)]
    return [Line(at, "event", HAPPENINGS.get(kind, kind), aside=True)]


def _asked(card: Card | None) -> str:
    match card:
        case Question(text=text) | Meeting(text=text):
            return text
        case Capture(prompt=prompt):
            return prompt
    return "(a card this version does not have)"


def _answer_label(card: Card | None, value: str) -> str:
    """What the visitor chose or typed: a question's answer by its label, else the value."""
    if isinstance(card, Question):
        for answer in card.answers:
            if (answer.value or answer.label) == value:
                return answer.label
    return value


def _fields(visitor: Visitor) -> list[tuple[str, str]]:
    fields = [("email", visitor.email)] if visitor.email else []
    for name, value in sorted(visitor.fields.items()):
        if name != "email":
            fields.append((name, value if isinstance(value, str) else str(value)))
    return fields
