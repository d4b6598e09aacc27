"""The builder's card operations on a flow dict (pure): each returns a new, consistent flow."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from dialogues import editing
from dialogues.editing import START, EditError
from dialogues.validation import validate
from dialogues.views.outline import outline


def chain() -> dict[str, Any]:
    """m1 → q1 (yes → m2 → end, no → end)."""
    return {
        "version": 1,
        "start": "m1",
        "cards": {
            "m1": {"type": "message", "text": "Hi", "next": "q1"},
            "q1": {
                "type": "question",
                "text": "Demo?",
                "field": None,
                "answers": [
                    {"id": "a1", "label": "Yes", "value": "yes", "next": "m2"},
                    {"id": "a2", "label": "No", "value": "no", "next": "end"},
                ],
            },
            "m2": {"type": "message", "text": "Great", "next": "end"},
            "end": {"type": "end"},
        },
    }


def test_adding_after_a_card_puts_the_new_card_between_it_and_its_successor() -> None:
    flow = chain()
    new = editing.add_card(flow, "message", ("m2", "next"))
    assert new["cards"]["m2"]["next"] == "c1"
    assert new["cards"]["c1"] == {"type": "message", "text": "New message", "next": "end"}
    assert flow == chain(), "the original flow is left alone"
    assert validate(new, known_fields=[]) == []


def test_adding_at_an_answer_starts_that_answers_branch_with_the_new_card() -> None:
    new = editing.add_card(chain(), "capture", ("q1", "answer:a2"))
    assert new["cards"]["q1"]["answers"][1]["next"] == "c1"
    assert new["cards"]["c1"]["next"] == "end"


def test_adding_at_the_start_makes_the_new_card_the_first() -> None:
    new = editing.add_card(chain(), "goal", START)
    assert new["start"] == "c1"
    assert new["cards"]["c1"]["next"] == "m1"


def test_a_new_question_leads_every_answer_on_and_a_branch_falls_back_to_what_followed() -> None:
    question = editing.add_card(chain(), "question", ("m1", "next"))
    assert {a["next"] for a in question["cards"]["c1"]["answers"]} == {"q1"}
    branch = editing.add_card(chain(), "branch", ("m1", "next"))
    assert branch["cards"]["c1"] == {"type": "branch", "rules": [], "otherwise": "q1"}


def test_adding_at_a_slot_that_does_not_exist_is_refused() -> None:
    with pytest.raises(EditError):
        editing.add_card(chain(), "message", ("q1", "answer:zz"))
    with pytest.raises(EditError):
        editing.add_card(chain(), "message", ("end", "next"))
    with pytest.raises(EditError):
        editing.add_card(chain(), "sticker", START)


def test_editing_a_card_keeps_its_type_and_where_it_leads() -> None:
    new = editing.edit_card(chain(), "m1", {"text": "Hello there", "type": "end", "next": "end"})
    assert new["cards"]["m1"] == {"type": "message", "text": "Hello there", "next": "q1"}


def test_editing_answers_keeps_each_answers_way_on_by_its_id() -> None:
    answers = [
        {"id": "a2", "label": "Nope", "value": "no"},
        {"id": "a1", "label": "Yes!", "value": "yes"},
        {"id": "a3", "label": "Maybe", "value": "maybe"},
    ]
    new = editing.edit_card(chain(), "q1", {"text": "Demo?", "field": None, "answers": answers})
    assert [(a["id"], a["next"]) for a in new["cards"]["q1"]["answers"]] == [
        ("a2", "end"),
        ("a1", "m2"),
        ("a3", None),
    ]


def test_deleting_a_card_relinks_what_led_to_it_to_its_single_successor() -> None:
    new = editing.delete_card(chain(), "m2")
    assert "m2" not in new["cards"]
    assert new["cards"]["q1"]["answers"][0]["next"] == "end"
    assert validate(new, known_fields=[]) == []


def test_deleting_the_first_card_starts_the_flow_at_its_successor() -> None:
    assert editing.delete_card(chain(), "m1")["start"] == "q1"


def test_the_first_card_cannot_go_when_several_cards_follow_it() -> None:
    flow = editing.delete_card(chain(), "m1")
    with pytest.raises(EditError):
        editing.delete_card(flow, "q1")


def test_deleting_a_question_leaves_its_branches_for_the_marketer_to_see() -> None:
    new = editing.delete_card(chain(), "q1")
    assert new["cards"]["m1"]["next"] is None
    codes = {(p.card, p.code) for p in validate(new, known_fields=[])}
    assert ("m1", "dead_end") in codes
    assert ("m2", "unreachable") in codes


def test_moving_a_card_up_swaps_it_with_the_card_before_it() -> None:
    flow = editing.add_card(chain(), "goal", ("m2", "next"))  # q1 → m2 → c1 → end
    new = editing.move_card(flow, "c1", "up")
    assert new["cards"]["q1"]["answers"][0]["next"] == "c1"
    assert new["cards"]["c1"]["next"] == "m2"
    assert new["cards"]["m2"]["next"] == "end"
    assert editing.move_card(new, "c1", "down") == flow


def test_moving_the_first_card_down_changes_the_start() -> None:
    flow = editing.add_card(chain(), "goal", ("m1", "next"))  # m1 → c1 → q1
    new = editing.move_card(flow, "m1", "down")
    assert new["start"] == "c1"
    assert new["cards"]["c1"]["next"] == "m1"
    assert new["cards"]["m1"]["next"] == "q1"


@pytest.mark.parametrize(
    ("card", "direction"),
    [("m1", "up"), ("q1", "up"), ("m1", "down"), ("m2", "down"), ("m2", "up"), ("m1", "sideways")],
)
def test_cards_move_only_within_a_chain(card: str, direction: str) -> None:
    assert not editing.can_move(chain(), card, direction)
    with pytest.raises(EditError):
        editing.move_card(chain(), card, direction)


def test_answers_are_added_with_a_fresh_id_and_removed_by_id() -> None:
    new = editing.add_answer(chain(), "q1", "Call me")
    assert new["cards"]["q1"]["answers"][-1] == {
        "id": "a3", "label": "Call me", "value": "call_me", "next": None,
    }  # fmt: skip
    fewer = editing.remove_answer(new, "q1", "a1")
    assert [a["id"] for a in fewer["cards"]["q1"]["answers"]] == ["a2", "a3"]
    with pytest.raises(EditError):
        editing.remove_answer(fewer, "q1", "a1")


def test_branch_rules_are_added_set_and_removed_keeping_their_way_on() -> None:
    flow = editing.add_card(chain(), "branch", ("m2", "next"))
    flow = editing.add_rule(flow, "c1")
    flow = editing.add_card(flow, "message", ("c1", "rule:0"))
    condition = {"attribute": "company.industry", "operator": "is", "value": "Retail"}
    flow = editing.set_rule(flow, "c1", 0, match="any", conditions=[condition])
    rule = flow["cards"]["c1"]["rules"][0]
    assert rule == {"match": "any", "conditions": [condition], "next": "c2"}
    assert validate(flow, known_fields=["company.industry"]) == []
    assert editing.remove_rule(flow, "c1", 0)["cards"]["c1"]["rules"] == []


def test_the_editors_row_buttons_map_to_operations() -> None:
    flow = editing.add_card(chain(), "branch", ("m2", "next"))
    flow = editing.apply(flow, "c1", "add-rule")
    flow = editing.apply(flow, "c1", "add-condition:0")
    assert len(flow["cards"]["c1"]["rules"][0]["conditions"]) == 2
    flow = editing.apply(flow, "c1", "remove-condition:0:1")
    assert len(flow["cards"]["c1"]["rules"][0]["conditions"]) == 1
    with pytest.raises(EditError):
        editing.apply(flow, "c1", "remove-condition:0:0")
    assert len(editing.apply(chain(), "q1", "add-answer")["cards"]["q1"]["answers"]) == 3
    with pytest.raises(EditError):
        editing.apply(chain(), "q1", "explode")


def test_the_outline_reads_depth_first_with_answers_nested() -> None:
    rows, orphans = outline(chain())
    shape = [(r.depth, r.card_id or r.via, r.jump) for r in rows]
    assert shape == [
        (0, "m1", False),
        (0, "q1", False),
        (1, "Answer “Yes”", False),
        (1, "m2", False),
        (1, "end", False),
        (1, "Answer “No”", False),
        (1, "end", True),
    ]
    assert orphans == []


def test_the_outline_lists_cards_no_path_reaches_apart() -> None:
    flow = copy.deepcopy(chain())
    flow["cards"]["lost"] = {"type": "end"}
    assert outline(flow)[1] == ["lost"]
