"""What the builder's views share: finding the dialogue, and the flow as the page shows it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.shortcuts import get_object_or_404

from dialogues import editing, services
from dialogues.audience import describe
from dialogues.flow import Problem
from dialogues.forms import INPUT_LABELS, OPERATOR_CHOICES, CardForm
from dialogues.models import Dialogue, DialogueStatus, Goal
from dialogues.views.outline import Row, outline
from dynchat.http import AuthedRequest
from dynchat.models import Role, User

MAX_DEPTH = 8


def get_dialogue_for_user(request: AuthedRequest, pk: int) -> Dialogue:
    """The dialogue with this id; every team member may read every dialogue."""
    return get_object_or_404(Dialogue.objects.select_related("site", "live_version"), pk=pk)


def rule_text(rule: Mapping[str, Any]) -> str:
    joiner = " or " if rule.get("match") == "any" else " and "
    return joiner.join(describe(c) for c in rule.get("conditions") or [])


def settings_of(card: Mapping[str, Any], agents: Mapping[int, str]) -> list[str]:
    """The card's settings in words, one line each (its text is shown apart)."""
    match card.get("type"):
        case "question":
            lines = [f"Answers: {', '.join(a['label'] for a in card.get('answers', []))}"]
            if card.get("field"):
                lines.append(f"Saves the answer's value to lead field “{card['field']}”")
            return lines
        case "capture":
            lines = [f"{INPUT_LABELS.get(card.get('input', ''), card.get('input'))} → lead field "
                     f"“{card.get('field')}”"]  # fmt: skip
            if card.get("options"):
                lines.append(f"Options: {', '.join(card['options'])}")
            if card.get("placeholder"):
                lines.append(f"Placeholder: {card['placeholder']}")
            lines.append(
                "Skipped if already known" if card.get("skip_if_known") else "Always asked"
            )
            if card.get("overwrite"):
                lines.append("Overwrites an existing value")
            return lines
        case "meeting":
            if card.get("routing") == "agent":
                return [f"Books with {agents.get(card.get('agent') or 0, 'an unknown agent')}"]
            return ["Books with the next agent in the round robin"]
        case "goal":
            return [f"Records the goal “{card.get('goal')}”"]
        case "branch":
            return [f"Rule {n}: {rule_text(r)}" for n, r in enumerate(card.get("rules", []), 1)]
    return []


def text_of(card: Mapping[str, Any]) -> str:
    return str(card.get("text") or card.get("prompt") or "")


@dataclass
class Line:
    """One line of the outline as the template shows it."""

    row: Row
    card: Mapping[str, Any] = field(default_factory=dict)
    label: str = ""
    text: str = ""
    settings: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    add_slot: str = ""
    can_up: bool = False
    can_down: bool = False
    form: CardForm | None = None

    @property
    def depth(self) -> int:
        return min(self.row.depth, MAX_DEPTH)


def slot_value(slot: editing.Slot) -> str:
    """A slot as a form value: ``card|exit``."""
    return f"{slot[0]}|{slot[1]}"


def parse_slot(value: str) -> editing.Slot:
    card_id, _, exit = value.partition("|")
    return card_id, exit


def flow_lines(
    flow: Mapping[str, Any],
    problems: list[Problem],
    *,
    editing_card: str = "",
    form: CardForm | None = None,
) -> tuple[list[Line], list[Line]]:
    """The outline's lines, and the lines of the cards no path reaches."""
    by_card: dict[str | None, list[Problem]] = defaultdict(list)
    for problem in problems:
        by_card[problem.card].append(problem)
    agents = {user.pk: user.get_full_name() for user in User.objects.filter(role=Role.AGENT)}
    rows, orphans = outline(flow)
    cards = flow.get("cards") or {}

    def line(row: Row) -> Line:
        card = cards.get(row.card_id, {}) if row.card_id and not row.missing else {}
        if not card or row.jump:
            return Line(row, card, label=editing.CARD_LABELS.get(card.get("type", ""), ""),
                        text=text_of(card))  # fmt: skip
        single = card["type"] in editing.SINGLE_EXIT
        return Line(
            row,
            card,
            label=editing.CARD_LABELS[card["type"]],
            text=text_of(card),
            settings=settings_of(card, agents),
            problems=by_card.get(row.card_id, []),
            add_slot=slot_value((row.card_id, "next")) if single else "",
            can_up=editing.can_move(flow, row.card_id, "up"),
            can_down=editing.can_move(flow, row.card_id, "down"),
            form=form if row.card_id == editing_card else None,
        )

    lines = [line(row) for row in rows]
    for header in lines:
        if header.row.slot is not None:
            header.add_slot = slot_value(header.row.slot)
    return lines, [line(Row(0, card_id)) for card_id in orphans]


def flow_context(
    dialogue: Dialogue,
    fields: services.Fields,
    *,
    editing_card: str = "",
    form: CardForm | None = None,
    error: str = "",
) -> dict[str, Any]:
    """Everything the flow panel shows: the outline, problems on their cards, publishing."""
    problems = services.problems(dialogue, fields)
    lines, orphans = flow_lines(dialogue.flow, problems, editing_card=editing_card, form=form)
    flow_level = [p for p in problems if p.card is None or p.card not in dialogue.flow["cards"]]
    return {
        "dialogue": dialogue,
        "lines": lines,
        "orphans": orphans,
        "problems": problems,
        "flow_problems": flow_level,
        "start_slot": slot_value(editing.START),
        "card_types": list(editing.CARD_LABELS.items()),
        "error": error,
        "operators": OPERATOR_CHOICES,
        "goal_names": Goal.objects.filter(site=dialogue.site_id).values_list("name", flat=True),
        "published": dialogue.status == DialogueStatus.PUBLISHED,
        "changed": dialogue.has_unpublished_changes,
    }
