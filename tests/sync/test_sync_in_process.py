"""The sync engine run in this process against the Marketo sandbox: small data, quick answers.

The reliability tests (tests/sync/test_sync_worker.py) run the same code in real workers; these
pin down what the mirror holds after each kind of run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import override_settings
from django.utils import timezone

from sync import services
from sync.limiter import default_limiter
from sync.models import (
    AttributeObject,
    ExportJob,
    MarketoActivity,
    MarketoCompany,
    MarketoLead,
    RunKind,
    RunState,
    SyncRun,
    Watermark,
)
from sync.sandbox import Dataset, Fault, MarketoSandbox

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

DATA = Dataset(leads=2_000, companies=300, activities=8_000, lead_days=90, activity_days=60)
CHOSEN = {
    AttributeObject.PERSON: {"title", "state", "leadStatus"},
    AttributeObject.COMPANY: {"industry"},
}


@pytest.fixture
def sandbox(
    marketo_sandbox: Callable[..., MarketoSandbox],
    marketo_settings: Callable[[MarketoSandbox], override_settings],
    tmp_path: Path,
) -> Iterator[MarketoSandbox]:
    sandbox = marketo_sandbox(dataset=DATA)
    with (
        marketo_settings(sandbox),
        override_settings(MARKETO_BULK_POLL_SECONDS=0.1, MARKETO_EXPORT_DIR=tmp_path),
    ):
        default_limiter().reset()
        yield sandbox


def run_to_end(run: SyncRun) -> SyncRun:
    for _ in range(20):
        services.advance_run(run.id, budget=60)
        run.refresh_from_db()
        if run.state != RunState.RUNNING:
            return run
    raise AssertionError(f"run {run.id} did not end: {run.phase}")


def start_initial() -> SyncRun:
    offered = services.describe_attributes()
    chosen = [a for a in offered if a.name in CHOSEN[a.object]]
    now = timezone.now()
    return services.start_initial_sync(
        chosen=chosen,
        offered=offered,
        leads_since=now - timedelta(days=100),
        activities_since=now - timedelta(days=70),
    )


def test_the_initial_sync_mirrors_every_lead_company_and_activity(sandbox: MarketoSandbox) -> None:
    run = run_to_end(start_initial())
    assert run.state == RunState.COMPLETED, run.last_error
    assert MarketoLead.objects.count() == sandbox.lead_count()
    assert MarketoCompany.objects.count() == sandbox.company_count()
    assert MarketoActivity.objects.count() == sandbox.activity_count()
    lead = MarketoLead.objects.get(id=17)
    truth = sandbox.lead(17)
    assert truth is not None
    assert lead.email == truth["email"]
    assert lead.attributes.get("title") == truth.get("title")
    assert set(lead.attributes) <= {"title", "state", "leadStatus"}
    assert Watermark.objects.filter(name="leadchanges").exists()
    assert all(job.status == "loaded" for job in ExportJob.objects.all())


def test_an_incremental_sync_applies_only_the_changes(sandbox: MarketoSandbox) -> None:
    """M-9 in small: changed leads and new activities arrive; a second run changes nothing."""
    run_to_end(start_initial())
    changes = sandbox.mutate(updated_leads=50, new_activities=120, new_leads=5)
    incremental = services.start_incremental_sync()
    assert incremental is not None
    incremental = run_to_end(incremental)
    assert incremental.state == RunState.COMPLETED, incremental.last_error
    assert incremental.kind == RunKind.INCREMENTAL
    assert MarketoLead.objects.count() == sandbox.lead_count()
    assert MarketoActivity.objects.count() == sandbox.activity_count()
    for lead_id in changes.updated_lead_ids[:10]:
        truth = sandbox.lead(lead_id)
        assert truth is not None
        assert MarketoLead.objects.get(id=lead_id).email == truth["email"]
    before = {w.name: w.token for w in Watermark.objects.all()}
    again = services.start_incremental_sync()
    assert again is not None
    run_to_end(again)
    assert MarketoActivity.objects.count() == sandbox.activity_count()
    assert {w.name for w in Watermark.objects.all()} == set(before)


def test_a_corrupt_file_is_fetched_again_and_never_loaded(sandbox: MarketoSandbox) -> None:
    """The checksum is checked before parsing: a corrupt file is not loaded but fetched again."""
    sandbox.add_fault(Fault("truncated-download", message="corrupt"))
    run = run_to_end(start_initial())
    assert run.state == RunState.COMPLETED, run.last_error
    assert run.errors == 1
    assert "downloading again" in run.last_error
    assert MarketoLead.objects.count() == sandbox.lead_count()
    assert sum(sandbox.stats().exports_created.values()) == run.jobs.count()


def test_a_file_corrupt_twice_is_exported_again(sandbox: MarketoSandbox) -> None:
    sandbox.add_fault(Fault("truncated-download", message="corrupt", times=2))
    run = run_to_end(start_initial())
    assert run.state == RunState.COMPLETED, run.last_error
    assert sum(sandbox.stats().exports_created.values()) == run.jobs.count() + 1
    assert MarketoActivity.objects.count() == sandbox.activity_count()


def test_a_backlog_of_activities_is_exported_in_bulk_then_paged_again(
    sandbox: MarketoSandbox,
) -> None:
    """A full first page means a backlog: one export job instead of one call per 300."""
    run_to_end(start_initial())
    exports = sum(sandbox.stats().exports_created.values())
    sandbox.mutate(new_activities=3_000)
    incremental = services.start_incremental_sync()
    assert incremental is not None
    incremental = run_to_end(incremental)
    assert incremental.state == RunState.COMPLETED, incremental.last_error
    assert sum(sandbox.stats().exports_created.values()) == exports + 1
    assert MarketoActivity.objects.count() == sandbox.activity_count()
    assert incremental.counter("activities")["done"] >= 3_000
    # Afterwards the streams page on from where the export ended: a few more are paged.
    sandbox.mutate(new_activities=40)
    again = services.start_incremental_sync()
    assert again is not None
    assert run_to_end(again).state == RunState.COMPLETED
    assert sum(sandbox.stats().exports_created.values()) == exports + 1
    assert MarketoActivity.objects.count() == sandbox.activity_count()
