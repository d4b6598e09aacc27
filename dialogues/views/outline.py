"""The builder's outline of a flow: cards in flow order, branches nested (pure, no ORM)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from dialogues.editing import SINGLE_EXIT, Slot


@dataclass(frozen=True)
class Row:
    """One line of the builder's outline.

    ``via`` is the answer or rule a branch starts with (on a header row, ``card_id`` empty);
    ``jump`` marks a card shown earlier, which the line only points to.
    """

    depth: int
    card_id: str = ""
    via: str = ""
    slot: Slot | None = None
    jump: bool = False
    missing: bool = False


def outline(flow: Mapping[str, Any]) -> tuple[list[Row], list[str]]:
    """The cards in flow order, depth first from the start, and the cards no path reaches.

    A chain reads top to bottom at one depth; each answer and rule heads its own branch, one
    level deeper. A card reached a second time is shown as a jump to its first showing.
    """
    cards = flow.get("cards") or {}
    shown: set[str] = set()
    rows = list(_walk(cards, flow.get("start"), 0, shown))
    return rows, [card_id for card_id in cards if card_id not in shown]


def _walk(cards: Mapping[str, Any], first: Any, depth: int, shown: set[str]) -> Iterator[Row]:
    current = first
    while isinstance(current, str):
        if current not in cards:
            yield Row(depth, current, missing=True)
            return
        if current in shown:
            yield Row(depth, current, jump=True)
            return
        shown.add(current)
        yield Row(depth, current)
        card = cards[current]
        if card["type"] == "question":
            for answer in card.get("answers", []):
                yield Row(depth + 1, via=f"Answer “{answer['label']}”",
                          slot=(current, f"answer:{answer['id']}"))  # fmt: skip
                yield from _walk(cards, answer.get("next"), depth + 1, shown)
            return
        if card["type"] == "branch":
            for n, rule in enumerate(card.get("rules", [])):
                yield Row(depth + 1, via=f"Rule {n + 1}", slot=(current, f"rule:{n}"))
                yield from _walk(cards, rule.get("next"), depth + 1, shown)
            yield Row(depth + 1, via="Otherwise", slot=(current, "otherwise"))
            yield from _walk(cards, card.get("otherwise"), depth + 1, shown)
            return
        current = card.get("next") if card["type"] in SINGLE_EXIT else None
