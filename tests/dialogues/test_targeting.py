"""Targeting: which pages, which visitors and which moment a dialogue is for (pure rules)."""

from __future__ import annotations

from typing import Any

import pytest

from dialogues.targeting import (
    CompiledPatterns,
    Trigger,
    audience_matches,
    audience_problems,
    canonical_url,
    compile_patterns,
    condition_matches,
    explain,
    page_matches,
    pattern_list_problems,
    pattern_problems,
    trigger_problems,
)

KNOWN = {"lead.email", "lead.score", "lead.state", "company.industry", "inferred.state"}


def targets(pattern: str, url: str) -> bool:
    return page_matches([pattern], [], url)


def condition(attribute: str, operator: str, value: str = "") -> dict[str, str]:
    return {"attribute": attribute, "operator": operator, "value": value}


def holds(operator: str, value: str, fact: Any) -> bool:
    facts = {} if fact is None else {"lead.x": fact}
    return condition_matches(condition("lead.x", operator, value), facts)


# --- Pages -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "url", "expected"),
    [
        # A plain URL is that page only.
        ("https://example.com/pricing", "https://example.com/pricing", True),
        ("https://example.com/pricing", "https://example.com/pricing/plans", False),
        ("https://example.com", "https://example.com/", True),
        ("https://example.com", "https://example.com/pricing", False),
        # A wildcard host is the whole site: bare domain, subdomains, every page.
        ("https://*.example.com", "https://example.com/", True),
        ("https://*.example.com", "https://www.example.com/pricing", True),
        ("https://*.example.com", "https://a.b.example.com/x/y", True),
        ("https://*.example.com", "https://notexample.com/", False),
        ("https://*.example.com", "https://evil.com/www.example.com", False),
        # A folder wildcard is the folder page and every page under it.
        ("https://example.com/pricing/*", "https://example.com/pricing", True),
        ("https://example.com/pricing/*", "https://example.com/pricing/", True),
        ("https://example.com/pricing/*", "https://example.com/pricing/teams/large", True),
        ("https://example.com/pricing/*", "https://example.com/pricing-old", False),
        ("https://example.com/pricing/*", "https://example.com/about", False),
        # Both wildcards at once.
        ("https://*.example.com/folder/*", "https://docs.example.com/folder/a", True),
        ("https://*.example.com/folder/*", "https://docs.example.com/other/a", False),
        # A wildcard inside a path segment.
        ("https://example.com/pricing*", "https://example.com/pricing-plans", True),
        ("https://example.com/*/pricing", "https://example.com/en/pricing", True),
        ("https://example.com/*/pricing", "https://example.com/en/us/pricing", True),
        ("https://example.com/*/pricing", "https://example.com/en/about", False),
        # A leading wildcard host: that page on any site.
        ("*/pricing", "https://example.com/pricing", True),
        ("*/pricing", "http://other.org/pricing/", True),
        ("*/pricing", "https://example.com/pricing/plans", False),
        ("*", "https://anything.example/any/page", True),
        # Without a scheme, http and https both match; with one, only that scheme.
        ("example.com/pricing", "http://example.com/pricing", True),
        ("example.com/pricing", "https://example.com/pricing", True),
        ("https://example.com/pricing", "http://example.com/pricing", False),
        ("http://example.com/pricing", "https://example.com/pricing", False),
    ],
)
def test_wildcard_forms_from_the_spec(pattern: str, url: str, expected: bool) -> None:
    assert targets(pattern, url) is expected


@pytest.mark.parametrize(
    ("pattern", "url"),
    [
        ("https://example.com/pricing", "https://example.com/pricing?utm_source=ad"),
        ("https://example.com/pricing", "https://example.com/pricing#plans"),
        ("https://example.com/pricing?ref=x", "https://example.com/pricing"),
        ("https://example.com/pricing?ref=x", "https://example.com/pricing?ref=y"),
        ("https://example.com/pricing#top", "https://example.com/pricing/?a=1#b"),
    ],
)
def test_query_strings_and_fragments_are_ignored_on_both_sides(pattern: str, url: str) -> None:
    assert targets(pattern, url)


