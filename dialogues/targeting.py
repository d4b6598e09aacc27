"""Which pages, which visitors and which moment a dialogue targets (pure, no ORM).

Pages are in dialogues.pages, visitors in dialogues.audience; this module adds the moment.

Triggers. When a resolved dialogue is shown: at once, after N seconds on the page or on the site,
or after the visitor scrolls N % of the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, get_args

from dialogues.audience import (
    ATTRIBUTE_PREFIXES,
    MAX_CONDITIONS,
    MAX_GROUPS,
    MAX_VALUE_LENGTH,
    OPERATOR_LABELS,
    OPERATORS,
    Operator,
    audience_matches,
    audience_problems,
    condition_matches,
    explain,
)
from dialogues.pages import (
    MAX_PATTERN_LENGTH,
    MAX_PATTERNS,
    MAX_WILDCARDS,
    CompiledPatterns,
    canonical_url,
    compile_patterns,
    page_matches,
    pattern_list_problems,
    pattern_problems,
)

__all__ = [
    "ATTRIBUTE_PREFIXES", "MAX_CONDITIONS", "MAX_GROUPS", "MAX_PATTERNS", "MAX_PATTERN_LENGTH",
    "MAX_TRIGGER_SECONDS", "MAX_VALUE_LENGTH", "MAX_WILDCARDS", "OPERATORS", "OPERATOR_LABELS",
    "TRIGGER_KINDS", "CompiledPatterns", "Operator", "Trigger", "TriggerKind", "audience_matches",
    "audience_problems", "canonical_url", "compile_patterns", "condition_matches", "explain",
    "page_matches", "pattern_list_problems", "pattern_problems", "trigger_problems",
]  # fmt: skip

TriggerKind = Literal["immediately", "time_on_page", "time_on_site", "scroll"]
TRIGGER_KINDS: Final[tuple[str, ...]] = get_args(TriggerKind)
MAX_TRIGGER_SECONDS: Final = 600


@dataclass(frozen=True, slots=True)
class Trigger:
    """When a resolved dialogue is shown; `amount` is seconds, or scroll percent, or 0."""

    kind: TriggerKind = "immediately"
    amount: int = 0

    def is_met(
        self, *, seconds_on_page: float, seconds_on_site: float, scroll_percent: float
    ) -> bool:
        """Whether the visitor's behaviour so far meets the trigger."""
        match self.kind:
            case "immediately":
                return True
            case "time_on_page":
                return seconds_on_page >= self.amount
            case "time_on_site":
                return seconds_on_site >= self.amount
            case "scroll":
                return scroll_percent >= self.amount


def trigger_problems(trigger: Trigger) -> list[str]:
    """What is wrong with a trigger (empty list: it is fine)."""
    kind, amount = trigger.kind, trigger.amount
    if kind not in TRIGGER_KINDS:
        return [f"{kind!r} is not a trigger."]
    if isinstance(amount, bool) or not isinstance(amount, int):
        return ["The trigger amount must be a whole number."]
    if kind == "immediately":
        return [] if amount == 0 else ["Showing immediately takes no amount."]
    if kind == "scroll":
        if not 1 <= amount <= 100:
            return ["Scroll must be between 1 and 100 %."]
        return []
    if not 1 <= amount <= MAX_TRIGGER_SECONDS:
        return [f"The time must be between 1 and {MAX_TRIGGER_SECONDS} seconds."]
    return []
