"""Real Celery workers for tests: start one, kill a pool child or the whole worker, restart it.

A test asks the ``celery_worker`` fixture for workers. They run ``celery -A dynchat worker`` as a
subprocess against the test database and the test Redis, with tests/worker_settings.py, and
consume a queue of the test's own. While the fixture is active this test process publishes to that
queue for real (``task.delay()`` no longer runs eagerly), so a test using workers needs
``@pytest.mark.django_db(transaction=True)``: a worker sees committed rows only.

    @pytest.mark.django_db(transaction=True)
    def test_it_survives(celery_worker: StartWorker) -> None:
        worker = celery_worker(concurrency=2)
        my_task.delay(42)
        worker.kill_child()

Whatever happens in the test, every worker it started is killed at teardown.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import psutil
import pytest
from django.conf import settings
from django.db import connection

from dynchat.celery import app
from tests.processes import alive, descendants, wait_gone
from tests.worker_settings import CELERY_BROKER_TRANSPORT_OPTIONS

ROOT = Path(settings.BASE_DIR)
TEST_TASKS = "tests.celery_tasks"
PR_SET_PDEATHSIG = 1
READY = re.compile(r"celery\.apps\.worker: \S+ ready\.$", re.MULTILINE)


class WorkerError(Exception):
    pass


def database_url_of_this_test() -> str:
    """The URL of the database this test uses (pytest-django's test database)."""
    db = connection.settings_dict
    user, password = quote(db["USER"] or "", safe=""), quote(db["PASSWORD"] or "", safe="")
    credentials = f"{user}:{password}@" if password else f"{user}@" if user else ""
    port = f":{db['PORT']}" if db["PORT"] else ""
    host = quote(db["HOST"] or "localhost", safe="")
    return f"postgresql://{credentials}{host}{port}/{quote(db['NAME'], safe='')}"


def die_with_the_test_process() -> None:
    """Runs in the worker before exec: if the test process dies without stopping it, so does it."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class Worker:
    """One ``celery worker`` process and its pool, started, killed and restarted by a test."""

    def __init__(self, queue: str, command: list[str], env: dict[str, str], log_path: Path) -> None:
        self.queue = queue
        self.command = command
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.log_offset = 0

    @property
    def pid(self) -> int:
        if self.process is None:
            raise WorkerError("the worker was never started")
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = 60) -> None:
        """Start the worker and wait until it consumes its queue."""
        if self.running:
            raise WorkerError("the worker is already running")
        self.log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command,
                env=self.env,
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Its own process group: kill() ends the worker and its pool at once.
                start_new_session=True,
                preexec_fn=die_with_the_test_process,
            )
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if READY.search(self.log(since_start=True)):
                return
            if not self.running:
                raise WorkerError(f"the worker exited at start-up:\n{self.log_tail()}")
            time.sleep(0.1)
        raise WorkerError(f"the worker was not ready after {timeout} s:\n{self.log_tail()}")

    restart = start

    def pool(self) -> list[psutil.Process]:
        """The pool processes that run tasks (the worker's children)."""
        try:
            return [child for child in psutil.Process(self.pid).children() if alive(child)]
        except psutil.NoSuchProcess:
            return []

    def kill_child(self, rng: random.Random | None = None) -> int:
        """SIGKILL one pool process, chosen at random, as the kernel's OOM killer would; its pid."""
        pool = self.pool()
        if not pool:
            raise WorkerError("the worker has no pool process to kill")
        victim = (rng or random.Random()).choice(pool)  # noqa: S311 - not cryptographic
        victim.send_signal(signal.SIGKILL)
        return victim.pid

    def kill(self, timeout: float = 15) -> None:
        """kill -9 the whole worker, main process and pool together, as a crashed machine would."""
        if not self.running:
            raise WorkerError("the worker is not running")
        processes = [psutil.Process(self.pid), *descendants(self.pid)]
        self.signal_group(signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout)
        if left := wait_gone(processes, timeout):
            raise WorkerError(f"still running after kill -9: {left}")

    def terminate(self, timeout: float = 60) -> int:
        """Send SIGTERM, as a deploy does (soft, then warm shutdown); its exit status."""
        if self.process is None:
            raise WorkerError("the worker was never started")
        processes = descendants(self.pid)
        self.process.send_signal(signal.SIGTERM)
        try:
            status = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise WorkerError(f"no exit {timeout} s after SIGTERM:\n{self.log_tail()}") from None
        wait_gone(processes, timeout=15)
        return status

    def stop(self) -> None:
        """End everything this worker started, whatever state it is in (teardown)."""
        if self.process is None:
            return
        processes = [*descendants(self.pid)]
        self.signal_group(signal.SIGKILL)
        self.process.wait(15)
        wait_gone(processes)

    def signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):  # all gone already
            os.killpg(self.pid, signum)

    def log(self, *, since_start: bool = False) -> str:
        """What the worker wrote, from its first start (or its latest one)."""
        if not self.log_path.exists():
            return ""
        with self.log_path.open("rb") as log:
            log.seek(self.log_offset if since_start else 0)
            return log.read().decode(errors="replace")

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])


