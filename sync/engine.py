"""Initial sync and attribute back-fill: bulk export jobs over 31-day windows, then companies.

Every state change is committed before the next call to Marketo, so a worker killed at any point
resumes from the database: a created job is enqueued (not created again), a queued one polled, a
downloaded file re-read (or fetched again under the same export id), a half-loaded file continued
from its last committed batch. Upserts make a repeated batch harmless.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from sync.client import MarketoClient
from sync.errors import DownloadCheckFailed, ExportNotFound, QueueFull
from sync.fields import (
    SYNCED_ACTIVITY_TYPES,
    marketo_time,
    watermark_names,
    windows,
)
from sync.loading import file_chunks, file_header, load, load_records
from sync.models import (
    IN_FLIGHT,
    AttributeObject,
    ExportJob,
    JobStatus,
    MarketoLead,
    Phase,
    RunKind,
    SyncedAttribute,
    SyncRun,
    Watermark,
)

logger = logging.getLogger("sync")

MAX_IN_FLIGHT = 2  # Marketo processes two export jobs at a time per instance
MAX_JOB_FAILURES = 3
DOWNLOAD_FAILED = "download check failed"
COMPANY_BATCH = 300


class SyncFailed(Exception):
    """The run cannot go on without the marketer (shown on the Marketo page)."""


def step(run: SyncRun, client: MarketoClient) -> float | None:
    """Do the next piece of work of an export run; seconds until more can be done, None at end."""
    if run.phase == Phase.PREPARE:
        prepare(run, client)
        return 0
    if run.phase in (Phase.LEADS, Phase.ACTIVITIES):
        wait = step_exports(run, client, ExportJob.Object(run.phase))
        if wait is None:
            next_phase(run)
            return 0
        return wait
    if run.phase == Phase.COMPANIES:
        if not step_companies(run, client):
            next_phase(run)
        return 0
    finish(run)
    return None


def phases(run: SyncRun) -> list[Phase]:
    """The phases a run goes through, in order."""
    if run.kind == RunKind.INITIAL:
        return [Phase.PREPARE, Phase.LEADS, Phase.COMPANIES, Phase.ACTIVITIES, Phase.DONE]
    plan = [Phase.PREPARE]
    if len(run.lead_fields) > 1:
        plan.append(Phase.LEADS)
    if run.company_fields:
        plan.append(Phase.COMPANIES)
    return [*plan, Phase.DONE]


def next_phase(run: SyncRun) -> None:
    plan = phases(run)
    run.phase = plan[plan.index(Phase(run.phase)) + 1]
    if run.phase == Phase.COMPANIES:
        # The leads are in: the companies they name are the ones to fetch.
        named = MarketoLead.objects.exclude(external_company_id="")
        expected = named.values("external_company_id").distinct().count()
        run.progress["companies"] = {"done": 0, "expected": expected}
    run.save(update_fields=["phase", "progress", "updated_at"])


def prepare(run: SyncRun, client: MarketoClient) -> None:
    """Mark where incremental sync will start, and lay out the export windows."""
    if run.kind == RunKind.INITIAL and not run.changes_token:
        run.changes_token = client.paging_token(run.started_at)
        run.save(update_fields=["changes_token", "updated_at"])
    jobs = []
    if Phase.LEADS in phases(run) and run.leads_since:
        jobs += [
            ExportJob(run=run, object="leads", window_start=start, window_end=end)
            for start, end in windows(run.leads_since, run.started_at)
        ]
    if run.kind == RunKind.INITIAL and run.activities_since:
        jobs += [
            ExportJob(run=run, object="activities", window_start=start, window_end=end)
            for start, end in windows(run.activities_since, run.started_at)
        ]
    ExportJob.objects.bulk_create(jobs, ignore_conflicts=True)
    next_phase(run)


def step_exports(run: SyncRun, client: MarketoClient, object: ExportJob.Object) -> float | None:
    """Move the run's export jobs of ``object`` one step on; None when all are loaded."""
    jobs = list(run.jobs.filter(object=object).exclude(status=JobStatus.LOADED))
    if not jobs:
        return None
    for job in jobs:
        if job.status in (JobStatus.COMPLETED, JobStatus.DOWNLOADED):
            download_and_load(run, client, job)
            return 0
    for job in jobs:
        if job.status == JobStatus.CREATED and not enqueue(client, job):
            return float(settings.MARKETO_BULK_POLL_SECONDS)
    waits = [poll(client, job) for job in jobs if job.status in IN_FLIGHT]
    if any(wait == 0 for wait in waits):
        return 0
    in_flight = sum(job.status in IN_FLIGHT for job in jobs)
    for job in jobs:
        if in_flight >= MAX_IN_FLIGHT:
            break
        if job.status == JobStatus.PENDING:
            create(run, client, job)
            in_flight += 1
            return 0
    return min(waits, default=0.0)


