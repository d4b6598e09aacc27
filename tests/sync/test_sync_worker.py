"""The Marketo sync in real Celery workers on a real Redis, against the sandbox (TESTPLAN M-*).

Each test runs the whole initial sync of the test plan's data set (50,000 leads, 20,000
companies, 200,000 activities) and checks the mirror against the sandbox, counts and checksums.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone

from sync import services
from sync.models import (
    ExportJob,
    JobStatus,
    MarketoActivity,
    MarketoCompany,
    MarketoLead,
    RunState,
    SyncRun,
    Watermark,
)
from sync.sandbox import Fault, Limits
from tests.sync.syncing import SyncBench, mirror_checksums

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.timeout(600)]

Bench = Callable[..., SyncBench]
WINDOWS = 8  # 121 days of leads and of activities: four 31-day windows each


def assert_mirror_is_complete(bench: SyncBench) -> None:
    sandbox = bench.sandbox
    assert MarketoLead.objects.count() == sandbox.lead_count() == 50_000
    assert MarketoCompany.objects.count() == sandbox.company_count() == 20_000
    assert MarketoActivity.objects.count() == sandbox.activity_count() == 200_000
    for lead_id in (1, 777, 25_000, 50_000):
        truth = sandbox.lead(lead_id)
        assert truth is not None
        lead = MarketoLead.objects.get(id=lead_id)
        assert (lead.email, lead.external_company_id) == (
            truth["email"],
            truth["externalCompanyId"],
        )
        assert lead.attributes.get("title") == truth.get("title")


def test_m1_a_full_initial_sync_stays_inside_our_share_of_the_limits(sync_bench: Bench) -> None:
    """M-1: exact counts; ≤ 80 calls per 20 s and ≤ 8 at once as the sandbox counts; no 606/615."""
    bench = sync_bench()
    bench.worker()
    run = bench.finish(bench.start_initial())
    assert run.state == RunState.COMPLETED, run.last_error
    assert_mirror_is_complete(bench)
    stats = bench.sandbox.stats()
    assert stats.max_calls_in_window <= 80
    assert stats.max_concurrent <= 8
    assert "606" not in stats.errors_by_code
    assert "615" not in stats.errors_by_code
    assert sum(stats.exports_created.values()) == WINDOWS
    assert Watermark.objects.count() >= 3


def test_m2_a_competing_integration_costs_retries_not_data(sync_bench: Bench) -> None:
    """M-2: 606/615 retried with backoff; same data as M-1; 606s ≤ 5 % of our calls."""
    bench = sync_bench(competing_calls_per_window=50)
    bench.worker()
    run = bench.finish(bench.start_initial(), timeout=400)
    assert run.state == RunState.COMPLETED, run.last_error
    assert_mirror_is_complete(bench)
    stats = bench.sandbox.stats()
    assert stats.errors_by_code.get("606", 0) <= 0.05 * stats.requests


def test_m3_expired_and_invalid_tokens_cost_one_refresh_each(sync_bench: Bench) -> None:
    """M-3: TTL 30 s, a 601 and several 602s: one refresh and one retry each, nothing lost."""
    bench = sync_bench(limits=Limits(token_ttl=30))
    bench.sandbox.add_fault(Fault("601", at_call=15))
    for at_call in (30, 45, 60):
        bench.sandbox.add_fault(Fault("602", at_call=at_call))
    bench.worker()
    run = bench.finish(bench.start_initial())
    assert run.state == RunState.COMPLETED, run.last_error
    assert_mirror_is_complete(bench)
    stats = bench.sandbox.stats()
    assert stats.errors_by_code.get("601") == 1
    assert stats.errors_by_code.get("602") == 3
    times = sorted(stats.identity_call_times)
    # Per worker process: the scripted faults may each force one refresh, the rest are ≥ 25 s apart.
    early = sum(1 for a, b in itertools.pairwise(times) if b - a < 25)
    assert early <= 4 + 2  # four scripted faults, plus the first token of each pool process


def test_m4_a_burst_of_server_errors_is_retried(sync_bench: Bench) -> None:
    """M-4: 4 consecutive failures are absorbed by retries with backoff (≤ 5 attempts a call)."""
    bench = sync_bench()
    bench.sandbox.add_fault(Fault(502, at_call=20, times=2))
    bench.sandbox.add_fault(Fault("604", at_call=40, times=2))
    bench.sandbox.add_fault(Fault("608", at_call=60, times=4))
    bench.sandbox.add_fault(Fault("611", at_call=80, times=3))
    bench.worker()
    run = bench.finish(bench.start_initial(), timeout=300)
    assert run.state == RunState.COMPLETED, run.last_error
    assert_mirror_is_complete(bench)


def test_m4_ten_failures_in_a_row_fail_the_run_without_moving_a_watermark(
    sync_bench: Bench,
) -> None:
    """M-4: exhausted retries mark the run failed, watermarks unset; retrying finishes it."""
    bench = sync_bench()
    bench.sandbox.add_fault(Fault(503, at_call=25, times=10))
    bench.worker()
    run = bench.finish(bench.start_initial(), timeout=300)
    assert run.state == RunState.FAILED
    assert "503" in run.last_error
    assert not Watermark.objects.exists()
    # The burst goes on for five more calls: the first retry fails the same way, the next one
    # finds Marketo answering again and goes on from where the run stopped.
    services.retry_run(run=run)
    run = bench.finish(run)
    assert run.state == RunState.FAILED
    services.retry_run(run=run)
    run = bench.finish(run)
    assert run.state == RunState.COMPLETED, run.last_error
    assert_mirror_is_complete(bench)
    assert sum(bench.sandbox.stats().exports_created.values()) == WINDOWS


def test_m5_the_daily_quota_pauses_the_sync_until_midnight_in_chicago(sync_bench: Bench) -> None:
    """M-5: stop within one call; no call until the reset; resume from where it stopped."""
    bench = sync_bench(limits=Limits(daily_quota=60))
    bench.worker()
    run = bench.wait(bench.start_initial(), lambda r: r.state == RunState.PAUSED)
    assert run.pause_reason == "Marketo daily API quota"
    assert run.paused_until is not None
    assert run.paused_until > timezone.now()
    stats = bench.sandbox.stats()
    assert stats.errors_by_code.get("607") == 1
    calls = stats.requests
    bench.idle(6)  # beat keeps ticking: the run is not due, and nothing calls Marketo
    assert bench.sandbox.stats().requests == calls
    # Midnight in Chicago: the sandbox's quota resets and the pause runs out.
    bench.sandbox.reset_daily_quota()
    SyncRun.objects.filter(id=run.id).update(paused_until=timezone.now() - timedelta(seconds=1))
    run = bench.finish(run)
    assert run.state == RunState.COMPLETED, run.last_error
    assert_mirror_is_complete(bench)
    assert sum(bench.sandbox.stats().exports_created.values()) == WINDOWS


# Where the worker is when it is killed: the job states that show it, and the call held there.
KILL_WHEN = {
    "after-create": [JobStatus.CREATED],
    "while-polling": [JobStatus.QUEUED, JobStatus.PROCESSING],
    "mid-download": [JobStatus.COMPLETED],
    "mid-upsert": [JobStatus.DOWNLOADED],
}
FAULT_AT = {"after-create": "enqueue.json", "mid-download": "file.json"}


@pytest.mark.parametrize("moment", list(KILL_WHEN))
def test_m6_a_killed_worker_resumes_with_the_same_export_jobs(
    sync_bench: Bench, moment: str
) -> None:
    """M-6: kill -9 the worker at each step of a bulk job; no job is created twice."""
    bench = sync_bench()
    if moment in FAULT_AT:
        bench.sandbox.add_fault(Fault("timeout", path=FAULT_AT[moment]))
    statuses = KILL_WHEN[moment]

    def reached(run: SyncRun) -> bool:
        return run.jobs.filter(status__in=statuses).exists()

    worker = bench.worker()
    run = bench.wait(bench.start_initial(), reached, timeout=120)
    worker.kill()
    time.sleep(2)
    worker.restart()
    run = bench.finish(run)
    assert run.state == RunState.COMPLETED, run.last_error
    assert_mirror_is_complete(bench)
    assert sum(bench.sandbox.stats().exports_created.values()) == WINDOWS
    assert ExportJob.objects.filter(run=run, failures=0).count() == WINDOWS


def test_m7_a_full_queue_waits_and_the_export_quota_waits_for_the_next_day(
    sync_bench: Bench,
) -> None:
    """M-7: 1029 queue full → enqueue again later; 1029 export quota → paused, no retry storm."""
    bench = sync_bench()
    bench.sandbox.add_fault(Fault("1029", path="enqueue.json", message="Too many jobs in queue"))
    bench.sandbox.add_fault(
        Fault("1029", path="enqueue.json", at_call=40, message="Export daily quota exceeded")
    )
    bench.worker()
    run = bench.wait(bench.start_initial(), lambda r: r.state == RunState.PAUSED, timeout=240)
    assert run.pause_reason == "Marketo bulk export quota"
    enqueues = bench.sandbox.stats().calls_by_path
    bench.idle(5)  # no retry storm: nothing is enqueued (or called) while the run waits
    assert bench.sandbox.stats().calls_by_path == enqueues
    SyncRun.objects.filter(id=run.id).update(paused_until=timezone.now() - timedelta(seconds=1))
    run = bench.finish(run)
    assert run.state == RunState.COMPLETED, run.last_error
    assert_mirror_is_complete(bench)
    assert bench.sandbox.stats().errors_by_code.get("1029") == 2
    assert sum(bench.sandbox.stats().exports_created.values()) == WINDOWS


def test_m8_a_failed_or_cancelled_job_is_created_again_once(sync_bench: Bench) -> None:
    """M-8: one new job per failure, contiguous windows, no duplicate rows."""
    bench = sync_bench()
    bench.sandbox.add_fault(Fault("job-failed"))
    bench.sandbox.add_fault(Fault("job-cancelled", at_call=30))
    bench.worker()
    run = bench.finish(bench.start_initial())
    assert run.state == RunState.COMPLETED, run.last_error
    assert_mirror_is_complete(bench)
    assert sum(bench.sandbox.stats().exports_created.values()) == WINDOWS + 2
    assert sum(run.jobs.values_list("failures", flat=True)) == 2
    for object in ("leads", "activities"):
        jobs = list(run.jobs.filter(object=object).order_by("window_start"))
        for job, after in itertools.pairwise(jobs):
            assert after.window_start - job.window_end == timedelta(seconds=1)


def test_m9_an_incremental_run_applies_only_the_changes_and_repeats_as_a_no_op(
    sync_bench: Bench,
) -> None:
    """M-9: 1,000 updated leads and 500 new activities; watermarks after commit; idempotent."""
    bench = sync_bench()
    bench.worker()
    bench.finish(bench.start_initial())
    before = {w.name: w.token for w in Watermark.objects.all()}
    changes = bench.sandbox.mutate(updated_leads=1_000, new_activities=500)
    run = services.start_incremental_sync()
    assert run is not None
    run = bench.finish(run)
    assert run.state == RunState.COMPLETED, run.last_error
    assert MarketoActivity.objects.count() == bench.sandbox.activity_count()
    for lead_id in changes.updated_lead_ids[::100]:
        truth = bench.sandbox.lead(lead_id)
        assert truth is not None
        lead = MarketoLead.objects.get(id=lead_id)
        assert lead.attributes.get("title") == truth.get("title")
        assert lead.updated_at is not None
    after = {w.name: w.token for w in Watermark.objects.all()}
    assert after["leadchanges"] != before["leadchanges"]
    checksums = mirror_checksums()
    # The same window again, from the old watermarks: nothing changes.
    for name, token in before.items():
        Watermark.objects.filter(name=name).update(token=token)
    again = services.start_incremental_sync()
    assert again is not None
    assert bench.finish(again).state == RunState.COMPLETED
    assert mirror_checksums() == checksums
