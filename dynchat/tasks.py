from __future__ import annotations

from typing import Any

from celery import Task, shared_task

from dynchat.services import record_heartbeat


@shared_task(name="dynchat.record_heartbeat", bind=True, time_limit=30, soft_time_limit=20)
def record_heartbeat_task(self: Task[Any, Any]) -> None:
    """Record that this worker is alive; beat sends it every HEARTBEAT_SECONDS."""
    record_heartbeat(worker=self.request.hostname or "worker")