def create(run: SyncRun, client: MarketoClient, job: ExportJob) -> None:
    span = {"startAt": marketo_time(job.window_start), "endAt": marketo_time(job.window_end)}
    if job.object == ExportJob.Object.LEADS:
        status = client.create_export(
            "leads", fields=run.lead_fields, filter={"createdAt": span}, format="CSV"
        )
    else:
        status = client.create_export(
            "activities",
            filter={"createdAt": span, "activityTypeIds": list(SYNCED_ACTIVITY_TYPES)},
            format="CSV",
        )
    job.export_id, job.status, job.error = status.export_id, JobStatus.CREATED, ""
    job.save(update_fields=["export_id", "status", "error"])
    logger.info("export %s created for %s", job.export_id, job)
    enqueue(client, job)


def enqueue(client: MarketoClient, job: ExportJob) -> bool:
    try:
        client.enqueue_export(job.object, job.export_id)  # type: ignore[arg-type]
    except QueueFull as full:
        job.error = str(full)
        job.save(update_fields=["error"])
        logger.info("Marketo's export queue is full; %s waits", job)
        return False
    except ExportNotFound:
        restart(job, "the export job disappeared from Marketo")
        return True
    job.status, job.polled_at, job.error = JobStatus.QUEUED, timezone.now(), ""
    job.save(update_fields=["status", "polled_at", "error"])
    return True


def poll(client: MarketoClient, job: ExportJob) -> float:
    """Ask for the job's status when due; seconds until the next poll (0: something changed)."""
    interval = timedelta(seconds=settings.MARKETO_BULK_POLL_SECONDS)
    due = (job.polled_at or job.window_start) + interval
    now = timezone.now()
    if due > now:
        return (due - now).total_seconds()
    try:
        status = client.export_status(job.object, job.export_id)  # type: ignore[arg-type]
    except ExportNotFound:
        restart(job, "the export job disappeared from Marketo")
        return 0
    job.polled_at = now
    if status.status == "Completed":
        job.status = JobStatus.COMPLETED
        job.records, job.file_size = status.number_of_records, status.file_size
        job.checksum = status.file_checksum or ""
        job.save(update_fields=["status", "records", "file_size", "checksum", "polled_at"])
        return 0
    if status.status in ("Failed", "Canceled", "Cancelled"):
        restart(job, f"Marketo reported the export {status.status.lower()}: {status.error or ''}")
        return 0
    job.status = JobStatus.PROCESSING if status.status == "Processing" else JobStatus.QUEUED
    job.save(update_fields=["status", "polled_at"])
    return interval.total_seconds()


def restart(job: ExportJob, reason: str) -> None:
    """Create the window's job again (once per failure), or give up after a few failures."""
    job.failures += 1
    job.error = reason.strip()
    logger.warning("%s: %s (failure %d)", job, job.error, job.failures)
    if job.failures > MAX_JOB_FAILURES:
        job.save(update_fields=["failures", "error"])
        raise SyncFailed(f"The {job} export failed {job.failures} times: {job.error}")
    job.export_id, job.status, job.rows_loaded = "", JobStatus.PENDING, 0
    job.save(update_fields=["export_id", "status", "failures", "error", "rows_loaded"])


