"""A dialogue's flow: its JSON Schema, and its parsing into typed cards (pure, no ORM).

The schema checks shape only. It deliberately lets a draft be incomplete, as the builder saves
it: a ``next`` may be missing or null and a question may have no answers yet. The validator
(``dialogues.validation``) reports those as ``dead_end`` and ``missing_answers`` on their card.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from dialogues.flow_schema import FLOW_SCHEMA as FLOW_SCHEMA
from dialogues.flow_schema import FlowError as FlowError
from dialogues.flow_schema import Problem as Problem
from dialogues.flow_schema import schema_errors as schema_errors


@dataclass(frozen=True)
class Message:
    text: str
    next: str | None
    type: Literal["message"] = "message"


@dataclass(frozen=True)
class Answer:
    id: str
    label: str
    value: str
    next: str | None


@dataclass(frozen=True)
class Question:
    text: str
    answers: tuple[Answer, ...]
    field: str | None = None
    type: Literal["question"] = "question"


@dataclass(frozen=True)
class Capture:
    input: Literal["email", "phone", "text", "picklist"]
    prompt: str
    field: str
    next: str | None
    placeholder: str = ""
    options: tuple[str, ...] = ()
    skip_if_known: bool = False
    overwrite: bool = False
    type: Literal["capture"] = "capture"


@dataclass(frozen=True)
class Condition:
    attribute: str
    operator: str
    value: str | None


@dataclass(frozen=True)
class Rule:
    match: Literal["all", "any"]
    conditions: tuple[Condition, ...]
    next: str | None


@dataclass(frozen=True)
class Branch:
    rules: tuple[Rule, ...]
    otherwise: str | None
    type: Literal["branch"] = "branch"


@dataclass(frozen=True)
class Meeting:
    routing: Literal["round_robin", "agent"]
    agent: int | None
    text: str
    next: str | None
    type: Literal["meeting"] = "meeting"


@dataclass(frozen=True)
class Goal:
    goal: str
    next: str | None
    type: Literal["goal"] = "goal"


@dataclass(frozen=True)
class End:
    type: Literal["end"] = "end"


Card = Message | Question | Capture | Branch | Meeting | Goal | End


def exits(card: Card) -> list[str | None]:
    """Every way on from ``card`` in order, None where the marketer has not connected one yet."""
    match card:
        case Question(answers=answers):
            return [answer.next for answer in answers]
        case Branch(rules=rules, otherwise=otherwise):
            return [*(rule.next for rule in rules), otherwise]
        case End():
            return []
        case _:
            return [card.next]


@dataclass(frozen=True)
class Flow:
    version: int
    start: str
    cards: dict[str, Card]

    def card(self, card_id: str) -> Card:
        """The card with this id; KeyError if there is none."""
        return self.cards[card_id]

    def successors(self, card_id: str) -> list[str]:
        """The ids this card leads to, once each, in order (including ids of missing cards)."""
        return list(dict.fromkeys(target for target in exits(self.cards[card_id]) if target))


def _parse_card(data: Mapping[str, Any]) -> Card:
    match data["type"]:
        case "message":
            return Message(text=data["text"], next=data.get("next"))
        case "question":
            answers = tuple(
                Answer(a["id"], a["label"], a["value"], a.get("next")) for a in data["answers"]
            )
            return Question(text=data["text"], answers=answers, field=data.get("field"))
        case "capture":
            return Capture(
                input=data["input"],
                prompt=data["prompt"],
                field=data["field"],
                next=data.get("next"),
                placeholder=data.get("placeholder", ""),
                options=tuple(data.get("options", ())),
                skip_if_known=data.get("skip_if_known", False),
                overwrite=data.get("overwrite", False),
            )
        case "branch":
            rules = tuple(
                Rule(
                    match=rule["match"],
                    conditions=tuple(
                        Condition(c["attribute"], c["operator"], c.get("value"))
                        for c in rule["conditions"]
                    ),
                    next=rule.get("next"),
                )
                for rule in data["rules"]
            )
            return Branch(rules=rules, otherwise=data.get("otherwise"))
        case "meeting":
            return Meeting(
                routing=data["routing"],
                agent=data.get("agent"),
                text=data.get("text", ""),
                next=data.get("next"),
            )
        case "goal":
            return Goal(goal=data["goal"], next=data.get("next"))
        case _:
            return End()


def parse(data: object) -> Flow:
    """The typed flow for ``data``; raises FlowError listing the problems if it is malformed."""
    problems = schema_errors(data)
    if problems:
        raise FlowError(problems)
    return parse_valid(data)


def parse_valid(data: object) -> Flow:
    """The typed flow for ``data`` that schema_errors has already found well-formed."""
    if not isinstance(data, Mapping):  # pragma: no cover - the schema guarantees an object
        raise FlowError([Problem(None, "schema", "A flow must be a JSON object")])
    cards = {card_id: _parse_card(card) for card_id, card in data["cards"].items()}
    return Flow(version=data["version"], start=data["start"], cards=cards)