class StartWorker(Protocol):
    def __call__(
        self,
        *,
        concurrency: int = 2,
        imports: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        visibility_timeout: int | None = None,
        config: Mapping[str, Any] | None = None,
        ready_timeout: float = 60,
    ) -> Worker: ...


def worker_command(
    queue: str, hostname: str, concurrency: int, imports: Sequence[str], config: Mapping[str, Any]
) -> list[str]:
    # Celery reads `name=(json)value` arguments after the options as configuration.
    overrides = [f"{name}=(json){json.dumps(value)}" for name, value in config.items()]
    return [
        sys.executable, "-m", "celery", "-A", "dynchat", "worker", "--pool=prefork",
        "--concurrency", str(concurrency), "--queues", queue, "--hostname", hostname,
        "--include", ",".join([TEST_TASKS, *imports]), "--loglevel", "INFO",
        "--without-gossip", "--without-mingle", "--without-heartbeat", "--", *overrides,
    ]  # fmt: skip


@pytest.fixture
def celery_worker(transactional_db: None, tmp_path: Path) -> Iterator[StartWorker]:
    """Start real workers on a queue of this test's own: ``celery_worker(concurrency=2)``.

    ``imports`` adds task modules, ``env`` environment variables (for example MARKETO_* settings),
    ``visibility_timeout`` replaces the 30 s after which a lost worker's messages are redelivered
    (keep it at least twice the longest task time limit), ``config`` sets any other Celery
    setting by its lower-case name. Tasks published by this test and by the workers (even
    ``self.delay()`` inside a task) go to the test's queue.
    """
    queue = f"test-{uuid.uuid4().hex[:12]}"
    workers: list[Worker] = []
    saved = app.conf.task_always_eager, app.conf.task_default_queue
    app.conf.task_always_eager = False
    app.conf.task_default_queue = queue

    def start(
        *,
        concurrency: int = 2,
        imports: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        visibility_timeout: int | None = None,
        config: Mapping[str, Any] | None = None,
        ready_timeout: float = 60,
    ) -> Worker:
        overrides: dict[str, Any] = {"task_default_queue": queue}
        if visibility_timeout is not None:
            overrides["broker_transport_options"] = {
                **CELERY_BROKER_TRANSPORT_OPTIONS,
                "visibility_timeout": visibility_timeout,
            }
        overrides.update(config or {})
        hostname = f"{queue}-{len(workers) + 1}@%h"
        worker = Worker(
            queue,
            worker_command(queue, hostname, concurrency, imports, overrides),
            {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "tests.worker_settings",
                "DATABASE_URL": database_url_of_this_test(),
                "REDIS_URL": settings.REDIS_URL,
                "PYTHONUNBUFFERED": "1",
                **(env or {}),
            },
            tmp_path / f"worker-{len(workers) + 1}.log",
        )
        workers.append(worker)
        worker.start(ready_timeout)
        return worker

    try:
        yield start
    finally:
        for worker in workers:
            worker.stop()
        app.conf.task_always_eager, app.conf.task_default_queue = saved
