"""Personalisation tokens in bot text: ``{{lead.firstName:"there"}}`` (pure, no ORM).

A token names a lead or company field and may carry a default in double quotes, used when the
visitor's value is unknown or empty. Spaces just inside the braces are tolerated.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

FIELD_NAME = r"[A-Za-z][A-Za-z0-9_]{0,99}"
TOKEN_RE = re.compile(
    r"\{\{\s*(?P<object>lead|company)\.(?P<field>" + FIELD_NAME + r")"
    r'(?::"(?P<default>[^"]*)")?\s*\}\}'
)
OPEN, CLOSE = "{{", "}}"


@dataclass(frozen=True)
class Token:
    """One well-formed token; ``span`` is its (start, end) slice of the text."""

    object: Literal["lead", "company"]
    field: str
    default: str | None
    span: tuple[int, int]

    @property
    def name(self) -> str:
        """The field as known-field lists spell it: ``firstName``, ``company.industry``."""
        return self.field if self.object == "lead" else f"company.{self.field}"


def _scan(text: str) -> Iterator[Token | str]:
    """Yield every ``{{…}}`` fragment in order: a Token, or the malformed fragment's text."""
    position = text.find(OPEN)
    while position != -1:
        match = TOKEN_RE.match(text, position)
        if match:
            obj: Literal["lead", "company"] = "lead" if match["object"] == "lead" else "company"
            yield Token(obj, match["field"], match["default"], match.span())
            end = match.end()
        else:
            close = text.find(CLOSE, position + len(OPEN))
            end = len(text) if close == -1 else close + len(CLOSE)
            yield text[position:end]
        position = text.find(OPEN, end)


def find_tokens(text: str) -> list[Token]:
    """The well-formed tokens in ``text``, in order."""
    return [item for item in _scan(text) if isinstance(item, Token)]


def bad_tokens(text: str) -> list[str]:
    """The malformed ``{{…}}`` fragments in ``text`` (an unclosed one runs to the end)."""
    return [item for item in _scan(text) if isinstance(item, str)]


def _known(value: object) -> bool:
    return value is not None and str(value).strip() != ""


def render(text: str, facts: Mapping[str, object]) -> str:
    """Replace each token by the known, non-empty value, else its default, else nothing.

    ``facts`` are keyed as audiences name attributes: ``lead.firstName``, ``company.industry``.

    The result is plain text: escaping it for HTML is the caller's job. Malformed fragments are
    left as they are (validation keeps them out of published flows).
    """
    parts: list[str] = []
    last = 0
    for token in find_tokens(text):
        start, end = token.span
        value = facts.get(f"{token.object}.{token.field}")
        parts.append(text[last:start])
        parts.append(str(value) if _known(value) else (token.default or ""))
        last = end
    parts.append(text[last:])
    return "".join(parts)


def strings_in(value: object) -> Iterator[str]:
    """Every string in a JSON value (a flow, a card), depth first: where tokens may be."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for child in value.values():
            yield from strings_in(child)
    elif isinstance(value, list):
        for child in value:
            yield from strings_in(child)
