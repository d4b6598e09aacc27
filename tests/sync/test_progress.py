"""What the progress panel says of a run: counters, estimates, rate, time left, pauses, errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sync.models import (
    ExportJob,
    JobStatus,
    MarketoLead,
    Phase,
    RunKind,
    RunState,
    SyncRun,
)
from sync.progress import Counter, progress, table_count, totals, with_totals

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def a_run(**fields: Any) -> SyncRun:
    values: dict[str, Any] = {
        "kind": RunKind.INITIAL,
        "phase": Phase.LEADS,
        "started_at": NOW - timedelta(seconds=100),
        "lead_fields": ["id", "email", "title"],
        "company_fields": ["id", "externalCompanyId", "industry"],
    }
    return SyncRun.objects.create(**(values | fields))


def a_job(run: SyncRun, n: int, status: JobStatus, **fields: Any) -> ExportJob:
    start = NOW - 400 * DAY + n * 31 * DAY
    values: dict[str, Any] = {"object": ExportJob.Object.LEADS, "status": status}
    return ExportJob.objects.create(
        run=run, window_start=start, window_end=start + 31 * DAY, **(values | fields)
    )


def counter(run: SyncRun, object: str) -> Counter:
    return next(c for c in progress(run, now=NOW).counters if c.object == object)


def test_unreported_windows_are_estimated_from_the_average_of_reported_ones() -> None:
    run = a_run()
    a_job(run, 0, JobStatus.LOADED, records=100, rows_loaded=100)
    a_job(run, 1, JobStatus.DOWNLOADED, records=300, rows_loaded=120)
    a_job(run, 2, JobStatus.PROCESSING)
    a_job(run, 3, JobStatus.PENDING)

    leads = counter(run, "leads")

    assert (leads.done, leads.expected, leads.estimated) == (220, 800, True)
    assert (leads.windows_done, leads.windows_total) == (1, 4)
    assert leads.percent == 27
    assert not leads.waiting


def test_the_total_is_exact_once_every_window_is_counted() -> None:
    run = a_run()
    a_job(run, 0, JobStatus.LOADED, records=100, rows_loaded=100)
    a_job(run, 1, JobStatus.COMPLETED, records=50)

    leads = counter(run, "leads")

    assert (leads.done, leads.expected, leads.estimated) == (100, 150, False)


def test_the_total_is_unknown_until_marketo_counts_a_window() -> None:
    run = a_run()
    a_job(run, 0, JobStatus.QUEUED)
    a_job(run, 1, JobStatus.PENDING)

    leads = counter(run, "leads")

    assert (leads.done, leads.expected, leads.percent) == (0, None, None)


def test_later_steps_wait_and_earlier_ones_are_finished() -> None:
    run = a_run(phase=Phase.COMPANIES, progress={"companies": {"done": 300, "expected": 0}})
    a_job(run, 0, JobStatus.LOADED, records=10, rows_loaded=10)
    a_job(run, 1, JobStatus.PENDING, object=ExportJob.Object.ACTIVITIES)

    shown = progress(run, now=NOW)
    leads, companies, activities = shown.counters

    assert (leads.finished, leads.percent, leads.remaining) == (True, 100, 0)
    # Counted when the run was prepared, before any lead was mirrored: meaningless.
    assert (companies.done, companies.expected, companies.waiting) == (300, None, False)
    assert activities.waiting
    assert activities.expected is None
    assert [(step.label, step.status) for step in shown.steps] == [
        ("Preparing", "done"),
        ("Exporting leads", "done"),
        ("Fetching companies", "current"),
        ("Exporting activities", "todo"),
    ]


def test_a_backfill_knows_its_companies_from_the_start() -> None:
    run = a_run(
        kind=RunKind.BACKFILL,
        phase=Phase.LEADS,
        lead_fields=["id", "title"],
        progress={"companies": {"done": 0, "expected": 1200}},
    )

    companies = counter(run, "companies")

    assert (companies.expected, companies.waiting) == (1200, True)
    assert [c.object for c in progress(run, now=NOW).counters] == ["leads", "companies"]


def test_rate_is_records_per_second_since_the_start_and_time_left_follows_from_it() -> None:
    run = a_run(kind=RunKind.BACKFILL, lead_fields=["id", "title"], company_fields=[])
    a_job(run, 0, JobStatus.LOADED, records=300, rows_loaded=300)
    a_job(run, 1, JobStatus.DOWNLOADED, records=500, rows_loaded=100)

    shown = progress(run, now=NOW)

    assert shown.rate == 4.0  # 400 records in 100 s
    assert shown.time_left == timedelta(seconds=100)  # 400 left
    assert shown.finishes_at == NOW + timedelta(seconds=100)
    assert shown.step_time_left == timedelta(seconds=100)


def test_time_left_is_unknown_while_a_total_is_but_the_current_step_has_its_own() -> None:
    run = a_run()
    a_job(run, 0, JobStatus.LOADED, records=300, rows_loaded=300)
    a_job(run, 1, JobStatus.DOWNLOADED, records=500, rows_loaded=100)

    shown = progress(run, now=NOW)

    assert shown.time_left is None  # companies and activities are not counted yet
    assert shown.step_time_left == timedelta(seconds=100)


def test_a_run_paused_by_the_daily_quota_says_until_when() -> None:
    until = NOW + timedelta(hours=6)
    run = a_run(state=RunState.PAUSED, paused_until=until, pause_reason="Marketo daily API quota")
    a_job(run, 0, JobStatus.LOADED, records=300, rows_loaded=300)

    shown = progress(run, now=NOW)

    assert shown.paused
    assert shown.active
    assert (shown.paused_until, shown.pause_reason) == (until, "Marketo daily API quota")
    assert shown.time_left is None
    assert shown.step_time_left is None


def test_a_completed_run_is_finished_everywhere() -> None:
    run = a_run(
        state=RunState.COMPLETED,
        phase=Phase.DONE,
        finished_at=NOW - timedelta(seconds=20),
        progress={"companies": {"done": 40, "expected": 0}},
    )
    a_job(run, 0, JobStatus.LOADED, records=300, rows_loaded=300)

    shown = progress(run, now=NOW)

    assert not shown.active
    assert [(c.object, c.done, c.percent) for c in shown.counters] == [
        ("leads", 300, 100),
        ("companies", 40, 100),
        ("activities", 0, 100),
    ]
    assert {step.status for step in shown.steps} == {"done"}
    assert shown.elapsed == timedelta(seconds=80)
    assert shown.rate == 340 / 80
    assert shown.time_left is None


def test_errors_add_the_runs_and_the_export_failures_and_the_last_is_shown() -> None:
    run = a_run(state=RunState.FAILED, errors=1, last_error="Marketo 1003: bad field title")
    a_job(run, 0, JobStatus.PENDING, failures=2, error="Marketo reported the export failed")

    shown = progress(run, now=NOW)

    assert (shown.errors, shown.last_error) == (3, "Marketo 1003: bad field title")
    assert shown.failed
    assert not shown.active
    assert [step.status for step in shown.steps][:3] == ["done", "failed", "todo"]


def test_a_job_error_is_the_last_error_when_the_run_has_none() -> None:
    run = a_run(errors=0)
    a_job(run, 0, JobStatus.PENDING, failures=1, error="the export job disappeared from Marketo")

    assert progress(run, now=NOW).last_error == "the export job disappeared from Marketo"


def test_the_job_list_shows_working_and_failing_jobs_only() -> None:
    run = a_run()
    a_job(run, 0, JobStatus.LOADED, records=1, rows_loaded=1)
    a_job(run, 1, JobStatus.PROCESSING)
    a_job(run, 2, JobStatus.PENDING)
    a_job(run, 3, JobStatus.PENDING, failures=1, error="failed once")
    a_job(run, 4, JobStatus.COMPLETED, records=7)

    rows = progress(run, now=NOW).jobs

    assert [(row.status, row.records, row.failures) for row in rows] == [
        ("Processing", None, 0),
        ("Ready to download", 7, 0),
        ("Waiting", None, 1),
    ]


def test_an_incremental_run_counts_changes_without_totals() -> None:
    run = a_run(
        kind=RunKind.INCREMENTAL,
        phase=Phase.CHANGES,
        progress={"leads": {"done": 12, "expected": None}, "activities": {"done": 30}},
    )

    shown = progress(run, now=NOW)

    assert [(c.object, c.done, c.expected) for c in shown.counters] == [
        ("leads", 12, None),
        ("companies", 0, None),
        ("activities", 30, None),
    ]
    assert [step.label for step in shown.steps] == ["Reading changes"]
    assert shown.time_left is None


def test_totals_add_loaded_export_rows_and_counted_records() -> None:
    run = a_run(progress={"companies": {"done": 5, "expected": 5}})
    a_job(run, 0, JobStatus.LOADED, records=10, rows_loaded=10)
    a_job(run, 1, JobStatus.LOADED, records=4, rows_loaded=4)
    a_job(run, 2, JobStatus.LOADED, records=9, rows_loaded=9, object=ExportJob.Object.ACTIVITIES)

    annotated = with_totals(SyncRun.objects.filter(pk=run.pk)).get()

    assert (totals(annotated).leads, totals(annotated).companies) == (14, 5)
    assert totals(annotated).activities == 9


def test_small_tables_are_counted_exactly() -> None:
    MarketoLead.objects.bulk_create([MarketoLead(id=n, email=f"l{n}@x.example") for n in (1, 2)])

    count = table_count(MarketoLead)

    assert (count.value, count.estimated) == (2, False)
