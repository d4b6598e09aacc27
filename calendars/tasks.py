"""Celery tasks of calendars: thin, by id, each calling one service."""

from __future__ import annotations

from celery import shared_task

from calendars import notices
from dynchat.reliable import ReliableTask


@shared_task(
    base=ReliableTask,
    name="calendars.send_reconnect_notice",
    time_limit=60,
    soft_time_limit=50,
    autoretry_for=(OSError,),  # SMTP failures (smtplib.SMTPException is an OSError)
    retry_backoff=True,
    max_retries=5,
)
def send_reconnect_notice(connection_id: int) -> None:
    """Tell the agent their calendar needs reconnecting (once per incident)."""
    notices.send_reconnect_notice(connection_id)
