"""Personalisation tokens: finding, reporting malformed ones, and rendering."""

from __future__ import annotations

import pytest

from dialogues.tokens import Token, bad_tokens, find_tokens, render


def test_it_finds_a_lead_token_with_its_default_and_span() -> None:
    text = 'Hi {{lead.firstName:"there"}}!'
    assert find_tokens(text) == [Token("lead", "firstName", "there", (3, 29))]
    assert text[3:29] == '{{lead.firstName:"there"}}'


def test_it_finds_company_tokens_and_tokens_without_default() -> None:
    tokens = find_tokens("{{company.industry}} and {{ lead.lastName }}")
    assert [(t.object, t.field, t.default) for t in tokens] == [
        ("company", "industry", None),
        ("lead", "lastName", None),
    ]
    assert [t.name for t in tokens] == ["company.industry", "lastName"]


def test_an_empty_default_is_kept_apart_from_no_default() -> None:
    assert find_tokens('{{lead.city:""}}')[0].default == ""


def test_a_default_may_contain_braces() -> None:
    assert find_tokens('{{lead.city:"your }} town"}}')[0].default == "your }} town"


def test_plain_text_has_no_tokens_and_nothing_malformed() -> None:
    assert find_tokens("Hello { there }") == []
    assert bad_tokens("Hello { there }") == []


@pytest.mark.parametrize(
    "fragment",
    [
        "{{lead.first name}}",
        "{{contact.email}}",
        "{{lead}}",
        "{{}}",
        "{{lead.9lives}}",
        "{{lead.city:there}}",
        '{{lead.city:"unterminated}}',
        "{{lead." + "x" * 101 + "}}",
    ],
)
def test_it_reports_malformed_fragments(fragment: str) -> None:
    text = f'Hi {fragment} and {{{{lead.firstName:"there"}}}}'
    assert bad_tokens(text) == [fragment]
    assert [t.field for t in find_tokens(text)] == ["firstName"]


def test_an_unclosed_token_runs_to_the_end_of_the_text() -> None:
    assert bad_tokens("Hi {{lead.firstName, welcome") == ["{{lead.firstName, welcome"]


def test_it_renders_known_values() -> None:
    text = "Hi {{lead.firstName}} from {{company.company}}"
    rendered = render(text, {"lead.firstName": "Ada", "company.company": "Analytical"})
    assert rendered == "Hi Ada from Analytical"


@pytest.mark.parametrize("value", [None, "", "   "])
def test_it_falls_back_to_the_default_for_unknown_or_empty_values(value: str | None) -> None:
    assert render('Hi {{lead.firstName:"there"}}!', {"lead.firstName": value}) == "Hi there!"


def test_it_renders_nothing_for_unknown_values_without_default() -> None:
    assert render("Hi {{lead.firstName}}!", {}) == "Hi !"


def test_it_renders_numbers_as_text() -> None:
    assert render("{{company.numberOfEmployees}} people", {"company.numberOfEmployees": 51}) == (
        "51 people"
    )


def test_it_returns_plain_text_and_leaves_escaping_to_the_caller() -> None:
    assert render("{{lead.firstName}}", {"lead.firstName": "<b>Ada</b>"}) == "<b>Ada</b>"


def test_it_leaves_malformed_fragments_as_they_are() -> None:
    assert render("Hi {{lead.first name}}", {"lead.firstName": "Ada"}) == "Hi {{lead.first name}}"
