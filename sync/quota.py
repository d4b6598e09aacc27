"""When Marketo's daily quotas (API calls, bulk export bytes) start again: midnight US Central."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

MARKETO_TIME_ZONE = ZoneInfo("America/Chicago")


def next_quota_reset(now: datetime) -> datetime:
    """The first 00:00 America/Chicago strictly after ``now`` (an aware datetime), in UTC.

    Midnight exists on every day in Chicago (clocks change at 02:00), so building the local
    wall-clock time and converting it is exact on the days daylight saving starts and ends.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("next_quota_reset needs an aware datetime")
    local_day = now.astimezone(MARKETO_TIME_ZONE).date()
    midnight = datetime.combine(local_day + timedelta(days=1), time(0), tzinfo=MARKETO_TIME_ZONE)
    return midnight.astimezone(UTC)
