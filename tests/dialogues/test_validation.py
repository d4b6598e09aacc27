"""Validation before publishing: each problem on a small hand-made flow, on its card."""

from __future__ import annotations

from typing import Any

from dialogues.flow import Problem
from dialogues.validation import attributes_used, validate
from tests.dialogues.test_flow_schema import EXAMPLE

KNOWN = ["firstName", "productInterest", "numberOfEmployees", "company.numberOfEmployees"]


def message(next_card: str | None, text: str = "Hello") -> dict[str, Any]:
    return {"type": "message", "text": text, "next": next_card}


def question(*answers: str | None, field: str | None = None) -> dict[str, Any]:
    return {
        "type": "question",
        "text": "Which one?",
        "field": field,
        "answers": [
            {"id": f"a{n}", "label": f"Answer {n}", "value": f"v{n}", "next": next_card}
            for n, next_card in enumerate(answers, start=1)
        ],
    }


def capture(next_card: str | None, field: str = "email", input_: str = "email") -> dict[str, Any]:
    return {
        "type": "capture",
        "input": input_,
        "prompt": "Tell us",
        "field": field,
        "next": next_card,
    }


def branch(
    *rules: str | None, otherwise: str | None, attribute: str = "lead.firstName"
) -> dict[str, Any]:
    condition = {"attribute": attribute, "operator": "is", "value": "Ada"}
    return {
        "type": "branch",
        "rules": [{"match": "any", "conditions": [condition], "next": n} for n in rules],
        "otherwise": otherwise,
    }


def meeting(next_card: str | None) -> dict[str, Any]:
    return {
        "type": "meeting",
        "routing": "round_robin",
        "agent": None,
        "text": "Pick",
        "next": next_card,
    }


END = {"type": "end"}


def flow(start: str = "s", **cards: dict[str, Any]) -> dict[str, Any]:
    return {"version": 1, "start": start, "cards": cards}


def found(data: dict[str, Any], known: list[str] = KNOWN) -> list[tuple[str | None, str]]:
    return [(problem.card, problem.code) for problem in validate(data, known_fields=known)]


def test_the_example_flow_is_valid() -> None:
    assert validate(EXAMPLE, known_fields=KNOWN) == []


def test_a_straight_line_to_an_end_is_valid() -> None:
    assert found(flow(s=message("q"), q=question("e", "e"), e=END)) == []


def test_a_malformed_flow_gets_only_its_schema_problems() -> None:
    data = flow(s=message("nowhere"), e={"type": "end", "next": "s"})
    assert found(data) == [("e", "schema")]


def test_a_next_pointing_nowhere_is_an_unknown_card() -> None:
    problems = validate(flow(s=message("ghost"), e=END), known_fields=KNOWN)
    assert (problems[0].card, problems[0].code) == ("s", "unknown_card")
    assert "“ghost”" in problems[0].message


def test_an_unknown_start_is_a_flow_level_problem() -> None:
    assert found(flow("ghost", s=message("e"), e=END)) == [(None, "unknown_card")]


def test_an_answer_or_rule_pointing_nowhere_is_an_unknown_card() -> None:
    data = flow(s=question("b", "ghost"), b=branch("ghost", otherwise="e"), e=END)
    assert found(data) == [("s", "unknown_card"), ("b", "unknown_card")]


def test_a_card_no_path_reaches_is_unreachable() -> None:
    assert found(flow(s=message("e"), lost=message("e"), e=END)) == [("lost", "unreachable")]


def test_a_card_without_a_way_on_is_a_dead_end() -> None:
    assert found(flow(s=message("m"), m=message(None))) == [("m", "dead_end")]


def test_an_unconnected_answer_is_a_dead_end_on_its_question() -> None:
    problems = validate(flow(s=question("e", None), e=END), known_fields=KNOWN)
    assert [(p.card, p.code) for p in problems] == [("s", "dead_end")]
    assert "“Answer 2”" in problems[0].message


def test_a_branch_without_a_fallback_is_a_dead_end() -> None:
    assert found(flow(s=branch("e", otherwise=None), e=END)) == [("s", "dead_end")]


def test_a_question_without_answers_is_reported_as_such() -> None:
    assert found(flow(s=message("q"), q=question())) == [("q", "missing_answers")]


def test_a_loop_with_no_way_to_an_end_has_no_exit() -> None:
    data = flow(s=message("a"), a=message("b"), b=message("a"), e=END)
    problems = validate(data, known_fields=KNOWN)
    assert [(p.card, p.code) for p in problems] == [("e", "unreachable"), ("a", "no_exit")]
    assert "a → b" in problems[1].message


def test_a_card_looping_on_itself_has_no_exit() -> None:
    assert found(flow(s=message("s"))) == [("s", "no_exit")]


def test_a_loop_with_a_way_out_is_fine() -> None:
    assert found(flow(s=question("s", "e"), e=END)) == []


