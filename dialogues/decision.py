"""Which dialogue a visitor gets on a page, and why every other one did not show (pure, no ORM).

The rules are the original product's (reference/dynamic-chat.md §18):

- a dialogue the visitor engaged with and has not finished continues, on any page, whatever its
  targeting says and even after it was unpublished, with the version the visitor started;
- a completed dialogue never shows again, even when republished;
- otherwise the published dialogues that target the page and the visitor compete by priority
  (1 is the highest; the older dialogue wins a tie);
- a dialogue is resolved on load and triggered when its event is met; a visitor who met it in an
  earlier visit (their conversation was triggered) gets it at once;
- the site's kill switch hides everything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from dialogues.audience import audience_matches, explain
from dialogues.pages import CompiledPatterns, canonical_url, compile_patterns
from dialogues.targeting import Trigger

IMMEDIATELY = Trigger("immediately", 0)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A published dialogue as the decision sees it: its live version's targeting, compiled."""

    dialogue_id: int
    version_id: int
    name: str
    priority: int
    include: CompiledPatterns
    exclude: CompiledPatterns
    audience: tuple[Mapping[str, Any], ...]
    trigger: Trigger
    poke: str | None = None

    @classmethod
    def from_targeting(
        cls,
        *,
        dialogue_id: int,
        version_id: int,
        name: str,
        priority: int,
        targeting: Mapping[str, Any],
        poke: str | None = None,
    ) -> Candidate:
        trigger = targeting.get("trigger") or {}
        return cls(
            dialogue_id=dialogue_id,
            version_id=version_id,
            name=name,
            priority=priority,
            include=compile_patterns(targeting.get("include") or ()),
            exclude=compile_patterns(targeting.get("exclude") or ()),
            audience=tuple(targeting.get("audience") or ()),
            trigger=Trigger(trigger.get("kind", "immediately"), int(trigger.get("amount", 0))),
            poke=poke,
        )


@dataclass(frozen=True, slots=True)
class Ongoing:
    """A conversation the visitor has and has not completed."""

    conversation_id: int
    dialogue_id: int
    version_id: int
    name: str
    engaged: bool


@dataclass(frozen=True, slots=True)
class VisitorState:
    """What the visitor did before: open conversations by dialogue id, completed dialogue ids."""

    ongoing: Mapping[int, Ongoing] = field(default_factory=dict)
    completed: frozenset[int] = frozenset()


ANONYMOUS = VisitorState()

Outcome = Literal["show", "continue", "none"]


@dataclass(frozen=True, slots=True)
class Rejection:
    dialogue_id: int
    name: str
    reason: str


@dataclass(frozen=True, slots=True)
class Decision:
    """The dialogue to show (or none), when to show it, and the reasons for everything else."""

    outcome: Outcome
    reason: str
    dialogue_id: int | None = None
    version_id: int | None = None
    name: str = ""
    trigger: Trigger = IMMEDIATELY
    conversation_id: int | None = None
    poke: str | None = None
    rejected: tuple[Rejection, ...] = ()


def decide(
    *,
    chat_enabled: bool,
    candidates: Sequence[Candidate],
    url: str,
    state: VisitorState = ANONYMOUS,
    facts: Mapping[str, Any] | None = None,
) -> Decision:
    """Decide for one page view. ``candidates`` are the site's published dialogues, any order."""
    facts = facts or {}
    ranked = sorted(candidates, key=lambda c: (c.priority, c.dialogue_id))
    if not chat_enabled:
        return Decision(
            "none",
            "Chat is switched off for this site.",
            rejected=tuple(Rejection(c.dialogue_id, c.name, "Chat is off.") for c in ranked),
        )
    engaged = [o for o in state.ongoing.values() if o.engaged]
    if engaged:
        current = max(engaged, key=lambda o: o.conversation_id)
        return Decision(
            "continue",
            f"The visitor is in the middle of “{current.name}”; it continues on every page.",
            dialogue_id=current.dialogue_id,
            version_id=current.version_id,
            name=current.name,
            conversation_id=current.conversation_id,
            rejected=tuple(
                Rejection(c.dialogue_id, c.name, f"“{current.name}” is in progress.")
                for c in ranked
                if c.dialogue_id != current.dialogue_id
            ),
        )
    page = canonical_url(url)
    chosen: Candidate | None = None
    rejected: list[Rejection] = []
    for candidate in ranked:
        reason = _why_not(candidate, page, url, state, facts)
        if reason is None and chosen is not None:
            reason = f"“{chosen.name}” has a higher priority (P{chosen.priority})."
        if reason is not None:
            rejected.append(Rejection(candidate.dialogue_id, candidate.name, reason))
        else:
            chosen = candidate
    if chosen is None:
        return Decision("none", "No published dialogue targets this page and visitor.",
                        rejected=tuple(rejected))  # fmt: skip
    earlier = state.ongoing.get(chosen.dialogue_id)
    return Decision(
        "show",
        (
            f"“{chosen.name}” (P{chosen.priority}) targets this page and visitor"
            + ("; its event was met in an earlier visit." if earlier else ".")
        ),
        dialogue_id=chosen.dialogue_id,
        version_id=chosen.version_id,
        name=chosen.name,
        trigger=IMMEDIATELY if earlier else chosen.trigger,
        conversation_id=earlier.conversation_id if earlier else None,
        poke=chosen.poke,
        rejected=tuple(rejected),
    )


def _why_not(
    candidate: Candidate,
    page: str | None,
    url: str,
    state: VisitorState,
    facts: Mapping[str, Any],
) -> str | None:
    if candidate.dialogue_id in state.completed:
        return "The visitor completed it already (a dialogue shows once)."
    if page is None:
        return "The page address is not an http(s) URL."
    if candidate.exclude.matches(url):
        return "The page matches an exclude pattern."
    if candidate.include.is_empty:
        return "It has no target pages."
    if not candidate.include.matches(url):
        return "The page matches none of its target pages."
    if not audience_matches(candidate.audience, facts):
        failures = explain(candidate.audience, facts)
        return " ".join(["The visitor is not in its audience.", *failures])
    return None
