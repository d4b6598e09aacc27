"""Incremental sync: changed leads, deleted leads, new activities and company changes.

Each stream is read from its watermark (a Marketo paging token) one page at a time; a page's
rows and the watermark after it commit together, so a killed worker re-reads at most one page and
re-reading it changes nothing (upserts keyed on Marketo's ids).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from sync import engine
from sync.client import MarketoClient, Page
from sync.fields import ACTIVITY_COLUMNS, activity_type_groups, watermark_names, windows
from sync.loading import load_records
from sync.models import (
    AttributeObject,
    ExportJob,
    MarketoCompany,
    MarketoLead,
    SyncedAttribute,
    SyncRun,
    Watermark,
)

logger = logging.getLogger("sync")

LOOKUP_BATCH = 300
PAGE_SIZE = 300
# A full first page of activities means a backlog (after a pause, a quota stop, a busy day):
# it is exported in bulk instead (see start_backlog).
BACKLOG = "activities_backlog"
BACKLOG_OVERLAP = timedelta(minutes=5)
COMPANY_REFRESH = 300  # companies re-read per run: Marketo has no change feed for companies


def streams() -> list[str]:
    return [*watermark_names(), "companies"]


def step_changes(run: SyncRun, client: MarketoClient) -> float | None:
    """Read one page of the first unfinished stream; None when every stream is caught up."""
    done = set(run.progress.get("streams_done", []))
    for stream in streams():
        if stream in done:
            continue
        if stream.startswith("activities:") and BACKLOG in run.progress:
            wait = step_backlog(run, client)
            if wait is None:
                finish_streams(run, [s for s in streams() if s.startswith("activities:")])
                return 0
            return wait
        more = read_stream(run, client, stream)
        if not more:
            finish_streams(run, [stream])
        return 0
    return None


def finish_streams(run: SyncRun, names: list[str]) -> None:
    done = run.progress.get("streams_done", [])
    run.progress["streams_done"] = [*done, *(name for name in names if name not in done)]
    run.save(update_fields=["progress", "updated_at"])


def start_backlog(run: SyncRun, watermark: Watermark) -> None:
    """Export the activities since the watermark in bulk: a handful of calls, not one per page.

    Reading a backlog of N activities page by page costs N / 300 calls of the shared rate limit
    and daily quota; a bulk export costs about five. Its window starts a margin before the time
    the watermark last moved (activities are write-once; the overlap is deduplicated by GUID).
    """
    oldest = Watermark.objects.filter(name__startswith="activities:").order_by("updated_at")
    since = (oldest.first() or watermark).updated_at - BACKLOG_OVERLAP
    # Whole seconds, as Marketo's filters take them: the export ends at ``until`` (inclusive; the
    # job runs later, so it holds that whole second), paging starts again one second later (see
    # step_backlog): no gap, no overlap.
    until = timezone.now().replace(microsecond=0)
    ExportJob.objects.bulk_create(
        [
            ExportJob(
                run=run, object=ExportJob.Object.ACTIVITIES, window_start=start, window_end=end
            )
            for start, end in windows(since, until)
        ],
        ignore_conflicts=True,
    )
    run.progress[BACKLOG] = {"until": until.isoformat()}
    run.save(update_fields=["progress", "updated_at"])
    logger.info("run %s: a backlog of activities since %s, exported in bulk", run.id, since)


def step_backlog(run: SyncRun, client: MarketoClient) -> float | None:
    """Move the backlog's export jobs on; once loaded, restart the streams after their window."""
    wait = engine.step_exports(run, client, ExportJob.Object.ACTIVITIES)
    if wait is not None:
        return wait
    # The export took everything created up to ``until``; paging goes on from the next second.
    until = datetime.fromisoformat(run.progress[BACKLOG]["until"])
    token = client.paging_token(until + timedelta(seconds=1))
    with transaction.atomic():
        Watermark.objects.filter(name__startswith="activities:").update(token=token)
        loaded = run.jobs.filter(object=ExportJob.Object.ACTIVITIES)
        count(run, "activities", sum(loaded.values_list("rows_loaded", flat=True)))
    return None


