"""C-1, C-2, C-3, C-5: real workers on real Redis lose no task, duplicate no effect, bury poison.

Each test starts ``celery worker`` processes (tests/worker.py) and kills them the way production
does: the OOM killer takes a pool process, a machine dies with the whole worker on it. Effects are
Site rows written under ``claim()``; the executions are journaled in Redis (tests/celery_tasks.py).
"""

from __future__ import annotations

import random
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from itertools import pairwise
from typing import Any

import kombu
import pytest
from django.conf import settings

from dynchat.broker import Channel
from dynchat.models import DeadLetter, Site
from tests.celery_tasks import (
    exit_abruptly,
    fail_then_record,
    journal,
    journal_key,
    outlive_time_limit,
    read_journal,
    record,
    sleep_then_record,
)
from tests.worker import StartWorker, Worker

VISIBILITY_TIMEOUT = 30  # tests/worker_settings.py
RETRY_BACKOFF_MAX = 4  # tests.celery_tasks.fail_then_record


def new_run() -> str:
    return uuid.uuid4().hex[:10]


def effects(run: str) -> Counter[str]:
    return Counter(Site.objects.filter(name__startswith=f"{run}:").values_list("name", flat=True))


def wait_for(condition: Callable[[], bool], timeout: float, what: str, worker: Worker) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout} s for {what}; the worker said:\n{worker.log_tail()}")
        time.sleep(0.25)


def wait_for_effects(run: str, keys: set[str], timeout: float, worker: Worker) -> None:
    try:
        wait_for(lambda: len(effects(run)) == len(keys), timeout, "every effect", worker)
    except pytest.fail.Exception:
        missing = keys - set(effects(run))
        started = [e for e in read_journal(run, "started") if e["key"] in missing]
        pytest.fail(f"{len(missing)} effects missing: {sorted(missing)[:10]}, runs: {started}")


def executions(run: str) -> int:
    return int(journal().llen(journal_key(run, "started")))


def running_when_killed(
    started: list[dict[str, Any]], finished: list[dict[str, Any]], pid: int, at: float
) -> str | None:
    """The key the pool process ``pid`` was working on at ``at``, if it was working."""
    runs = [entry for entry in started if entry["pid"] == pid and entry["at"] < at]
    if not runs:
        return None
    key = str(max(runs, key=lambda entry: entry["at"])["key"])
    done = any(e["key"] == key and e["pid"] == pid and e["at"] < at for e in finished)
    return None if done else key


def broker() -> kombu.Connection:
    return kombu.Connection(settings.REDIS_URL, transport="dynchat.broker:Transport")


def test_a_consumer_takes_messages_in_order_and_holds_them_until_acknowledged() -> None:
    name = f"test-{new_run()}"
    with broker() as connection:
        queue = kombu.Queue(name, kombu.Exchange(name), routing_key=name)
        for n in range(3):
            connection.Producer().publish({"n": n}, routing_key=name, declare=[queue])
        taken: list[kombu.Message] = []
        with connection.Consumer(queue, callbacks=[lambda _, message: taken.append(message)]):
            while len(taken) < 3:
                connection.drain_events(timeout=5)
        assert [message.decode()["n"] for message in taken] == [0, 1, 2]
        channel = connection.default_channel
        assert isinstance(channel, Channel)
        redis, unacked = channel.client, channel.unacked_key
        assert all(redis.hexists(unacked, message.delivery_tag) for message in taken)
        for message in taken:
            message.ack()
        assert not any(redis.hexists(unacked, message.delivery_tag) for message in taken)


def test_a_rejected_message_goes_back_to_the_head_of_its_queue() -> None:
    """Requeued when its worker process died, a task runs next, not after the backlog (C-1)."""
    name = f"test-{new_run()}"
    with broker() as connection, connection.SimpleQueue(name) as queue:
        queue.put({"n": 1})
        queue.put({"n": 2})
        first = queue.get(timeout=5)
        first.reject(requeue=True)
        assert queue.get(timeout=5).payload == {"n": 1}


@pytest.mark.slow
@pytest.mark.timeout(240)
@pytest.mark.django_db(transaction=True)
def test_killing_pool_processes_loses_and_duplicates_nothing(celery_worker: StartWorker) -> None:
    """C-1: 100 two-second tasks, a pool process SIGKILLed 10 times: every effect exactly once."""
    run = new_run()
    keys = {f"{run}:{n}" for n in range(100)}
    worker = celery_worker(concurrency=2)
    for key in sorted(keys):
        sleep_then_record.delay(run, key, 2)

    seed = random.randrange(2**32)  # noqa: S311 - random moments, not secrets
    rng = random.Random(seed)  # noqa: S311
    kills = []
    for _ in range(10):
        time.sleep(rng.uniform(2.5, 7))
        kills.append((worker.kill_child(rng), time.time()))
    wait_for_effects(run, keys, 180, worker)

    assert effects(run) == Counter(keys), f"seed {seed}"
    started, finished = read_journal(run, "started"), read_journal(run, "finished")
    victims = [
        (victim, at)
        for pid, at in kills
        if (victim := running_when_killed(started, finished, pid, at)) is not None
    ]
    assert len(victims) >= 5, f"most kills should hit a running task (seed {seed})"
    for victim, killed_at in victims:
        restarts = [e["at"] for e in started if e["key"] == victim and e["at"] > killed_at]
        assert restarts, f"{victim} was not delivered again (seed {seed})"
        assert min(restarts) - killed_at <= 5, f"{victim} waited too long (seed {seed})"
    assert not DeadLetter.objects.exists()


