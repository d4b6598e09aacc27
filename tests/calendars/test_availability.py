"""RR-7: an agent is offered exactly the slots their working hours, calendar and rules allow.

The property tests compare ``free_slots`` and ``is_free`` with an oracle written here from first
principles, minute by minute: it reads the agent's wall clock at every minute, and a minute is
inside the block "09:00-17:00" of a day once the clock has read 09:00 that day and before it
has read 17:00 (the highest reading so far, so a clock going back stays inside and a clock
jumping over 09:00 starts the block at the jump); a slot is the block's start plus a multiple of
the duration, every minute of it inside the block, none of its minutes or its buffer's busy.
A date with an override has the override's blocks instead of its weekday's.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate
from zoneinfo import ZoneInfo

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from calendars.availability import (
    MIDNIGHT,
    Interval,
    Rules,
    busy_window,
    free_slots,
    is_free,
    parse_hours,
    parse_overrides,
    rules_from,
    zone_of,
)

MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)
OFFICE = {day: [(time(9), time(17))] for day in range(5)}
ZONES = [
    "UTC",
    "America/New_York",
    "Europe/Berlin",
    "Australia/Lord_Howe",  # clocks move by 30 minutes
    "Pacific/Chatham",  # UTC+12:45, clocks change at 02:45
    "America/Santiago",  # midnight does not exist on the spring-forward day
    "Asia/Kolkata",
    "America/St_Johns",
    "Europe/London",
]


def oracle(rules: Rules, busy: Sequence[Interval], now: datetime) -> list[datetime]:
    zone = ZoneInfo(rules.zone)
    duration = rules.duration // MINUTE
    buffer = rules.buffer // MINUTE
    earliest, latest = now + rules.notice, now + rules.horizon
    origin = earliest.replace(second=0, microsecond=0) - 3 * DAY
    count = (latest + 3 * DAY - origin) // MINUTE
    moments = [origin + n * MINUTE for n in range(count)]
    walls = [moment.astimezone(zone).replace(tzinfo=None) for moment in moments]
    highest = list(accumulate(walls, max))
    busy_minutes = {
        n for n, moment in enumerate(moments) if any(b.start <= moment < b.end for b in busy)
    }
    slots: set[datetime] = set()
    day = earliest.astimezone(zone).date() - DAY
    while day <= latest.astimezone(zone).date() + DAY:
        for start, end in rules.overrides.get(day, rules.hours.get(day.weekday(), ())):
            opens = datetime.combine(day, start)
            closes = datetime.combine(day + DAY if end == MIDNIGHT else day, end)
            inside = {n for n in range(count) if opens <= highest[n] < closes}
            if not inside:
                continue
            slot = min(inside)
            while all(n in inside for n in range(slot, slot + duration)):
                free = not any(n in busy_minutes for n in range(slot, slot + duration + buffer))
                if free and earliest <= moments[slot] < latest:
                    slots.add(moments[slot])
                slot += duration
        day += DAY
    return sorted(slots)


# Times near the clock changes of ZONES, so blocks often start or end in a gap or a repeat.
NEAR_CHANGES = [0, 60, 90, 120, 135, 150, 165, 180, 210, 225, 240, 1440]


@functools.cache
def clock_changes(name: str) -> list[datetime]:
    """Every instant from 2024 to 2030 at which the zone's UTC offset changes, to the minute."""
    zone = ZoneInfo(name)
    changes = []
    day = datetime(2024, 1, 1, tzinfo=UTC)
    while day.year < 2031:
        if day.astimezone(zone).utcoffset() != (day + DAY).astimezone(zone).utcoffset():
            low, high = day, day + DAY
            while high - low > MINUTE:
                middle = low + (high - low) // MINUTE // 2 * MINUTE
                same = middle.astimezone(zone).utcoffset() == low.astimezone(zone).utcoffset()
                low, high = (middle, high) if same else (low, middle)
            changes.append(high)
        day += DAY
    return changes