def test_scheme_and_host_are_case_insensitive_but_the_path_is_not() -> None:
    assert targets("HTTPS://Example.COM/pricing", "https://EXAMPLE.com/pricing")
    assert not targets("https://example.com/Pricing", "https://example.com/pricing")
    assert not targets("https://example.com/pricing", "https://example.com/PRICING")


def test_a_trailing_slash_is_no_difference() -> None:
    assert targets("https://example.com/pricing", "https://example.com/pricing/")
    assert targets("https://example.com/pricing/", "https://example.com/pricing")
    assert targets("https://example.com/", "https://example.com")


def test_default_ports_and_user_info_are_ignored_but_other_ports_count() -> None:
    assert targets("https://example.com/a", "https://example.com:443/a")
    assert targets("http://example.com:80/a", "http://example.com/a")
    assert targets("https://example.com/a", "https://user@example.com/a")
    assert not targets("https://example.com/a", "https://example.com:8443/a")
    assert targets("http://localhost:8000/*", "http://localhost:8000/demo")


def test_regex_characters_in_patterns_are_literal() -> None:
    assert targets("https://example.com/a+b(c)", "https://example.com/a+b(c)")
    assert not targets("https://example.com/a.c", "https://example.com/abc")


def test_no_include_patterns_means_every_page() -> None:
    assert page_matches([], [], "https://example.com/anything")


def test_exclude_beats_include() -> None:
    include = ["https://example.com/*"]
    exclude = ["https://example.com/careers/*"]
    assert page_matches(include, exclude, "https://example.com/pricing")
    assert not page_matches(include, exclude, "https://example.com/careers/engineer")
    assert not page_matches([], exclude, "https://example.com/careers")


def test_any_include_pattern_is_enough() -> None:
    include = ["https://example.com/pricing", "https://example.com/demo"]
    assert page_matches(include, [], "https://example.com/demo")
    assert not page_matches(include, [], "https://example.com/blog")


@pytest.mark.parametrize(
    "url",
    ["", "not a url", "mailto:a@example.com", "ftp://example.com/", "https://", "http://[::1"],
)
def test_what_is_not_an_http_page_is_never_targeted(url: str) -> None:
    assert canonical_url(url) is None
    assert not page_matches([], [], url)


def test_compiled_patterns_are_cached_and_reusable() -> None:
    compiled = compile_patterns(["https://example.com/pricing/*"])
    assert compile_patterns(("https://example.com/pricing/*",)) is compiled
    assert isinstance(compiled, CompiledPatterns)
    assert compiled.matches("https://example.com/pricing/a")
    assert not compiled.matches("https://example.com/")
    assert page_matches(compiled, compile_patterns([]), "https://example.com/pricing")
    assert compile_patterns([]).is_empty
    assert not compile_patterns([]).matches("https://example.com/")


def test_a_good_pattern_has_no_problems() -> None:
    for pattern in ("https://*.example.com/folder/*", "example.com", "*/pricing", "a.io:8080/x"):
        assert pattern_problems(pattern) == []


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("", "Enter a URL pattern."),
        ("   ", "Enter a URL pattern."),
        ("https://example.com/" + "a" * 500, "at most 500 characters"),
        ("https://example.com/my page", "cannot contain spaces"),
        ("https://example.com/\tpage", "cannot contain spaces"),
        ("*/" + "*/" * 10, "at most 10 * wildcards"),
        ("ftp://example.com", "must start with http://, https://"),
        ("javascript:alert(1)", "must start with http://, https://"),
        ("https:/example.com", "must start with http://, https://"),
        ("https:///pricing", "needs a site"),
        ("/pricing", "needs a site"),
    ],
)
def test_pattern_problems_name_what_is_wrong(pattern: str, problem: str) -> None:
    assert any(problem in found for found in pattern_problems(pattern))


def test_ten_wildcards_are_allowed() -> None:
    assert pattern_problems("https://*.example.com/" + "*/" * 9) == []


