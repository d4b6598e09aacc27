"""Bulk export through the client: the job's life, the queue's limits, and verified downloads."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sync.client import ExportStatus, MarketoClient
from sync.errors import (
    DailyQuotaReached,
    DownloadCheckFailed,
    ExportNotFound,
    ExportQuotaReached,
    QueueFull,
    RetriesExhausted,
)
from sync.sandbox import Fault, Limits, MarketoSandbox
from tests.sync.clients import SMALL, Connect, Harness

LEAD_FIELDS = ["id", "email", "firstName", "createdAt"]


@pytest.fixture
def sandbox(marketo_sandbox: Callable[..., MarketoSandbox]) -> MarketoSandbox:
    return marketo_sandbox(dataset=SMALL)


def last_month() -> dict[str, Any]:
    end = datetime.now(UTC).replace(microsecond=0)
    start = end - timedelta(days=31)
    return {"createdAt": {"startAt": start.isoformat(), "endAt": end.isoformat()}}


def completed_export(client: MarketoClient) -> ExportStatus:
    """A lead export of the last month, created, enqueued and waited for."""
    created = client.create_export("leads", filter=last_month(), fields=LEAD_FIELDS)
    client.enqueue_export("leads", created.export_id)
    return wait_for(client, created.export_id, "Completed")


def wait_for(client: MarketoClient, export_id: str, *statuses: str) -> ExportStatus:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = client.export_status("leads", export_id)
        if status.status in statuses:
            return status
        time.sleep(0.05)
    raise AssertionError(f"export {export_id} never became {statuses}")


def sha256(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def leftovers(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


def file_requests(harness: Harness) -> list[Any]:
    return [r for r in harness.sent if (r.url or "").endswith("/file.json")]


# --- the job's life ------------------------------------------------------------------------------


def test_an_export_goes_from_created_to_a_verified_file(
    sandbox: MarketoSandbox, connect: Connect, tmp_path: Path
) -> None:
    client = connect(sandbox).client

    created = client.create_export("leads", filter=last_month(), fields=LEAD_FIELDS)
    queued = client.enqueue_export("leads", created.export_id)
    done = wait_for(client, created.export_id, "Completed")
    path = client.download_export(
        "leads",
        created.export_id,
        tmp_path / "leads.csv",
        size=done.file_size,
        checksum=done.file_checksum,
    )

    assert (created.status, queued.status) == ("Created", "Queued")
    assert done.number_of_records
    assert done.file_size
    assert done.finished_at
    assert path == tmp_path / "leads.csv"
    assert sha256(path) == done.file_checksum
    assert path.stat().st_size == done.file_size
    lines = path.read_text().splitlines()
    assert lines[0] == ",".join(LEAD_FIELDS)
    assert len(lines) == done.number_of_records + 1
    assert leftovers(tmp_path) == ["leads.csv"]


def test_an_activity_export_completes_too(
    sandbox: MarketoSandbox, connect: Connect, tmp_path: Path
) -> None:
    client = connect(sandbox).client
    window = last_month()["createdAt"]

    created = client.create_export(
        "activities", filter={"createdAt": window, "activityTypeIds": [1, 12, 13]}
    )
    client.enqueue_export("activities", created.export_id)
    deadline = time.monotonic() + 30
    while (done := client.export_status("activities", created.export_id)).status != "Completed":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    path = client.download_export(
        "activities",
        created.export_id,
        tmp_path / "activities.csv",
        size=done.file_size,
        checksum=done.file_checksum,
    )

    assert path.read_text().splitlines()[0].startswith("marketoGUID,leadId,activityDate")


def test_a_failed_job_reports_its_error(sandbox: MarketoSandbox, connect: Connect) -> None:
    client = connect(sandbox).client
    sandbox.add_fault(Fault("job-failed", message="Export failed: disk full"))

    created = client.create_export("leads", filter=last_month(), fields=LEAD_FIELDS)
    client.enqueue_export("leads", created.export_id)
    failed = wait_for(client, created.export_id, "Failed", "Completed")

    assert failed.status == "Failed"
    assert failed.error == "Export failed: disk full"


@pytest.mark.parametrize("cancel", ["by Marketo", "by us"])
def test_a_cancelled_job_is_reported_in_one_spelling(
    marketo_sandbox: Callable[..., MarketoSandbox], connect: Connect, cancel: str
) -> None:
    sandbox = marketo_sandbox(dataset=SMALL, status_interval=0.05 if cancel == "by Marketo" else 60)
    client = connect(sandbox).client
    if cancel == "by Marketo":
        sandbox.add_fault(Fault("job-cancelled"))

    created = client.create_export("leads", filter=last_month(), fields=LEAD_FIELDS)
    client.enqueue_export("leads", created.export_id)
    if cancel == "by us":
        assert client.cancel_export("leads", created.export_id).status == "Canceled"
    ended = wait_for(client, created.export_id, "Canceled", "Completed")

    assert ended.status == "Canceled"


def test_an_unknown_export_is_not_found(sandbox: MarketoSandbox, connect: Connect) -> None:
    client = connect(sandbox).client

    with pytest.raises(ExportNotFound):
        client.export_status("leads", "0c0ffee0-0000-4000-8000-000000000000")
    with pytest.raises(ExportNotFound):
        client.enqueue_export("leads", "0c0ffee0-0000-4000-8000-000000000000")
    with pytest.raises(ExportNotFound):
        client.cancel_export("leads", "0c0ffee0-0000-4000-8000-000000000000")


def test_the_file_of_an_unfinished_job_is_not_found_and_nothing_is_written(
    marketo_sandbox: Callable[..., MarketoSandbox], connect: Connect, tmp_path: Path
) -> None:
    sandbox = marketo_sandbox(dataset=SMALL, status_interval=60)
    client = connect(sandbox).client
    created = client.create_export("leads", filter=last_month(), fields=LEAD_FIELDS)

    with pytest.raises(ExportNotFound):
        client.download_export(
            "leads", created.export_id, tmp_path / "leads.csv", size=None, checksum=None
        )

    assert leftovers(tmp_path) == []


# --- the queue and the export quota (1029) -------------------------------------------------------


def test_enqueueing_twice_counts_as_success(
    marketo_sandbox: Callable[..., MarketoSandbox], connect: Connect
) -> None:
    sandbox = marketo_sandbox(dataset=SMALL, status_interval=60)
    harness = connect(sandbox)
    created = harness.client.create_export("leads", filter=last_month(), fields=LEAD_FIELDS)
    harness.client.enqueue_export("leads", created.export_id)

    again = harness.client.enqueue_export("leads", created.export_id)

    assert again.status == "Queued"
    assert sandbox.stats().errors_by_code == {"1029": 1}
    assert harness.waits == []


def test_a_full_queue_on_enqueue_is_reported_at_once(
    marketo_sandbox: Callable[..., MarketoSandbox], connect: Connect
) -> None:
    """M-7, first half: the caller waits and enqueues again later; the client does not retry."""
    sandbox = marketo_sandbox(dataset=SMALL, limits=Limits(bulk_queued=1), status_interval=60)
    harness = connect(sandbox)
    first = harness.client.create_export("leads", filter=last_month(), fields=LEAD_FIELDS)
    second = harness.client.create_export("leads", filter=last_month(), fields=["id"])
    harness.client.enqueue_export("leads", first.export_id)
    before = sandbox.stats().requests

    with pytest.raises(QueueFull) as full:
        harness.client.enqueue_export("leads", second.export_id)

    assert str(full.value) == "Marketo 1029: Too many jobs in queue"
    assert sandbox.stats().requests == before + 1
    assert harness.waits == []


def test_a_full_queue_elsewhere_is_retried(sandbox: MarketoSandbox, connect: Connect) -> None:
    harness = connect(sandbox)
    created = harness.client.create_export("leads", filter=last_month(), fields=LEAD_FIELDS)
    sandbox.add_fault(Fault("1029", path="/status.json"))

    assert harness.client.export_status("leads", created.export_id).status == "Created"
    assert len(harness.waits) == 1


def test_the_export_quota_defers_exports_to_the_next_day_without_stopping_other_calls(
    marketo_sandbox: Callable[..., MarketoSandbox], connect: Connect
) -> None:
    """M-7, second half: no retry storm; exports wait for midnight US Central."""
    sandbox = marketo_sandbox(dataset=SMALL, limits=Limits(export_daily_bytes=1))
    harness = connect(sandbox)
    client = harness.client
    completed_export(client)
    waiting = client.create_export("leads", filter=last_month(), fields=["id"])

    with pytest.raises(ExportQuotaReached) as used_up:
        client.enqueue_export("leads", waiting.export_id)
    requests_then = sandbox.stats().requests
    with pytest.raises(ExportQuotaReached) as again:
        client.enqueue_export("leads", waiting.export_id)

    assert used_up.value.code == "1029"
    assert used_up.value.resume_at > datetime.now(UTC)
    assert again.value.resume_at == used_up.value.resume_at
    assert sandbox.stats().requests == requests_then  # refused without a call
    assert harness.limiter.blocked_until("1029") == used_up.value.resume_at
    assert harness.limiter.blocked_until() is None  # the daily API quota is another matter
    assert client.export_status("leads", waiting.export_id).status == "Created"
    assert harness.waits == []


def test_no_export_call_is_made_while_the_daily_quota_is_used_up(
    marketo_sandbox: Callable[..., MarketoSandbox], connect: Connect
) -> None:
    sandbox = marketo_sandbox(dataset=SMALL, limits=Limits(daily_quota=1))
    harness = connect(sandbox)
    created = harness.client.create_export("leads", filter=last_month(), fields=LEAD_FIELDS)

    with pytest.raises(DailyQuotaReached):
        harness.client.enqueue_export("leads", created.export_id)
    with pytest.raises(DailyQuotaReached):
        harness.client.export_status("leads", created.export_id)

    assert sandbox.stats().requests == 2


# --- downloads -----------------------------------------------------------------------------------


def test_a_download_cut_short_goes_on_from_where_it_stopped(
    sandbox: MarketoSandbox, connect: Connect, tmp_path: Path
) -> None:
    harness = connect(sandbox)
    done = completed_export(harness.client)
    assert done.file_size
    sandbox.add_fault(Fault("truncated-download"))

    path = harness.client.download_export(
        "leads",
        done.export_id,
        tmp_path / "leads.csv",
        size=done.file_size,
        checksum=done.file_checksum,
    )

    assert sha256(path) == done.file_checksum
    stats = sandbox.stats()
    assert stats.errors_by_code["truncated-download"] == 1
    assert stats.downloads == 2
    assert stats.bytes_downloaded == done.file_size  # nothing fetched twice
    first, second = file_requests(harness)
    assert "Range" not in first.headers
    assert second.headers["Range"] == f"bytes={done.file_size // 2}-"
    assert leftovers(tmp_path) == ["leads.csv"]


def test_a_download_that_keeps_failing_keeps_its_part_for_the_next_attempt(
    sandbox: MarketoSandbox, connect: Connect, tmp_path: Path
) -> None:
    """M-6 (c): a worker dies mid-download; the next one resumes the partial file."""
    harness = connect(sandbox, max_attempts=2)
    done = completed_export(harness.client)
    assert done.file_size
    sandbox.add_fault(Fault("truncated-download", times=2))
    dest = tmp_path / "leads.csv"

    with pytest.raises(RetriesExhausted):
        harness.client.download_export(
            "leads", done.export_id, dest, size=done.file_size, checksum=done.file_checksum
        )
    part = tmp_path / "leads.csv.part"
    assert 0 < part.stat().st_size < done.file_size
    assert not dest.exists()

    resumed = connect(sandbox).client.download_export(
        "leads", done.export_id, dest, size=done.file_size, checksum=done.file_checksum
    )

    assert sha256(resumed) == done.file_checksum
    assert sandbox.stats().bytes_downloaded == done.file_size
    assert leftovers(tmp_path) == ["leads.csv"]


def test_a_corrupt_download_is_removed_and_reported(
    sandbox: MarketoSandbox, connect: Connect, tmp_path: Path
) -> None:
    harness = connect(sandbox)
    done = completed_export(harness.client)
    sandbox.add_fault(Fault("truncated-download", message="corrupt"))

    with pytest.raises(DownloadCheckFailed) as failed:
        harness.client.download_export(
            "leads",
            done.export_id,
            tmp_path / "leads.csv",
            size=done.file_size,
            checksum=done.file_checksum,
        )

    assert failed.value.code == "checksum"
    assert leftovers(tmp_path) == []


def test_a_file_of_the_wrong_size_is_removed_and_reported(
    sandbox: MarketoSandbox, connect: Connect, tmp_path: Path
) -> None:
    harness = connect(sandbox)
    done = completed_export(harness.client)
    assert done.file_size

    with pytest.raises(DownloadCheckFailed) as failed:
        harness.client.download_export(
            "leads", done.export_id, tmp_path / "leads.csv", size=done.file_size + 1, checksum=None
        )

    assert failed.value.code == "size"
    assert leftovers(tmp_path) == []


def test_a_partial_file_left_by_a_crashed_worker_is_resumed(
    sandbox: MarketoSandbox, connect: Connect, tmp_path: Path
) -> None:
    harness = connect(sandbox)
    done = completed_export(harness.client)
    assert done.file_size
    whole = harness.client.download_export(
        "leads",
        done.export_id,
        tmp_path / "first.csv",
        size=done.file_size,
        checksum=done.file_checksum,
    )
    (tmp_path / "leads.csv.part").write_bytes(whole.read_bytes()[:1000])
    sandbox.reset_stats()

    path = harness.client.download_export(
        "leads",
        done.export_id,
        tmp_path / "leads.csv",
        size=done.file_size,
        checksum=done.file_checksum,
    )

    assert path.read_bytes() == whole.read_bytes()
    assert sandbox.stats().bytes_downloaded == done.file_size - 1000
    assert file_requests(harness)[-1].headers["Range"] == "bytes=1000-"


def test_a_partial_file_with_wrong_bytes_fails_once_then_downloads_afresh(
    sandbox: MarketoSandbox, connect: Connect, tmp_path: Path
) -> None:
    harness = connect(sandbox)
    done = completed_export(harness.client)
    (tmp_path / "leads.csv.part").write_bytes(b"garbage" * 100)

    with pytest.raises(DownloadCheckFailed):
        harness.client.download_export(
            "leads",
            done.export_id,
            tmp_path / "leads.csv",
            size=done.file_size,
            checksum=done.file_checksum,
        )
    assert leftovers(tmp_path) == []
    path = harness.client.download_export(
        "leads",
        done.export_id,
        tmp_path / "leads.csv",
        size=done.file_size,
        checksum=done.file_checksum,
    )

    assert sha256(path) == done.file_checksum
