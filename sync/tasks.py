"""Celery tasks of the Marketo sync: thin, by id, each calling one service."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task

from dynchat.reliable import ReliableTask
from sync import outbox, services

# A run works for up to RUN_BUDGET seconds per task, then hands itself on (or beat resumes it).
RUN_BUDGET = 240.0


@shared_task(
    base=ReliableTask, name="sync.advance_run", bind=True, time_limit=330, soft_time_limit=300
)
def advance_run(self: Task[Any, Any], run_id: int) -> None:
    """Work on a sync run; its lease makes a second delivery of the same task do nothing."""
    if services.advance_run(run_id, budget=RUN_BUDGET):
        self.delay(run_id)


@shared_task(base=ReliableTask, name="sync.resume_runs", time_limit=60, soft_time_limit=50)
def resume_runs() -> None:
    """Hand runs whose worker died, or whose quota pause ended, to a worker (beat, every 15 s)."""
    services.resume_runs()


@shared_task(
    base=ReliableTask, name="sync.start_incremental_sync", time_limit=60, soft_time_limit=50
)
def start_incremental_sync() -> None:
    """Start an incremental sync if none is running (beat, every MARKETO_SYNC_INTERVAL_SECONDS)."""
    services.start_incremental_sync()


@shared_task(base=ReliableTask, name="sync.drain_outbox", time_limit=300, soft_time_limit=270)
def drain_outbox() -> None:
    """Send queued write-backs to Marketo (after each commit that queues one, and every 30 s)."""
    outbox.drain_outbox()
