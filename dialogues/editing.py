"""What the builder does to a flow, card by card (pure, no ORM).

Every operation takes a flow dict and returns a new one; the caller saves it with
``services.save_flow``. A *slot* is one way on from a card, where a new card can go:
``("", "start")`` is the flow's start, ``(card, "next")`` a card's single way on,
``(card, "answer:<id>")`` a question's answer, ``(card, "rule:<n>")`` a branch rule (from 0) and
``(card, "otherwise")`` a branch's fallback.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from typing import Any

from dialogues.flow_schema import CARD_TYPES

Flow = dict[str, Any]
Slot = tuple[str, str]
START: Slot = ("", "start")
DEFAULT_CONDITION = {"attribute": "lead.email", "operator": "is_not_empty", "value": None}
SINGLE_EXIT = frozenset({"message", "capture", "meeting", "goal"})
CARD_LABELS = {
    "message": "Message",
    "question": "Question",
    "capture": "Information capture",
    "meeting": "Meeting booking",
    "goal": "Goal",
    "branch": "Branch",
    "end": "End",
}


class EditError(ValueError):
    """The operation cannot be done on this flow; the message says why, for the marketer."""


def new_card(kind: str) -> dict[str, Any]:
    """A card of type ``kind`` with sensible defaults and no way on yet."""
    match kind:
        case "message":
            return {"type": "message", "text": "New message", "next": None}
        case "question":
            return {
                "type": "question",
                "text": "New question?",
                "field": None,
                "answers": [
                    {"id": "a1", "label": "Yes", "value": "yes", "next": None},
                    {"id": "a2", "label": "No", "value": "no", "next": None},
                ],
            }
        case "capture":
            return {
                "type": "capture",
                "input": "email",
                "prompt": "What is your email address?",
                "placeholder": "",
                "field": "email",
                "skip_if_known": True,
                "overwrite": False,
                "next": None,
            }
        case "meeting":
            return {
                "type": "meeting",
                "routing": "round_robin",
                "agent": None,
                "text": "Pick a time that suits you.",
                "next": None,
            }
        case "goal":
            return {"type": "goal", "goal": "New goal", "next": None}
        case "branch":
            return {"type": "branch", "rules": [], "otherwise": None}
        case "end":
            return {"type": "end"}
    raise EditError(f"{kind!r} is not a card type; choose one of {', '.join(CARD_TYPES)}.")


def next_id(flow: Mapping[str, Any]) -> str:
    """A card id not used in ``flow``: c1, c2, …"""
    numbers = [int(m.group(1)) for c in flow["cards"] if (m := re.fullmatch(r"c(\d+)", c))]
    return f"c{max(numbers, default=0) + 1}"


def _card(flow: Flow, card_id: str) -> dict[str, Any]:
    card = flow["cards"].get(card_id)
    if card is None:
        raise EditError(f"There is no card “{card_id}”.")
    return dict(card)


def target(flow: Mapping[str, Any], slot: Slot) -> str | None:
    """Where the slot leads now."""
    card_id, exit = slot
    if slot == START:
        return str(flow["start"])
    card = flow["cards"].get(card_id)
    if card is None:
        raise EditError(f"There is no card “{card_id}”.")
    kind, _, key = exit.partition(":")
    value: Any = _NO_SLOT
    if kind == "next" and card["type"] in SINGLE_EXIT:
        value = card.get("next")
    elif kind == "otherwise" and card["type"] == "branch":
        value = card.get("otherwise")
    elif kind == "answer" and card["type"] == "question":
        value = next((a.get("next") for a in card["answers"] if a["id"] == key), _NO_SLOT)
    elif kind == "rule" and card["type"] == "branch" and key.isdigit():
        rules = card["rules"]
        value = rules[int(key)].get("next") if int(key) < len(rules) else _NO_SLOT
    if value is _NO_SLOT:
        raise EditError(f"Card “{card_id}” has no way on called “{exit}”.")
    return value if isinstance(value, str) else None


_NO_SLOT = object()


def _point(flow: Flow, slot: Slot, to: str | None) -> None:
    """Make ``slot`` lead to ``to`` (in place, on a flow already copied)."""
    target(flow, slot)  # raises for a slot that does not exist
    card_id, exit = slot
    if slot == START:
        if to is None:
            raise EditError("The flow must start somewhere.")
        flow["start"] = to
        return
    card = flow["cards"][card_id] = copy.deepcopy(flow["cards"][card_id])
    kind, _, key = exit.partition(":")
    if kind == "answer":
        for answer in card["answers"]:
            if answer["id"] == key:
                answer["next"] = to
    elif kind == "rule":
        card["rules"][int(key)]["next"] = to
    else:
        card[kind] = to


def slots(flow: Mapping[str, Any], card_id: str) -> list[Slot]:
    """Every way on from a card, in order."""
    card = flow["cards"][card_id]
    match card["type"]:
        case "question":
            return [(card_id, f"answer:{a['id']}") for a in card["answers"]]
        case "branch":
            rules = [(card_id, f"rule:{n}") for n in range(len(card["rules"]))]
            return [*rules, (card_id, "otherwise")]
        case "end":
            return []
        case _:
            return [(card_id, "next")]


def references(flow: Mapping[str, Any], card_id: str) -> list[Slot]:
    """Every slot that leads to ``card_id`` (the start included)."""
    found = [START] if flow["start"] == card_id else []
    for other in flow["cards"]:
        found += [slot for slot in slots(flow, other) if target(flow, slot) == card_id]
    return found


def add_card(flow: Mapping[str, Any], kind: str, at: Slot, card_id: str | None = None) -> Flow:
    """Put a new card of type ``kind`` at ``at``; what the slot led to follows the new card.

    A question's answers and a branch's fallback all lead on to what followed; an End card
    leaves it unconnected (the validator then reports it unreachable).
    """
    new = copy.deepcopy(dict(flow))
    card_id = card_id or next_id(new)
    if card_id in new["cards"]:
        raise EditError(f"There is already a card “{card_id}”.")
    following = target(new, at)
    card = new_card(kind)
    if kind in SINGLE_EXIT:
        card["next"] = following
    elif kind == "question":
        for answer in card["answers"]:
            answer["next"] = following
    elif kind == "branch":
        card["otherwise"] = following
    new["cards"] = {**new["cards"], card_id: card}
    _point(new, at, card_id)
    return new


def edit_card(flow: Mapping[str, Any], card_id: str, values: Mapping[str, Any]) -> Flow:
    """Replace a card's settings with ``values``, keeping its type and where it leads.

    A question's answers keep their ways on by answer id; a branch's rules by position.
    """
    new = copy.deepcopy(dict(flow))
    old = _card(new, card_id)
    card = {**copy.deepcopy(dict(values)), "type": old["type"]}
    if old["type"] in SINGLE_EXIT:
        card["next"] = old.get("next")
    elif old["type"] == "question":
        ways = {a["id"]: a.get("next") for a in old["answers"]}
        card["answers"] = [{**a, "next": ways.get(a["id"])} for a in card.get("answers", [])]
    elif old["type"] == "branch":
        ways_on = [rule.get("next") for rule in old["rules"]]
        card["rules"] = [
            {**rule, "next": ways_on[n] if n < len(ways_on) else None}
            for n, rule in enumerate(card.get("rules", []))
        ]
        card["otherwise"] = old.get("otherwise")
    else:
        card = {"type": "end"}
    new["cards"] = {**new["cards"], card_id: card}
    return new


def successor(flow: Mapping[str, Any], card_id: str) -> str | None:
    """The one card this card leads to, or None when it leads to none or to several."""
    targets = {target(flow, slot) for slot in slots(flow, card_id)}
    return targets.pop() if len(targets) == 1 else None


def delete_card(flow: Mapping[str, Any], card_id: str) -> Flow:
    """Remove a card; whatever led to it now leads to its single successor (or nowhere).

    Cards that only the deleted card led to stay, reported unreachable, so nothing is lost by
    accident. The start card can only go when it has a single successor to start with instead.
    """
    new = copy.deepcopy(dict(flow))
    _card(new, card_id)
    following = successor(new, card_id)
    if following == card_id:
        following = None
    if new["start"] == card_id and following is None:
        raise EditError("The first card can only be deleted when a single card follows it.")
    for slot in references(new, card_id):
        _point(new, slot, following)
    new["cards"] = {key: card for key, card in new["cards"].items() if key != card_id}
    return new


def can_move(flow: Mapping[str, Any], card_id: str, direction: str) -> bool:
    try:
        _move_pair(flow, card_id, direction)
    except EditError:
        return False
    return True


def _move_pair(flow: Mapping[str, Any], card_id: str, direction: str) -> tuple[str, str]:
    """The (upper, lower) pair of cards that moving ``card_id`` swaps."""
    if direction == "up":
        lower = card_id
        refs = references(flow, lower)
        if len(refs) != 1 or refs[0] == START or refs[0][1] != "next":
            raise EditError("Only a card that follows one message, capture, meeting or goal "
                            "card can move up.")  # fmt: skip
        upper = refs[0][0]
    elif direction == "down":
        upper = card_id
        if upper not in flow["cards"] or flow["cards"][upper]["type"] not in SINGLE_EXIT:
            raise EditError("Only a message, capture, meeting or goal card can move down.")
        following = flow["cards"][upper].get("next")
        if following is None or following not in flow["cards"]:
            raise EditError("Nothing follows this card.")
        lower = following
        if len(references(flow, lower)) != 1:
            raise EditError("The card below is also reached another way.")
    else:
        raise EditError(f"{direction!r} is not a direction.")
    for one in (upper, lower):
        if flow["cards"][one]["type"] not in SINGLE_EXIT:
            raise EditError("Only message, capture, meeting and goal cards swap places.")
    return upper, lower


def move_card(flow: Mapping[str, Any], card_id: str, direction: str) -> Flow:
    """Swap a card with the one above (``up``) or below (``down``) it in a chain of cards."""
    upper, lower = _move_pair(flow, card_id, direction)
    new = copy.deepcopy(dict(flow))
    for slot in references(new, upper):
        _point(new, slot, lower)
    after = new["cards"][lower].get("next")
    new["cards"][lower] = {**new["cards"][lower], "next": upper}
    new["cards"][upper] = {**new["cards"][upper], "next": after}
    return new


def add_answer(flow: Mapping[str, Any], card_id: str, label: str = "New answer") -> Flow:
    new = copy.deepcopy(dict(flow))
    card = _card(new, card_id)
    if card["type"] != "question":
        raise EditError("Only a question has answers.")
    ids = {a["id"] for a in card["answers"]}
    answer_id = next(f"a{n}" for n in range(1, len(ids) + 2) if f"a{n}" not in ids)
    value = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_") or answer_id
    card["answers"] = [
        *card["answers"],
        {"id": answer_id, "label": label, "value": value, "next": None},
    ]
    new["cards"][card_id] = card
    return new


def remove_answer(flow: Mapping[str, Any], card_id: str, answer_id: str) -> Flow:
    new = copy.deepcopy(dict(flow))
    card = _card(new, card_id)
    if card["type"] != "question" or answer_id not in {a["id"] for a in card["answers"]}:
        raise EditError("There is no such answer.")
    card["answers"] = [a for a in card["answers"] if a["id"] != answer_id]
    new["cards"][card_id] = card
    return new


def _branch(flow: Flow, card_id: str) -> dict[str, Any]:
    card = _card(flow, card_id)
    if card["type"] != "branch":
        raise EditError("Only a branch card has rules.")
    return card


def add_rule(flow: Mapping[str, Any], card_id: str, attribute: str = "lead.email") -> Flow:
    """A new rule, "lead email is not empty" until edited, leading where "otherwise" does."""
    new = copy.deepcopy(dict(flow))
    card = _branch(new, card_id)
    condition = {**DEFAULT_CONDITION, "attribute": attribute}
    rule = {"match": "all", "conditions": [condition], "next": card.get("otherwise")}
    card["rules"] = [*card["rules"], rule]
    new["cards"][card_id] = card
    return new


def remove_rule(flow: Mapping[str, Any], card_id: str, index: int) -> Flow:
    new = copy.deepcopy(dict(flow))
    card = _branch(new, card_id)
    if not 0 <= index < len(card["rules"]):
        raise EditError("There is no such rule.")
    card["rules"] = [rule for n, rule in enumerate(card["rules"]) if n != index]
    new["cards"][card_id] = card
    return new


def set_rule(
    flow: Mapping[str, Any],
    card_id: str,
    index: int,
    *,
    match: str,
    conditions: Sequence[Mapping[str, Any]],
) -> Flow:
    """Replace one rule's match and conditions, keeping where it leads."""
    new = copy.deepcopy(dict(flow))
    card = _branch(new, card_id)
    if not 0 <= index < len(card["rules"]):
        raise EditError("There is no such rule.")
    rule = card["rules"][index]
    card["rules"][index] = {
        "match": match,
        "conditions": [dict(c) for c in conditions],
        "next": rule.get("next"),
    }
    new["cards"][card_id] = card
    return new


