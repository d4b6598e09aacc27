"""Celery tasks of dialogues: thin, each calling one service."""

from __future__ import annotations

from celery import shared_task

from dialogues import retention
from dynchat.reliable import ReliableTask

# The purge stops between two batches after PURGE_BUDGET seconds, well before its soft time
# limit; the next day's run carries on where it stopped.
PURGE_BUDGET = 1500.0


@shared_task(
    base=ReliableTask, name="dialogues.purge_expired", time_limit=1800, soft_time_limit=1740
)
def purge_expired() -> None:
    """Delete conversation events older than 90 days (beat, daily: "reports-purge")."""
    retention.purge(budget=PURGE_BUDGET)
