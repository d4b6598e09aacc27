"""Running a published flow for one visitor: where they are and what their answer leads to (pure).

``advance`` walks from a card through the cards that need nothing from the visitor (messages,
goals, branches, captures of a field already known when the card says to skip them) to the first
card awaiting input, or to the end. ``accept`` checks a visitor's answer to the card awaiting them
and says where it leads; anything wrong raises ``Refused`` with the widget API's stable code.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

from dialogues.audience import group_matches
from dialogues.flow import Branch, Capture, End, Flow, Goal, Meeting, Message, Question, Rule
from dialogues.tokens import find_tokens, strings_in

MAX_STEPS = 1000
MAX_EMAIL = 254
MAX_TEXT = 4000
MAX_NAME = 200
NAME_FIELDS = frozenset({"firstName", "lastName"})
PHONE = re.compile(r"^\+?[0-9 ().-]{5,30}$")
ALLOWED_CONTROLS = frozenset("\n\t")
_email = EmailValidator()


class Refused(Exception):
    """An event the flow cannot take; ``code`` is the widget API's stable error code."""

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


@dataclass(frozen=True)
class Step:
    """Where a walk stopped: the card awaiting the visitor (None once completed), goals passed."""

    card: str | None
    goals: tuple[tuple[str, str], ...] = ()  # (goal card id, goal name), in the order reached
    completed: bool = False
    messages: tuple[str, ...] = ()  # the message cards passed on the way, in order

    @property
    def shown(self) -> list[str]:
        """The cards the widget shows for this walk: its messages, then the card awaiting."""
        return [*self.messages, self.card] if self.card else list(self.messages)


@dataclass(frozen=True)
class Accepted:
    """An answer the awaiting card takes: where it leads and the value to record and store."""

    next: str | None
    value: str
    field: str | None = None
    overwrite: bool = True


def fact_key(field: str) -> str:
    """The name facts and branch conditions use for a lead field a card writes."""
    return f"lead.{field}"


def _known(facts: Mapping[str, Any], field: str) -> bool:
    value = facts.get(fact_key(field))
    return value not in (None, "", [], ())


def _rule_matches(rule: Rule, facts: Mapping[str, Any]) -> bool:
    conditions = [dataclasses.asdict(condition) for condition in rule.conditions]
    return group_matches({"match": rule.match, "conditions": conditions}, facts)


def _choose(branch: Branch, facts: Mapping[str, Any]) -> str | None:
    for rule in branch.rules:
        if _rule_matches(rule, facts):
            return rule.next
    return branch.otherwise


def advance(flow: Flow, card_id: str | None, facts: Mapping[str, Any]) -> Step:
    """Walk from ``card_id`` to the first card awaiting input, or to the end of the flow.

    A missing card or next ends the conversation, as does a loop of cards that never ask anything
    (after ``MAX_STEPS`` cards): a visitor is never stuck on a card they cannot answer.
    """
    goals: list[tuple[str, str]] = []
    messages: list[str] = []
    current = card_id
    for _ in range(MAX_STEPS):
        if current is None or current not in flow.cards:
            break
        here, card = current, flow.cards[current]
        match card:
            case Message(next=next_card):
                messages.append(here)
                current = next_card
            case Goal(goal=name, next=next_card):
                goals.append((here, name))
                current = next_card
            case Branch():
                current = _choose(card, facts)
            case Capture(skip_if_known=True, field=field, next=next_card) if _known(facts, field):
                current = next_card
            case Question() | Capture() | Meeting():
                return Step(here, tuple(goals), completed=False, messages=tuple(messages))
            case End():
                break
    return Step(None, tuple(goals), completed=True, messages=tuple(messages))


def replay(
    flow: Flow,
    facts: Mapping[str, Any],
    transcript: Sequence[tuple[str, str, str]],
    awaiting: str | None,
) -> list[str]:
    """The cards a returning visitor is shown again, in order, to rebuild the conversation.

    ``transcript`` holds what they did, as (kind, card, value): answers, captures, declines. The
    walks between are taken with today's facts, so a branch may go another way than it did; the
    cards answered and the one ``awaiting`` them are always in the path, each where it belongs.
    """
    path = list(advance(flow, flow.start, facts).messages)
    for kind, card_id, value in transcript:
        path.append(card_id)
        path += advance(flow, _next_after(flow, kind, card_id, value), facts).messages
    if awaiting is not None:
        path.append(awaiting)
    return path


