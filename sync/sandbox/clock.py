"""The sandbox's own clock, and Marketo's datetime formats."""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

# Marketo's daily quotas reset at midnight US Central.
QUOTA_ZONE = ZoneInfo("America/Chicago")
DAY = 86_400
_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?"
    r"(Z|[+-]\d{2}:?\d{2})?"
)


class Clock:
    """Wall-clock time plus an offset that tests move forward (token expiry, quota days)."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        with self._lock:
            self._offset += seconds


def quota_day(timestamp: float) -> date:
    """The US Central calendar day a moment belongs to (daylight saving time included)."""
    return datetime.fromtimestamp(timestamp, QUOTA_ZONE).date()


@lru_cache(maxsize=4096)
def _day_text(day: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(day * DAY))


def iso(timestamp: float) -> str:
    """``2024-05-01T13:45:07Z``: whole seconds, UTC, as Marketo writes activity dates."""
    seconds = int(timestamp)
    day, rest = divmod(seconds, DAY)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{_day_text(day)}T{hours:02d}:{minutes:02d}:{secs:02d}Z"


def iso_date(timestamp: float) -> str:
    return _day_text(int(timestamp) // DAY)


def to_datetime(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


class DateError(ValueError):
    pass


def parse_datetime(text: str) -> tuple[float, bool]:
    """Epoch seconds of an ISO-8601 datetime, and whether it carried fractional seconds.

    A value without an offset is taken as UTC; a bare date is its midnight UTC.
    """
    match = _ISO.fullmatch(text.strip())
    if not match:
        raise DateError(f"not an ISO-8601 datetime: {text!r}")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            tzinfo=UTC,
        )
    except ValueError as error:
        raise DateError(str(error)) from error
    stamp = moment.timestamp() + (float(fraction) if fraction else 0.0)
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        stamp -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return stamp, bool(fraction)
