"""What the Marketo sync benchmarks (PF-S1, PF-S2) share: the whole system on this machine.

``SyncStack`` starts what a deploy runs — embedded PostgreSQL and Redis as ``manage.py test``
does (data under var/bench/<name>/, not durable), a fresh ``bench`` database, the Marketo sandbox
as its own process, and one Celery worker (prefork, two pool processes) — and this process plays
the Marketo page and beat: it starts runs through ``sync.services`` and calls
``services.resume_runs()`` every few seconds while it waits. Everything it started stops when the
``with`` block ends, on Ctrl-C and on failure too (bench/stack.py), and the gigabytes it wrote go
with them (the database, the export files); the logs stay in var/bench/<name>/logs/.

While a run goes on, two samplers watch it: the processes (peak RSS of the worker's main and pool
processes, CPU seconds per component) and PostgreSQL (what the worker's session is doing, sampled
from pg_stat_activity), and the wait loop records every phase and export job step;
``where_the_time_went`` turns that into a profile.

Django is set up only once the servers run, so modules that need it are imported inside functions.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Self

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from marketo_common import (
    BEAT_SECONDS,
    CLIENT_ID,
    CLIENT_SECRET,
    COMPANY_ATTRIBUTES,
    DATABASE,
    NO_DAILY_QUOTA,
    NO_EXPORT_QUOTA_MB,
    PERSON_ATTRIBUTES,
    POLL_SECONDS,
    PYTHON,
    ROOT,
    DataSet,
    SandboxApi,
    drop_database,
    fresh_database,
)  # fmt: skip
from marketo_samplers import JobTrace, ProcessSampler, QuerySampler, Trace
from stack import BenchStack, say

from dynchat.embedded import free_port, wait_until
from dynchat.supervisor import Supervisor

if TYPE_CHECKING:
    from sync.models import SyncRun


class SyncStack(BenchStack):
    """PostgreSQL, Redis, the sandbox, a Celery worker, and Django in this process."""

    def __init__(self, name: str, data: DataSet, *, worker_concurrency: int = 2) -> None:
        super().__init__(ROOT / "var" / "bench" / name)
        self.name, self.data = name, data
        self.exports = self.var / "sandbox-exports"  # the sandbox writes its export files here
        self.downloads = self.var / "downloads"  # the sync downloads them here
        self.worker_concurrency = worker_concurrency
        self.api: SandboxApi | None = None
        self.processes: ProcessSampler | None = None
        self.queries: QuerySampler | None = None

    # Starting and stopping

    def __enter__(self) -> Self:
        for directory in (self.logs, self.exports, self.downloads):
            shutil.rmtree(directory, ignore_errors=True)
            directory.mkdir(parents=True)
        return super().__enter__()

    def start(self, supervisor: Supervisor) -> None:
        started = time.monotonic()
        env = self.backing_services(supervisor)
        env["DATABASE_URL"] = fresh_database(env["DATABASE_URL"], DATABASE)
        port = free_port()
        sandbox = supervisor.start(
            "marketo",
            [PYTHON, "-m", "sync.sandbox", "--port", str(port), *self.data.sandbox_args(),
             "--status-interval", "1", "--export-dir", str(self.exports),
             "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET,
             "--daily-quota", str(NO_DAILY_QUOTA), "--export-quota-mb", str(NO_EXPORT_QUOTA_MB)],
            env=env, cwd=ROOT, log=self.logs / "sandbox.log",
        )  # fmt: skip
        sandbox_log = self.logs / "sandbox.log"
        wait_until(
            lambda: "Marketo sandbox on" in sandbox_log.read_text(errors="replace"),
            timeout=60,
            what="the Marketo sandbox",
            alive=sandbox.alive,
        )
        base_url = f"http://127.0.0.1:{port}"
        self.api = SandboxApi(base_url)
        env.update(
            DJANGO_SETTINGS_MODULE="dynchat.settings",
            SECRET_KEY=env.get("SECRET_KEY") or "bench-only-" + "k" * 40,
            MARKETO_BASE_URL=base_url,
            MARKETO_CLIENT_ID=CLIENT_ID,
            MARKETO_CLIENT_SECRET=CLIENT_SECRET,
            MARKETO_BULK_POLL_SECONDS="1",
            MARKETO_EXPORT_DIR=str(self.downloads),
        )
        self.setup_django(env)
        worker = supervisor.start(
            "worker",
            [PYTHON, "-m", "celery", "-A", "dynchat", "worker", "--pool=prefork",
             "--concurrency", str(self.worker_concurrency), "--hostname", f"{self.name}@%h",
             "--loglevel", "INFO", "--without-gossip", "--without-mingle",
             "--without-heartbeat"],
            env=env, cwd=ROOT, log=self.logs / "worker.log", grace=15,
        )  # fmt: skip
        worker_log = self.logs / "worker.log"
        wait_until(
            lambda: " ready." in worker_log.read_text(errors="replace"),
            timeout=60,
            what="the Celery worker",
            alive=worker.alive,
        )
        postgres = next(child for child in supervisor.children if child.name == "postgres")
        self.processes = ProcessSampler(
            {"worker": worker.pid, "sandbox": sandbox.pid, "postgres": postgres.pid}
        )
        self.processes.start()
        from django.db import connection

        with connection.cursor() as cursor:  # this process's own session is not the sync's
            cursor.execute("SELECT pg_backend_pid()")
            own_pid = int(cursor.fetchone()[0])
        self.queries = QuerySampler(env["DATABASE_URL"], own_pid)
        self.queries.start()
        say(
            f"set up in {time.monotonic() - started:.0f} s: PostgreSQL, Redis, the sandbox "
            f"({self.data}), a worker (prefork, {self.worker_concurrency} pool processes); "
            f"logs in {self.logs.relative_to(ROOT)}"
        )

    def stopping(self) -> None:
        self.stop_sampling()
        if url := self.env.get("DATABASE_URL"):  # gigabytes no one needs once it is measured
            with contextlib.suppress(psycopg.Error):
                drop_database(url, DATABASE)

    def stopped(self, *, failed: bool) -> None:
        shutil.rmtree(self.exports, ignore_errors=True)
        shutil.rmtree(self.downloads, ignore_errors=True)

    def stop_sampling(self) -> None:
        """End the samplers (their figures stay), before the benchmark does work of its own."""
        for sampler in (self.processes, self.queries):
            if sampler is not None and sampler.is_alive():
                sampler.stop()

    # Marketo (the sandbox)

    @property
    def sandbox_api(self) -> SandboxApi:
        if self.api is None:
            raise RuntimeError("the stack is not running")
        return self.api

    def stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = self.sandbox_api.control("GET", "stats")
        return stats

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = self.sandbox_api.control("GET", "counts")
        return counts

    def reset_stats(self) -> None:
        self.sandbox_api.control("POST", "reset-stats")

    def mutate(self, **changes: int) -> dict[str, Any]:
        answer: dict[str, Any] = self.sandbox_api.control("POST", "mutate", changes)
        return answer

    # Sync runs

    def start_initial(self) -> SyncRun:
        """What a marketer does on the Marketo page: choose attributes, start the initial sync."""
        from django.utils import timezone

        from sync import services
        from sync.models import AttributeObject

        offered = services.describe_attributes()
        wanted = {AttributeObject.PERSON: PERSON_ATTRIBUTES,
                  AttributeObject.COMPANY: COMPANY_ATTRIBUTES}  # fmt: skip
        chosen = [a for a in offered if a.name in wanted[a.object]]
        since = timezone.now() - timedelta(days=self.data.days + 1)
        # The describe calls came from this process; what is measured is the run's traffic.
        self.reset_stats()
        return services.start_initial_sync(
            chosen=chosen, offered=offered, leads_since=since, activities_since=since
        )

    def wait(self, run: SyncRun, *, timeout: float, label: str) -> tuple[SyncRun, Trace]:
        """Play beat until the run completes or fails (or ``timeout``); what the loop saw."""
        from sync import services
        from sync.models import ExportJob, RunState

        trace = Trace()
        deadline = time.monotonic() + timeout
        beat = report = 0.0
        while True:
            run.refresh_from_db()
            now = trace.at()
            trace.phases.setdefault(run.phase, now)
            for stream in run.progress.get("streams_done", []):
                trace.streams.setdefault(stream, now)
            for job in ExportJob.objects.filter(run=run):
                seen = trace.jobs.setdefault(
                    job.id, JobTrace(job.object, f"{job.window_start:%m-%d}…{job.window_end:%m-%d}")
                )
                seen.seen.setdefault(job.status, now)
                if job.rows_loaded and "first batch" not in seen.seen:
                    seen.seen["first batch"] = now
                seen.records, seen.size = job.records, job.file_size
            if run.state in (RunState.COMPLETED, RunState.FAILED):
                return run, trace
            if time.monotonic() > deadline:
                return run, trace
            if time.monotonic() >= beat:
                services.resume_runs()
                beat = time.monotonic() + BEAT_SECONDS
            if now >= report:
                say(f"  {label} {now:5.0f} s  {run.state}/{run.phase}  {progress_line(run)}")
                report = now + 30
            time.sleep(POLL_SECONDS)


def progress_line(run: SyncRun) -> str:
    """Rows loaded so far, from the run's own bookkeeping (cheaper than counting the tables)."""
    from django.db.models import Sum

    from sync.models import ExportJob

    loaded = dict(
        ExportJob.objects.filter(run=run)
        .values("object")
        .annotate(rows=Sum("rows_loaded"))
        .values_list("object", "rows")
    )
    done = {name: int((run.progress.get(name) or {}).get("done") or 0) for name in
            ("leads", "companies", "activities")}  # fmt: skip
    rows = {name: max(done[name], int(loaded.get(name) or 0)) for name in done}
    return ", ".join(f"{rows[name]:,} {name}" for name in rows)


# Checking the mirror against Marketo


class Measured(Protocol):
    lines: list[str]


def run_benchmark[R: Measured](
    name: str, doc: str | None, full: DataSet, quick: DataSet,
    measure: Callable[[SyncStack, bool], R],
) -> R:  # fmt: skip
    """Parse ``--quick``, measure on a fresh stack, print the figures; exit 130 on Ctrl-C."""
    parser = argparse.ArgumentParser(description=doc)
    parser.add_argument(
        "--quick", action="store_true", help=f"a small data set ({quick}), under a minute"
    )
    small = parser.parse_args().quick
    result: R | None = None
    with SyncStack(name, quick if small else full) as stack:
        result = measure(stack, small)
    if result is None:
        sys.exit(130)
    for line in result.lines:
        say(line)
    return result