@pytest.mark.slow
@pytest.mark.timeout(240)
@pytest.mark.django_db(transaction=True)
def test_killing_the_whole_worker_loses_and_duplicates_nothing(celery_worker: StartWorker) -> None:
    """C-2: 1,000 queued tasks, kill -9 of the whole worker 3 times: every effect exactly once."""
    run = new_run()
    keys = {f"{run}:{n}" for n in range(1000)}
    for key in sorted(keys):
        sleep_then_record.delay(run, key, 0.02)
    worker = celery_worker(concurrency=2)

    kills = []
    for _ in range(3):
        before = executions(run)
        wait_for(lambda: executions(run) >= before + 30, 60, "the worker to get going", worker)  # noqa: B023
        kills.append((worker.pid, time.time()))
        worker.kill()
        assert len(effects(run)) < 1000, "the kill came after the queue was drained"
        time.sleep(2)
        worker.restart()
    wait_for_effects(run, keys, 150, worker)

    assert effects(run) == Counter(keys)
    started, finished = read_journal(run, "started"), read_journal(run, "finished")
    assert len(started) >= 1000
    done_at = {site.name: site.created_at.timestamp() for site in Site.objects.all()}
    for main_pid, killed_at in kills:
        lost = {
            entry["key"]
            for entry in started
            if entry["worker"] == main_pid
            and not any(e["key"] == entry["key"] and e["pid"] == entry["pid"] for e in finished)
        }
        for key in lost:
            assert done_at[key] - killed_at <= VISIBILITY_TIMEOUT + 30, f"{key} recovered late"


@pytest.mark.slow
@pytest.mark.timeout(180)
@pytest.mark.django_db(transaction=True)
def test_a_poison_task_is_dead_lettered_and_the_worker_goes_on(celery_worker: StartWorker) -> None:
    """C-3: a task that kills its process runs at most 3 times, then waits in the dead letters."""
    run = new_run()
    worker = celery_worker(concurrency=1)
    poison = exit_abruptly.delay(run, f"{run}:poison")
    others = {f"{run}:{n}" for n in range(5)}
    for key in sorted(others):
        record.delay(run, key)

    wait_for(lambda: len(effects(run)) == 5, 90, "the tasks behind the poison", worker)

    runs = [entry for entry in read_journal(run, "started") if entry["key"] == f"{run}:poison"]
    assert 1 <= len(runs) <= 3
    letter = DeadLetter.objects.get()
    assert letter.task_id == poison.id
    assert letter.task_name == "tests.exit_abruptly"
    assert (letter.args, letter.kwargs) == ([run, f"{run}:poison"], {})
    assert letter.deliveries == 4
    assert "without finishing" in letter.reason
    assert letter.queue == worker.queue
    assert letter.resolved_at is None
    assert f"tests.exit_abruptly[{poison.id}] moved to the dead letters" in worker.log()


@pytest.mark.slow
@pytest.mark.timeout(180)
@pytest.mark.django_db(transaction=True)
def test_retries_back_off_and_exhausted_ones_are_dead_lettered(celery_worker: StartWorker) -> None:
    """C-5: 4 failures then success in 5 attempts, backing off; 6 failures end in a dead letter."""
    run = new_run()
    worker = celery_worker(concurrency=2)
    fail_then_record.delay(run, f"{run}:flaky", 4)
    doomed = fail_then_record.delay(run, f"{run}:doomed", 99)

    wait_for(
        lambda: len(effects(run)) == 1 and DeadLetter.objects.exists(), 120, "both tasks", worker
    )

    attempts = read_journal(run, "started")
    flaky = [entry for entry in attempts if entry["key"] == f"{run}:flaky"]
    assert [attempt["retries"] for attempt in flaky] == [0, 1, 2, 3, 4]
    for n, (previous, attempt) in enumerate(pairwise(flaky)):
        # Full jitter: a random delay up to min(retry_backoff_max, 2**n) s, sent as an ETA (none
        # when the draw was 0); the 0.5 s is the moment between the attempt's start and its retry.
        eta = attempt["eta"]
        due = datetime.fromisoformat(eta).timestamp() if eta else previous["at"]
        delay = due - previous["at"]
        assert 0 <= delay <= min(RETRY_BACKOFF_MAX, 2**n) + 0.5
        assert attempt["at"] >= due - 0.5

    doomed_attempts = [entry for entry in attempts if entry["key"] == f"{run}:doomed"]
    assert [attempt["retries"] for attempt in doomed_attempts] == [0, 1, 2, 3, 4, 5]
    letter = DeadLetter.objects.get()
    assert letter.task_id == doomed.id
    assert letter.args == [run, f"{run}:doomed", 99]
    assert letter.reason.startswith("Failed after 6 attempts: TransientError")
    assert letter.deliveries == 6
    assert letter.queue == worker.queue


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.django_db(transaction=True)
def test_a_task_killed_at_its_hard_time_limit_is_dead_lettered(celery_worker: StartWorker) -> None:
    """A task that outlives its hard time limit is neither lost nor run forever."""
    run = new_run()
    worker = celery_worker(concurrency=1)
    stuck = outlive_time_limit.delay(run, f"{run}:stuck")
    record.delay(run, f"{run}:next")

    wait_for(lambda: len(effects(run)) == 1, 60, "the task behind the stuck one", worker)

    letter = DeadLetter.objects.get()
    assert letter.task_id == stuck.id
    assert letter.reason.startswith("Failed after 1 attempt: TimeLimitExceeded")
    assert len(read_journal(run, "started")) == 2
