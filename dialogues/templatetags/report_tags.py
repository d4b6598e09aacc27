"""Reports in templates: rates as percentages, and a card's drop-off on the builder's flow."""

from __future__ import annotations

from collections.abc import Mapping

from django import template

from dialogues.views.reports import Reach
from dialogues.views.reports import percent as as_percent

register = template.Library()


@register.filter
def percent(rate: float | None) -> str:
    """0.4285 → "42.9 %"; no rate (nothing to divide by) → "—"."""
    return as_percent(rate)


@register.filter
def reach_for(reach: Mapping[str, Reach] | str | None, card_id: str) -> Reach | None:
    """The drop-off of one card, if the page has drop-off to show."""
    if not isinstance(reach, Mapping):
        return None
    return reach.get(card_id)