def test_a_pattern_list_is_limited_to_twenty() -> None:
    patterns = [f"https://example.com/{n}" for n in range(21)]
    assert pattern_list_problems(patterns[:20]) == []
    assert pattern_list_problems(patterns) == ["A dialogue can have at most 20 URL patterns here."]
    assert pattern_list_problems(["ok.com", "ftp://x"])[0].startswith("'ftp://x': ")


# --- Audience: operators -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "value", "fact", "expected"),
    [
        # is: text ignores case and surrounding whitespace; numbers compare as numbers.
        ("is", "Ohio", "ohio", True),
        ("is", " ohio ", "OHIO  ", True),
        ("is", "Ohio", "Ohio City", False),
        ("is", "10", "10.0", True),
        ("is", "10", 10, True),
        ("is", "1e3", "1000", True),
        ("is", "10", "010 apples", False),
        ("is", "true", True, True),
        ("is", "Ohio", None, False),
        ("is", "Ohio", ["Texas", "ohio"], True),
        ("is", "Ohio", ["Texas", "Utah"], False),
        # is_not: the opposite of is; a missing value is not the value.
        ("is_not", "Ohio", "Texas", True),
        ("is_not", "Ohio", " OHIO", False),
        ("is_not", "Ohio", None, True),
        ("is_not", "Ohio", "", True),
        ("is_not", "Ohio", ["Texas", "ohio"], False),
        ("is_not", "5", "5.00", False),
        # contains
        ("contains", "soft", "Software", True),
        ("contains", " WARE ", "software", True),
        ("contains", "hard", "Software", False),
        ("contains", "soft", None, False),
        ("contains", "soft", ["Retail", "Software"], True),
        # starts_with
        ("starts_with", "soft", "Software", True),
        ("starts_with", "ware", "Software", False),
        ("starts_with", "soft", None, False),
        ("starts_with", "ann", ["bob@x.com", "Ann@x.com"], True),
        # greater_than / less_than: only when both sides are numbers.
        ("greater_than", "100", "101", True),
        ("greater_than", "100", "100", False),
        ("greater_than", "100", 99.5, False),
        ("greater_than", "9", "10", True),  # as numbers, not as text ("9" > "10" as text)
        ("greater_than", "-1", "0", True),
        ("greater_than", "100", "lots", False),
        ("greater_than", "many", "101", False),
        ("greater_than", "100", None, False),
        ("greater_than", "0", True, False),
        ("greater_than", "100", "nan", False),
        ("greater_than", "100", ["5", "500"], True),
        ("less_than", "100", "99", True),
        ("less_than", "100", " 1e1 ", True),
        ("less_than", "100", "100", False),
        ("less_than", "10", "9", True),
        ("less_than", "100", "few", False),
        ("less_than", "100", None, False),
        # is_empty / is_not_empty: missing, blank and empty lists are empty.
        ("is_empty", "", None, True),
        ("is_empty", "", "", True),
        ("is_empty", "", "   ", True),
        ("is_empty", "", [], True),
        ("is_empty", "", ["", None], True),
        ("is_empty", "", "x", False),
        ("is_empty", "", 0, False),
        ("is_not_empty", "", "x", True),
        ("is_not_empty", "", 0, True),
        ("is_not_empty", "", None, False),
        ("is_not_empty", "", " ", False),
        ("is_not_empty", "", ["a"], True),
    ],
)
def test_operator(operator: str, value: str, fact: Any, expected: bool) -> None:
    assert holds(operator, value, fact) is expected


def test_an_unknown_operator_never_holds() -> None:
    assert not holds("matches_regex", ".*", "anything")
    assert not holds("", "", None)


# --- Audience: groups --------------------------------------------------------------------------

ANONYMOUS = [{"match": "all", "conditions": [condition("lead.email", "is_empty")]}]


def test_an_empty_audience_matches_everyone() -> None:
    assert audience_matches([], {})
    assert audience_matches([], {"lead.email": "ann@example.com"})


