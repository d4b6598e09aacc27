"""The flow's JSON Schema and its parsing into typed cards."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from dialogues.flow import (
    FLOW_SCHEMA,
    Answer,
    Branch,
    Capture,
    End,
    FlowError,
    Meeting,
    Message,
    Problem,
    Question,
    parse,
    schema_errors,
)

EXAMPLE: dict[str, Any] = {
    "version": 1,
    "start": "c1",
    "cards": {
        "c1": {"type": "message", "text": 'Hi {{lead.firstName:"there"}}!', "next": "c2"},
        "c2": {
            "type": "question",
            "text": "What brings you here?",
            "field": "productInterest",
            "answers": [
                {"id": "a1", "label": "Pricing", "value": "pricing", "next": "c3"},
                {"id": "a2", "label": "Just looking", "value": "browsing", "next": "c9"},
            ],
        },
        "c3": {
            "type": "capture",
            "input": "email",
            "prompt": "Your work email?",
            "placeholder": "you@company.com",
            "field": "email",
            "skip_if_known": True,
            "overwrite": False,
            "next": "c4",
        },
        "c4": {
            "type": "capture",
            "input": "picklist",
            "prompt": "Team size?",
            "options": ["1-10", "11-50", "51+"],
            "field": "numberOfEmployees",
            "skip_if_known": False,
            "overwrite": True,
            "next": "c5",
        },
        "c5": {
            "type": "branch",
            "rules": [
                {
                    "match": "all",
                    "conditions": [
                        {
                            "attribute": "company.numberOfEmployees",
                            "operator": "greater_than",
                            "value": "50",
                        }
                    ],
                    "next": "c6",
                }
            ],
            "otherwise": "c8",
        },
        "c6": {
            "type": "meeting",
            "routing": "round_robin",
            "agent": None,
            "text": "Pick a time",
            "next": "c7",
        },
        "c7": {"type": "goal", "goal": "Booked a demo", "next": "c8"},
        "c8": {"type": "end"},
        "c9": {"type": "message", "text": "Enjoy!", "next": "c8"},
    },
}


def example() -> dict[str, Any]:
    return copy.deepcopy(EXAMPLE)


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    Draft202012Validator.check_schema(FLOW_SCHEMA)
    assert FLOW_SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_the_example_flow_is_well_formed() -> None:
    assert schema_errors(EXAMPLE) == []
    assert Draft202012Validator(FLOW_SCHEMA).is_valid(EXAMPLE)


def test_parse_gives_typed_cards() -> None:
    flow = parse(EXAMPLE)
    assert flow.start == "c1"
    assert flow.card("c1") == Message(text='Hi {{lead.firstName:"there"}}!', next="c2")
    question = flow.card("c2")
    assert isinstance(question, Question)
    assert question.field == "productInterest"
    assert question.answers[1] == Answer("a2", "Just looking", "browsing", "c9")
    picklist = flow.card("c4")
    assert isinstance(picklist, Capture)
    assert picklist.options == ("1-10", "11-50", "51+")
    assert picklist.overwrite
    assert not picklist.skip_if_known
    branch = flow.card("c5")
    assert isinstance(branch, Branch)
    assert branch.rules[0].conditions[0].attribute == "company.numberOfEmployees"
    assert flow.card("c6") == Meeting("round_robin", None, "Pick a time", "c7")
    assert flow.card("c8") == End()


def test_successors_follow_every_way_on_once() -> None:
    flow = parse(EXAMPLE)
    assert flow.successors("c2") == ["c3", "c9"]
    assert flow.successors("c5") == ["c6", "c8"]
    assert flow.successors("c7") == ["c8"]
    assert flow.successors("c8") == []


def test_a_missing_card_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        parse(EXAMPLE).card("nope")


def test_parse_raises_with_the_problems_of_a_malformed_flow() -> None:
    data = example()
    data["cards"]["c3"]["input"] = "fax"
    with pytest.raises(FlowError) as caught:
        parse(data)
    assert caught.value.problems == [
        Problem("c3", "schema", "input: must be one of: email, phone, text, picklist")
    ]


def test_a_draft_may_leave_ways_on_unconnected() -> None:
    data = example()
    data["cards"]["c1"]["next"] = None
    del data["cards"]["c9"]["next"]
    data["cards"]["c2"]["answers"] = []
    assert schema_errors(data) == []


def _set(path: str, value: object) -> dict[str, Any]:
    data = example()
    *parents, last = path.split(".")
    target: Any = data
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    key: int | str = int(last) if last.isdigit() else last
    if value is KeyError:
        del target[key]
    else:
        target[key] = value
    return data


TOO_MANY_ANSWERS = [{"id": f"a{n}", "label": "L", "value": "v", "next": "c8"} for n in range(11)]


@pytest.mark.parametrize(
    ("path", "value", "card"),
    [
        ("version", 2, None),
        ("start", "Start!", None),
        ("cards.c1.text", "x" * 2_001, "c1"),
        ("cards.c1.colour", "red", "c1"),
        ("cards.c1.type", "video", "c1"),
        ("cards.c1.text", KeyError, "c1"),
        ("cards.c2.answers", TOO_MANY_ANSWERS, "c2"),
        ("cards.c2.answers.0.label", "", "c2"),
        ("cards.c2.field", "first name", "c2"),
        ("cards.c2.field", "firstName\n", "c2"),  # JSON Schema's "$" is the very end
        ("cards.c1.next", "c2\n", "c1"),
        ("cards.c3.options", ["a"], "c3"),
        ("cards.c4.options", [], "c4"),
        ("cards.c4.options", [str(n) for n in range(51)], "c4"),
        ("cards.c4.options", KeyError, "c4"),
        ("cards.c4.skip_if_known", "yes", "c4"),
        ("cards.c5.rules.0.match", "most", "c5"),
        ("cards.c5.rules.0.conditions", [], "c5"),
        ("cards.c5.rules.0.conditions.0.operator", "like", "c5"),
        ("cards.c5.rules.0.conditions.0.attribute", "visitor.city", "c5"),
        ("cards.c5.rules.0.conditions.0.value", KeyError, "c5"),
        ("cards.c6.routing", "agent", "c6"),
        ("cards.c6.agent", 7, "c6"),
        ("cards.c6.agent", "seven", "c6"),
        ("cards.c7.goal", "", "c7"),
        ("cards.c8.next", "c1", "c8"),
        ("cards.c9", "Enjoy!", "c9"),
    ],
)
def test_it_reports_malformed_parts_on_their_card(path: str, value: object, card: str) -> None:
    problems = schema_errors(_set(path, value))
    assert problems
    assert {problem.card for problem in problems} == {card}
    assert {problem.code for problem in problems} == {"schema"}


def test_empty_operators_take_no_value() -> None:
    condition = {"attribute": "inferred.country", "operator": "is_empty"}
    assert schema_errors(_set("cards.c5.rules.0.conditions.0", condition)) == []
    condition["value"] = "DE"
    assert schema_errors(_set("cards.c5.rules.0.conditions.0", condition))


def test_routing_to_one_agent_names_the_agent() -> None:
    data = _set("cards.c6.routing", "agent")
    data["cards"]["c6"]["agent"] = 7
    assert schema_errors(data) == []
    assert parse(data).card("c6") == Meeting("agent", 7, "Pick a time", "c7")


def test_answer_ids_are_unique_within_a_question() -> None:
    data = _set("cards.c2.answers.1.id", "a1")
    assert schema_errors(data) == [Problem("c2", "schema", "Two answers share the id 'a1'")]


def test_a_bad_card_id_is_a_flow_level_problem() -> None:
    data = example()
    data["cards"]["Card 10"] = {"type": "end"}
    assert schema_errors(data) == [
        Problem(None, "schema", "Card id 'Card 10' must be 1–32 lowercase letters, digits, - or _.")
    ]


def test_a_flow_has_at_most_500_cards() -> None:
    data = example()
    data["cards"] = {f"e{n}": {"type": "end"} for n in range(501)}
    assert [problem.message for problem in schema_errors(data)] == [
        "cards: has too many entries (at most 500)"
    ]


def test_messages_name_the_part_in_plain_words() -> None:
    problems = schema_errors(_set("cards.c2.answers.1.label", 5))
    assert problems == [Problem("c2", "schema", "answers → #2 → label: must be text")]


def test_something_that_is_not_an_object_is_not_a_flow() -> None:
    assert [problem.card for problem in schema_errors([1, 2])] == [None]


JSON_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from(["", "c8", "email", "agent", "picklist", "is_empty", "x" * 2_001, "A B"]),
    st.lists(st.sampled_from(["a", "b", "c8"]), max_size=3),
    st.builds(dict),
)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(
    card_id=st.sampled_from(sorted(EXAMPLE["cards"])),
    key=st.sampled_from(
        [
            "type",
            "text",
            "next",
            "field",
            "answers",
            "input",
            "options",
            "agent",
            "routing",
            "rules",
            "otherwise",
            "goal",
            "prompt",
            "skip_if_known",
            "extra",
        ]
    ),
    value=st.one_of(JSON_VALUES, st.just(KeyError)),
)
def test_the_fast_check_agrees_with_the_schema(card_id: str, key: str, value: object) -> None:
    data = example()
    card = data["cards"][card_id]
    if value is KeyError:
        card.pop(key, None)
    else:
        card[key] = value
    assert (schema_errors(data) == []) == Draft202012Validator(FLOW_SCHEMA).is_valid(data)
