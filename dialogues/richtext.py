"""Marketer rich text, sanitised by an allow-list (nh3) when saved and again when published.

Bot text may use bold, italic, links and line breaks; links keep only http, https, mailto and tel
targets (a ``javascript:`` link loses its ``href``). Labels, placeholders and options are plain
text: the widget sets them with ``textContent``, so they need no cleaning here.
"""

from __future__ import annotations

from typing import Any, Final

import nh3

TAGS: Final = frozenset({"b", "strong", "i", "em", "a", "br", "p"})
ATTRIBUTES: Final = {"a": {"href"}}
URL_SCHEMES: Final = frozenset({"http", "https", "mailto", "tel"})
RICH_TEXT: Final = {"message": ("text",), "question": ("text",), "capture": ("prompt",),
                    "meeting": ("text",)}  # fmt: skip


def sanitize(text: str) -> str:
    """``text`` with only the allowed tags, attributes and link schemes left."""
    return nh3.clean(
        text,
        tags=set(TAGS),
        attributes={tag: set(names) for tag, names in ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def sanitize_flow(flow: dict[str, Any]) -> dict[str, Any]:
    """Clean every rich-text property of every card, in place; returns ``flow``."""
    cards = flow.get("cards")
    if not isinstance(cards, dict):
        return flow
    for card in cards.values():
        if not isinstance(card, dict):
            continue
        for name in RICH_TEXT.get(card.get("type"), ()):  # type: ignore[arg-type]
            if isinstance(card.get(name), str):
                card[name] = sanitize(card[name])
    return flow
