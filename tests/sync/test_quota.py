"""Marketo's daily quotas reset at midnight US Central, whatever the zone or the season."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from sync.quota import MARKETO_TIME_ZONE, next_quota_reset

CHICAGO = MARKETO_TIME_ZONE


def utc(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "reset"),
    [
        # Central Standard Time (UTC-6): midnight in Chicago is 06:00 UTC.
        (utc(2026, 1, 15, 12, 0), utc(2026, 1, 16, 6, 0)),
        # Central Daylight Time (UTC-5): midnight in Chicago is 05:00 UTC.
        (utc(2026, 7, 4, 12, 0), utc(2026, 7, 5, 5, 0)),
        # Just before midnight in Chicago: the reset is a second away.
        (utc(2026, 1, 16, 5, 59, 59), utc(2026, 1, 16, 6, 0)),
        # At midnight exactly, the next reset is a day later.
        (utc(2026, 1, 16, 6, 0), utc(2026, 1, 17, 6, 0)),
        # Just after midnight in Chicago: almost a whole day to go.
        (utc(2026, 1, 16, 6, 0, 1), utc(2026, 1, 17, 6, 0)),
        # Past midnight in UTC but still the evening before in Chicago.
        (utc(2026, 1, 16, 2, 0), utc(2026, 1, 16, 6, 0)),
        # New Year's Eve in Chicago.
        (utc(2027, 1, 1, 3, 0), utc(2027, 1, 1, 6, 0)),
    ],
)
def test_the_reset_is_the_next_midnight_in_chicago(now: datetime, reset: datetime) -> None:
    assert next_quota_reset(now) == reset


def test_on_the_day_daylight_saving_starts_the_reset_moves_an_hour_earlier_in_utc() -> None:
    # 2026-03-08: 02:00 CST becomes 03:00 CDT; that day has 23 hours in Chicago.
    before_change = datetime(2026, 3, 8, 1, 30, tzinfo=CHICAGO)
    after_change = datetime(2026, 3, 8, 12, 0, tzinfo=CHICAGO)
    day_before = datetime(2026, 3, 7, 23, 0, tzinfo=CHICAGO)

    assert next_quota_reset(day_before) == utc(2026, 3, 8, 6, 0)  # still CST
    assert next_quota_reset(before_change) == utc(2026, 3, 9, 5, 0)  # already CDT
    assert next_quota_reset(after_change) == utc(2026, 3, 9, 5, 0)
    assert next_quota_reset(before_change) - next_quota_reset(day_before) == timedelta(hours=23)


def test_on_the_day_daylight_saving_ends_the_reset_moves_an_hour_later_in_utc() -> None:
    # 2026-11-01: 02:00 CDT becomes 01:00 CST; 01:30 happens twice and the day has 25 hours.
    first_half_past_one = datetime(2026, 11, 1, 1, 30, fold=0, tzinfo=CHICAGO)
    second_half_past_one = datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=CHICAGO)
    day_before = datetime(2026, 10, 31, 23, 0, tzinfo=CHICAGO)

    assert next_quota_reset(day_before) == utc(2026, 11, 1, 5, 0)  # still CDT
    assert next_quota_reset(first_half_past_one) == utc(2026, 11, 2, 6, 0)  # CST by then
    assert next_quota_reset(second_half_past_one) == utc(2026, 11, 2, 6, 0)
    assert next_quota_reset(first_half_past_one) - next_quota_reset(day_before) == timedelta(
        hours=25
    )


@pytest.mark.parametrize(
    "zone",
    [UTC, ZoneInfo("Europe/Berlin"), ZoneInfo("Pacific/Kiritimati"), timezone(timedelta(hours=-9))],
)
def test_the_zone_of_the_input_does_not_matter(zone: timezone | ZoneInfo) -> None:
    now = utc(2026, 3, 8, 4, 0)  # 22:00 on 7 March in Chicago

    assert next_quota_reset(now.astimezone(zone)) == utc(2026, 3, 8, 6, 0)


def test_the_reset_is_returned_in_utc() -> None:
    reset = next_quota_reset(datetime(2026, 5, 1, 9, 0, tzinfo=ZoneInfo("Asia/Tokyo")))

    assert reset.tzinfo is UTC
    assert reset.astimezone(CHICAGO).time().isoformat() == "00:00:00"


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        next_quota_reset(datetime(2026, 1, 1, 12, 0))
