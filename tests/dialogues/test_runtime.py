"""The flow runtime: walking to the card awaiting the visitor, and checking their answers (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from dialogues.flow import Flow, parse
from dialogues.runtime import (
    MAX_STEPS,
    Refused,
    Step,
    accept,
    advance,
    clean_value,
    replay,
    token_values,
)


def flow(cards: dict[str, Any], start: str = "c1") -> Flow:
    return parse({"version": 1, "start": start, "cards": cards})


def capture(input: str = "text", field: str = "company", **extra: Any) -> dict[str, Any]:
    return {"type": "capture", "input": input, "prompt": "?", "field": field, **extra}


END = {"type": "end"}
QUESTION = {
    "type": "question",
    "text": "Demo?",
    "field": "demoWanted",
    "answers": [
        {"id": "yes", "label": "Yes please", "value": "yes", "next": "done"},
        {"id": "no", "label": "No", "value": "", "next": None},
    ],
}


def test_messages_and_goals_are_passed_to_the_first_question() -> None:
    cards = {
        "c1": {"type": "message", "text": "Hi", "next": "g"},
        "g": {"type": "goal", "goal": "Greeted", "next": "q"},
        "q": QUESTION,
        "done": END,
    }
    step = advance(flow(cards), "c1", {})
    assert step == Step("q", (("g", "Greeted"),), completed=False, messages=("c1",))
    assert step.shown == ["c1", "q"]


def test_a_walk_that_reaches_an_end_card_completes() -> None:
    cards = {"c1": {"type": "goal", "goal": "Seen", "next": "e"}, "e": END}
    assert advance(flow(cards), "c1", {}) == Step(None, (("c1", "Seen"),), completed=True)


@pytest.mark.parametrize("card_id", [None, "nowhere"])
def test_a_missing_next_or_card_completes(card_id: str | None) -> None:
    assert advance(flow({"c1": END}), card_id, {}) == Step(None, (), completed=True)


def test_a_message_without_next_completes() -> None:
    cards = {"c1": {"type": "message", "text": "Bye", "next": None}}
    assert advance(flow(cards), "c1", {}).completed


@pytest.mark.parametrize("kind", ["question", "capture", "meeting"])
def test_cards_that_need_the_visitor_stop_the_walk(kind: str) -> None:
    card = {
        "question": QUESTION,
        "capture": capture(),
        "meeting": {"type": "meeting", "routing": "round_robin", "agent": None, "text": "Book"},
    }[kind]
    step = advance(flow({"c1": card, "done": END}), "c1", {})
    assert step == Step("c1", (), completed=False)


def branch(match: str = "all") -> dict[str, Any]:
    return {
        "type": "branch",
        "rules": [
            {
                "match": match,
                "conditions": [
                    {"attribute": "company.industry", "operator": "is", "value": "Retail"},
                    {"attribute": "lead.leadScore", "operator": "greater_than", "value": "50"},
                ],
                "next": "hot",
            },
            {
                "match": "all",
                "conditions": [{"attribute": "lead.email", "operator": "is_empty"}],
                "next": "anonymous",
            },
        ],
        "otherwise": "other",
    }


def branch_flow(match: str = "all") -> Flow:
    ask = capture()
    return flow({"c1": branch(match), "hot": ask, "anonymous": ask, "other": ask, "done": END})


@pytest.mark.parametrize(
    ("match", "facts", "card"),
    [
        ("all", {"company.industry": "retail", "lead.leadScore": 80, "lead.email": "a@b.c"}, "hot"),
        (
            "all",
            {"company.industry": "Retail", "lead.leadScore": 10, "lead.email": "a@b.c"},
            "other",
        ),
        ("any", {"company.industry": "Retail", "lead.leadScore": 10, "lead.email": "a@b.c"}, "hot"),
        ("all", {"company.industry": "Retail", "lead.leadScore": 80}, "hot"),
        ("all", {}, "anonymous"),
        ("any", {"lead.email": "a@b.c"}, "other"),
    ],
)
def test_a_branch_takes_the_first_rule_that_matches_else_otherwise(
    match: str, facts: dict[str, Any], card: str
) -> None:
    assert advance(branch_flow(match), "c1", facts).card == card


def test_a_branch_without_otherwise_completes_when_no_rule_matches() -> None:
    cards = {"c1": {**branch(), "otherwise": None}, "hot": capture(), "anonymous": capture()}
    assert advance(flow(cards), "c1", {"lead.email": "a@b.c"}).completed


def test_a_capture_of_a_known_field_is_skipped_when_it_says_so() -> None:
    cards = {
        "c1": capture(field="firstName", skip_if_known=True, next="c2"),
        "c2": capture(field="company", skip_if_known=False, next="done"),
        "done": END,
    }
    assert advance(flow(cards), "c1", {"lead.firstName": "Ada"}).card == "c2"
    assert advance(flow(cards), "c1", {"lead.firstName": ""}).card == "c1"
    assert advance(flow(cards), "c1", {}).card == "c1"
    assert advance(flow(cards), "c2", {"lead.company": "Acme"}).card == "c2"


def test_a_loop_of_cards_that_ask_nothing_ends_instead_of_hanging() -> None:
    cards = {
        "c1": {"type": "goal", "goal": "Looped", "next": "c2"},
        "c2": {"type": "message", "text": "again", "next": "c1"},
    }
    step = advance(flow(cards), "c1", {})
    assert step.completed
    assert step.card is None
    assert len(step.goals) == MAX_STEPS // 2


ASK = flow(
    {
        "q": QUESTION,
        "email": capture("email", field="email", next="phone"),
        "phone": capture("phone", field="phone", next="name"),
        "name": capture("text", field="firstName", next="notes"),
        "notes": capture("text", field="notes", overwrite=True, next="pick"),
        "pick": capture("picklist", field="size", options=["1-10", "11-50"], next="meet"),
        "meet": {"type": "meeting", "routing": "round_robin", "text": "Book", "next": "done"},
        "done": END,
    },
    start="q",
)


def test_an_answer_on_the_question_leads_on_with_its_stored_value() -> None:
    taken = accept(ASK, "q", {"type": "answer", "card": "q", "answer": "yes"})
    assert (taken.next, taken.value, taken.field) == ("done", "yes", "demoWanted")


def test_an_answer_without_a_stored_value_stores_its_label() -> None:
    taken = accept(ASK, "q", {"type": "answer", "card": "q", "answer": "no"})
    assert (taken.next, taken.value) == (None, "No")


def test_an_answer_id_not_on_the_card_is_refused() -> None:
    with pytest.raises(Refused) as refused:
        accept(ASK, "q", {"type": "answer", "card": "q", "answer": "maybe"})
    assert refused.value.code == "invalid_answer"


@pytest.mark.parametrize("awaiting", ["email", None])
def test_an_event_for_a_card_not_awaiting_the_visitor_is_refused(awaiting: str | None) -> None:
    with pytest.raises(Refused) as refused:
        accept(ASK, awaiting, {"type": "answer", "card": "q", "answer": "yes"})
    assert refused.value.code == "card_not_current"


@pytest.mark.parametrize(
    ("card", "event"),
    [
        ("q", {"type": "capture", "value": "x"}),
        ("q", {"type": "decline"}),
        ("email", {"type": "answer", "answer": "yes"}),
        ("email", {"type": "decline"}),
        ("meet", {"type": "capture", "value": "x"}),
    ],
)
def test_an_event_the_card_does_not_take_is_refused(card: str, event: dict[str, str]) -> None:
    with pytest.raises(Refused) as refused:
        accept(ASK, card, {**event, "card": card})
    assert refused.value.code == "invalid_answer"


def test_declining_a_meeting_leads_on() -> None:
    taken = accept(ASK, "meet", {"type": "decline", "card": "meet"})
    assert (taken.next, taken.value, taken.field) == ("done", "", None)


def test_a_capture_keeps_the_cards_field_and_overwrite_setting() -> None:
    taken = accept(ASK, "notes", {"type": "capture", "card": "notes", "value": "  hi\n there "})
    assert (taken.next, taken.value, taken.field, taken.overwrite) == (
        "pick",
        "hi\n there",
        "notes",
        True,
    )
    assert (
        accept(ASK, "name", {"type": "capture", "card": "name", "value": "Ada"}).overwrite is False
    )


def value_of(card: str, value: object) -> str:
    return clean_value(ASK.cards[card], value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("card", "value"),
    [
        ("email", "ada@example.com"),
        ("email", "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 57),  # 250 chars
        ("phone", "+44 (20) 7946-0958"),
        ("phone", "12345"),
        ("name", "n" * 200),
        ("notes", "t" * 4000),
        ("notes", "line one\nline\ttwo"),
        ("pick", "11-50"),
    ],
)
def test_valid_values_are_taken(card: str, value: str) -> None:
    assert value_of(card, value) == value


@pytest.mark.parametrize(
    ("card", "value"),
    [
        ("email", "not-an-email"),
        ("email", "a" * 245 + "@example.com"),  # 257 chars
        ("phone", "call me"),
        ("phone", "1234"),
        ("phone", "1" * 31),
        ("name", "n" * 201),
        ("notes", "t" * 4001),
        ("notes", "nul\x00byte"),
        ("notes", "bell\x07"),
        ("notes", "esc\x1b[31m"),
        ("notes", "\x7f"),
        ("notes", "   "),
        ("pick", "51-200"),
        ("notes", 42),
        ("notes", None),
    ],
)
def test_invalid_values_are_refused(card: str, value: object) -> None:
    with pytest.raises(Refused) as refused:
        value_of(card, value)
    assert refused.value.code == "invalid_value"


def test_token_values_hold_only_the_fields_the_flow_shows() -> None:
    cards = {
        "c1": {"type": "message", "text": 'Hi {{lead.firstName:"there"}}', "next": "c2"},
        "c2": {
            "type": "question",
            "text": "At {{company.company}}?",
            "answers": [{"id": "a", "label": "{{lead.lastName}}", "value": "x"}],
        },
    }
    facts = {
        "lead.firstName": "Ada",
        "lead.lastName": "",
        "lead.email": "ada@example.com",
        "lead.cookies": ["_mch-secret"],
        "company.company": "Acme",
        "company.annualRevenue": 10,
    }
    values = token_values({"version": 1, "start": "c1", "cards": cards}, facts)
    assert values == {"lead": {"firstName": "Ada"}, "company": {"company": "Acme"}}


REPLAYED = {
    "c1": {"type": "message", "text": "Hi", "next": "q"},
    "q": QUESTION,
    "done": {"type": "message", "text": "Great", "next": "mail"},
    "mail": capture(next="bye"),
    "bye": {"type": "message", "text": "Thanks!", "next": "end"},
    "end": END,
}


def test_a_replay_shows_the_messages_around_each_answer_in_order() -> None:
    transcript = [("answer", "q", "yes"), ("capture", "mail", "ada@example.com")]
    assert replay(flow(REPLAYED), {}, transcript, awaiting=None) == [
        "c1", "q", "done", "mail", "bye",
    ]  # fmt: skip


def test_a_replay_ends_on_the_card_awaiting_the_visitor() -> None:
    transcript = [("answer", "q", "yes")]
    assert replay(flow(REPLAYED), {}, transcript, awaiting="mail") == ["c1", "q", "done", "mail"]


def test_a_replay_keeps_every_answered_card_even_when_the_walk_would_now_differ() -> None:
    """An answer whose value no longer matches (the flow's answers were the visitor's then)
    leads nowhere; the later answers are still shown where they belong."""
    transcript = [("answer", "q", "a value no answer has"), ("capture", "mail", "ada@example.com")]
    assert replay(flow(REPLAYED), {}, transcript, awaiting=None) == ["c1", "q", "mail", "bye"]
