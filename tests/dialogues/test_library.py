"""The dialogue templates: valid flows on core fields only, with default targeting."""

from __future__ import annotations

import pytest

from dialogues import library
from dialogues.flow import Capture, Meeting, Message, Question, parse
from dialogues.services import known_fields
from dialogues.validation import validate


@pytest.mark.django_db
@pytest.mark.parametrize("key", library.TEMPLATES)
def test_every_template_passes_validation_with_only_the_core_fields(key: str) -> None:
    template = library.TEMPLATES[key]
    assert validate(template.flow, known_fields=known_fields().for_flow) == []


def test_qualify_asks_takes_the_email_books_and_lets_browsers_go() -> None:
    flow = parse(library.QUALIFY.flow)
    first = flow.card(flow.start)
    assert isinstance(first, Question)
    yes, browsing = first.answers
    assert isinstance(flow.card(str(yes.next)), Capture)
    assert any(isinstance(card, Meeting) for card in flow.cards.values())
    assert isinstance(flow.card(str(browsing.next)), Message)


def test_the_welcome_greets_by_first_name_and_targets_anonymous_visitors() -> None:
    assert '{{lead.firstName:"there"}}' in library.WELCOME.flow["cards"]["hello"]["text"]
    targeting = library.WELCOME.targeting(["https://a.example"])
    assert targeting["audience"][0]["conditions"] == [
        {"attribute": "lead.email", "operator": "is_empty", "value": ""}
    ]


def test_a_templates_pages_are_the_sites_origins() -> None:
    targeting = library.QUALIFY.targeting(["https://a.example", "https://b.example/"])
    assert targeting["include"] == [
        "https://a.example/pricing*",
        "https://a.example/demo*",
        "https://b.example/pricing*",
        "https://b.example/demo*",
    ]
    flow, blank = library.starting_point(library.BLANK, ["https://a.example"])
    assert blank["include"] == ["https://a.example/*"]
    assert flow["cards"] == {"welcome": {"type": "end"}}
