"""The rotation's rows: who is a member, in which order, and every change to them.

Agents join when their calendar connects (``calendar_connected``) and are away while it is lost
(``calendar_lost``); booking credits the chosen agent inside its locked transaction, and a
cancelled meeting gives the turn back unless the policy counts cancellations. Every write takes
``Rotation.lock()`` so that it is ordered with bookings; the decisions are in routing.rotation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Max, QuerySet
from django.utils import timezone

from calendars.models import CalendarConnection, ConnectionStatus
from routing import rotation
from routing.models import Rotation, RotationMember

MAX_WEIGHT = 10


def members() -> QuerySet[RotationMember]:
    """Every member, listed or not in turn, in queue order (position)."""
    return RotationMember.objects.select_related("agent", "agent__calendar_connection").order_by(
        "position", "id"
    )


def _active() -> QuerySet[RotationMember]:
    return RotationMember.objects.filter(
        paused=False,
        away_since=None,
        agent__is_active=True,
        agent__calendar_connection__status=ConnectionStatus.ACTIVE,
    )


def in_turn() -> list[RotationMember]:
    """The members who can get a meeting now (not paused, not away, calendar active), next first."""
    active = {m.agent_id: m for m in _active().select_related("agent")}
    return [active[agent_id] for agent_id in rotation.turn_order(map(state, active.values()))]


def state(member: RotationMember) -> rotation.MemberState:
    return rotation.MemberState(
        member.agent_id, member.position, member.level, member.weight, member.paused
    )


def _levels_of_others(agent_id: int) -> list[float]:
    return list(_active().exclude(agent_id=agent_id).values_list("level", flat=True))


def _member(agent_id: int) -> RotationMember:
    """The member row, once the caller holds the rotation lock."""
    return RotationMember.objects.get(agent_id=agent_id)


def join(agent_id: int, *, now: datetime | None = None) -> RotationMember:
    """The agent's calendar is connected: add them at the end at the mean level, or bring them
    back (after more than 24 h away at the mean, else at their own level)."""
    now = now or timezone.now()
    with transaction.atomic():
        Rotation.lock()
        others = _levels_of_others(agent_id)
        member = RotationMember.objects.filter(agent_id=agent_id).first()
        if member is None:
            last = RotationMember.objects.aggregate(last=Max("position"))["last"]
            return RotationMember.objects.create(
                agent_id=agent_id,
                position=0 if last is None else last + 1,
                level=rotation.calibrated(others),
                joined_at=now,
            )
        away_for = now - member.away_since if member.away_since else None
        member.level = rotation.returning_level(member.level, others, away_for)
        member.away_since = None
        member.save(update_fields=["level", "away_since"])
        return member


def leave(agent_id: int, *, now: datetime | None = None) -> None:
    """The agent's calendar is lost or disconnected: still listed, out of turn until it is back."""
    with transaction.atomic():
        Rotation.lock()
        RotationMember.objects.filter(agent_id=agent_id, away_since=None).update(
            away_since=now or timezone.now()
        )


def credit(agent_id: int) -> RotationMember | None:
    """One more meeting for the agent: their level moves up by 1/weight (None: not a member).

    Booking calls this inside its transaction, which already holds the rotation lock."""
    with transaction.atomic():
        Rotation.lock()
        member = RotationMember.objects.filter(agent_id=agent_id).first()
        if member is None:
            return None
        member.level = rotation.credited(member.level, member.weight)
        member.meetings += 1
        member.save(update_fields=["level", "meetings"])
        return member


def uncredit(agent_id: int) -> RotationMember | None:
    """A meeting given back: their level moves down by 1/weight (None: not a member)."""
    with transaction.atomic():
        Rotation.lock()
        member = RotationMember.objects.filter(agent_id=agent_id).first()
        if member is None:
            return None
        member.level = rotation.uncredited(member.level, member.weight)
        member.meetings = max(member.meetings - 1, 0)
        member.save(update_fields=["level", "meetings"])
        return member


def pause(agent_id: int, paused: bool) -> RotationMember:
    """Take the agent out of turn, or back in (no lower than the others' mean: no banked turns)."""
    with transaction.atomic():
        Rotation.lock()
        member = _member(agent_id)
        if member.paused and not paused:
            member.level = rotation.resumed_level(member.level, _levels_of_others(agent_id))
        member.paused = paused
        member.save(update_fields=["paused", "level"])
        return member


def move(agent_id: int, new_position: int) -> None:
    """Put the agent at ``new_position`` (0 = first) in the queue; the others close up.

    The position breaks ties between equal levels: who goes first in a round."""
    with transaction.atomic():
        Rotation.lock()
        line = list(RotationMember.objects.order_by("position", "id"))
        member = next(m for m in line if m.agent_id == agent_id)
        line.remove(member)
        line.insert(max(0, min(new_position, len(line))), member)
        changed = []
        for index, each in enumerate(line):
            if each.position != index:
                each.position = index
                changed.append(each)
        RotationMember.objects.bulk_update(changed, ["position"])


def set_weight(agent_id: int, weight: int) -> RotationMember:
    """How many turns the agent gets per cycle relative to weight 1 (kept between 1 and 10)."""
    with transaction.atomic():
        Rotation.lock()
        member = _member(agent_id)
        member.weight = max(1, min(weight, MAX_WEIGHT))
        member.save(update_fields=["weight"])
        return member


def set_policy(count_cancellations: bool, agent_lead_field: str) -> Rotation:
    with transaction.atomic():
        current = Rotation.lock()
        current.count_cancellations = count_cancellations
        current.agent_lead_field = agent_lead_field.strip()
        current.save(update_fields=["count_cancellations", "agent_lead_field", "updated_at"])
        return current


@dataclass(frozen=True)
class Row:
    """A member as the Routing page shows it."""

    member: RotationMember
    turn: int | None  # 1 = next; None = out of turn
    status: str  # "in turn", "paused", "needs reconnect", "disconnected", "inactive"
    first: bool
    last: bool

    @property
    def is_next(self) -> bool:
        return self.turn == 1


def _status(member: RotationMember) -> str:
    connection: CalendarConnection | None = getattr(member.agent, "calendar_connection", None)
    if connection is None:
        return "disconnected"
    if member.away_since is not None or connection.status != ConnectionStatus.ACTIVE:
        return "needs reconnect"
    if not member.agent.is_active:
        return "inactive"
    return "paused" if member.paused else "in turn"


def rows() -> list[Row]:
    """The queue in position order, each member with their place in the turn order."""
    listed = list(members())
    turns = {m.agent_id: n for n, m in enumerate(in_turn(), start=1)}
    return [
        Row(m, turns.get(m.agent_id), _status(m), i == 0, i == len(listed) - 1)
        for i, m in enumerate(listed)
    ]


# Receivers, connected in RoutingConfig.ready().


def on_calendar_connected(sender: Any, *, agent_id: int, **kwargs: Any) -> None:
    join(agent_id)


def on_calendar_lost(sender: Any, *, agent_id: int, **kwargs: Any) -> None:
    leave(agent_id)


def on_meeting_cancelled(sender: Any, *, agent_id: int, **kwargs: Any) -> None:
    if not Rotation.current().count_cancellations:
        uncredit(agent_id)