def export_path(job: ExportJob) -> Path:
    return Path(settings.MARKETO_EXPORT_DIR) / f"{job.object}-{job.export_id}.csv"


def download_and_load(run: SyncRun, client: MarketoClient, job: ExportJob) -> None:
    path = export_path(job)
    if job.status == JobStatus.COMPLETED or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            client.download_export(
                job.object,  # type: ignore[arg-type]
                job.export_id,
                path,
                size=job.file_size,
                checksum=job.checksum or None,
            )
        except DownloadCheckFailed as failed:
            run.errors += 1
            run.save(update_fields=["errors", "updated_at"])
            if job.error.startswith(DOWNLOAD_FAILED):
                # Twice the same wrong file: Marketo's copy is bad; export the window again.
                restart(job, f"{DOWNLOAD_FAILED} twice: {failed}")
                return
            job.error = f"{DOWNLOAD_FAILED}: {failed}"
            job.save(update_fields=["error"])
            run.last_error = f"{job}: {failed}; downloading again"
            run.save(update_fields=["last_error", "updated_at"])
            return
        except ExportNotFound:
            restart(job, "the export file is no longer available")
            return
        job.status = JobStatus.DOWNLOADED
        job.save(update_fields=["status"])

    def loaded(rows: int) -> None:
        ExportJob.objects.filter(pk=job.pk).update(rows_loaded=rows)

    if job.object == ExportJob.Object.LEADS:
        types = attribute_types(run, AttributeObject.PERSON)
        merge = run.kind == RunKind.BACKFILL
    else:
        types, merge = {}, False
    kind = "leads" if job.object == ExportJob.Object.LEADS else "activities"
    load(kind, file_chunks(path), file_header(path), types=types, start_row=job.rows_loaded,
         merge=merge, on_batch=loaded)  # fmt: skip
    ExportJob.objects.filter(pk=job.pk).update(status=JobStatus.LOADED)
    path.unlink(missing_ok=True)


def attribute_types(run: SyncRun, object: AttributeObject) -> dict[str, str]:
    fields = run.lead_fields if object == AttributeObject.PERSON else run.company_fields
    types = SyncedAttribute.objects.types(object)
    return {name: data_type for name, data_type in types.items() if name in fields}


def step_companies(run: SyncRun, client: MarketoClient) -> bool:
    """Fetch the next 300 companies the mirrored leads name; False when none are left."""
    ids = list(
        MarketoLead.objects.filter(external_company_id__gt=run.companies_cursor)
        .order_by("external_company_id")
        .values_list("external_company_id", flat=True)
        .distinct()[:COMPANY_BATCH]
    )
    if not ids:
        return False
    fields = run.company_fields
    records = client.companies_by("externalCompanyId", ids, fields)
    with transaction.atomic():
        load_records(
            "companies", records, fields, types=attribute_types(run, AttributeObject.COMPANY)
        )
        counter = run.counter("companies")
        counter["done"] += len(ids)
        run.progress["companies"] = counter
        run.companies_cursor = ids[-1]
        run.save(update_fields=["progress", "companies_cursor", "updated_at"])
    return True


def finish(run: SyncRun) -> None:
    """Hand over to incremental sync (initial runs) and mark the attributes as filled."""
    with transaction.atomic():
        if run.kind == RunKind.INITIAL:
            for name in watermark_names():
                Watermark.objects.update_or_create(name=name, defaults={"token": run.changes_token})
        names = Q(object=AttributeObject.PERSON, name__in=run.lead_fields) | Q(
            object=AttributeObject.COMPANY, name__in=run.company_fields
        )
        SyncedAttribute.objects.filter(names, backfilled_at__isnull=True).update(
            backfilled_at=timezone.now()
        )
        run.complete()
    logger.info("%s completed", run)