def test_anonymous_visitors_are_targeted_with_lead_email_is_empty() -> None:
    assert audience_matches(ANONYMOUS, {})
    assert audience_matches(ANONYMOUS, {"inferred.state": "Ohio"})
    assert not audience_matches(ANONYMOUS, {"lead.email": "ann@example.com"})


def test_an_all_group_needs_every_condition_and_an_any_group_one() -> None:
    conditions = [
        condition("lead.state", "is", "Ohio"),
        condition("lead.score", "greater_than", "50"),
    ]
    every = [{"match": "all", "conditions": conditions}]
    some = [{"match": "any", "conditions": conditions}]
    ohio_cold = {"lead.state": "Ohio", "lead.score": "10"}
    ohio_hot = {"lead.state": "Ohio", "lead.score": "80"}
    assert audience_matches(every, ohio_hot)
    assert not audience_matches(every, ohio_cold)
    assert audience_matches(some, ohio_cold)
    assert not audience_matches(some, {"lead.state": "Utah"})


def test_groups_combine_with_all() -> None:
    audience = [
        {"match": "any", "conditions": [condition("company.industry", "is", "Software")]},
        {"match": "any", "conditions": [condition("inferred.state", "is", "Ohio")]},
    ]
    assert not audience_matches(audience, {"company.industry": "Software", "inferred.state": "OH"})
    assert audience_matches(audience, {"company.industry": "Software", "inferred.state": "Ohio"})
    assert not audience_matches(audience, {"company.industry": "Software"})


def test_a_group_without_conditions_constrains_nothing() -> None:
    assert audience_matches([{"match": "any", "conditions": []}], {})


# --- Audience: problems ------------------------------------------------------------------------


def test_a_good_audience_has_no_problems() -> None:
    audience = [
        {"match": "all", "conditions": [condition("lead.email", "is_empty")]},
        {"match": "any", "conditions": [condition("lead.score", "greater_than", "50")]},
    ]
    assert audience_problems(audience, KNOWN) == []
    assert audience_problems([], KNOWN) == []


@pytest.mark.parametrize(
    ("audience", "problem"),
    [
        ({"match": "all"}, "The audience must be a list of groups."),
        (["x"], "Group 1 is not a group of conditions."),
        ([{"match": "most", "conditions": ANONYMOUS[0]["conditions"]}], 'match "all" or "any"'),
        ([{"match": "all", "conditions": []}], "Group 1 has no conditions."),
        ([{"match": "all", "conditions": [condition("email", "is", "a")]}], "choose a person"),
        (
            [{"match": "all", "conditions": [condition("lead.shoe_size", "is", "9")]}],
            "lead.shoe_size is not a known attribute.",
        ),
        (
            [{"match": "all", "conditions": [condition("lead.email", "like", "a")]}],
            "'like' is not an operator.",
        ),
        (
            [{"match": "all", "conditions": [condition("lead.email", "is", "  ")]}],
            '"is" needs a value.',
        ),
        (
            [{"match": "all", "conditions": [condition("lead.score", "less_than", "ten")]}],
            '"is less than" needs a number.',
        ),
        (
            [{"match": "all", "conditions": [condition("lead.email", "contains", "a" * 501)]}],
            "at most 500 characters",
        ),
        (
            [{"match": "all", "conditions": [{"attribute": "lead.email", "operator": "is"}]}],
            "Group 1, condition 1:",
        ),
    ],
)
def test_audience_problems_name_what_is_wrong(audience: Any, problem: str) -> None:
    assert any(problem in found for found in audience_problems(audience, KNOWN))


def test_an_audience_is_limited_to_ten_groups_of_ten_conditions() -> None:
    ten = [condition("lead.email", "is_not_empty")] * 10
    assert audience_problems([{"match": "all", "conditions": ten}] * 10, KNOWN) == []
    too_many_groups = [{"match": "all", "conditions": ten}] * 11
    assert "An audience can have at most 10 groups." in audience_problems(too_many_groups, KNOWN)
    eleven = [{"match": "all", "conditions": [*ten, ten[0]]}]
    assert audience_problems(eleven, KNOWN) == ["Group 1 can have at most 10 conditions."]


