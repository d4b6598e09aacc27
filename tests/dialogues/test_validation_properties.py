"""F-2(a): the flow validator agrees with a plain graph search on random flows.

Random flows of up to 50 cards, with up to 5 ways on per card, loops and edges to missing cards,
are checked against an oracle written here from first principles: the validator reports no
structural problem exactly when every card is reachable from the start, every edge leads to an
existing card, every card can reach an End card, and every path to a meeting passes an email
capture first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import event, given, settings
from hypothesis import strategies as st

from dialogues.validation import STRUCTURAL, validate

KINDS = ["message", "question", "email", "text", "meeting", "branch", "goal", "end"]
MISSING = ["ghost", "gone"]


@dataclass(frozen=True)
class Graph:
    start: str
    kinds: dict[str, str]
    edges: dict[str, list[str | None]]


@st.composite
def graphs(draw: st.DrawFn) -> Graph:
    size = draw(st.integers(1, 50))
    ids = [f"c{n}" for n in range(size)]
    kinds = {card_id: draw(st.sampled_from(KINDS)) for card_id in ids}
    # Half the flows are tidy (edges only go forward, the last card is an End), so that a fair
    # share is valid; the others also loop back and leave edges dangling or unconnected.
    tidy = draw(st.booleans())
    if tidy:
        for card_id in ids[:-1]:
            if kinds[card_id] == "end" or (card_id == "c0" and draw(st.booleans())):
                kinds[card_id] = "email"
        kinds[ids[-1]] = "end"
        edge_kinds = st.just("forward")
    else:
        edge_kinds = st.sampled_from(["forward"] * 8 + ["any", "any", "missing", "none"])
    edges: dict[str, list[str | None]] = {}
    for position, card_id in enumerate(ids):
        if kinds[card_id] == "end":
            count = 0
        elif kinds[card_id] in ("question", "branch"):
            count = draw(st.integers(0 if kinds[card_id] == "question" and not tidy else 1, 5))
        else:
            count = 1
        targets: list[str | None] = []
        for way in range(count):
            kind = draw(edge_kinds)
            if tidy and way == 0:
                targets.append(ids[position + 1])
            elif kind == "forward" and position + 1 < size:
                targets.append(draw(st.sampled_from(ids[position + 1 :])))
            elif kind in ("forward", "any"):
                targets.append(draw(st.sampled_from(ids)))
            elif kind == "missing":
                targets.append(draw(st.sampled_from(MISSING)))
            else:
                targets.append(None)
        edges[card_id] = targets
    start = "c0" if tidy else draw(st.sampled_from(["c0"] * 20 + MISSING))
    return Graph(start, kinds, edges)


def to_flow(graph: Graph) -> dict[str, Any]:
    cards: dict[str, Any] = {}
    for card_id, kind in graph.kinds.items():
        targets = graph.edges[card_id]
        if kind == "question":
            answers = [
                {"id": f"a{n}", "label": f"Answer {n}", "value": str(n), "next": target}
                for n, target in enumerate(targets)
            ]
            cards[card_id] = {"type": "question", "text": "Which?", "answers": answers}
        elif kind == "branch":
            condition = {"attribute": "inferred.country", "operator": "is", "value": "DE"}
            rules = [
                {"match": "all", "conditions": [condition], "next": target}
                for target in targets[:-1]
            ]
            cards[card_id] = {"type": "branch", "rules": rules, "otherwise": targets[-1]}
        elif kind in ("email", "text"):
            field = "email" if kind == "email" else "notes"
            cards[card_id] = {
                "type": "capture",
                "input": kind,
                "prompt": "Tell us",
                "field": field,
                "next": targets[0],
            }
        elif kind == "meeting":
            cards[card_id] = {"type": "meeting", "routing": "round_robin", "next": targets[0]}
        elif kind == "message":
            cards[card_id] = {
                "type": "message",
                "text": "Hi {{lead.firstName}}",
                "next": targets[0],
            }
        elif kind == "goal":
            cards[card_id] = {"type": "goal", "goal": "Reached", "next": targets[0]}
        else:
            cards[card_id] = {"type": "end"}
    return {"version": 1, "start": graph.start, "cards": cards}


def oracle_accepts(graph: Graph) -> bool:
    """The four properties, each by the plainest search that decides it."""
    cards = set(graph.kinds)
    if graph.start not in cards:
        return False
    if any(target not in cards for targets in graph.edges.values() for target in targets):
        return False
    successors = {card_id: [t for t in graph.edges[card_id] if t] for card_id in cards}

    reached: set[str] = set()
    pending = [graph.start]
    while pending:
        card_id = pending.pop()
        if card_id not in reached:
            reached.add(card_id)
            pending.extend(successors[card_id])
    if reached != cards:
        return False

    ending = {card_id for card_id, kind in graph.kinds.items() if kind == "end"}
    grown = True
    while grown:
        grown = False
        for card_id in cards - ending:
            if any(target in ending for target in successors[card_id]):
                ending.add(card_id)
                grown = True
    if ending != cards:
        return False

    # Greatest fixpoint of "an email was captured on every path into this card".
    email_known = {card_id: card_id != graph.start for card_id in cards}
    changed = True
    while changed:
        changed = False
        for card_id in cards:
            known_after = email_known[card_id] or graph.kinds[card_id] == "email"
            for target in successors[card_id]:
                if email_known[target] and not known_after and target != graph.start:
                    email_known[target] = False
                    changed = True
    return all(email_known[card_id] for card_id, kind in graph.kinds.items() if kind == "meeting")


@settings(max_examples=500, derandomize=True, deadline=None)
@given(graphs())
def test_the_validator_accepts_exactly_the_flows_the_oracle_accepts(graph: Graph) -> None:
    """F-2(a)."""
    problems = validate(to_flow(graph), known_fields=["firstName", "notes"])
    assert {problem.code for problem in problems} <= STRUCTURAL
    assert all(problem.card in graph.kinds for problem in problems if problem.card is not None)
    accepted = oracle_accepts(graph)
    event("valid" if accepted else "invalid")
    assert (problems == []) == accepted
