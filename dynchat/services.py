"""Operations of the dynchat app."""

from __future__ import annotations

from django.utils import timezone

from dynchat.models import WorkerHeartbeat


def record_heartbeat(*, worker: str) -> WorkerHeartbeat:
    """Record that ``worker`` ran a task just now."""
    heartbeat, _ = WorkerHeartbeat.objects.update_or_create(
        worker=worker, defaults={"last_seen": timezone.now()}
    )
    return heartbeat
