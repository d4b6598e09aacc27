"""Agents' busy times from their connected calendars: cached, fetched concurrently, fail closed.

``busy_for`` answers, per agent, the busy intervals of their calendar or None when the calendar
cannot be read (it needs reconnecting, the provider is down or answered nonsense): callers must
treat None as "not free". Answers are cached in Django's cache for CALENDAR_BUSY_CACHE_SECONDS
per connection and window; ``fresh=True`` (booking) skips the cache and refreshes it.

The window asked of the provider is widened to whole quarter hours, so callers whose windows
start at "now + notice" share one cache entry for a while; the answer is cut back to the window
asked for. Calendars are read in a thread pool, each thread closing its database connection
when its call is done (the pool's threads would otherwise keep connections open).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connections as db_connections

from calendars.availability import Interval
from calendars.models import CalendarConnection
from calendars.providers import provider_for
from calendars.providers.base import CalendarError
from calendars.tokens import access_token

logger = logging.getLogger(__name__)

#: Calendars read at the same time, at most.
MAX_THREADS = 16
#: Windows are widened to multiples of this, for cache hits.
GRAIN = timedelta(minutes=15)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Cached = list[tuple[datetime, datetime]]


def busy_for(
    connections: Sequence[CalendarConnection],
    start: datetime,
    end: datetime,
    *,
    fresh: bool = False,
) -> dict[int, list[Interval] | None]:
    """Busy intervals overlapping ``[start, end)`` per agent id; None = calendar unavailable."""
    low, high = _widened(start, end)
    answers: dict[int, list[Interval] | None] = {}
    keys = {connection.id: cache_key(connection, low, high) for connection in connections}
    cached: dict[str, Cached] = {} if fresh else cache.get_many(list(keys.values()))
    missing: list[CalendarConnection] = []
    for connection in connections:
        if not connection.is_active:
            answers[connection.agent_id] = None
        elif (hit := cached.get(keys[connection.id])) is not None:
            answers[connection.agent_id] = _within(hit, start, end)
        else:
            missing.append(connection)
    fetched = _fetch_all(missing, low, high)
    cache.set_many(
        {keys[c.id]: busy for c, busy in zip(missing, fetched, strict=True) if busy is not None},
        timeout=settings.CALENDAR_BUSY_CACHE_SECONDS,
    )
    for connection, busy in zip(missing, fetched, strict=True):
        answers[connection.agent_id] = None if busy is None else _within(busy, start, end)
    return answers


def cache_key(connection: CalendarConnection, low: datetime, high: datetime) -> str:
    """One entry per connection (a reconnect starts afresh) and widened window."""
    connected = int(connection.connected_at.timestamp())
    return (
        f"calendars:busy:{connection.id}:{connected}:{int(low.timestamp())}:{int(high.timestamp())}"
    )


def _widened(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    low = _EPOCH + (start - _EPOCH) // GRAIN * GRAIN
    high = _EPOCH - (_EPOCH - end) // GRAIN * GRAIN
    return low, max(high, low + GRAIN)


def _within(busy: Cached, start: datetime, end: datetime) -> list[Interval]:
    return [Interval(s, e) for s, e in busy if s < end and e > start]


def _fetch_all(
    connections: list[CalendarConnection], start: datetime, end: datetime
) -> list[Cached | None]:
    if len(connections) <= 1:  # no thread for one calendar: keep this thread's connection
        return [_fetch(connection, start, end) for connection in connections]
    with ThreadPoolExecutor(
        max_workers=min(MAX_THREADS, len(connections)), thread_name_prefix="freebusy"
    ) as pool:
        return list(pool.map(lambda c: _fetch_in_thread(c, start, end), connections))


def _fetch_in_thread(
    connection: CalendarConnection, start: datetime, end: datetime
) -> Cached | None:
    try:
        return _fetch(connection, start, end)
    finally:
        db_connections.close_all()


def _fetch(connection: CalendarConnection, start: datetime, end: datetime) -> Cached | None:
    """The calendar's busy times, or None (logged) when they cannot be known."""
    try:
        token = access_token(connection.id)
        busy = provider_for(connection.provider).busy(token, start, end)
    except CalendarError as error:  # NeedsReconnect, ProviderUnavailable, anything else
        logger.warning(
            "Free/busy of agent %s unavailable (%s): %s",
            connection.agent_id,
            type(error).__name__,
            error,
        )
        return None
    except Exception:  # a bug must not make one agent look free, nor break everyone's slots
        logger.exception("Free/busy of agent %s failed", connection.agent_id)
        return None
    return sorted((item.start, item.end) for item in busy)
