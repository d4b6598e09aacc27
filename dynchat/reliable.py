"""Background tasks that survive crashes: delivery counts, dead letters and idempotent effects.

Every Dynchat task is declared ``@shared_task(base=ReliableTask, name="app.verb_noun", bind=True,
time_limit=…, soft_time_limit=…)``. Messages are acknowledged only after the task ends and are
requeued when its worker dies (DESIGN §4), so a task can run more than once: it records its effect
with :func:`claim`, in the transaction that writes the effect.

Two things end a task's life without its effect, and neither is silent. A message that keeps
killing its worker process (a poison task) is counted per delivery in Redis; past
``max_deliveries`` it is not run again but moved to the dead-letter table. A task that fails for
good (an exception it does not retry, or its retries exhausted) is moved there too. Both are
logged as errors and listed to marketers, who retry or discard them.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from datetime import timedelta
from typing import Any

import redis
from billiard.einfo import ExceptionInfo
from celery import current_task
from celery.contrib.django.task import DjangoTask
from celery.exceptions import Ignore
from celery.signals import worker_ready
from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from dynchat.celery import app
from dynchat.models import DeadLetter, ProcessedTask

logger = logging.getLogger(__name__)

# A delivery count must outlive the longest gap between two deliveries of one message: the
# broker's visibility timeout (an hour) after a whole worker is lost.
DELIVERY_COUNT_SECONDS = 24 * 3600
DELIVERIES = "deliveries_of_this_attempt"
POOL_CHECK_SECONDS = 1.0


class ReliableTask(DjangoTask[Any, Any]):
    """The base of every Dynchat task: counts deliveries, dead-letters poison and final failures."""

    #: Deliveries of one message (one attempt) that may start without finishing; the next one
    #: is a poison message, dead-lettered instead of run.
    max_deliveries = 3
    acks_late = True
    reject_on_worker_lost = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        request = self.request
        if request.id and not request.is_eager and not request.called_directly:
            deliveries = count_delivery(request.id, request.retries)
            request.update({DELIVERIES: deliveries})
            if deliveries > self.max_deliveries:
                bury(
                    self,
                    request.id,
                    args,
                    kwargs,
                    reason=f"Delivered {deliveries} times without finishing: each run ended its "
                    "worker process (a crash, a kill or running out of memory), so it was not "
                    "run again.",
                )
                raise Ignore  # acknowledged, and logged as ignored rather than succeeded
        return super().__call__(*args, **kwargs)

    def on_failure(
        self,
        exc: Exception,
        task_id: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        einfo: ExceptionInfo,
    ) -> None:
        """Celery calls this once a task has failed for good: retries are not failures."""
        attempts = self.request.retries + 1
        bury(
            self,
            task_id,
            args,
            kwargs,
            reason=f"Failed after {attempts} attempt{'s' if attempts > 1 else ''}: "
            f"{type(exc).__name__}: {exc}",
            traceback=(einfo.traceback if einfo else None) or "",
        )

    def after_return(
        self,
        status: str,
        retval: Any,
        task_id: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        einfo: ExceptionInfo | None,
    ) -> None:
        """The attempt finished, so a later message with the same id starts counting afresh."""
        if not self.request.is_eager:
            forget_deliveries(task_id, self.request.retries)


@worker_ready.connect
def check_the_pool_every_second(sender: Any, **kwargs: Any) -> None:
    """Notice a pool process that died within a second, so its task is redelivered at once.

    The prefork pool learns of a dead process from a pipe that closes when it exits; when the pipe
    closes a moment before the process can be reaped, the news waits for the pool's own check,
    every 5 s. A task whose process the OOM killer took would wait as long to run again.
    """
    hub, pool = getattr(sender, "hub", None), getattr(sender, "pool", None)
    maintain_pool = getattr(pool, "maintain_pool", None)
    if hub is not None and maintain_pool is not None:  # prefork only
        hub.call_repeatedly(POOL_CHECK_SECONDS, maintain_pool)


@functools.cache
def delivery_counter() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, **settings.REDIS_OPTIONS)


def delivery_key(task_id: str, attempt: int) -> str:
    # A retry is a new message with the same task id, so each attempt is counted apart.
    return f"dynchat:deliveries:{task_id}:{attempt}"


def count_delivery(task_id: str, attempt: int) -> int:
    """Count one more delivery of ``task_id``'s attempt ``attempt``; return the count so far.

    Without Redis the task runs anyway: counting guards against poison, it is no reason to stop.
    """
    key = delivery_key(task_id, attempt)
    try:
        with delivery_counter().pipeline() as pipe:
            pipe.incr(key)
            pipe.expire(key, DELIVERY_COUNT_SECONDS)
            count, _ = pipe.execute()
    except redis.RedisError:
        logger.warning("Could not count the delivery of task %s; running it", task_id)
        return 1
    return int(count)


def forget_deliveries(task_id: str, attempt: int) -> None:
    with contextlib.suppress(redis.RedisError):  # if Redis is away, the count expires by itself
        delivery_counter().delete(delivery_key(task_id, attempt))


def bury(
    task: ReliableTask,
    task_id: str,
    args: tuple[Any, ...] | list[Any],
    kwargs: dict[str, Any],
    *,
    reason: str,
    traceback: str = "",
) -> None:
    """Move a task to the dead letters and raise the alarm; a second call for one task is a no-op.

    If the database cannot take it, the error log is where the task's arguments survive.
    """
    request = task.request
    delivery_info = request.delivery_info or {}
    deliveries = request.retries + int(request.get(DELIVERIES, 1))
    logger.error(
        "Background task %s[%s] moved to the dead letters: %s%s",
        task.name,
        task_id,
        reason,
        f"\n{traceback}" if traceback else "",
    )
    try:
        DeadLetter.objects.get_or_create(
            task_id=task_id,
            defaults={
                "task_name": task.name,
                "args": list(args),
                "kwargs": dict(kwargs),
                "queue": delivery_info.get("routing_key") or "",
                "reason": reason,
                "deliveries": deliveries,
            },
        )
    except DatabaseError:
        logger.exception(
            "Could not record the dead letter of %s[%s] with args=%r kwargs=%r",
            task.name,
            task_id,
            args,
            kwargs,
        )


def claim(key: str) -> bool:
    """Record that the effect named ``key`` happens in this transaction; False if it already did.

    Call it inside the ``transaction.atomic()`` that writes the effect, and write nothing when it
    returns False: the key and the effect commit together, or neither does. A concurrent claim of
    the same key waits for this transaction, then gets False if it committed.
    """
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise TransactionManagementError("claim() must run in the effect's transaction.atomic()")
    meta = ProcessedTask._meta
    table = connection.ops.quote_name(meta.db_table)
    task = current_task
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (key, task_name, created_at) VALUES (%s, %s, %s) "  # noqa: S608
            "ON CONFLICT (key) DO NOTHING",
            [key, task.name if task else "", timezone.now()],
        )
        inserted: int = cursor.rowcount
    return inserted == 1


def prune_claims(*, older_than: timedelta) -> int:
    """Delete idempotency keys older than ``older_than``; return how many were deleted.

    A key only has to outlive every redelivery of its message (hours), so days are plenty.
    """
    deleted, _ = ProcessedTask.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted


@transaction.atomic
def retry_dead_letter(dead_letter_id: int) -> DeadLetter:
    """Send a dead-lettered task again, with the same arguments and a fresh delivery count.

    It goes out as a new task (a new id) once this transaction commits. Raises
    ``DeadLetter.DoesNotExist`` if the letter is unknown or was already retried or discarded.
    """
    letter = DeadLetter.objects.unresolved().select_for_update().get(id=dead_letter_id)
    letter.resolve(DeadLetter.Resolution.RETRIED)
    transaction.on_commit(
        functools.partial(send_again, letter.task_name, letter.args, letter.kwargs, letter.queue)
    )
    return letter


@transaction.atomic
def discard_dead_letter(dead_letter_id: int) -> DeadLetter:
    """Give up on a dead-lettered task for good: it leaves the list of failed tasks.

    Raises ``DeadLetter.DoesNotExist`` if the letter is unknown or already retried or discarded.
    """
    letter = DeadLetter.objects.unresolved().select_for_update().get(id=dead_letter_id)
    letter.resolve(DeadLetter.Resolution.DISCARDED)
    return letter


def send_again(name: str, args: list[Any], kwargs: dict[str, Any], queue: str) -> None:
    task = app.tasks.get(name)
    if task is None:  # not imported in this process: send it by name
        app.send_task(name, args, kwargs, queue=queue or None)
    elif queue:
        task.apply_async(tuple(args), kwargs, queue=queue)
    else:
        task.apply_async(tuple(args), kwargs)
