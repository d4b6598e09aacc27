"""RR-7: working hours are the agent's wall-clock hours on the days clocks change.

2026 changes: America/New_York springs forward on Sunday 8 March (02:00 → 03:00) and falls back
on Sunday 1 November (02:00 → 01:00); Europe/Berlin on Sunday 29 March (02:00 → 03:00) and
Sunday 25 October (03:00 → 02:00).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from calendars.availability import MIDNIGHT, Rules, free_slots, is_free

MINUTE = timedelta(minutes=1)
EVERY_DAY = range(7)


def slots_on(zone: str, day: date, blocks: list[tuple[time, time]]) -> list[datetime]:
    """The 30-minute slots of ``day`` (local) for an agent working ``blocks`` every day."""
    rules = Rules(
        zone=zone,
        hours=dict.fromkeys(EVERY_DAY, blocks),
        duration=30 * MINUTE,
        notice=timedelta(0),
        horizon=timedelta(days=3),
    )
    now = datetime.combine(day, time(0), tzinfo=UTC) - timedelta(days=1)
    tz = ZoneInfo(zone)
    return [slot for slot in free_slots(rules, [], now) if slot.astimezone(tz).date() == day]


def local(slots: list[datetime], zone: str) -> list[str]:
    return [slot.astimezone(ZoneInfo(zone)).strftime("%H:%M%z") for slot in slots]


CHANGES = [
    ("America/New_York", date(2026, 3, 8), "13:00"),  # EDT: 09:00 is 13:00 UTC
    ("America/New_York", date(2026, 11, 1), "14:00"),  # EST: 09:00 is 14:00 UTC
    ("Europe/Berlin", date(2026, 3, 29), "07:00"),  # CEST
    ("Europe/Berlin", date(2026, 10, 25), "08:00"),  # CET
]


@pytest.mark.parametrize(("zone", "day", "nine_utc"), CHANGES)
def test_nine_to_five_on_the_day_clocks_change_is_eight_wall_clock_hours(
    zone: str, day: date, nine_utc: str
) -> None:
    """RR-7: 16 half-hour slots from 09:00 to 16:30 local, at that day's offset."""
    slots = slots_on(zone, day, [(time(9), time(17))])
    assert len(slots) == 16
    assert slots[0].strftime("%H:%M") == nine_utc
    assert local(slots, zone)[0].startswith("09:00")
    assert local(slots, zone)[-1].startswith("16:30")
    assert slots[-1] - slots[0] == timedelta(hours=7, minutes=30)


@pytest.mark.parametrize(("zone", "day", "hours"), [
    ("America/New_York", date(2026, 3, 8), 23),
    ("America/New_York", date(2026, 11, 1), 25),
    ("Europe/Berlin", date(2026, 3, 29), 23),
    ("Europe/Berlin", date(2026, 10, 25), 25),
    ("America/New_York", date(2026, 3, 9), 24),
])  # fmt: skip
def test_a_whole_day_lasts_as_long_as_the_day_does(zone: str, day: date, hours: int) -> None:
    """RR-7: 00:00-24:00 on a 23-hour day is 46 half-hours, on a 25-hour day 50."""
    assert len(slots_on(zone, day, [(MIDNIGHT, MIDNIGHT)])) == hours * 2


def test_a_block_across_the_missing_hour_skips_it() -> None:
    """RR-7: 01:00-04:00 in New York on 8 March 2026 is two real hours: 01:00, 01:30, 03:00,
    03:30; 02:00 and 02:30 never happen."""
    slots = slots_on("America/New_York", date(2026, 3, 8), [(time(1), time(4))])
    assert local(slots, "America/New_York") == [
        "01:00-0500",
        "01:30-0500",
        "03:00-0400",
        "03:30-0400",
    ]
    assert [slot.strftime("%H:%M") for slot in slots] == ["06:00", "06:30", "07:00", "07:30"]


@pytest.mark.parametrize(("zone", "day", "block", "expected"), [
    # 02:30 never happens: the block starts when the clock jumps to 03:00.
    ("America/New_York", date(2026, 3, 8), (time(2, 30), time(5)),
     ["03:00-0400", "03:30-0400", "04:00-0400", "04:30-0400"]),
    ("Europe/Berlin", date(2026, 3, 29), (time(2), time(4)), ["03:00+0200", "03:30+0200"]),
    # The block ends when the clock jumps past 02:30, at 03:00.
    ("America/New_York", date(2026, 3, 8), (time(1), time(2, 30)), ["01:00-0500", "01:30-0500"]),
])  # fmt: skip
def test_a_block_that_starts_or_ends_at_a_time_that_never_happens_uses_the_jump(
    zone: str, day: date, block: tuple[time, time], expected: list[str]
) -> None:
    """RR-7: the clock passes a missing time at the moment it jumps."""
    assert local(slots_on(zone, day, [block]), zone) == expected


def test_a_block_across_the_repeated_hour_lasts_an_hour_longer() -> None:
    """RR-7: 00:00-03:00 in New York on 1 November 2026 is four real hours; 01:00 and 01:30
    come twice."""
    slots = slots_on("America/New_York", date(2026, 11, 1), [(MIDNIGHT, time(3))])
    assert local(slots, "America/New_York") == [
        "00:00-0400", "00:30-0400", "01:00-0400", "01:30-0400",
        "01:00-0500", "01:30-0500", "02:00-0500", "02:30-0500",
    ]  # fmt: skip


def test_a_time_in_the_repeated_hour_means_its_first_occurrence() -> None:
    """RR-7: a block ending at 01:30 on 1 November ends the first time the clock reads 01:30."""
    slots = slots_on("America/New_York", date(2026, 11, 1), [(MIDNIGHT, time(1, 30))])
    assert local(slots, "America/New_York") == ["00:00-0400", "00:30-0400", "01:00-0400"]


def test_berlin_falls_back_at_three() -> None:
    """RR-7: 02:00-04:00 in Berlin on 25 October 2026 is three real hours."""
    slots = slots_on("Europe/Berlin", date(2026, 10, 25), [(time(2), time(4))])
    assert len(slots) == 6
    assert local(slots, "Europe/Berlin")[0] == "02:00+0200"
    assert local(slots, "Europe/Berlin")[-1] == "03:30+0100"


def test_is_free_agrees_on_the_day_clocks_change() -> None:
    """RR-7: 03:00 EDT on 8 March 2026 is offered and bookable; a would-be 02:00 is not."""
    rules = Rules(
        zone="America/New_York",
        hours=dict.fromkeys(EVERY_DAY, ((time(1), time(4)),)),
        duration=30 * MINUTE,
        notice=timedelta(0),
    )
    now = datetime(2026, 3, 7, tzinfo=UTC)
    three = datetime(2026, 3, 8, 3, tzinfo=ZoneInfo("America/New_York"))
    assert is_free(rules, [], now, three, 30 * MINUTE)
    assert not is_free(rules, [], now, datetime(2026, 3, 8, 6, 59, tzinfo=UTC), 30 * MINUTE)
    assert is_free(rules, [], now, datetime(2026, 3, 8, 6, 30, tzinfo=UTC), 30 * MINUTE)