@st.composite
def block_lists(draw: st.DrawFn) -> list[tuple[time, time]]:
    blocks = []
    for _ in range(draw(st.integers(0, 3))):
        start = draw(st.integers(0, 95).map(lambda n: n * 15) | st.sampled_from(NEAR_CHANGES[:-1]))
        ends = [m for m in NEAR_CHANGES if m > start] + list(range(start + 15, 1441, 15))
        end = draw(st.sampled_from(ends))
        blocks.append((time(start // 60, start % 60), time(end // 60 % 24, end % 60)))
    return blocks


@st.composite
def block_at_change(draw: st.DrawFn, zone: str, change: datetime) -> tuple[date, tuple[time, time]]:
    """A block of the day of ``change`` that starts or ends in its gap or repeated hour."""
    tz = ZoneInfo(zone)
    before = (change - MINUTE).astimezone(tz).replace(tzinfo=None) + MINUTE
    after = change.astimezone(tz).replace(tzinfo=None)
    low, high = min(before, after), max(before, after)
    walls = sorted({low, high, low + (high - low) / 2, low - 15 * MINUTE, high + 15 * MINUTE})
    start = draw(st.sampled_from(walls[:-1]))
    ends = [wall for wall in walls if wall > start]
    ends += [datetime.combine(start.date() + DAY, MIDNIGHT), start + 4 * 15 * MINUTE]
    end = draw(st.sampled_from(ends))
    if end.date() != start.date() and end.time() != MIDNIGHT:
        end = datetime.combine(start.date() + DAY, MIDNIGHT)
    return start.date(), (start.time(), end.time())


@st.composite
def cases(draw: st.DrawFn) -> tuple[Rules, list[Interval], datetime]:
    """Mostly within three days before a clock change, ``now`` to the microsecond."""
    zone = draw(st.sampled_from(ZONES))
    changes = clock_changes(zone)
    change: datetime | None = None
    if changes and draw(st.integers(0, 3)) > 0:
        change = draw(st.sampled_from(changes))
    if change is not None:
        base = change - 3 * DAY
    else:
        base = datetime(draw(st.integers(2024, 2030)), draw(st.integers(1, 12)), 1, tzinfo=UTC)
    now = base + timedelta(microseconds=draw(st.integers(0, 3 * 24 * 3600 * 1_000_000)))
    always = draw(st.booleans()) and draw(st.booleans())
    hours = {
        day: [(MIDNIGHT, MIDNIGHT)] if always else draw(block_lists())
        for day in range(7)
        if draw(st.integers(0, 5))
    }
    overrides: dict[date, list[tuple[time, time]]] = {}
    for _ in range(draw(st.integers(0, 3))):
        day = now.date() + draw(st.integers(-1, 4)) * DAY
        overrides[day] = draw(block_lists())
    if change is not None and not always and draw(st.integers(0, 3)):
        day, block = draw(block_at_change(zone, change))
        if draw(st.booleans()):
            overrides[day] = [*overrides.get(day, []), block]
        else:
            hours[day.weekday()] = [*hours.get(day.weekday(), []), block]
    rules = Rules(
        zone=zone,
        hours=hours,
        duration=draw(st.sampled_from([15, 20, 25, 30, 45, 60, 90])) * MINUTE,
        buffer=draw(st.sampled_from([0, 0, 5, 10, 15, 30])) * MINUTE,
        notice=(notice := draw(st.integers(0, 2 * 24 * 60)) * MINUTE),
        horizon=notice + draw(st.integers(6 * 60, 3 * 24 * 60) | st.integers(-60, 90)) * MINUTE,
        overrides=overrides,
    )
    start = now.replace(second=0, microsecond=0)
    busy = []
    for _ in range(draw(st.integers(0, 12))):
        begins = start + draw(st.integers(-24 * 60, 5 * 24 * 60)) * MINUTE
        busy.append(Interval(begins, begins + draw(st.integers(0, 10 * 60)) * MINUTE))
    return rules, busy, now


@settings(max_examples=300, derandomize=True, deadline=None)
@given(cases())
def test_free_slots_are_exactly_the_slots_the_minute_by_minute_oracle_finds(
    case: tuple[Rules, list[Interval], datetime],
) -> None:
    """RR-7: working hours, date overrides, DST, duration, buffer, notice, horizon and busy time,
    all at once."""
    rules, busy, now = case
    expected = oracle(rules, busy, now)
    event("some slots" if expected else "no slot")
    assert free_slots(rules, busy, now) == expected


@settings(max_examples=100, derandomize=True, deadline=None)
@given(cases(), st.sampled_from([15, 30, 45, 60]))
def test_is_free_accepts_exactly_the_starts_free_slots_offers(
    case: tuple[Rules, list[Interval], datetime], minutes: int
) -> None:
    """RR-7: booking checks one slot by the same rules the visitor's list was made with."""
    rules, busy, now = case
    rules = replace(rules, duration=minutes * MINUTE)
    offered = set(oracle(rules, busy, now))
    start = (now + rules.notice).replace(second=0, microsecond=0)
    candidates = {start + n * 5 * MINUTE for n in range(rules.horizon // (5 * MINUTE) + 2)}
    candidates |= offered | {slot + MINUTE for slot in offered}
    for candidate in sorted(candidates):
        assert is_free(rules, busy, now, candidate, rules.duration) == (candidate in offered)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


MONDAY = at("2030-01-07T00:00")  # a Monday; UTC has no clock changes


def office(**overrides: object) -> Rules:
    values: dict[str, object] = {"zone": "UTC", "hours": OFFICE, "duration": 30 * MINUTE}
    values.update(overrides)
    return Rules(**values)  # type: ignore[arg-type]


def test_slots_step_by_the_duration_from_the_start_of_each_block() -> None:
    """RR-7: two blocks on a day, 45-minute meetings: each block's grid starts at its own start."""
    rules = office(
        hours={0: [(time(9), time(12)), (time(13, 10), time(15))]},
        duration=45 * MINUTE,
        notice=timedelta(0),
        horizon=DAY,
    )
    slots = free_slots(rules, [], MONDAY)
    assert [slot.strftime("%H:%M") for slot in slots] == [
        "09:00", "09:45", "10:30", "11:15", "13:10", "13:55",
    ]  # fmt: skip


def test_the_minimum_notice_defaults_to_a_day_and_the_horizon_to_a_fortnight() -> None:
    """RR-7: now + 24 h ≤ start < now + 14 days."""
    rules = office(hours={day: [(MIDNIGHT, MIDNIGHT)] for day in range(7)})
    now = MONDAY + timedelta(hours=10, minutes=5)
    slots = free_slots(rules, [], now)
    assert slots[0] == MONDAY + DAY + timedelta(hours=10, minutes=30)
    assert slots[-1] == MONDAY + 14 * DAY + timedelta(hours=10)
    assert len(slots) == 13 * 48


def test_busy_time_and_the_buffer_after_a_slot_keep_it_off_the_list() -> None:
    """RR-7: a slot is offered only if [start, start + duration + buffer) is clear."""
    rules = office(notice=timedelta(0), horizon=DAY, buffer=15 * MINUTE)
    busy = [Interval(at("2030-01-07T10:00"), at("2030-01-07T10:20"))]
    slots = {slot.strftime("%H:%M") for slot in free_slots(rules, busy, MONDAY)}
    # 09:30 ends at 10:00 but its buffer runs to 10:15; 10:00 overlaps; 10:30 starts after.
    assert {"09:00", "10:30"} <= slots
    assert not {"09:30", "10:00"} & slots


def test_a_meeting_may_start_when_a_busy_interval_ends() -> None:
    """RR-7: intervals are half-open."""
    rules = office(notice=timedelta(0), horizon=DAY)
    busy = [Interval(at("2030-01-07T09:00"), at("2030-01-07T09:30"))]
    assert free_slots(rules, busy, MONDAY)[0] == at("2030-01-07T09:30")


def test_overlapping_blocks_offer_each_start_once() -> None:
    """RR-7: blocks that overlap give a sorted list without duplicates."""
    rules = office(
        hours={0: [(time(9), time(11)), (time(10), time(12))]}, notice=timedelta(0), horizon=DAY
    )
    slots = free_slots(rules, [], MONDAY)
    assert slots == sorted(set(slots))
    assert len(slots) == 6


@pytest.mark.parametrize("minutes", [0, -30])
def test_a_duration_of_nothing_offers_nothing(minutes: int) -> None:
    """RR-7: no empty or negative meetings."""
    rules = office(duration=minutes * MINUTE, notice=timedelta(0))
    assert free_slots(rules, [], MONDAY) == []
    assert not is_free(rules, [], MONDAY, at("2030-01-07T09:00"), minutes * MINUTE)


def test_is_free_refuses_a_start_off_the_grid_or_outside_the_hours() -> None:
    """RR-7: a client cannot book 09:10 when the grid is 09:00, 09:30, …, nor at night."""
    rules = office(notice=timedelta(0))
    assert is_free(rules, [], MONDAY, at("2030-01-07T09:30"), 30 * MINUTE)
    assert not is_free(rules, [], MONDAY, at("2030-01-07T09:10"), 30 * MINUTE)
    assert not is_free(rules, [], MONDAY, at("2030-01-07T16:45"), 30 * MINUTE)
    assert not is_free(rules, [], MONDAY, at("2030-01-07T22:00"), 30 * MINUTE)
    assert is_free(rules, [], MONDAY, at("2030-01-07T10:00"), 60 * MINUTE)


def test_busy_window_covers_every_slot_and_its_buffer() -> None:
    """RR-7: the span to fetch free/busy for."""
    rules = office(buffer=10 * MINUTE)
    assert busy_window(rules, MONDAY) == (MONDAY + DAY, MONDAY + 14 * DAY + 40 * MINUTE)


def test_rules_come_from_the_stored_json() -> None:
    """RR-7: "24:00" and "00:00" end at midnight; bad days and blocks are left out."""
    rules = rules_from(
        {
            "mon": [["09:00", "12:00"], ["13:00", "17:00"]],
            "tue": [["20:00", "24:00"]],
            "wed": [["22:00", "00:00"], ["17:00", "09:00"], ["25:00", "26:00"], "x", ["9"]],
            "thu": "09:00-17:00",
            "someday": [["09:00", "17:00"]],
            "sat": [],
        },
        "Europe/Berlin",
        duration_minutes=30,
        buffer_minutes=10,
        notice_minutes=60,
        horizon_days=7,
    )
    assert rules.hours == {
        0: [(time(9), time(12)), (time(13), time(17))],
        1: [(time(20), MIDNIGHT)],
        2: [(time(22), MIDNIGHT)],
        5: [],
    }
    assert (rules.zone, rules.duration, rules.buffer) == ("Europe/Berlin", 30 * MINUTE, 10 * MINUTE)
    assert (rules.notice, rules.horizon) == (timedelta(hours=1), timedelta(days=7))


@pytest.mark.parametrize("stored", [None, [], "09:00-17:00", {"mon": None}, {"mon": "x"}])
def test_rules_from_junk_have_no_hours(stored: object) -> None:
    """RR-7: a broken row offers nothing instead of failing."""
    assert not any(parse_hours(stored).values())


@pytest.mark.parametrize(
    "name",
    ["Nowhere/Atlantis", "Europe", "", "../etc", "/etc/passwd", "America/../Europe/Berlin",
     "UTC\x00", "zone.tab", "localtime", "x" * 300, "Europe/Berlin ", None, 42],
)  # fmt: skip
def test_zone_of_answers_utc_for_anything_but_a_zone_name(name: object) -> None:
    """RR-7: a visitor's or agent's bad zone name never raises."""
    assert zone_of(name) == ZoneInfo("UTC")


def test_zone_of_knows_real_zones() -> None:
    """RR-7."""
    assert zone_of("America/New_York") == ZoneInfo("America/New_York")


def test_an_unknown_agent_zone_means_utc_hours() -> None:
    """RR-7: a stored zone that no longer exists falls back to UTC instead of failing."""
    rules = office(zone="Mars/Olympus_Mons", notice=timedelta(0), horizon=DAY)
    assert free_slots(rules, [], MONDAY)[0] == at("2030-01-07T09:00")


def test_naive_busy_times_are_read_as_utc() -> None:
    """RR-7."""
    rules = office(notice=timedelta(0), horizon=DAY)
    busy = [Interval(datetime(2030, 1, 7, 9), datetime(2030, 1, 7, 9, 30))]
    assert free_slots(rules, busy, MONDAY)[0] == at("2030-01-07T09:30")


def test_slots_are_aware_utc() -> None:
    """RR-7."""
    slot = free_slots(office(zone="Asia/Tokyo", notice=timedelta(0)), [], MONDAY)[0]
    assert slot.tzinfo is UTC
    assert slot == datetime(2030, 1, 7, 9, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert date(2030, 1, 7).weekday() == 0


def hours_by_day(slots: list[datetime], zone: str = "UTC") -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for slot in slots:
        local = slot.astimezone(ZoneInfo(zone))
        found.setdefault(local.date().isoformat(), []).append(local.strftime("%H:%M"))
    return found


def test_a_date_override_without_blocks_is_a_day_off() -> None:
    """RR-7: date overrides: the Monday off, the Tuesday as every Tuesday."""
    rules = office(overrides={date(2030, 1, 7): []}, notice=timedelta(0), horizon=2 * DAY)
    slots = hours_by_day(free_slots(rules, [], MONDAY))
    assert list(slots) == ["2030-01-08"]
    assert len(slots["2030-01-08"]) == 16
    assert not is_free(rules, [], MONDAY, at("2030-01-07T09:00"), 30 * MINUTE)
    assert is_free(rules, [], MONDAY, at("2030-01-08T09:00"), 30 * MINUTE)


def test_a_date_override_can_shorten_a_day() -> None:
    """RR-7: date overrides: 10:00-11:00 and 15:00-16:00 instead of 09:00-17:00 on that date."""
    day = [(time(10), time(11)), (time(15), time(16))]
    rules = office(overrides={date(2030, 1, 7): day}, notice=timedelta(0), horizon=2 * DAY)
    slots = hours_by_day(free_slots(rules, [], MONDAY))
    assert slots["2030-01-07"] == ["10:00", "10:30", "15:00", "15:30"]
    assert len(slots["2030-01-08"]) == 16
    assert not is_free(rules, [], MONDAY, at("2030-01-07T09:00"), 30 * MINUTE)
    assert is_free(rules, [], MONDAY, at("2030-01-07T15:30"), 30 * MINUTE)


def test_a_date_override_can_make_a_day_off_a_working_day() -> None:
    """RR-7: date overrides: one Saturday 09:00-12:00; the Sunday after stays off."""
    saturday = date(2030, 1, 12)
    rules = office(overrides={saturday: [(time(9), time(12))]}, notice=timedelta(0))
    slots = hours_by_day(free_slots(rules, [], MONDAY))
    assert slots["2030-01-12"] == ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]
    assert "2030-01-13" not in slots
    assert "2030-01-19" not in slots  # the next Saturday is off again
    assert is_free(rules, [], MONDAY, at("2030-01-12T11:30"), 30 * MINUTE)


def test_a_date_override_on_the_day_clocks_change_is_wall_clock_hours() -> None:
    """RR-7: date overrides and DST: 01:00-05:00 on Sunday 8 March 2026 in New York (02:00 jumps
    to 03:00) is three real hours, in local time, on a Sunday the weekly hours leave off."""
    zone = "America/New_York"
    rules = office(
        zone=zone,
        overrides={date(2026, 3, 8): [(time(1), time(5))]},
        notice=timedelta(0),
        horizon=3 * DAY,
    )
    now = at("2026-03-07T00:00")
    slots = [slot for slot in free_slots(rules, [], now) if slot < at("2026-03-09T00:00")]
    assert hours_by_day(slots, zone) == {
        "2026-03-08": ["01:00", "01:30", "03:00", "03:30", "04:00", "04:30"]
    }
    assert [slot.strftime("%H:%M") for slot in slots] == [
        "06:00", "06:30", "07:00", "07:30", "08:00", "08:30",
    ]  # fmt: skip
    assert all(is_free(rules, [], now, slot, 30 * MINUTE) for slot in slots)


def test_date_overrides_come_from_the_stored_json() -> None:
    """RR-7: date overrides: ISO dates only; bad dates, values and blocks are left out."""
    rules = rules_from(
        {"mon": [["09:00", "17:00"]]},
        "UTC",
        duration_minutes=30,
        date_overrides={
            "2026-12-24": [],
            "2026-12-31": [["13:00", "15:00"], "09:00-12:00", ["x"], ["17:00", "09:00"]],
            "2027-01-01": [["22:00", "24:00"]],
            "2026-02-30": [["09:00", "12:00"]],
            "2026-12-25 ": [],
            "20261226": [],
            "someday": [],
            "2026-12-27": None,
            "2026-12-28": "09:00-12:00",
        },
    )
    assert rules.overrides == {
        date(2026, 12, 24): [],
        date(2026, 12, 31): [(time(9), time(12)), (time(13), time(15))],
        date(2027, 1, 1): [(time(22), MIDNIGHT)],
    }
    assert rules_from({}, "UTC", 30).overrides == {}


@pytest.mark.parametrize("stored", [None, [], "2026-12-24", {None: []}, {"2026-12-24": 5}])
def test_junk_date_overrides_override_nothing(stored: object) -> None:
    """RR-7: date overrides: a broken row falls back to the weekly hours."""
    assert parse_overrides(stored) == {}
