"""Tasks that exist only for tests; test workers load them with ``--include tests.celery_tasks``.

Each execution writes to a journal in Redis, outside any database transaction, so a test can count
executions and see when they started even when the process running them is killed mid-task.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import time
from typing import Any

import redis
from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction

from dynchat.models import Site
from dynchat.reliable import ReliableTask, claim


class TransientError(Exception):
    """Stands for a provider's 5xx or a timeout: worth retrying."""


@functools.cache
def journal() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def journal_key(run: str, event: str) -> str:
    return f"test-journal:{run}:{event}"


def note(run: str, event: str, key: str, **details: Any) -> None:
    """Add an entry to the journal of ``run``: which process, when, and ``details``."""
    entry = {"key": key, "pid": os.getpid(), "worker": os.getppid(), "at": time.time(), **details}
    journal().rpush(journal_key(run, event), json.dumps(entry))


def read_journal(run: str, event: str) -> list[dict[str, Any]]:
    entries = journal().lrange(journal_key(run, event), 0, -1)
    return [json.loads(entry) for entry in entries]


def record_effect(key: str) -> bool:
    """The effect of the test tasks: a Site named ``key``, written once however often it runs.

    Site names are not unique, so only ``claim()`` keeps a second delivery from adding a second row.
    """
    with transaction.atomic():
        if not claim(key):
            return False
        Site.objects.create(name=key)
        return True


# C-1 kills ten times at random, maybe the same task more than thrice: that is no poison there.
@shared_task(
    base=ReliableTask,
    name="tests.sleep_then_record",
    bind=True,
    time_limit=10,
    soft_time_limit=8,
    max_deliveries=20,
)
def sleep_then_record(self: ReliableTask, run: str, key: str, seconds: float) -> None:
    note(run, "started", key)
    time.sleep(seconds)
    record_effect(key)
    note(run, "finished", key)


@shared_task(
    base=ReliableTask, name="tests.exit_abruptly", bind=True, time_limit=10, soft_time_limit=8
)
def exit_abruptly(self: ReliableTask, run: str, key: str) -> None:
    """A poison task: every run ends its worker process at once, as a segfault would."""
    note(run, "started", key)
    os._exit(1)


@shared_task(
    base=ReliableTask,
    name="tests.fail_then_record",
    bind=True,
    time_limit=10,
    soft_time_limit=8,
    autoretry_for=(TransientError,),
    retry_backoff=True,
    retry_jitter=True,
    retry_backoff_max=4,
    max_retries=5,
)
def fail_then_record(self: ReliableTask, run: str, key: str, failures: int) -> None:
    """Fail with a retryable error ``failures`` times, then record the effect."""
    note(run, "started", key, retries=self.request.retries, eta=self.request.eta)
    if self.request.retries < failures:
        raise TransientError(f"attempt {self.request.retries + 1} of {key} fails")
    record_effect(key)


@shared_task(base=ReliableTask, name="tests.record", bind=True, time_limit=10, soft_time_limit=8)
def record(self: ReliableTask, run: str, key: str) -> None:
    note(run, "started", key)
    record_effect(key)


@shared_task(
    base=ReliableTask, name="tests.outlive_time_limit", bind=True, time_limit=2, soft_time_limit=1
)
def outlive_time_limit(self: ReliableTask, run: str, key: str) -> None:
    """Ignore the soft time limit, as code stuck in a C call would, until the hard one kills it."""
    note(run, "started", key)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with contextlib.suppress(SoftTimeLimitExceeded):
            time.sleep(0.1)
