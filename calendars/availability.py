"""When an agent can be booked: working hours in their zone minus busy time (no ORM, no settings).

A date override replaces the weekday's blocks on that one date (no blocks: a day off).

A working block is local wall time: "09:00-17:00" starts when the agent's clock first reads 09:00
and ends when it first reads 17:00, every day, whatever the UTC offset that day. On the day clocks
spring forward a block that spans the jump is an hour shorter in real time; a block that starts in
the missing hour starts at the jump; on the day clocks fall back a block spanning the repeated hour
is an hour longer, and a time in the repeated hour means its first occurrence.

Slots step by the meeting duration from the start of each block, in real time, and a slot offered
must fit its block, start at least ``notice`` from now and before ``now + horizon``, and keep
``[start, start + duration + buffer)`` clear of every busy interval. Times are handled as integer
microseconds since the epoch and busy intervals are merged once, so a fortnight of slots for one
agent is a sort and one sweep.
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MIDNIGHT = time(0, 0)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_DAY = timedelta(days=1)
_TIME = re.compile(r"(\d{1,2}):(\d{2})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Interval:
    """``[start, end)``, aware datetimes."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class Rules:
    """What one agent offers. ``hours`` maps a weekday (0 = Monday) to its working blocks in the
    agent's zone; a block ending at ``time(0, 0)`` ends at midnight, the end of that day.
    ``overrides`` maps a date to the blocks it has instead of its weekday's (none: a day off)."""

    zone: str
    hours: Mapping[int, Sequence[tuple[time, time]]]
    duration: timedelta
    buffer: timedelta = timedelta(0)
    notice: timedelta = timedelta(hours=24)
    horizon: timedelta = timedelta(days=14)
    overrides: Mapping[date, Sequence[tuple[time, time]]] = field(default_factory=dict)


@functools.cache
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones() - {"localtime"})


@functools.lru_cache(maxsize=256)
def _load_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ValueError, OSError, KeyError):  # ZoneInfoNotFoundError is a KeyError
        return ZoneInfo("UTC")


def zone_of(name: object) -> ZoneInfo:
    """The IANA zone called ``name``; UTC for anything else (never raises)."""
    if not isinstance(name, str) or len(name) > 64 or name not in _known_zones():
        return _load_zone("UTC")
    return _load_zone(name)


def parse_time(text: str, *, end: bool = False) -> time | None:
    """ "09:30" → 09:30; "24:00" (as an end only) → midnight, like "00:00"; None if invalid."""
    match = _TIME.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        return None
    hour, minute = int(match[1]), int(match[2])
    if hour == 24 and minute == 0 and end:
        return MIDNIGHT
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def valid_block(start: time, end: time) -> bool:
    """A block ends after it starts, or at midnight (``time(0, 0)``)."""
    return end == MIDNIGHT or end > start


def _block(raw: Any) -> tuple[time, time] | None:
    if isinstance(raw, str):
        raw = raw.split("-", 1)
    if not isinstance(raw, list | tuple) or len(raw) != 2:
        return None
    start, end = parse_time(raw[0]), parse_time(raw[1], end=True)
    if start is None or end is None or not valid_block(start, end):
        return None
    return start, end


def parse_hours(working_hours: object) -> dict[int, list[tuple[time, time]]]:
    """The BookingRules JSON ``{"mon": [["09:00", "17:00"]], ...}`` as weekday → sorted blocks.
    Unknown days and malformed blocks are left out, so a bad row never breaks slot listing."""
    hours: dict[int, list[tuple[time, time]]] = {}
    if not isinstance(working_hours, Mapping):
        return hours
    for key, blocks in working_hours.items():
        day = str(key)[:3].lower()
        if day not in WEEKDAYS or not isinstance(blocks, list | tuple):
            continue
        parsed = [block for raw in blocks if (block := _block(raw)) is not None]
        hours.setdefault(WEEKDAYS.index(day), []).extend(parsed)
    return {day: sorted(blocks) for day, blocks in hours.items()}


def parse_overrides(date_overrides: object) -> dict[date, list[tuple[time, time]]]:
    """The BookingRules JSON ``{"2026-12-24": [], "2026-12-31": [["09:00", "12:00"]]}`` as date →
    sorted blocks. Keys that are no ISO date and values that are no list are left out, and so are
    malformed blocks (a date whose blocks are all malformed is a day off, as for weekdays)."""
    overrides: dict[date, list[tuple[time, time]]] = {}
    if not isinstance(date_overrides, Mapping):
        return overrides
    for key, blocks in date_overrides.items():
        if not isinstance(key, str) or not _DATE.fullmatch(key):
            continue
        if not isinstance(blocks, list | tuple):
            continue
        try:
            day = date.fromisoformat(key)
        except ValueError:
            continue
        overrides[day] = sorted(block for raw in blocks if (block := _block(raw)) is not None)
    return overrides


def rules_from(
    working_hours: object,
    zone: str,
    duration_minutes: int,
    buffer_minutes: int = 0,
    notice_minutes: int = 24 * 60,
    horizon_days: int = 14,
    date_overrides: object = None,
) -> Rules:
    """Rules from the values a BookingRules row stores."""
    return Rules(
        zone=zone,
        hours=parse_hours(working_hours),
        duration=timedelta(minutes=duration_minutes),
        buffer=timedelta(minutes=buffer_minutes),
        notice=timedelta(minutes=notice_minutes),
        horizon=timedelta(days=horizon_days),
        overrides=parse_overrides(date_overrides),
    )


