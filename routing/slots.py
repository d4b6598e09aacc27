"""Who could take a meeting, when they are free, and why one who is not was passed over.

The candidates are the agents in turn (round robin) or the one agent a dialogue names. Their free
time is their working hours minus their calendar's busy times minus Dynchat's own meetings and
live holds (each followed by the agent's buffer); calendars.availability does the arithmetic.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.utils import timezone

from calendars.availability import Interval, Rules, free_slots, is_free, rules_from
from calendars.freebusy import busy_for
from calendars.models import BookingRules, CalendarConnection
from calendars.services import rules_for
from dynchat.models import User
from meetings.models import Meeting, MeetingStatus
from meetings.refusals import BookingRefused
from routing import queue
from routing.rotation import BOOKED, BUSY, UNAVAILABLE, MemberState, turn_order

OUTSIDE_HOURS = "outside their booking hours"
HELD = "held for another visitor"

DEFAULT_DURATION_MINUTES = 30
MARGIN = timedelta(days=1)  # busy times around a slot that its buffer may touch


@dataclass(frozen=True)
class SlotOffer:
    """The starts a visitor may pick; ``unavailable``: no candidate's calendar answered."""

    starts: list[datetime]
    duration_minutes: int
    unavailable: bool


@dataclass(frozen=True)
class Candidate:
    agent_id: int
    name: str
    rules: Rules
    connection: CalendarConnection | None


@dataclass(frozen=True)
class Taken:
    """Dynchat's own time of one agent: meetings that take place, and live holds."""

    meetings: list[Interval]
    holds: list[Interval]


def candidates(agent_id: int | None = None) -> list[Candidate]:
    """Round robin (``agent_id`` None): the agents in turn, in turn order; else that one agent."""
    if agent_id is None:
        members = queue.in_turn()
        ids = turn_order(
            [
                MemberState(
                    agent_id=member.agent_id,
                    position=member.position,
                    level=member.level,
                    weight=member.weight,
                    paused=member.paused,
                )
                for member in members
            ]
        )
    else:
        ids = [agent_id]
    users = User.objects.in_bulk(ids)
    if agent_id is not None and (agent_id not in users or not users[agent_id].is_active):
        raise BookingRefused("not_found", "That agent does not take meetings.")
    stored = {rules.agent_id: rules for rules in BookingRules.objects.filter(agent_id__in=ids)}
    connections = {
        connection.agent_id: connection
        for connection in CalendarConnection.objects.filter(agent_id__in=ids)
    }
    found = []
    for agent in (users[pk] for pk in ids if pk in users):
        booking_rules = stored.get(agent.pk) or rules_for(agent)
        rules = rules_from(
            booking_rules.working_hours,
            agent.time_zone,
            booking_rules.duration_minutes,
            booking_rules.buffer_minutes,
            booking_rules.notice_minutes,
            booking_rules.horizon_days,
            booking_rules.date_overrides,
        )
        found.append(
            Candidate(agent.pk, agent.name or agent.email, rules, connections.get(agent.pk))
        )
    return found


def offer_minutes(found: Sequence[Candidate]) -> int:
    """The meeting length offered: the agents' most common duration (ties: the shortest)."""
    if not found:
        return DEFAULT_DURATION_MINUTES
    counts = Counter(int(c.rules.duration.total_seconds() // 60) for c in found)
    return min(counts, key=lambda minutes: (-counts[minutes], minutes))


def calendar_busy(
    found: Sequence[Candidate], start: datetime, end: datetime, *, fresh: bool
) -> dict[int, list[Interval] | None]:
    """Each candidate's calendar busy times (None: no calendar, or it did not answer).

    Makes provider calls: never inside a transaction.
    """
    connections = [c.connection for c in found if c.connection is not None]
    answered = busy_for(connections, start, end, fresh=fresh) if connections else {}
    return {c.agent_id: answered.get(c.agent_id) for c in found}


def dynchat_taken(
    found: Sequence[Candidate], start: datetime, end: datetime, *, now: datetime
) -> dict[int, Taken]:
    """Dynchat meetings and live holds of the candidates in [start, end), each with its buffer."""
    buffers = {c.agent_id: c.rules.buffer for c in found}
    taken = {c.agent_id: Taken([], []) for c in found}
    rows = (
        Meeting.objects.blocking(now)
        .filter(agent_id__in=list(buffers))
        .overlapping(start - MARGIN, end + MARGIN)
        .values_list("agent_id", "starts_at", "ends_at", "status")
    )
    for agent_id, starts_at, ends_at, status in rows:
        interval = Interval(starts_at, ends_at + buffers[agent_id])
        target = taken[agent_id].holds if status == MeetingStatus.HELD else taken[agent_id].meetings
        target.append(interval)
    return taken


def why_not(
    candidate: Candidate,
    calendar: list[Interval] | None,
    taken: Taken,
    *,
    now: datetime,
    start: datetime,
    duration: timedelta,
) -> str | None:
    """Why this agent cannot take [start, start + duration) (None: they can)."""
    rules = candidate.rules
    if not is_free(rules, [], now, start, duration):
        return OUTSIDE_HOURS
    if calendar is None:
        return UNAVAILABLE
    if not is_free(rules, calendar, now, start, duration):
        return BUSY
    if not is_free(rules, [*calendar, *taken.meetings], now, start, duration):
        return BOOKED
    if not is_free(rules, [*calendar, *taken.meetings, *taken.holds], now, start, duration):
        return HELD
    return None


def refusal(whys: Iterable[str | None]) -> BookingRefused:
    """The refusal when nobody can take the slot, from why each candidate could not."""
    reasons = [why for why in whys if why is not None]
    if not reasons:
        return BookingRefused("no_agents")
    if BOOKED in reasons:
        return BookingRefused("slot_taken")
    if HELD in reasons:
        return BookingRefused("slot_held")
    if BUSY in reasons:
        return BookingRefused("agent_busy")
    if UNAVAILABLE in reasons:
        return BookingRefused("calendar_unavailable")
    return BookingRefused("invalid_slot")


def offer_slots(*, agent_id: int | None = None, now: datetime | None = None) -> SlotOffer:
    """The slots to show a visitor: round robin, the union of the agents in turn's free slots,
    each computed for the common duration; a named agent, theirs."""
    now = now or timezone.now()
    found = candidates(agent_id)
    minutes = offer_minutes(found)
    if not found:
        return SlotOffer([], minutes, unavailable=False)
    duration = timedelta(minutes=minutes)
    end = now + max(c.rules.horizon for c in found)
    calendars = calendar_busy(found, now, end + MARGIN, fresh=False)
    taken = dynchat_taken(found, now, end, now=now)
    starts: set[datetime] = set()
    answered = 0
    for candidate in found:
        calendar = calendars[candidate.agent_id]
        if calendar is None:
            continue
        answered += 1
        own = taken[candidate.agent_id]
        busy = [*calendar, *own.meetings, *own.holds]
        starts.update(free_slots(replace(candidate.rules, duration=duration), busy, now))
    return SlotOffer(sorted(starts), minutes, unavailable=answered == 0)
