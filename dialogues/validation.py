"""Validation of a flow before publishing (pure, no ORM, no settings).

``validate`` returns every problem, each pointing at its card so the builder can show it there.
Structural problems are about the graph of cards; field problems about the lead and company
fields a flow reads and writes.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Iterable, Iterator, Mapping
from typing import Any

from dialogues.flow import (
    Branch,
    Capture,
    Card,
    End,
    Flow,
    Meeting,
    Message,
    Problem,
    Question,
    exits,
    parse_valid,
    schema_errors,
)
from dialogues.tokens import bad_tokens, find_tokens, strings_in

STRUCTURAL = frozenset(
    {
        "unknown_card",
        "unreachable",
        "dead_end",
        "missing_answers",
        "no_exit",
        "booking_before_email",
    }
)
ALWAYS_KNOWN = frozenset({"email"})
INFERRED_FIELDS = frozenset({"state", "country", "city"})

Graph = dict[str, list[str]]


def validate(flow_data: Mapping[str, Any], *, known_fields: Collection[str]) -> list[Problem]:
    """Every problem in the flow; empty when it may be published.

    ``known_fields`` are Marketo REST names: ``firstName`` for lead fields, ``company.industry``
    for company ones. A malformed flow gets only its schema problems, since the rest would guess.
    """
    problems = schema_errors(flow_data)
    if problems:
        return problems
    flow = parse_valid(flow_data)
    graph: Graph = {
        card_id: [target for target in flow.successors(card_id) if target in flow.cards]
        for card_id in flow.cards
    }
    return [*_structure(flow, graph), *_fields(flow, graph, known_fields)]


def _bfs(starts: Iterable[str], graph: Graph, *, stop: Collection[str] = ()) -> set[str]:
    """Cards reached from ``starts``, not going on past the cards in ``stop``."""
    seen = set(starts)
    queue = deque(seen)
    while queue:
        card_id = queue.popleft()
        if card_id in stop:
            continue
        for target in graph[card_id]:
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return seen


def _reverse(graph: Graph) -> Graph:
    reverse: Graph = {card_id: [] for card_id in graph}
    for card_id, targets in graph.items():
        for target in targets:
            reverse[target].append(card_id)
    return reverse


def _exit_problems(card_id: str, card: Card, cards: Collection[str]) -> Iterator[Problem]:
    if isinstance(card, Question) and not card.answers:
        yield Problem(card_id, "missing_answers", "This question has no answers to choose from.")
    for index, target in enumerate(exits(card)):
        if isinstance(card, Question):
            way = f"The answer “{card.answers[index].label}”"
        elif isinstance(card, Branch):
            rule = index < len(card.rules)
            way = f"Rule {index + 1}" if rule else "Visitors who match no rule"
        else:
            way = "This card"
        if target is None:
            text = f"{way} leads nowhere: connect it to a card, or to an End card."
            yield Problem(card_id, "dead_end", text)
        elif target not in cards:
            text = f"{way} leads to card “{target}”, which does not exist."
            yield Problem(card_id, "unknown_card", text)


def _cycles(cards: Collection[str], graph: Graph) -> list[list[str]]:
    """The loops (strongly connected components with a cycle) among ``cards``, in card order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    loops: list[list[str]] = []
    for root in cards:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            card_id, position = work.pop()
            if position == 0:
                index[card_id] = low[card_id] = len(index)
                stack.append(card_id)
                on_stack.add(card_id)
            targets = [target for target in graph[card_id] if target in cards]
            if position < len(targets):
                work.append((card_id, position + 1))
                target = targets[position]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[card_id] = min(low[card_id], index[target])
                continue
            if low[card_id] == index[card_id]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == card_id:
                        break
                if len(component) > 1 or card_id in graph[card_id]:
                    loops.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[card_id])
    order = {card_id: position for position, card_id in enumerate(cards)}
    loops = [sorted(loop, key=order.__getitem__) for loop in loops]
    return sorted(loops, key=lambda loop: order[loop[0]])


def _structure(flow: Flow, graph: Graph) -> Iterator[Problem]:
    for card_id, card in flow.cards.items():
        yield from _exit_problems(card_id, card, flow.cards)
    if flow.start not in flow.cards:
        text = f"The flow starts at card “{flow.start}”, which does not exist."
        yield Problem(None, "unknown_card", text)
        reachable: set[str] = set()
    else:
        reachable = _bfs([flow.start], graph)
        for card_id in flow.cards:
            if card_id not in reachable:
                text = "No path from the start leads to this card, so visitors never see it."
                yield Problem(card_id, "unreachable", text)

    ends = [card_id for card_id, card in flow.cards.items() if isinstance(card, End)]
    can_end = _bfs(ends, _reverse(graph))
    stuck = {card_id: None for card_id in flow.cards if card_id not in can_end}
    for loop in _cycles(stuck, graph):
        text = "Visitors who get here go round in a loop that never reaches an End card: "
        yield Problem(loop[0], "no_exit", text + " → ".join(loop) + ".")

    if reachable:
        email_captures = {
            card_id
            for card_id, card in flow.cards.items()
            if isinstance(card, Capture) and card.input == "email"
        }
        before_email = _bfs([flow.start], graph, stop=email_captures)
        for card_id, card in flow.cards.items():
            if isinstance(card, Meeting) and card_id in before_email:
                text = (
                    "Visitors can reach this booking without giving their email: "
                    "ask for it with an email capture card on every path before it."
                )
                yield Problem(card_id, "booking_before_email", text)


