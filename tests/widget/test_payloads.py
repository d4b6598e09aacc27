"""The widget's request bodies: the fast check agrees with jsonschema on every body, valid or
not, so a valid body never pays for jsonschema and an invalid one is always explained."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from widget import payloads

START = {"site": "site-key", "visitor": "v" * 16, "version": 1, "url": "https://a.example/"}
EVENTS: dict[str, Any] = {
    "events": [
        {"seq": 1, "type": "opened"},
        {"seq": 2, "type": "answer", "card": "q1", "answer": "yes"},
        {"seq": 3, "type": "capture", "card": "mail", "value": "ann@example.com", "hp": ""},
        {"seq": 4, "type": "decline", "card": "meet"},
        {"seq": 5, "type": "closed"},
    ],
    "url": "https://a.example/pricing",
}


def changed(body: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """A copy of ``body`` with the value at ``path`` replaced (``...`` deletes it)."""
    copied = copy.deepcopy(body)
    target = copied
    for step in path[:-1]:
        target = target[step]
    if value is ...:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return copied


START_BODIES = [
    START,
    changed(START, ("visitor",), "v" * 16 + "\n"),
    changed(START, ("visitor",), "short"),
    changed(START, ("version",), 0),
    changed(START, ("version",), True),
    changed(START, ("url",), "javascript:alert(1)"),
    changed(START, ("mkto",), "x" * 501),
    changed(START, ("extra",), 1),
    changed(START, ("site",), ...),
    changed(START, ("site",), "bad key"),
    [],
    "text",
]
EVENTS_BODIES = [
    EVENTS,
    changed(EVENTS, ("events",), []),
    changed(EVENTS, ("events",), [{"seq": 1, "type": "opened"}] * 51),
    changed(EVENTS, ("events", 0, "seq"), 0),
    changed(EVENTS, ("events", 0, "seq"), 1_000_001),
    changed(EVENTS, ("events", 0, "type"), "shout"),
    changed(EVENTS, ("events", 0, "card"), "q1"),
    changed(EVENTS, ("events", 1, "answer"), ...),
    changed(EVENTS, ("events", 1, "answer"), "a" * 33),
    changed(EVENTS, ("events", 2, "value"), "v" * 4001),
    changed(EVENTS, ("events", 2, "hp"), 3),
    changed(EVENTS, ("events", 3, "card"), ""),
    changed(EVENTS, ("events", 4), "closed"),
    changed(EVENTS, ("url",), "https://a.example/\n"),
    changed(EVENTS, ("extra",), {}),
    {"events": "opened"},
]


@pytest.mark.parametrize("body", START_BODIES)
def test_the_fast_start_check_agrees_with_jsonschema(body: Any) -> None:
    explained = payloads.problems(payloads._start, body)
    assert payloads._start_ok(body) == (not explained)
    assert payloads.start_problems(body) == explained


@pytest.mark.parametrize("body", EVENTS_BODIES)
def test_the_fast_events_check_agrees_with_jsonschema(body: Any) -> None:
    explained = payloads.problems(payloads._events, body)
    assert payloads._events_ok(body) == (not explained)
    assert payloads.events_problems(body) == explained


def test_only_the_two_valid_bodies_are_valid() -> None:
    verdicts = [payloads._start_ok(b) for b in START_BODIES]
    verdicts += [payloads._events_ok(b) for b in EVENTS_BODIES]
    assert verdicts.count(True) == 2
