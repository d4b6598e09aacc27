"""Celery tasks of meetings: thin, by meeting id, each calling one idempotent function.

Calendar calls are retried with backoff while the provider may recover (5xx, timeouts), at most
five times; a calendar that needs reconnecting is not retried (its agent has been told).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from celery import shared_task

from calendars.providers.base import CalendarError, NeedsReconnect, TokenRevoked
from dynchat.reliable import ReliableTask
from meetings import effects, services

logger = logging.getLogger("meetings.tasks")

MAX_RETRIES = 5
GIVE_UP = (NeedsReconnect, TokenRevoked)


# Retried with exponential backoff from 10 s (jittered, at most 10 minutes apart).
RETRIES: dict[str, Any] = {
    "max_retries": MAX_RETRIES,
    "retry_backoff": 10,
    "retry_backoff_max": 600,
    "retry_jitter": True,
}


def _calendar_call(call: Callable[[int], object], meeting_id: int) -> None:
    """Run a calendar call; other CalendarErrors (5xx, timeouts) escape to autoretry."""
    try:
        call(meeting_id)
    except GIVE_UP as error:
        logger.warning("meeting %s: calendar needs reconnecting (%s)", meeting_id, error)


@shared_task(
    base=ReliableTask,
    name="meetings.create_calendar_event",
    autoretry_for=(CalendarError,),
    **RETRIES,
    time_limit=120,
    soft_time_limit=100,
)
def create_calendar_event(meeting_id: int) -> None:
    """Put the meeting in its agent's calendar (once: the event id comes from the meeting id)."""
    _calendar_call(effects.create_calendar_event, meeting_id)


@shared_task(
    base=ReliableTask,
    name="meetings.delete_calendar_event",
    autoretry_for=(CalendarError,),
    **RETRIES,
    time_limit=120,
    soft_time_limit=100,
)
def delete_calendar_event(meeting_id: int) -> None:
    """Take a cancelled or moved meeting out of its agent's calendar."""
    _calendar_call(effects.delete_calendar_event, meeting_id)


@shared_task(
    base=ReliableTask,
    name="meetings.remove_agent_event",
    autoretry_for=(CalendarError,),
    **RETRIES,
    time_limit=120,
    soft_time_limit=100,
)
def remove_agent_event(agent_id: int, event_id: str) -> None:
    """Take a reassigned meeting's event out of the previous agent's calendar."""
    try:
        effects.remove_agent_event(agent_id, event_id)
    except GIVE_UP as error:
        logger.warning("agent %s: calendar needs reconnecting (%s)", agent_id, error)


@shared_task(
    base=ReliableTask,
    name="meetings.send_invitation",
    autoretry_for=(OSError,),
    **RETRIES,
    time_limit=60,
    soft_time_limit=50,
)
def send_invitation(meeting_id: int) -> None:
    """E-mail the visitor the invitation (one e-mail per meeting version, however often run)."""
    services.send_invitation(meeting_id)


@shared_task(
    base=ReliableTask,
    name="meetings.send_cancellation",
    autoretry_for=(OSError,),
    **RETRIES,
    time_limit=60,
    soft_time_limit=50,
)
def send_cancellation(meeting_id: int) -> None:
    """E-mail the visitor that the meeting is cancelled (once)."""
    services.send_cancellation(meeting_id)


@shared_task(base=ReliableTask, name="meetings.roll_over", time_limit=120, soft_time_limit=100)
def roll_over() -> None:
    """Complete meetings that have ended and remove expired holds (beat, every 5 minutes)."""
    services.roll_over()