def apply(flow: Mapping[str, Any], card_id: str, op: str) -> Flow:
    """One of the card editor's row buttons: ``add-answer``, ``remove-answer:<id>``,
    ``add-rule``, ``remove-rule:<n>``, ``add-condition:<n>``, ``remove-condition:<n>:<m>``."""
    name, _, arguments = op.partition(":")
    parts = arguments.split(":") if arguments else []
    numbers = [int(part) for part in parts if part.isdigit()]
    match name, len(parts), len(numbers):
        case "add-answer", 0, _:
            return add_answer(flow, card_id)
        case "remove-answer", 1, _:
            return remove_answer(flow, card_id, parts[0])
        case "add-rule", 0, _:
            return add_rule(flow, card_id)
        case "remove-rule", 1, 1:
            return remove_rule(flow, card_id, numbers[0])
        case "add-condition" | "remove-condition", _, count if count == len(parts) >= 1:
            card = _branch(dict(flow), card_id)
            if numbers[0] >= len(card["rules"]):
                raise EditError("There is no such rule.")
            rule = card["rules"][numbers[0]]
            conditions = list(rule["conditions"])
            if name == "add-condition":
                conditions.append(dict(DEFAULT_CONDITION))
            elif len(numbers) == 2 and len(conditions) > 1 and numbers[1] < len(conditions):
                del conditions[numbers[1]]
            else:
                raise EditError("A rule keeps at least one condition.")
            return set_rule(flow, card_id, numbers[0], match=rule["match"], conditions=conditions)
    raise EditError(f"{op!r} is not something the card editor does.")