def test_a_meeting_needs_an_email_capture_on_every_path_before_it() -> None:
    data = flow(s=question("c", "m"), c=capture("m"), m=meeting("e"), e=END)
    problems = validate(data, known_fields=KNOWN)
    assert [(p.card, p.code) for p in problems] == [("m", "booking_before_email")]
    assert "email" in problems[0].message


def test_a_meeting_after_an_email_capture_is_fine() -> None:
    assert found(flow(s=capture("m"), m=meeting("e"), e=END)) == []


def test_a_phone_capture_does_not_count_as_the_email() -> None:
    data = flow(s=capture("m", field="phone", input_="phone"), m=meeting("e"), e=END)
    assert found(data, [*KNOWN, "phone"]) == [("m", "booking_before_email")]


def test_saving_an_answer_to_an_unknown_field_is_reported() -> None:
    data = flow(s=question("c", field="shoeSize"), c=capture("e", field="favouriteColour"), e=END)
    assert found(data) == [("s", "unknown_field"), ("c", "unknown_field")]


def test_email_is_always_a_known_field() -> None:
    assert found(flow(s=capture("e"), e=END), known=[]) == []


def test_a_branch_on_an_unknown_attribute_is_reported() -> None:
    for attribute in ("lead.shoeSize", "company.shoeSize", "inferred.planet", "company.firstName"):
        data = flow(s=branch("e", otherwise="e", attribute=attribute), e=END)
        assert found(data) == [("s", "unknown_field")], attribute


def test_inferred_location_is_always_known() -> None:
    for attribute in ("inferred.state", "inferred.country", "inferred.city"):
        assert found(flow(s=branch("e", otherwise="e", attribute=attribute), e=END), []) == []


def test_a_token_naming_an_unknown_field_is_reported() -> None:
    data = flow(s=message("e", "Hi {{lead.nickname}} at {{company.industry}}"), e=END)
    assert found(data) == [("s", "unknown_field"), ("s", "unknown_field")]


def test_fields_captured_earlier_count_as_known() -> None:
    data = flow(
        s=capture("q", field="jobTitle", input_="text"),
        q=question("b", field="jobTitle"),
        b=branch("m", otherwise="m", attribute="lead.jobTitle"),
        m=message("e", "So you are a {{lead.jobTitle}}"),
        e=END,
    )
    assert found(data, ["jobTitle"]) == []
    assert found(data, []) == [("s", "unknown_field"), ("q", "unknown_field")]


def test_a_field_captured_only_later_is_not_known_earlier() -> None:
    data = flow(s=message("c", "Hi {{lead.jobTitle}}"), c=capture("e", field="jobTitle"), e=END)
    assert ("s", "unknown_field") in found(data, [])


def test_a_malformed_token_is_reported_on_its_card() -> None:
    problems = validate(flow(s=message("e", "Hi {{lead.first name}}"), e=END), known_fields=KNOWN)
    assert problems == [
        Problem(
            "s",
            "bad_token",
            "“{{lead.first name}}” is not a valid personalisation token; "
            'write it like {{lead.firstName:"there"}}.',
        )
    ]


def test_tokens_are_checked_in_every_text_a_visitor_sees() -> None:
    ask = question("c")
    ask["answers"][0]["label"] = "{{oops}}"
    ask_email = capture("m")
    ask_email["placeholder"] = "{{lead.email"
    book = meeting("e")
    book["text"] = "{{}}"
    data = flow(s=ask, c=ask_email, m=book, e=END)
    assert found(data) == [("s", "bad_token"), ("c", "bad_token"), ("m", "bad_token")]


def test_a_large_flow_is_validated_without_problems() -> None:
    cards = {f"c{n}": message(f"c{n + 1}", "Hi {{lead.firstName}}") for n in range(498)}
    data = flow("c0", **cards, c498=capture("c499"), c499=END)
    assert len(data["cards"]) == 500
    assert validate(data, known_fields=KNOWN) == []


def test_problems_for_a_marketer_are_sentences() -> None:
    data = flow(s=message(None), lost=question(), m=meeting("e"), e=END)
    for problem in validate(data, known_fields=KNOWN):
        assert problem.message[0].isupper()
        assert problem.message.endswith(".")


def test_attributes_used_names_every_field_a_flow_and_its_audience_read_or_write() -> None:
    flow = {
        "cards": {
            "ask": {"type": "capture", "field": "title", "prompt": 'Hi {{lead.firstName:"x"}}'},
            "route": {
                "type": "branch",
                "rules": [{"conditions": [{"attribute": "company.industry"}]}],
            },
            "thanks": {"type": "message", "text": "{{company.company}} and {{lead.titleCase}}"},
            "broken": "a draft's garbage",
        }
    }
    targeting = {"audience": [{"conditions": [{"attribute": "inferred.city"}, "garbage"]}]}
    assert attributes_used(flow, targeting) == {
        "lead.title",
        "lead.firstName",
        "company.industry",
        "company.company",
        "lead.titleCase",
        "inferred.city",
    }
    assert attributes_used("not a flow", None) == set()
