"""What the Marketo page shows about a sync run: counters, rate, time left, pauses and errors.

``progress(run)`` reads the run and its export jobs once and hands them to ``summarise``, which is
plain arithmetic: export counters add up the jobs' loaded rows; what a window will hold is known
once Marketo reports the job's record count, and estimated from the average of reported windows
until then (such totals are marked as estimates and shown with "≈").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, models
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from sync import engine
from sync.models import (
    ExportJob,
    JobStatus,
    MarketoActivity,
    MarketoCompany,
    MarketoLead,
    Phase,
    RunKind,
    RunState,
    SyncRun,
)

JOB_ROWS = 8  # job rows the progress panel lists
EXACT_COUNT_LIMIT = 200_000  # bigger tables are counted from the planner's statistics

OBJECT_LABELS = {"leads": "Leads", "companies": "Companies", "activities": "Activities"}
OBJECT_PHASES = {"leads": Phase.LEADS, "companies": Phase.COMPANIES, "activities": Phase.ACTIVITIES}
WORKING_JOBS = (
    JobStatus.CREATED,
    JobStatus.QUEUED,
    JobStatus.PROCESSING,
    JobStatus.COMPLETED,
    JobStatus.DOWNLOADED,
)


@dataclass(frozen=True)
class Counter:
    """Records of one object: done, and expected (None while unknown)."""

    object: str
    label: str
    done: int
    expected: int | None
    estimated: bool = False
    finished: bool = False
    waiting: bool = False  # its step has not begun
    windows_done: int | None = None
    windows_total: int | None = None

    @property
    def remaining(self) -> int | None:
        if self.finished:
            return 0
        return None if self.expected is None else max(self.expected - self.done, 0)

    @property
    def percent(self) -> int | None:
        if self.finished or self.expected == 0:
            return 100
        if self.expected is None:
            return None
        return min(100, self.done * 100 // self.expected)


@dataclass(frozen=True)
class Step:
    label: str
    status: str  # "done", "current", "failed" or "todo"


@dataclass(frozen=True)
class JobRow:
    object: str
    window_start: datetime
    window_end: datetime
    status: str
    records: int | None
    rows_loaded: int
    failures: int
    error: str


@dataclass(frozen=True)
class Progress:
    """Everything the progress panel of one run shows."""

    run_id: int
    kind: str
    title: str
    state: str
    state_label: str
    phase: str
    phase_label: str
    steps: tuple[Step, ...]
    counters: tuple[Counter, ...]
    started_at: datetime
    finished_at: datetime | None
    elapsed: timedelta
    rate: float | None  # records per second since the run started
    time_left: timedelta | None  # until the whole run is done
    step_time_left: timedelta | None  # until the current step is done
    errors: int
    last_error: str
    paused_until: datetime | None
    pause_reason: str
    jobs: tuple[JobRow, ...]
    now: datetime

    @property
    def active(self) -> bool:
        return self.state in (RunState.RUNNING, RunState.PAUSED)

    @property
    def paused(self) -> bool:
        return self.state == RunState.PAUSED

    @property
    def failed(self) -> bool:
        return self.state == RunState.FAILED

    @property
    def done(self) -> int:
        return sum(counter.done for counter in self.counters)

    @property
    def ended_at(self) -> datetime:
        return self.finished_at or self.now

    @property
    def finishes_at(self) -> datetime | None:
        return self.now + self.time_left if self.time_left is not None else None

    @property
    def step_finishes_at(self) -> datetime | None:
        return self.now + self.step_time_left if self.step_time_left is not None else None


def progress(run: SyncRun, *, now: datetime | None = None) -> Progress:
    """The progress of ``run`` as of ``now`` (two queries: the run is given, its jobs are read)."""
    return summarise(run, list(run.jobs.all()), now=now or timezone.now())


def summarise(run: SyncRun, jobs: Sequence[ExportJob], *, now: datetime) -> Progress:
    plan = plan_of(run)
    counters = tuple(_counter(run, jobs, plan, object) for object in objects_of(run, plan))
    finished_at = run.finished_at
    elapsed = max((finished_at or now) - run.started_at, timedelta(0))
    done = sum(counter.done for counter in counters)
    rate = done / elapsed.total_seconds() if done and elapsed.total_seconds() > 0 else None
    time_left = step_time_left = None
    if rate and run.state == RunState.RUNNING:
        remaining = [counter.remaining for counter in counters]
        if all(left is not None for left in remaining):
            time_left = timedelta(seconds=round(sum(left or 0 for left in remaining) / rate))
        current = next((c for c in counters if OBJECT_PHASES[c.object] == run.phase), None)
        if current is not None and current.remaining is not None:
            step_time_left = timedelta(seconds=round(current.remaining / rate))
    failing = [job for job in jobs if job.error]
    return Progress(
        run_id=run.pk,
        kind=run.kind,
        title=run.get_kind_display(),
        state=run.state,
        state_label=run.get_state_display(),
        phase=run.phase,
        phase_label=run.get_phase_display(),
        steps=_steps(run, plan),
        counters=counters,
        started_at=run.started_at,
        finished_at=finished_at,
        elapsed=elapsed,
        rate=rate,
        time_left=time_left,
        step_time_left=step_time_left,
        errors=run.errors + sum(job.failures for job in jobs),
        last_error=run.last_error or (failing[-1].error if failing else ""),
        paused_until=run.paused_until if run.state == RunState.PAUSED else None,
        pause_reason=run.pause_reason if run.state == RunState.PAUSED else "",
        jobs=tuple(_job_row(job) for job in _listed_jobs(jobs)),
        now=now,
    )


def plan_of(run: SyncRun) -> list[Phase]:
    """The steps of ``run`` in order (incremental runs have one: reading changes)."""
    if run.kind == RunKind.INCREMENTAL:
        return [Phase.CHANGES, Phase.DONE]
    return engine.phases(run)


def objects_of(run: SyncRun, plan: Sequence[Phase]) -> list[str]:
    if run.kind == RunKind.INCREMENTAL:
        return ["leads", "companies", "activities"]
    return [object for object, phase in OBJECT_PHASES.items() if phase in plan]


def _position(plan: Sequence[Phase], phase: str) -> int:
    return plan.index(Phase(phase)) if phase in plan else len(plan)


def _counter(
    run: SyncRun, jobs: Sequence[ExportJob], plan: Sequence[Phase], object: str
) -> Counter:
    label = OBJECT_LABELS[object]
    if run.kind == RunKind.INCREMENTAL:
        # Changes are counted as they arrive; how many there will be is not known beforehand.
        done = int(run.counter(object)["done"])
        return Counter(object, label, done, None, finished=run.state == RunState.COMPLETED)
    here, there = _position(plan, run.phase), _position(plan, OBJECT_PHASES[object])
    finished = run.state == RunState.COMPLETED or here > there
    started = here >= there
    if object == "companies":
        counter = _companies(run, label, finished=finished, started=started)
    else:
        counter = _exports(label, object, [job for job in jobs if job.object == object], finished)
    return replace(counter, waiting=not started and not finished)


def _exports(label: str, object: str, jobs: Sequence[ExportJob], finished: bool) -> Counter:
    done = sum(job.rows_loaded for job in jobs)
    reported = [job.records for job in jobs if job.records is not None]
    unreported = len(jobs) - len(reported)
    expected: int | None = sum(reported)
    estimated = False
    if unreported:
        if reported:
            expected = sum(reported) + round(sum(reported) / len(reported) * unreported)
            estimated = True
        else:
            expected = None
    if finished:
        expected = max(expected or 0, done)
        estimated = False
    loaded = sum(job.status == JobStatus.LOADED for job in jobs)
    return Counter(
        object,
        label,
        done,
        expected,
        estimated=estimated,
        finished=finished,
        windows_done=loaded,
        windows_total=len(jobs),
    )


def _companies(run: SyncRun, label: str, *, finished: bool, started: bool) -> Counter:
    counter = run.counter("companies")
    done, expected = int(counter.get("done") or 0), int(counter.get("expected") or 0)
    if finished:
        return Counter("companies", label, done, done, finished=True)
    # The companies to fetch are counted from the mirrored leads when the run is prepared; an
    # initial sync has not mirrored its leads by then, so its count means nothing until it runs.
    usable = expected >= done and expected > 0 and (started or run.kind != RunKind.INITIAL)
    return Counter("companies", label, done, expected if usable else None)


def _steps(run: SyncRun, plan: Sequence[Phase]) -> tuple[Step, ...]:
    here = _position(plan, run.phase)
    steps = []
    for index, phase in enumerate(plan[:-1]):  # the last step, "done", is the run's state
        if run.state == RunState.COMPLETED or index < here:
            status = "done"
        elif index == here:
            status = "failed" if run.state == RunState.FAILED else "current"
        else:
            status = "todo"
        steps.append(Step(phase.label, status))
    return tuple(steps)


def _listed_jobs(jobs: Sequence[ExportJob]) -> list[ExportJob]:
    """Jobs worth a row: those Marketo is working on, then those that failed and wait."""
    working = [job for job in jobs if job.status in WORKING_JOBS]
    troubled = [job for job in jobs if job.failures and job.status not in WORKING_JOBS]
    return [*working, *[job for job in troubled if job.status != JobStatus.LOADED]][:JOB_ROWS]


def _job_row(job: ExportJob) -> JobRow:
    return JobRow(
        object=job.get_object_display(),
        window_start=job.window_start,
        window_end=job.window_end,
        status=job.get_status_display(),
        records=job.records,
        rows_loaded=job.rows_loaded,
        failures=job.failures,
        error=job.error,
    )


# --- the summary after the initial sync --------------------------------------------------------


@dataclass(frozen=True)
class Totals:
    """What one run brought in (for incremental runs: what changed)."""

    leads: int
    companies: int
    activities: int


def with_totals(runs: QuerySet[SyncRun]) -> QuerySet[SyncRun]:
    """``runs`` with the rows their export jobs loaded, for ``totals`` (one query for a page)."""
    return runs.annotate(
        leads_loaded=Sum("jobs__rows_loaded", filter=Q(jobs__object=ExportJob.Object.LEADS)),
        activities_loaded=Sum(
            "jobs__rows_loaded", filter=Q(jobs__object=ExportJob.Object.ACTIVITIES)
        ),
    )


def totals(run: SyncRun) -> Totals:
    """The records ``run`` brought in; export rows come from ``with_totals``' annotations."""

    def counted(object: str) -> int:
        return int(run.counter(object).get("done") or 0)

    return Totals(
        leads=int(getattr(run, "leads_loaded", None) or 0) + counted("leads"),
        companies=counted("companies"),
        activities=int(getattr(run, "activities_loaded", None) or 0) + counted("activities"),
    )


