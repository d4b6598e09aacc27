"""Celery tasks of meetings: thin, by meeting id, each calling one idempotent function.

Calendar calls are retried with backoff while the provider may recover (5xx, timeouts), at most
five times; a calendar that needs reconnecting is not retried (its agent has been told).
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task, shared_task

from calendars.providers.base import CalendarError, NeedsReconnect, TokenRevoked
from dynchat.reliable import ReliableTask
from meetings import effects, services

logger = logging.getLogger("meetings.tasks")

MAX_RETRIES = 5
GIVE_UP = (NeedsReconnect, TokenRevoked)


def backoff(retries: int) -> int:
    """Seconds before retry number ``retries + 1``: 10 s, 20 s, 40 s … at most 10 minutes."""
    return int(min(600, 10 * 2**retries))


def _calendar_call(task: Task[Any, Any], call: Any, meeting_id: int) -> None:
    try:
        call(meeting_id)
    except GIVE_UP as error:
        logger.warning("meeting %s: calendar needs reconnecting (%s)", meeting_id, error)
    except CalendarError as error:
        raise task.retry(exc=error, countdown=backoff(task.request.retries)) from error


@shared_task(
    base=ReliableTask,
    name="meetings.create_calendar_event",
    bind=True,
    max_retries=MAX_RETRIES,
    time_limit=120,
    soft_time_limit=100,
)
def create_calendar_event(self: Task[Any, Any], meeting_id: int) -> None:
    """Put the meeting in its agent's calendar (once: the event id comes from the meeting id)."""
    _calendar_call(self, effects.create_calendar_event, meeting_id)


@shared_task(
    base=ReliableTask,
    name="meetings.delete_calendar_event",
    bind=True,
    max_retries=MAX_RETRIES,
    time_limit=120,
    soft_time_limit=100,
)
def delete_calendar_event(self: Task[Any, Any], meeting_id: int) -> None:
    """Take a cancelled or moved meeting out of its agent's calendar."""
    _calendar_call(self, effects.delete_calendar_event, meeting_id)


@shared_task(
    base=ReliableTask,
    name="meetings.send_invitation",
    bind=True,
    autoretry_for=(OSError,),
    retry_backoff=10,
    retry_backoff_max=600,
    max_retries=MAX_RETRIES,
    time_limit=60,
    soft_time_limit=50,
)
def send_invitation(self: Task[Any, Any], meeting_id: int) -> None:
    """E-mail the visitor the invitation (one e-mail per meeting version, however often run)."""
    services.send_invitation(meeting_id)


@shared_task(
    base=ReliableTask,
    name="meetings.send_cancellation",
    bind=True,
    autoretry_for=(OSError,),
    retry_backoff=10,
    retry_backoff_max=600,
    max_retries=MAX_RETRIES,
    time_limit=60,
    soft_time_limit=50,
)
def send_cancellation(self: Task[Any, Any], meeting_id: int) -> None:
    """E-mail the visitor that the meeting is cancelled (once)."""
    services.send_cancellation(meeting_id)


@shared_task(base=ReliableTask, name="meetings.roll_over", time_limit=120, soft_time_limit=100)
def roll_over() -> None:
    """Complete meetings that have ended and remove expired holds (beat, every 5 minutes)."""
    services.roll_over()
