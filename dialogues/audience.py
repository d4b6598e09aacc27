"""Which visitors a dialogue targets: audience groups of conditions (pure, no ORM).

Audience. A list of groups, each `{"match": "all" | "any", "conditions": [...]}`; groups combine
with "all" and an empty audience matches everyone. A condition is `{"attribute": "lead.email",
"operator": "is_empty", "value": ""}`; facts are keyed by the same attribute names and a missing
fact is empty, so anonymous visitors are targeted with `lead.email is_empty`.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from typing import Any, Final, Literal, get_args

MAX_GROUPS: Final = 10
MAX_CONDITIONS: Final = 10
MAX_VALUE_LENGTH: Final = 500
ATTRIBUTE_PREFIXES: Final = ("lead.", "company.", "inferred.")


Operator = Literal[
    "is",
    "is_not",
    "contains",
    "starts_with",
    "greater_than",
    "less_than",
    "is_empty",
    "is_not_empty",
]
OPERATORS: Final[tuple[str, ...]] = get_args(Operator)
OPERATOR_LABELS: Final = {
    "is": "is",
    "is_not": "is not",
    "contains": "contains",
    "starts_with": "starts with",
    "greater_than": "is greater than",
    "less_than": "is less than",
    "is_empty": "is empty",
    "is_not_empty": "is not empty",
}
VALUELESS_OPERATORS: Final = ("is_empty", "is_not_empty")
_NUMERIC: Final = frozenset({"greater_than", "less_than"})


def audience_matches(audience: Sequence[Mapping[str, Any]], facts: Mapping[str, Any]) -> bool:
    """Whether a visitor with these facts is in the audience (empty audience: everyone)."""
    return all(group_matches(group, facts) for group in audience)


def group_matches(group: Mapping[str, Any], facts: Mapping[str, Any]) -> bool:
    """Whether a group (``{"match": "all" | "any", "conditions": [...]}``) holds; branch rules
    have the same shape and use it too."""
    conditions = group.get("conditions") or ()
    if not conditions:
        return True  # a group without conditions constrains nothing
    results = (condition_matches(condition, facts) for condition in conditions)
    return any(results) if group.get("match") == "any" else all(results)


def condition_matches(condition: Mapping[str, Any], facts: Mapping[str, Any]) -> bool:
    """Whether one condition holds; an unknown operator never does."""
    operator = condition.get("operator")
    value = condition.get("value")
    fact = facts.get(str(condition.get("attribute")))
    elements = _elements(fact)
    if operator == "is_empty":
        return not elements
    if operator == "is_not_empty":
        return bool(elements)
    if operator == "is":
        return any(_equal(element, value) for element in elements) or (
            not elements and not _text(value)
        )
    if operator == "is_not":
        return not condition_matches({**condition, "operator": "is"}, facts)
    wanted = _text(value)
    if operator == "contains":
        return any(wanted in _text(element) for element in elements)
    if operator == "starts_with":
        return any(_text(element).startswith(wanted) for element in elements)
    if operator in _NUMERIC:
        limit = _number(value)
        if limit is None:
            return False
        for element in elements:
            number = _number(element)
            if number is not None and (
                number > limit if operator == "greater_than" else number < limit
            ):
                return True
    return False


def _elements(fact: Any) -> list[Any]:
    """The non-empty values of a fact: a list's elements, or the single value."""
    values = fact if isinstance(fact, list | tuple | set | frozenset) else (fact,)
    return [value for value in values if _text(value)]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip().casefold()


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value) if isinstance(value, int | float) else float(str(value).strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _equal(fact: Any, value: Any) -> bool:
    left, right = _number(fact), _number(value)
    if left is not None and right is not None:
        return left == right
    return _text(fact) == _text(value)


def audience_problems(audience: Any, known_fields: Collection[str]) -> list[str]:
    """What is wrong with an audience as submitted by the builder (empty list: it is fine).

    `known_fields` are the attribute names a site can target, e.g. "lead.email".
    """
    if not isinstance(audience, list | tuple):
        return ["The audience must be a list of groups."]
    problems = []
    if len(audience) > MAX_GROUPS:
        problems.append(f"An audience can have at most {MAX_GROUPS} groups.")
    for number, group in enumerate(audience, start=1):
        where = f"Group {number}"
        if not isinstance(group, Mapping):
            problems.append(f"{where} is not a group of conditions.")
            continue
        if group.get("match") not in ("all", "any"):
            problems.append(f'{where} must match "all" or "any" of its conditions.')
        conditions = group.get("conditions")
        if not isinstance(conditions, list | tuple) or not conditions:
            problems.append(f"{where} has no conditions.")
            continue
        if len(conditions) > MAX_CONDITIONS:
            problems.append(f"{where} can have at most {MAX_CONDITIONS} conditions.")
        for index, condition in enumerate(conditions, start=1):
            problems.extend(
                f"{where}, condition {index}: {problem}"
                for problem in _condition_problems(condition, known_fields)
            )
    return problems


def _condition_problems(condition: Any, known_fields: Collection[str]) -> list[str]:
    if not isinstance(condition, Mapping):
        return ["not a condition."]
    problems = []
    attribute = condition.get("attribute")
    if not isinstance(attribute, str) or not attribute.startswith(ATTRIBUTE_PREFIXES):
        problems.append("choose a person, company or inferred attribute.")
    elif attribute not in known_fields:
        problems.append(f"{attribute} is not a known attribute.")
    operator = condition.get("operator")
    if operator not in OPERATORS:
        problems.append(f"{operator!r} is not an operator.")
        return problems
    if operator in VALUELESS_OPERATORS:
        return problems
    value = condition.get("value")
    if not isinstance(value, str) or not value.strip():
        problems.append(f'"{OPERATOR_LABELS[operator]}" needs a value.')
    elif len(value) > MAX_VALUE_LENGTH:
        problems.append(f"a value can be at most {MAX_VALUE_LENGTH} characters long.")
    elif operator in _NUMERIC and _number(value) is None:
        problems.append(f'"{OPERATOR_LABELS[operator]}" needs a number.')
    return problems


def explain(audience: Sequence[Mapping[str, Any]], facts: Mapping[str, Any]) -> list[str]:
    """Why a visitor with these facts is not in the audience, one line per failure; [] if it is."""
    lines: list[str] = []
    for number, group in enumerate(audience, start=1):
        if group_matches(group, facts):
            continue
        failed = [c for c in group.get("conditions") or () if not condition_matches(c, facts)]
        if group.get("match") == "any":
            lines.append(f"Group {number}: none of its conditions holds.")
        lines.extend(f"Group {number}: {_failure(condition, facts)}" for condition in failed)
    return lines


def describe(condition: Mapping[str, Any]) -> str:
    """A condition in words: ``lead.title contains "CEO"``, ``lead.email is empty``."""
    operator = str(condition.get("operator"))
    text = f"{condition.get('attribute')} {OPERATOR_LABELS.get(operator, operator)}"
    if operator not in VALUELESS_OPERATORS:
        text += f' "{condition.get("value") or ""}"'
    return text


def _failure(condition: Mapping[str, Any], facts: Mapping[str, Any]) -> str:
    attribute = str(condition.get("attribute"))
    operator = str(condition.get("operator"))
    wanted = describe(condition)
    elements = _elements(facts.get(attribute))
    if not elements:
        actual = "the visitor has no value"
    else:
        actual = "the visitor's value is " + ", ".join(f'"{e}"' for e in elements)
        if operator in _NUMERIC and all(_number(e) is None for e in elements):
            actual += ", which is not a number"
    return f"{wanted} failed; {actual}."
