"""Running the Marketo sync for real: a sandbox in this process, the sync in Celery workers.

The reliability tests (TESTPLAN M-*) use ``SyncBench``: it starts the sandbox with the test
plan's data set, points this process and the workers at it, starts runs and waits for them
while playing beat (publishing ``sync.resume_runs`` every two seconds, as beat would every 15).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from sync import services, tasks
from sync.models import AttributeObject, RunState, SyncRun
from sync.sandbox import Dataset, Limits, MarketoSandbox
from tests.worker import StartWorker, Worker

# TESTPLAN §4.5: 50,000 leads, 20,000 companies, 200,000 activities over 120 days.
PLAN_DATA = Dataset(leads=50_000, companies=20_000, activities=200_000, lead_days=120,
                    activity_days=120, seed=7)  # fmt: skip
CLIENT_ID, CLIENT_SECRET = "dynchat-tests", "sandbox-secret-for-tests"
CHOSEN = {
    AttributeObject.PERSON: {"title", "state", "country", "leadStatus", "productInterest"},
    AttributeObject.COMPANY: {"industry", "numberOfEmployees"},
}
# A sync task may run 330 s; messages of a live worker must not come back while it works.
VISIBILITY_TIMEOUT = 700


@dataclass
class SyncBench:
    sandbox: MarketoSandbox
    start_worker: Callable[[], Worker]
    workers: list[Worker] = field(default_factory=list)

    def worker(self) -> Worker:
        worker = self.start_worker()
        self.workers.append(worker)
        return worker

    def start_initial(self) -> SyncRun:
        offered = services.describe_attributes()
        chosen = [a for a in offered if a.name in CHOSEN[a.object]]
        now = timezone.now()
        # The describe calls above came from this process, whose limiter (in tests) is not the
        # workers'; what the tests judge is the workers' traffic.
        self.sandbox.reset_stats()
        return services.start_initial_sync(
            chosen=chosen,
            offered=offered,
            leads_since=now - timedelta(days=121),
            activities_since=now - timedelta(days=121),
        )

    def wait(
        self, run: SyncRun, until: Callable[[SyncRun], bool], *, timeout: float = 240
    ) -> SyncRun:
        """Play beat until ``until(run)`` holds; fail with the run's state after ``timeout``."""
        deadline = time.monotonic() + timeout
        beat = 0.0
        while time.monotonic() < deadline:
            run.refresh_from_db()
            if until(run):
                return run
            if time.monotonic() >= beat:
                tasks.resume_runs.delay()
                beat = time.monotonic() + 2
            time.sleep(0.05)
        logs = "\n".join(worker.log_tail() for worker in self.workers)
        raise AssertionError(f"run {run.id} is {run.state}/{run.phase}: {run.last_error}\n{logs}")

    def idle(self, seconds: float) -> None:
        """Let ``seconds`` pass while beat keeps ticking (a paused run is not due)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            tasks.resume_runs.delay()
            time.sleep(1)

    def finish(self, run: SyncRun, *, timeout: float = 240) -> SyncRun:
        def ended(run: SyncRun) -> bool:
            return run.state in (RunState.COMPLETED, RunState.FAILED)

        return self.wait(run, ended, timeout=timeout)


def marketo_settings(sandbox: MarketoSandbox, export_dir: Path) -> dict[str, Any]:
    return {
        "MARKETO_BASE_URL": sandbox.base_url,
        "MARKETO_CLIENT_ID": CLIENT_ID,
        "MARKETO_CLIENT_SECRET": CLIENT_SECRET,
        "MARKETO_BULK_POLL_SECONDS": 1,
        "MARKETO_EXPORT_DIR": str(export_dir),
    }


@pytest.fixture
def sync_bench(celery_worker: StartWorker, tmp_path: Path) -> Iterator[Callable[..., SyncBench]]:
    """``sync_bench(limits=…, dataset=…)``: a sandbox, settings pointing at it, workers on call."""
    with ExitStack() as stack:

        def make(
            *, dataset: Dataset = PLAN_DATA, limits: Limits | None = None, **options: Any
        ) -> SyncBench:
            sandbox = MarketoSandbox(
                dataset, limits=limits or Limits(), status_interval=0.2,
                client_id=CLIENT_ID, client_secret=CLIENT_SECRET, **options,
            )  # fmt: skip
            stack.enter_context(sandbox)
            values = marketo_settings(sandbox, tmp_path / "exports")
            stack.enter_context(override_settings(MARKETO_ENABLED=True, **values))
            env = {name: str(value) for name, value in values.items()}

            def start_worker() -> Worker:
                return celery_worker(concurrency=2, env=env, visibility_timeout=VISIBILITY_TIMEOUT)

            return SyncBench(sandbox, start_worker)

        yield make


def table_checksum(table: str, key: str, leave_out: tuple[str, ...] = ("synced_at",)) -> str:
    """One md5 over every row of ``table`` (in key order), without the bookkeeping columns."""
    dropped = " ".join(f"- '{column}'" for column in leave_out)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT md5(coalesce(string_agg(md5((to_jsonb(t) {dropped})::text), '' "  # noqa: S608
            f"ORDER BY t.{key}), '')) FROM {table} t"
        )
        return str(cursor.fetchone()[0])


def mirror_checksums() -> dict[str, str]:
    return {
        "leads": table_checksum("sync_marketolead", "id"),
        "companies": table_checksum("sync_marketocompany", "id"),
        "activities": table_checksum("sync_marketoactivity", "marketo_guid", ()),
    }
