"""A JSON Schema subset compiled into plain Python predicates: a fast yes/no check.

jsonschema explains what is wrong; this only answers whether anything is, many times faster, for
the keywords Dynchat's schemas use (anything else raises at compile time). A schema's verdicts
here must equal jsonschema's: the flow schema's tests compare both on mutated documents.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators

# Keywords that describe a schema and check nothing.
ANNOTATIONS = frozenset({"$schema", "$id", "$defs", "$comment", "title", "description"})


def pattern_search(pattern: str) -> Callable[[str], object]:
    """``pattern`` searched as JSON Schema means it (ECMA-262): a final ``$`` is the very end of
    the text, where Python's ``$`` would also accept a final newline."""
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern).search


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not pattern_search(pattern)(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


# jsonschema's draft 2020-12 validator with ECMA-262 "$": every schema of Dynchat's uses it.
Validator: Any = validators.extend(Draft202012Validator, {"pattern": _pattern})  # type: ignore[no-untyped-call]


def inline(schema: Any, definitions: Mapping[str, Any]) -> Any:
    """``schema`` with every local ``$ref`` replaced by its definition (no recursive schemas)."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            return inline(definitions[schema["$ref"].rpartition("/")[2]], definitions)
        return {key: inline(value, definitions) for key, value in schema.items()}
    if isinstance(schema, list):
        return [inline(value, definitions) for value in schema]
    return schema


Check = Callable[[Any], bool]
_JSON_TYPES: dict[str, Check] = {
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "string": lambda value: isinstance(value, str),
    "boolean": lambda value: isinstance(value, bool),
    "null": lambda value: value is None,
    "integer": lambda value: isinstance(value, int) and not isinstance(value, bool),
}
_BOUNDS: dict[str, tuple[type, Callable[[Any, Any], bool]]] = {
    "maxLength": (str, lambda value, limit: len(value) <= limit),
    "minLength": (str, lambda value, limit: len(value) >= limit),
    "maxItems": (list, lambda value, limit: len(value) <= limit),
    "minItems": (list, lambda value, limit: len(value) >= limit),
    "minimum": (int, lambda value, limit: value >= limit),
    "maximum": (int, lambda value, limit: value <= limit),
}


def _keyword(keyword: str, arg: Any, schema: Mapping[str, Any]) -> Check | None:
    """The yes/no test for one keyword of ``schema``; None for keywords checked elsewhere."""
    if keyword in ("then", "else") or keyword in ANNOTATIONS:
        return None
    if keyword == "type":
        return _JSON_TYPES[arg]
    if keyword in ("const", "enum"):
        allowed = [arg] if keyword == "const" else arg
        return lambda value: any(value == ok and type(value) is type(ok) for ok in allowed)
    if keyword == "pattern":
        search = pattern_search(arg)
        return lambda value: not isinstance(value, str) or search(value) is not None
    if keyword in _BOUNDS:
        kind, compare = _BOUNDS[keyword]
        return lambda value: not isinstance(value, kind) or compare(value, arg)
    if keyword == "uniqueItems":
        return lambda value: not isinstance(value, list) or len(set(map(repr, value))) == len(value)
    if keyword == "items":
        item = compile_check(arg)
        return lambda value: not isinstance(value, list) or all(map(item, value))
    if keyword == "required":
        return lambda value: not isinstance(value, dict) or all(name in value for name in arg)
    if keyword == "properties":
        props = {name: compile_check(sub) for name, sub in arg.items()}
        return lambda value: (
            not isinstance(value, dict)
            or all(check(value[name]) for name, check in props.items() if name in value)
        )
    if keyword == "additionalProperties" and arg is False:
        names = frozenset(schema.get("properties", ()))
        return lambda value: not isinstance(value, dict) or value.keys() <= names
    if keyword == "allOf":
        parts = [compile_check(sub) for sub in arg]
        return lambda value: all(check(value) for check in parts)
    if keyword == "anyOf":
        options = [compile_check(sub) for sub in arg]
        return lambda value: any(check(value) for check in options)
    if keyword == "not":
        negated = compile_check(arg)
        return lambda value: not negated(value)
    if keyword == "if":
        test, then, other = (compile_check(schema.get(key, {})) for key in ("if", "then", "else"))
        return lambda value: then(value) if test(value) else other(value)
    raise ValueError(f"The fast schema check does not support {keyword}: {arg!r}")


def compile_check(schema: Mapping[str, Any]) -> Check:
    """A yes/no test that agrees with ``schema`` for the keywords flows use (the fast path)."""
    checks = [check for key, arg in schema.items() if (check := _keyword(key, arg, schema))]
    return lambda value: all(check(value) for check in checks)