def _captured_before(flow: Flow, graph: Graph) -> dict[str, set[str]]:
    """For each card, the lead fields some earlier card on a path to it maps an answer to."""
    writes = {
        card_id: card.field
        for card_id, card in flow.cards.items()
        if isinstance(card, (Capture, Question)) and card.field
    }
    bits = {field: 1 << position for position, field in enumerate(dict.fromkeys(writes.values()))}
    own = {card_id: bits[writes[card_id]] if card_id in writes else 0 for card_id in flow.cards}
    before = dict.fromkeys(flow.cards, 0)
    work = [card_id for card_id in flow.cards if own[card_id]]
    while work:
        card_id = work.pop()
        out = before[card_id] | own[card_id]
        for target in graph[card_id]:
            if before[target] | out != before[target]:
                before[target] |= out
                work.append(target)
    return {
        card_id: {field for field, bit in bits.items() if mask & bit}
        for card_id, mask in before.items()
    }


def _texts(card: Card) -> list[str]:
    match card:
        case Message(text=text) | Meeting(text=text):
            return [text]
        case Question(text=text, answers=answers):
            return [text, *(answer.label for answer in answers)]
        case Capture(prompt=prompt, placeholder=placeholder):
            return [prompt, placeholder]
        case _:
            return []


def _fields(flow: Flow, graph: Graph, known_fields: Collection[str]) -> Iterator[Problem]:
    known = ALWAYS_KNOWN | set(known_fields)
    captured = _captured_before(flow, graph)
    for card_id, card in flow.cards.items():
        if isinstance(card, (Capture, Question)) and card.field and card.field not in known:
            text = f"The answer is saved to the lead field “{card.field}”, which does not exist."
            yield Problem(card_id, "unknown_field", text)
        readable = known | captured[card_id]
        if isinstance(card, Branch):
            for rule in card.rules:
                for condition in rule.conditions:
                    source, _, name = condition.attribute.partition(".")
                    if source == "inferred":
                        ok = name in INFERRED_FIELDS
                    else:
                        ok = (name if source == "lead" else condition.attribute) in readable
                    if not ok:
                        text = f"A rule checks “{condition.attribute}”, which is not a known field."
                        yield Problem(card_id, "unknown_field", text)
        for text in _texts(card):
            for fragment in bad_tokens(text):
                message = (
                    f"“{fragment}” is not a valid personalisation token; write it like "
                    '{{lead.firstName:"there"}}.'
                )
                yield Problem(card_id, "bad_token", message)
            for token in find_tokens(text):
                if token.name not in readable:
                    message = f"The token “{token.object}.{token.field}” names an unknown field."
                    yield Problem(card_id, "unknown_field", message)


def attributes_used(flow_data: Any, targeting: Any) -> set[str]:
    """Every lead and company attribute a flow and its targeting read or write, named as
    audiences name them (``lead.title``, ``company.industry``). Drafts may be incomplete or
    malformed, so this reads the JSON as it is rather than parsing it."""
    used: set[str] = set()
    cards = flow_data.get("cards") if isinstance(flow_data, Mapping) else None
    for card in cards.values() if isinstance(cards, Mapping) else ():
        if not isinstance(card, Mapping):
            continue
        if isinstance(card.get("field"), str):
            used.add(f"lead.{card['field']}")
        used.update(_condition_attributes(card.get("rules")))
        used.update(
            f"{token.object}.{token.field}"
            for text in strings_in(card)
            for token in find_tokens(text)
        )
    audience = targeting.get("audience") if isinstance(targeting, Mapping) else None
    used.update(_condition_attributes(audience))
    return used


def _condition_attributes(groups: Any) -> Iterator[str]:
    """The attributes of audience groups or branch rules (both hold ``conditions``)."""
    for group in groups if isinstance(groups, list) else ():
        conditions = group.get("conditions") if isinstance(group, Mapping) else None
        for condition in conditions if isinstance(conditions, list) else ():
            if isinstance(condition, Mapping) and isinstance(condition.get("attribute"), str):
                yield condition["attribute"]
