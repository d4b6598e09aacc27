from __future__ import annotations

from datetime import timedelta

from celery import shared_task

from dynchat.reliable import ReliableTask, prune_claims
from dynchat.services import record_heartbeat

CLAIMS_KEPT_FOR = timedelta(days=7)


@shared_task(
    base=ReliableTask, name="dynchat.record_heartbeat", bind=True, time_limit=30, soft_time_limit=20
)
def record_heartbeat_task(self: ReliableTask) -> None:
    """Record that this worker is alive; beat sends it every HEARTBEAT_SECONDS."""
    record_heartbeat(worker=self.request.hostname or "worker")


@shared_task(base=ReliableTask, name="dynchat.prune_claims", time_limit=300, soft_time_limit=270)
def prune_claims_task() -> None:
    """Delete idempotency keys older than a week: no message is redelivered that late."""
    prune_claims(older_than=CLAIMS_KEPT_FOR)