def read_stream(run: SyncRun, client: MarketoClient, stream: str) -> bool:
    if stream == "companies":
        refresh_companies(run, client)
        return False
    watermark = Watermark.objects.get(name=stream)
    if stream == "leadchanges":
        page = client.lead_changes_page(watermark.token, change_fields(run))
        apply_lead_changes(run, client, page, watermark)
    elif stream == "deletedleads":
        envelope = client.request(
            "GET", "/rest/v1/activities/deletedleads.json",
            params={"nextPageToken": watermark.token, "batchSize": 300},
        )  # fmt: skip
        page = Page(
            envelope.get("result", []),
            envelope.get("nextPageToken"),
            envelope.get("moreResult", False),
        )
        with transaction.atomic():
            ids = [row["leadId"] for row in page.results if row.get("leadId")]
            MarketoLead.objects.filter(id__in=ids).delete()
            advance(watermark, page)
    else:
        group = activity_type_groups()[int(stream.split(":")[1])]
        page = client.activities_page(watermark.token, group)
        if len(page.results) >= PAGE_SIZE and page.more:
            start_backlog(run, watermark)
            return True
        with transaction.atomic():
            rows = [activity_row(activity) for activity in page.results]
            load_records("activities", rows, ACTIVITY_COLUMNS, types={})
            count(run, "activities", len(rows))
            advance(watermark, page)
    return page.more


def change_fields(run: SyncRun) -> list[str]:
    """Fields whose changes matter: everything synced except what changes on every update."""
    return [name for name in run.lead_fields if name not in ("id", "createdAt", "updatedAt")]


def apply_lead_changes(
    run: SyncRun, client: MarketoClient, page: Page, watermark: Watermark
) -> None:
    ids = sorted({int(row["leadId"]) for row in page.results if row.get("leadId")})
    leads: list[dict[str, Any]] = []
    for start in range(0, len(ids), LOOKUP_BATCH):
        leads += client.leads_by("id", ids[start : start + LOOKUP_BATCH], run.lead_fields)
    new_companies = missing_companies(leads)
    companies = fetch_companies(run, client, new_companies)
    with transaction.atomic():
        types = SyncedAttribute.objects.types(AttributeObject.PERSON)
        load_records("leads", leads, run.lead_fields, types=types)
        company_types = SyncedAttribute.objects.types(AttributeObject.COMPANY)
        load_records("companies", companies, run.company_fields, types=company_types)
        count(run, "leads", len(leads))
        advance(watermark, page)


def missing_companies(leads: Sequence[dict[str, Any]]) -> list[str]:
    wanted = {str(lead["externalCompanyId"]) for lead in leads if lead.get("externalCompanyId")}
    known = set(
        MarketoCompany.objects.filter(external_company_id__in=wanted).values_list(
            "external_company_id", flat=True
        )
    )
    return sorted(wanted - known)


def fetch_companies(
    run: SyncRun, client: MarketoClient, ids: Sequence[str]
) -> list[dict[str, Any]]:
    companies: list[dict[str, Any]] = []
    for start in range(0, len(ids), LOOKUP_BATCH):
        batch = ids[start : start + LOOKUP_BATCH]
        companies += client.companies_by("externalCompanyId", batch, run.company_fields)
    return companies


def refresh_companies(run: SyncRun, client: MarketoClient) -> None:
    """Re-read the companies synced longest ago (a rolling sweep over all of them)."""
    stale = list(
        MarketoCompany.objects.order_by("synced_at").values_list("external_company_id", flat=True)[
            :COMPANY_REFRESH
        ]
    )
    companies = fetch_companies(run, client, stale)
    with transaction.atomic():
        types = SyncedAttribute.objects.types(AttributeObject.COMPANY)
        load_records("companies", companies, run.company_fields, types=types)
        MarketoCompany.objects.filter(external_company_id__in=stale).update(
            synced_at=timezone.now()
        )
        count(run, "companies", len(companies))


def activity_row(activity: dict[str, Any]) -> dict[str, Any]:
    """A REST activity in the bulk file's shape (attributes as one JSON object)."""
    attributes = {item["name"]: item.get("value") for item in activity.get("attributes") or []}
    row = {name: activity.get(name) for name in ACTIVITY_COLUMNS}
    row["marketoGUID"] = str(activity.get("marketoGUID") or activity.get("id"))
    row["attributes"] = json.dumps(attributes, separators=(",", ":"))
    return row


def count(run: SyncRun, what: str, n: int) -> None:
    counter = run.counter(what)
    counter["done"] += n
    run.progress[what] = counter
    run.save(update_fields=["progress", "updated_at"])


def advance(watermark: Watermark, page: Page) -> None:
    if page.next_page_token:
        watermark.token = page.next_page_token
        watermark.save(update_fields=["token", "updated_at"])