# --- Audience: explain -------------------------------------------------------------------------


def test_explain_is_empty_when_the_visitor_is_in_the_audience() -> None:
    assert explain(ANONYMOUS, {}) == []
    assert explain([], {"lead.email": "ann@example.com"}) == []


def test_explain_names_the_failed_condition_and_the_visitors_value() -> None:
    assert explain(ANONYMOUS, {"lead.email": "ann@example.com"}) == [
        'Group 1: lead.email is empty failed; the visitor\'s value is "ann@example.com".'
    ]


def test_explain_lists_only_failed_groups_and_says_when_no_any_condition_held() -> None:
    audience = [
        {"match": "all", "conditions": [condition("inferred.state", "is", "Ohio")]},
        {
            "match": "any",
            "conditions": [
                condition("company.industry", "is", "Software"),
                condition("lead.score", "greater_than", "50"),
            ],
        },
    ]
    assert explain(audience, {"inferred.state": "ohio", "lead.score": "high"}) == [
        "Group 2: none of its conditions holds.",
        'Group 2: company.industry is "Software" failed; the visitor has no value.',
        'Group 2: lead.score is greater than "50" failed; the visitor\'s value is "high", '
        "which is not a number.",
    ]


def test_explain_of_an_all_group_lists_every_failed_condition_but_not_the_held_ones() -> None:
    audience = [
        {
            "match": "all",
            "conditions": [
                condition("lead.email", "is_not_empty"),
                condition("inferred.state", "is_not", "Ohio"),
                condition("company.industry", "starts_with", "Soft"),
            ],
        }
    ]
    assert explain(audience, {"inferred.state": "Ohio", "company.industry": "Software"}) == [
        "Group 1: lead.email is not empty failed; the visitor has no value.",
        'Group 1: inferred.state is not "Ohio" failed; the visitor\'s value is "Ohio".',
    ]


# --- Triggers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "trigger",
    [
        Trigger(),
        Trigger("immediately", 0),
        Trigger("time_on_page", 1),
        Trigger("time_on_page", 600),
        Trigger("time_on_site", 30),
        Trigger("scroll", 1),
        Trigger("scroll", 100),
    ],
)
def test_valid_triggers_have_no_problems(trigger: Trigger) -> None:
    assert trigger_problems(trigger) == []


@pytest.mark.parametrize(
    ("kind", "amount", "problem"),
    [
        ("time_on_page", 0, "The time must be between 1 and 600 seconds."),
        ("time_on_site", 601, "The time must be between 1 and 600 seconds."),
        ("scroll", 0, "Scroll must be between 1 and 100 %."),
        ("scroll", 101, "Scroll must be between 1 and 100 %."),
        ("immediately", 5, "Showing immediately takes no amount."),
        ("on_exit", 1, "'on_exit' is not a trigger."),
        ("scroll", True, "The trigger amount must be a whole number."),
        ("scroll", 50.5, "The trigger amount must be a whole number."),
    ],
)
def test_invalid_triggers_say_why(kind: Any, amount: Any, problem: str) -> None:
    assert trigger_problems(Trigger(kind, amount)) == [problem]


def test_a_trigger_is_met_once_the_visitor_has_done_enough() -> None:
    def met(trigger: Trigger, page: float = 0, site: float = 0, scroll: float = 0) -> bool:
        return trigger.is_met(seconds_on_page=page, seconds_on_site=site, scroll_percent=scroll)

    assert met(Trigger())
    assert not met(Trigger("time_on_page", 30), page=29, site=500)
    assert met(Trigger("time_on_page", 30), page=30)
    assert not met(Trigger("time_on_site", 30), page=100, site=29.9)
    assert met(Trigger("time_on_site", 30), site=31)
    assert not met(Trigger("scroll", 50), scroll=49)
    assert met(Trigger("scroll", 50), scroll=50)
