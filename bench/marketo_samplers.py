"""Watching a benchmark run: process and database samplers, the job trace, the time profile."""

from __future__ import annotations

import itertools
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil
import psycopg
from marketo_common import (
    MB,
    OUR_CALLS_PER_WINDOW,
    POLL_SECONDS,
    SAMPLE_SECONDS,
    WINDOW_SECONDS,
    fmt,
    rate_floor,
)  # fmt: skip

if TYPE_CHECKING:
    from marketo_bench import SyncStack


class ProcessSampler(threading.Thread):
    """Samples named process trees: peak RSS per process, CPU seconds per tree (incl. exited)."""

    def __init__(self, roots: Mapping[str, int]) -> None:
        super().__init__(name="bench-process-sampler", daemon=True)
        self.roots = dict(roots)
        self.stopped = threading.Event()
        self.peak_rss: dict[str, dict[int, int]] = defaultdict(dict)  # tree -> pid -> bytes
        self.cpu: dict[str, dict[int, float]] = defaultdict(dict)  # tree -> pid -> seconds
        self.roles: dict[int, str] = {}

    def run(self) -> None:
        while not self.stopped.wait(SAMPLE_SECONDS):
            self.sample()

    def sample(self) -> None:
        for tree, root_pid in self.roots.items():
            try:
                root = psutil.Process(root_pid)
                processes = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                continue
            for process in processes:
                try:
                    with process.oneshot():
                        rss = process.memory_info().rss
                        times = process.cpu_times()
                except psutil.NoSuchProcess:
                    continue
                seconds = times.user + times.system
                if process.pid == root_pid:  # children it reaped (PostgreSQL backends) count too
                    seconds += times.children_user + times.children_system
                peaks = self.peak_rss[tree]
                peaks[process.pid] = max(peaks.get(process.pid, 0), rss)
                self.cpu[tree][process.pid] = max(self.cpu[tree].get(process.pid, 0.0), seconds)
                self.roles.setdefault(process.pid, "main" if process.pid == root_pid else "child")

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=5)
        self.sample()

    def peak(self, tree: str, role: str | None = None) -> int:
        return max(
            (rss for pid, rss in self.peak_rss[tree].items() if role in (None, self.roles[pid])),
            default=0,
        )

    def cpu_seconds(self) -> dict[str, float]:
        return {tree: sum(per_pid.values()) for tree, per_pid in self.cpu.items()}


# What the worker's database session is busy with, by the start of the statement.
STATEMENT_KINDS = (
    ("COPY sync_stage", "COPY into the staging table"),
    ("INSERT INTO sync_marketolead", "upsert leads"),
    ("UPDATE sync_marketolead", "upsert leads"),
    ("INSERT INTO sync_marketoactivity", "insert activities"),
    ("WITH moved AS", "upsert companies"),
)
OTHER = "other SQL"
AUTOVACUUM = "autovacuum (background)"


class QuerySampler(threading.Thread):
    """Samples pg_stat_activity: seconds the sync's sessions spent in each kind of statement."""

    def __init__(self, url: str, ignore_pid: int) -> None:
        super().__init__(name="bench-query-sampler", daemon=True)
        self.url, self.ignore_pid = url, ignore_pid
        self.stopped = threading.Event()
        self.seconds: dict[str, float] = defaultdict(float)
        self.other: dict[str, float] = defaultdict(float)  # "other SQL" by its first words

    def run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as connection:
            last = time.monotonic()
            while not self.stopped.wait(POLL_SECONDS / 2):
                rows = connection.execute(
                    "SELECT backend_type, query FROM pg_stat_activity "
                    "WHERE datname = current_database() AND state = 'active' "
                    "AND pid <> pg_backend_pid() AND pid <> %s",
                    [self.ignore_pid],
                ).fetchall()
                now = time.monotonic()
                for backend, query in rows:
                    kind = statement_kind(query or "", backend)
                    self.seconds[kind] += now - last
                    if kind == OTHER:
                        self.other[" ".join((query or "").split())[:90]] += now - last
                last = now

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=5)


