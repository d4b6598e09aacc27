"""The Redis limiter every Dynchat process shares: a sliding window, a concurrency cap, leases."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings

from sync.errors import DailyQuotaReached
from sync.limiter import RedisLimiter

ROOT = Path(__file__).resolve().parents[2]
# Start times are read in the test after Redis admitted the call; allow for that gap (a thread
# may be descheduled in between on a busy machine).
MEASUREMENT_SLACK = 0.4

type MakeLimiter = Callable[..., RedisLimiter]


@pytest.fixture
def make_limiter() -> Iterator[MakeLimiter]:
    """Limiters on the test Redis under a key of their own; another call, same key: another
    process sharing the limits."""
    key = f"test-limiter-{uuid.uuid4().hex}"
    made: list[RedisLimiter] = []

    def make(**options: float) -> RedisLimiter:
        limiter = RedisLimiter(settings.REDIS_URL, key=key, **options)  # type: ignore[arg-type]
        made.append(limiter)
        return limiter

    yield make
    if made:
        made[0].reset()


def run_in_threads(count: int, work: Callable[[], None]) -> None:
    errors: list[BaseException] = []

    def guarded() -> None:
        try:
            work()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=guarded) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert not errors


def start_waiting(limiter: RedisLimiter) -> tuple[threading.Thread, list[object]]:
    """A thread that asks for a slot; ``outcome`` gets "admitted" or the exception."""
    outcome: list[object] = []

    def wait_for_slot() -> None:
        try:
            with limiter.slot():
                outcome.append("admitted")
        except DailyQuotaReached as refused:
            outcome.append(refused)

    thread = threading.Thread(target=wait_for_slot, daemon=True)
    thread.start()
    return thread, outcome


@pytest.mark.slow
def test_threads_never_have_more_calls_in_flight_than_the_concurrency(
    make_limiter: MakeLimiter,
) -> None:
    limiters = [make_limiter(calls=10_000, window=1.0, concurrency=3) for _ in range(2)]
    in_flight = 0
    most = 0
    done = 0
    lock = threading.Lock()

    def hammer() -> None:
        nonlocal in_flight, most, done
        for round_number in range(8):
            with limiters[round_number % 2].slot():
                with lock:
                    in_flight += 1
                    most = max(most, in_flight)
                time.sleep(0.01)
                with lock:
                    in_flight -= 1
                    done += 1

    run_in_threads(8, hammer)

    assert done == 64
    assert 1 <= most <= 3


@pytest.mark.slow
def test_threads_never_start_more_calls_than_allowed_in_any_sliding_window(
    make_limiter: MakeLimiter,
) -> None:
    limiters = [make_limiter(calls=5, window=2.0, concurrency=10) for _ in range(2)]
    starts: list[float] = []
    lock = threading.Lock()

    def hammer() -> None:
        for round_number in range(5):
            with limiters[round_number % 2].slot(), lock:
                starts.append(time.monotonic())

    run_in_threads(3, hammer)

    starts.sort()
    assert len(starts) == 15
    # Any 6 consecutive starts span at least a window: never 6 calls within two seconds.
    spans = [later - earlier for earlier, later in zip(starts, starts[5:], strict=False)]
    assert min(spans) >= 2.0 - MEASUREMENT_SLACK


@pytest.mark.slow
def test_a_crashed_holders_slot_is_freed_when_its_lease_expires(
    make_limiter: MakeLimiter,
) -> None:
    limiter = make_limiter(calls=100, window=1.0, concurrency=1, lease=3.0)
    holder = textwrap.dedent(
        f"""
        import time
        from sync.limiter import RedisLimiter
        limiter = RedisLimiter({settings.REDIS_URL!r}, key={limiter.key!r}, concurrency=1,
                               window=1.0, lease=3.0)
        limiter.slot().__enter__()
        print("holding", flush=True)
        time.sleep(60)
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", holder], cwd=ROOT, stdout=subprocess.PIPE, text=True, env=os.environ
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "holding"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

        waiter, outcome = start_waiting(limiter)
        waiter.join(timeout=0.5)
        assert waiter.is_alive(), "the dead holder's slot was handed on before its lease ended"
        waiter.join(timeout=15)
        assert outcome == ["admitted"]
    finally:
        process.kill()
        process.wait(timeout=10)


def test_a_block_makes_every_process_refuse_calls_until_it_ends(
    make_limiter: MakeLimiter,
) -> None:
    worker, web = make_limiter(), make_limiter()
    until = (datetime.now(UTC) + timedelta(hours=3)).replace(microsecond=0)

    worker.block_until(until)

    for limiter in (worker, web):
        with pytest.raises(DailyQuotaReached) as refused, limiter.slot():
            pytest.fail("a call started while Marketo's daily quota is used up")
        assert refused.value.code == "607"
        assert refused.value.resume_at == until
        assert limiter.blocked_until() == until


def test_a_call_waiting_for_a_slot_is_refused_when_a_block_begins(
    make_limiter: MakeLimiter,
) -> None:
    limiter = make_limiter(concurrency=1)
    with limiter.slot():
        waiter, outcome = start_waiting(limiter)
        limiter.block_until(datetime.now(UTC) + timedelta(hours=1))
        waiter.join(timeout=10)

    assert len(outcome) == 1
    assert isinstance(outcome[0], DailyQuotaReached)


def test_calls_start_again_once_the_block_is_cleared(make_limiter: MakeLimiter) -> None:
    limiter = make_limiter()
    limiter.block_until(datetime.now(UTC) + timedelta(hours=1))

    limiter.clear_block()

    assert limiter.blocked_until() is None
    with limiter.slot():
        pass


def test_a_block_that_has_ended_refuses_nothing(make_limiter: MakeLimiter) -> None:
    limiter = make_limiter()

    limiter.block_until(datetime.now(UTC) - timedelta(seconds=1))

    assert limiter.blocked_until() is None
    with limiter.slot():
        pass


def test_an_export_quota_block_is_reported_but_leaves_other_calls_alone(
    make_limiter: MakeLimiter,
) -> None:
    limiter = make_limiter()
    until = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)

    limiter.block_until(until, "1029")

    assert limiter.blocked_until("1029") == until
    assert limiter.blocked_until() is None
    with limiter.slot():
        pass
    limiter.clear_block()
    assert limiter.blocked_until("1029") is None


def test_backing_off_lowers_the_budget_of_every_process(make_limiter: MakeLimiter) -> None:
    limiter = make_limiter(calls=10, window=60.0, concurrency=10)
    for _ in range(5):
        with limiter.slot():
            pass

    assert make_limiter(calls=10, window=60.0, concurrency=10).back_off() == 4
    assert limiter.back_off() == 4, "a burst of 606s lowers the budget once per window"

    # 5 calls started in the window and the budget is now 4: the next call waits.
    waiter, outcome = start_waiting(limiter)
    waiter.join(timeout=0.5)
    assert waiter.is_alive()
    limiter.reset()
    waiter.join(timeout=10)
    assert outcome == ["admitted"]


def test_backing_off_never_goes_below_a_quarter_of_the_budget(make_limiter: MakeLimiter) -> None:
    limiter = make_limiter(calls=80, window=20.0)

    assert limiter.back_off() == 20
    assert limiter.back_off() == 20
