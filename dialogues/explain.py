"""Test as visitor: which dialogue a page and a lead would get right now, and why.

Reads the site fresh from the database (not the cache), so a marketer sees what they just
published; the visitor is a first-time one with the lead's facts (or none: anonymous).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dialogues import live, visitors
from dialogues.decision import Decision, decide
from dialogues.models import DialogueVersion
from dynchat.models import Site
from sync.models import MarketoLead


@dataclass(frozen=True)
class Explanation:
    decision: Decision
    version: DialogueVersion | None
    facts: dict[str, Any]
    candidates: int


def test_as_visitor(*, site: Site, url: str, lead: MarketoLead | None) -> Explanation:
    """The decision for a first visit of ``lead`` (None: anonymous) to ``url`` on ``site``."""
    loaded = live.load(site.key)
    facts = visitors.facts(lead, None)
    if loaded is None:  # pragma: no cover - the site was deleted meanwhile
        return Explanation(Decision("none", "The site no longer exists."), None, facts, 0)
    decision = decide(
        chat_enabled=loaded.chat_enabled, candidates=loaded.candidates, url=url, facts=facts
    )
    version = (
        DialogueVersion.objects.filter(pk=decision.version_id).first()
        if decision.version_id
        else None
    )
    return Explanation(decision, version, facts, len(loaded.candidates))


test_as_visitor.__test__ = False  # type: ignore[attr-defined]  # not a pytest test