def statement_kind(query: str, backend: str = "client backend") -> str:
    """What a session is doing; work done beside the sync's own sessions ends in "(background)"."""
    if backend == "autovacuum worker":
        return AUTOVACUUM
    text = " ".join(query.split())
    kind = next((kind for start, kind in STATEMENT_KINDS if text.startswith(start)), OTHER)
    if backend == "parallel worker":  # helping one of the sync's statements, beside it
        return f"parallel workers for {kind} (background)"
    if backend != "client backend":
        return f"{backend} (background)"
    return kind


@dataclass
class JobTrace:
    """When the wait loop first saw an export job in each state."""

    object: str
    window: str
    seen: dict[str, float] = field(default_factory=dict)
    records: int | None = None
    size: int | None = None

    def span(self, first: str, *then: str) -> float | None:
        """Seconds from ``first`` to the earliest of ``then`` the loop saw (None if unseen)."""
        ends = [self.seen[state] for state in then if state in self.seen]
        if first not in self.seen or not ends:
            return None
        return min(ends) - self.seen[first]


@dataclass
class Trace:
    """The run as the wait loop saw it: phase changes and export jobs, in bench seconds."""

    started: float = field(default_factory=time.monotonic)
    phases: dict[str, float] = field(default_factory=dict)
    jobs: dict[int, JobTrace] = field(default_factory=dict)
    streams: dict[str, float] = field(default_factory=dict)  # incremental: when each caught up

    def at(self) -> float:
        return time.monotonic() - self.started

    def phase_seconds(self) -> list[tuple[str, float]]:
        """Each phase the loop saw and how long it lasted (the first one includes the start)."""
        order = sorted(self.phases.items(), key=lambda item: item[1])
        return [(name, end - start) for (name, start), (_, end) in itertools.pairwise(order)]


def where_the_time_went(trace: Trace, stats: Mapping[str, Any], stack: SyncStack) -> Iterator[str]:
    """The profile lines: phases, export jobs step by step, database time, CPU per process."""
    yield "where the time went:"
    for phase, seconds in trace.phase_seconds():
        yield f"  phase {phase:<11} {seconds:7.1f} s"
    last = 0.0
    for stream, moment in sorted(trace.streams.items(), key=lambda item: item[1]):
        yield f"  stream {stream:<15} caught up at {moment:5.1f} s ({moment - last:5.1f} s)"
        last = moment
    by_object: dict[str, list[JobTrace]] = defaultdict(list)
    for job in trace.jobs.values():
        by_object[job.object].append(job)
    for object, jobs in sorted(by_object.items()):
        yield (
            f"  {object} export jobs (first seen in each state; sandbox = queued → ready, "
            "download = ready → downloaded, load = downloaded → loaded):"
        )
        for job in sorted(jobs, key=lambda j: j.window):
            sandbox = job.span("queued", "completed", "downloaded", "loaded")
            download = job.span("completed", "downloaded", "loaded")
            load, first = job.span("downloaded", "loaded"), job.span("downloaded", "first batch")
            yield (
                f"    {job.window}  {job.records or 0:>9,} rows {(job.size or 0) / MB:7.1f} MB"
                f"  sandbox {fmt(sandbox)}  download {fmt(download)}  load {fmt(load)}"
                f" (first batch after {fmt(first)})"
            )
    if stack.queries is not None:
        by_kind = stack.queries.seconds
        busy = sum(value for kind, value in by_kind.items() if "background" not in kind)
        yield f"  database, seconds the sync's sessions were active (sampled): {busy:.1f} s"
        for kind, value in sorted(by_kind.items(), key=lambda kv: -kv[1]):
            yield f"    {kind:<30} {value:7.1f} s"
            if kind != OTHER:
                continue
            others = sorted(stack.queries.other.items(), key=lambda kv: -kv[1])[:3]
            yield from (f"      {v:6.1f} s  {query}…" for query, v in others if v >= 1)
    if stack.processes is not None:
        cpu = stack.processes.cpu_seconds()
        yield "  CPU seconds: " + ", ".join(f"{tree} {cpu[tree]:.0f} s" for tree in sorted(cpu))
    calls = stats.get("calls_by_path", {})
    companies = calls.get("/rest/v1/companies.json", 0)
    if companies:
        floor = rate_floor(companies)
        rate = f"{OUR_CALLS_PER_WINDOW} / {WINDOW_SECONDS:g} s"
        yield f"  companies: {companies} calls, ≥ {floor:.0f} s at {rate}"