@dataclass(frozen=True)
class Count:
    value: int
    estimated: bool


def table_count(model: type[models.Model]) -> Count:
    """Rows in ``model``'s table: exact when small, the planner's estimate when large.

    Counting millions of activities exactly takes seconds on every page view; the statistics
    PostgreSQL keeps (refreshed by autovacuum) are close enough for an overview.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
            [model._meta.db_table],
        )
        row = cursor.fetchone()
    estimate = int(row[0]) if row and row[0] is not None else -1
    if estimate < EXACT_COUNT_LIMIT:
        return Count(model._default_manager.count(), False)
    return Count(estimate, True)


@dataclass(frozen=True)
class Mirror:
    """The synced state after the initial sync: what is mirrored and when it syncs next."""

    leads: Count
    companies: Count
    activities: Count
    last_incremental: SyncRun | None
    last_changes: Totals | None
    next_due: datetime | None
    now: datetime


def mirror() -> Mirror:
    last = (
        with_totals(SyncRun.objects.filter(kind=RunKind.INCREMENTAL, state=RunState.COMPLETED))
        .order_by("-started_at")
        .first()
    )
    latest = SyncRun.objects.filter(kind=RunKind.INCREMENTAL).order_by("-started_at").first()
    initial = SyncRun.objects.completed_initial()
    since = latest.started_at if latest else (initial.finished_at if initial else None)
    interval = timedelta(seconds=settings.MARKETO_SYNC_INTERVAL_SECONDS)
    return Mirror(
        leads=table_count(MarketoLead),
        companies=table_count(MarketoCompany),
        activities=table_count(MarketoActivity),
        last_incremental=last,
        last_changes=totals(last) if last else None,
        next_due=since + interval if since else None,
        now=timezone.now(),
    )