def _next_after(flow: Flow, kind: str, card_id: str, value: str) -> str | None:
    """Where an answer recorded as (kind, card, value) led."""
    match flow.cards.get(card_id):
        case Question(answers=answers) if kind == "answer":
            for answer in answers:
                if (answer.value or answer.label) == value:
                    return answer.next
            return None
        case Capture(next=next_card) | Meeting(next=next_card):
            return next_card
    return None


def accept(flow: Flow, awaiting: str | None, event: Mapping[str, Any]) -> Accepted:
    """Check an answer, capture, decline or booking ``event`` for the card ``awaiting`` the visitor.

    Raises ``Refused``: ``card_not_current`` when the event names another card,
    ``invalid_answer`` for an answer id not on the question (or an event the card does not take),
    ``invalid_value`` for a captured value the card's input refuses.
    """
    card_id = event.get("card")
    if awaiting is None or card_id != awaiting or awaiting not in flow.cards:
        raise Refused(
            "card_not_current",
            "This card is not the one awaiting the visitor.",
            card=str(card_id)[:32],
        )
    card = flow.cards[awaiting]
    kind = event.get("type")
    if kind == "answer" and isinstance(card, Question):
        for answer in card.answers:
            if answer.id == event.get("answer"):
                return Accepted(answer.next, answer.value or answer.label, card.field)
        raise Refused("invalid_answer", "This question has no such answer.")
    if kind == "capture" and isinstance(card, Capture):
        value = clean_value(card, event.get("value"))
        return Accepted(card.next, value, card.field, overwrite=card.overwrite)
    if kind == "decline" and isinstance(card, Meeting):
        return Accepted(card.next, "")
    if kind == "booked" and isinstance(card, Meeting):
        # Only the server records a booking (dialogues.booking), never the widget's events.
        return Accepted(card.next, str(event.get("meeting", "")))
    raise Refused("invalid_answer", f"A {card.type} card does not take a {kind} event.")


def clean_value(card: Capture, raw: object) -> str:
    """The captured value as stored, or ``Refused("invalid_value")`` saying what is wrong."""
    if not isinstance(raw, str):
        raise Refused("invalid_value", "The value must be text.")
    if any(_forbidden(char) for char in raw):
        raise Refused("invalid_value", "The value contains control characters.")
    value = raw.strip()
    if not value:
        raise Refused("invalid_value", "Please enter a value.")
    match card.input:
        case "email":
            if len(value) > MAX_EMAIL:
                raise Refused("invalid_value", f"An e-mail address has at most {MAX_EMAIL} chars.")
            try:
                _email(value)
            except ValidationError:
                raise Refused("invalid_value", "Enter a valid e-mail address.") from None
        case "phone":
            if not PHONE.match(value):
                raise Refused("invalid_value", "Enter a valid phone number.")
        case "picklist":
            if value not in card.options:
                raise Refused("invalid_value", "Choose one of the options.")
        case _:
            limit = MAX_NAME if card.field in NAME_FIELDS else MAX_TEXT
            if len(value) > limit:
                raise Refused("invalid_value", f"At most {limit} characters, please.")
    return value


def _forbidden(char: str) -> bool:
    """Control (Cc), surrogate (Cs) and unassigned-format noise, except newline and tab."""
    if char in ALLOWED_CONTROLS:
        return False
    return unicodedata.category(char) in ("Cc", "Cs")


def token_values(flow: Mapping[str, Any], facts: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The values of the tokens the flow shows, and no other: the widget renders only these."""
    values: dict[str, dict[str, Any]] = {"lead": {}, "company": {}}
    for text in strings_in(flow.get("cards", {})):
        for token in find_tokens(text):
            value = facts.get(f"{token.object}.{token.field}")
            if value not in (None, "", []):
                values[token.object][token.field] = value
    return values