def busy_window(rules: Rules, now: datetime) -> tuple[datetime, datetime]:
    """The span whose busy times decide ``free_slots(rules, busy, now)``."""
    return now + rules.notice, now + rules.horizon + rules.duration + rules.buffer


def _us(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // _US


def _moment(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


def _wall(us: int, zone: ZoneInfo) -> datetime:
    return _moment(us).astimezone(zone).replace(tzinfo=None)


def _when_clock_reads(wall: datetime, zone: ZoneInfo) -> int:
    """The first instant (µs) at which the clock in ``zone`` reads ``wall`` or later."""
    earlier = wall.replace(tzinfo=zone)  # fold=0: the first of two readings when clocks go back
    us = (earlier - EPOCH) // _US
    offset, after = earlier.utcoffset(), earlier.replace(fold=1).utcoffset()
    if offset is None or after is None or after <= offset:  # not in a gap: the common case
        return us
    # ``wall`` falls in a gap: fold=0 lands after the jump and fold=1 before it. The clock
    # passes ``wall`` at the jump itself, on a whole second: bisect the seconds between.
    low, high = _us(wall.replace(tzinfo=zone, fold=1)) // 1_000_000, us // 1_000_000
    while high - low > 1:
        middle = (low + high) // 2
        if _wall(middle * 1_000_000, zone) >= wall:
            high = middle
        else:
            low = middle
    return high * 1_000_000


def _blocks(rules: Rules, zone: ZoneInfo, low: int, high: int) -> list[tuple[int, int]]:
    """Working blocks (µs) overlapping ``[low, high)``, by start."""
    first: date = _wall(low, zone).date() - _DAY
    last: date = _wall(high, zone).date() + _DAY
    found: list[tuple[int, int]] = []
    overrides, hours = rules.overrides, rules.hours
    day = first
    while day <= last:
        blocks = overrides.get(day) if overrides else None
        for start, end in hours.get(day.weekday(), ()) if blocks is None else blocks:
            if not valid_block(start, end):
                continue
            end_day = day + _DAY if end == MIDNIGHT else day
            begins = _when_clock_reads(datetime.combine(day, start), zone)
            ends = _when_clock_reads(datetime.combine(end_day, end), zone)
            if begins < ends and ends > low and begins < high:
                found.append((begins, ends))
        day += _DAY
    found.sort()
    return found


def _merged(busy: Iterable[Interval]) -> tuple[list[int], list[int]]:
    """Busy intervals merged into disjoint ones, as sorted starts and ends (µs)."""
    spans = sorted((_us(b.start), _us(b.end)) for b in busy)
    starts: list[int] = []
    ends: list[int] = []
    for start, end in spans:
        if end <= start:
            continue
        if ends and start <= ends[-1]:
            ends[-1] = max(ends[-1], end)
        else:
            starts.append(start)
            ends.append(end)
    return starts, ends


def free_slots(rules: Rules, busy: Sequence[Interval], now: datetime) -> list[datetime]:
    """Start times (aware UTC, sorted) of every slot the agent can be booked for."""
    duration = rules.duration // _US
    if duration <= 0:
        return []
    tail = duration + max(rules.buffer // _US, 0)
    earliest = _us(now + rules.notice)
    latest = _us(now + rules.horizon)  # a slot starts before this
    if earliest >= latest:
        return []
    zone = zone_of(rules.zone)
    starts, ends = _merged(busy)
    count = len(ends)
    found: list[int] = []
    for block_start, block_end in _blocks(rules, zone, earliest, latest + duration):
        # Grid points of this block: block_start + k * duration, from the first at or after
        # ``earliest``; a busy interval skips the grid to its first point at or after its end.
        step = max(0, -((block_start - earliest) // duration))
        slot = block_start + step * duration
        index = bisect_right(ends, slot)
        while slot + duration <= block_end and slot < latest:
            while index < count and ends[index] <= slot:
                index += 1
            if index < count and starts[index] < slot + tail:
                slot = block_start - ((block_start - ends[index]) // duration) * duration
                continue
            found.append(slot)
            slot += duration
    return [EPOCH + timedelta(microseconds=us) for us in sorted(set(found))]


def is_free(
    rules: Rules, busy: Sequence[Interval], now: datetime, start: datetime, duration: timedelta
) -> bool:
    """Whether ``start`` is a slot ``free_slots`` offers for meetings of ``duration``."""
    rules = replace(rules, duration=duration)
    length = duration // _US
    slot = _us(start)
    if length <= 0 or not _us(now + rules.notice) <= slot < _us(now + rules.horizon):
        return False
    zone = zone_of(rules.zone)
    on_grid = any(
        begins <= slot and slot + length <= ends and (slot - begins) % length == 0
        for begins, ends in _blocks(rules, zone, slot, slot + length)
    )
    if not on_grid:
        return False
    tail = length + max(rules.buffer // _US, 0)
    starts, ends = _merged(busy)
    index = bisect_right(ends, slot)
    return not (index < len(ends) and starts[index] < slot + tail)
