"""Round robin as plain data: who is next, how a meeting moves the level, who gets this booking.

Every member has a *level*: meetings credited divided by weight, plus calibration. Whoever has the
lowest level is next, ties going to the earlier position, so equal weights give strict round robin
and weight 2 gives two turns per cycle. Someone joining (or returning after a long absence) starts
at the mean level of the others: no catch-up burst, no waiting for a whole history to pass.

No ORM here: routing.queue keeps the rows and calls these functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

# Levels are sums of 1/weight and means of those: floats a rounding error apart are the same
# level, so that ties fall to the position, as they should.
PRECISION = 6
# Away longer than this, a returning agent starts at the mean; shorter, they keep their level.
RESET_AFTER = timedelta(hours=24)

NEXT_IN_ROTATION = "next in rotation"
BUSY = "busy in their calendar"
UNAVAILABLE = "calendar unavailable"
BOOKED = "already booked"
REASON_LENGTH = 255


@dataclass(frozen=True)
class MemberState:
    agent_id: int
    position: int
    level: float
    weight: int
    paused: bool


def turn_order(members: Iterable[MemberState]) -> list[int]:
    """The agent ids of the unpaused members, next first: by level, then position."""
    active = [member for member in members if not member.paused]
    return [m.agent_id for m in sorted(active, key=_turn_key)]


def _turn_key(member: MemberState) -> tuple[float, int, int]:
    return (round(member.level, PRECISION), member.position, member.agent_id)


def credited(level: float, weight: int) -> float:
    """The level after one meeting: a weight-2 agent moves half as far, so gets twice the turns."""
    return level + 1 / max(weight, 1)


def uncredited(level: float, weight: int) -> float:
    """The level after a meeting is given back (a cancellation that does not count)."""
    return level - 1 / max(weight, 1)


def calibrated(levels: Iterable[float]) -> float:
    """Where a newcomer starts: the mean level of the other active members (0.0 if none)."""
    values = list(levels)
    return sum(values) / len(values) if values else 0.0


def returning_level(level: float, others: Iterable[float], away_for: timedelta | None) -> float:
    """The level of an agent whose calendar is back: the mean after a long absence, else their own.

    ``away_for`` is None when they were not away (a calendar replaced while connected).
    """
    if away_for is not None and away_for > RESET_AFTER:
        return calibrated(others)
    return level


def resumed_level(level: float, others: Iterable[float]) -> float:
    """The level of an agent taken off pause: a pause does not bank turns, so no lower than the
    mean of the others (an agent already ahead keeps their level)."""
    values = list(others)
    return max(level, calibrated(values)) if values else level


@dataclass(frozen=True)
class Choice:
    agent_id: int
    reason: str
    skipped: tuple[tuple[int, str], ...]


def choose(
    order: Sequence[int],
    free: Mapping[int, str | None],
    names: Mapping[int, str] | None = None,
) -> Choice | None:
    """The first agent in ``order`` who is free, and why; None when nobody is.

    ``free`` maps an agent id to None when the agent is free at the slot, else to why not
    (BUSY, UNAVAILABLE, BOOKED). Agents missing from ``free`` count as unavailable. Skipped
    agents keep their turn: their level is untouched, so they stay first for the next booking.
    """
    skipped: list[tuple[int, str]] = []
    for agent_id in order:
        why = free.get(agent_id, UNAVAILABLE)
        if why is None:
            return Choice(agent_id, reason_for(skipped, names or {}), tuple(skipped))
        skipped.append((agent_id, why))
    return None


def reason_for(skipped: Sequence[tuple[int, str]], names: Mapping[int, str]) -> str:
    """ "next in rotation", or "next in rotation (skipped Ann: busy in their calendar)"."""
    if not skipped:
        return NEXT_IN_ROTATION
    parts = [f"{names.get(agent_id, f'agent {agent_id}')}: {why}" for agent_id, why in skipped]
    text = f"{NEXT_IN_ROTATION} (skipped {'; '.join(parts)})"
    # Meeting.reason holds 255 characters; the full list is in the routing detail.
    return text if len(text) <= REASON_LENGTH else text[: REASON_LENGTH - 2] + "…)"
